"""Helper programs the fault tests run as real processes (and kill)."""
