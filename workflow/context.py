"""What every use case is handed by its adapter: the unit of work (the database, the clock,
who acts), the logger."""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from workflow import logs
from workflow.clock import Clock, SystemClock
from workflow.domain.principals import Principal
from workflow.store.uow import UnitOfWork

if TYPE_CHECKING:
    from structlog.typing import FilteringBoundLogger


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
    """`principal`: who acts, as the adapter authenticated them (a signed-in person, a
    token's owner, a schedule); None where nobody was authenticated (a simulation's typed
    names, the tests), which a production database refuses for every write. `operator`:
    who runs administrative acts (loading files) when no principal is given."""

    engine: Engine
    clock: Clock = field(default_factory=SystemClock)
    operator: str = field(default_factory=default_operator)
    # structlog loads at the first event: a read that logs nothing does not load it.
    log: FilteringBoundLogger = field(default_factory=lambda: logs.logger("planflow"))
    principal: Principal | None = None

    @property
    def uow(self) -> UnitOfWork:
        """The unit of work on this context's database, clock and principal (the clock as it
        is now: a test or a simulation may set another)."""
        return UnitOfWork(self.engine, self.clock, self.principal)

    @property
    def acting(self) -> str:
        """Who an administrative act is recorded as: the principal, else the operator."""
        return self.principal.id if self.principal is not None else self.operator
