"""What every use case needs: the database, the clock, the logger, who runs admin acts."""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass, field

import structlog
from sqlalchemy import Engine

from workflow.clock import Clock, SystemClock


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
