"""What the database is: production (`planflow init`) or a simulation (`init --simulation`,
the demo), chosen once and recorded in `database_info` and in the log.

A production database holds every write to an authenticated principal and the system's
clock (`store.uow.UnitOfWork._who`); a simulation accepts typed names and another time, as
planflow always did. A database whose mode was never chosen behaves as a simulation.
"""

from __future__ import annotations

from workflow.clock import SystemClock
from workflow.context import Context
from workflow.errors import InvalidInput, PermissionDenied

PRODUCTION = "production"
SIMULATION = "simulation"


def initialise(ctx: Context, *, simulation: bool, os_user: str) -> str:
    """Record the database's mode, once (`DatabaseInitialised`, by `operator:<os_user>`);
    the same mode again changes nothing; the other mode is refused (a production log
    cannot become a simulation's, nor a simulation's history pass for a production one)."""
    wanted = SIMULATION if simulation else PRODUCTION
    os_user = os_user.strip() or "unknown"
    uow = ctx.uow
    # Read first: a production database refuses a write without a principal, and running
    # `init` again on one is not a write.
    with uow.reading() as r:
        found = r.database.mode()
    if found is None:
        if wanted == PRODUCTION and not isinstance(ctx.clock, SystemClock):
            # Its first entry is dated as every later one will be: by the system's clock.
            raise PermissionDenied(
                "a production database is dated by the system's clock: unset PLANFLOW_NOW "
                "(or make a simulation database with --simulation)"
            )
        # Here, not at the top: a command reads the mode first, and the events' classes take
        # as long to load as a short read takes to run.
        from workflow.domain.events import DatabaseInitialised

        with uow.writing() as tx:
            found = tx.database.mode()  # another `init` may have chosen meanwhile
            if found is None:
                tx.database.set_mode(wanted, tx.now, os_user)
                tx.record(
                    DatabaseInitialised(actor=f"operator:{os_user}", mode=wanted, os_user=os_user)
                )
    if found is not None and found.mode != wanted:
        raise InvalidInput(
            f"this database is a {found.mode} database (since {found.created_at:%Y-%m-%d}, "
            f"by {found.created_by}); it cannot become a {wanted} one: use another database"
        )
    # This process (every unit of work on this engine) sees the mode at once.
    uow.backend.production = wanted == PRODUCTION
    return wanted


def mode(ctx: Context) -> str | None:
    """production, simulation, or None when `planflow init` never chose (a simulation)."""
    with ctx.uow.reading() as r:
        found = r.database.mode()
    return None if found is None else found.mode


def is_production(ctx: Context) -> bool:
    return ctx.uow.production()
