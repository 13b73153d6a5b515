"""Prefect settings planflow needs before Prefect is imported (they are read at import)."""

from __future__ import annotations

import os

DEFAULTS = {
    # The server's telemetry calls home; on a closed network it logs an ERROR every start.
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    # Planflow's own logs carry the audit-relevant events; Prefect's are for operators.
    "PREFECT_LOGGING_LEVEL": "WARNING",
}


def quiet_prefect() -> None:
    """Apply the defaults unless the operator set them (their environment wins)."""
    for key, value in DEFAULTS.items():
        os.environ.setdefault(key, value)
