"""What every use case is handed by its adapter: the unit of work (the database and the
clock), who runs administrative acts, the logger."""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass, field

import structlog
from sqlalchemy import Engine

from workflow.clock import Clock, SystemClock
from workflow.store.uow import UnitOfWork


def default_operator() -> str:
    """Who runs administrative acts (loading files, ...) from this shell."""
    name = os.environ.get("PLANFLOW_OPERATOR")
    if not name:
        try:
            name = getpass.getuser()
        except (KeyError, OSError):
            name = "unknown"
    return f"operator:{name}"


@dataclass
class Context:
    engine: Engine
    clock: Clock = field(default_factory=SystemClock)
    operator: str = field(default_factory=default_operator)
    log: structlog.typing.FilteringBoundLogger = field(
        default_factory=lambda: structlog.get_logger("planflow")
    )

    @property
    def uow(self) -> UnitOfWork:
        """The unit of work on this context's database and clock (the clock as it is now:
        a test or a simulation may set another)."""
        return UnitOfWork(self.engine, self.clock)
