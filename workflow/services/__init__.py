"""The use cases: the only code that changes state, one database transaction each."""

from workflow.context import Context

__all__ = ["Context"]
