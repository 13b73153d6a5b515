"""Per-invocation settings shared by the commands: database, clock, log format."""

from __future__ import annotations

import os
from dataclasses import dataclass

from workflow.cli.options import parse_instant
from workflow.clock import Clock, FixedClock, SystemClock
from workflow.context import Context
from workflow.store.engine import open_engine


@dataclass
class Runtime:
    db: str | None = None
    log_json: bool = False


RUNTIME = Runtime()


def clock_from_env() -> Clock:
    """PLANFLOW_NOW=2024-06-30T09:00 runs the command "as of" that instant (Vietnam time)."""
    raw = os.environ.get("PLANFLOW_NOW")
    if not raw:
        return SystemClock()
    return FixedClock(parse_instant(raw, "PLANFLOW_NOW"))


def context() -> Context:
    return Context(open_engine(RUNTIME.db), clock=clock_from_env())
