"""Prefect task retries for transient database errors, and for nothing else.

A task run that fails because the database could not be reached or was momentarily
unusable (planflow's `StoreUnavailable`, or SQLAlchemy's `OperationalError`: a dropped
connection, a server restarting, a lock wait timed out) is run again after a short wait:
every flow task is one transaction of a service, rolled back on failure, and every side
effect is recorded under a unique key, so running it again does no harm. Any other error (a
refusal, a bug, a full disk) fails the run at once: retrying a bug only repeats it.

Use: `@task(name=..., cache_policy=NONE, **ON_TRANSIENT_ERRORS)`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import OperationalError

from workflow.errors import StoreUnavailable

RETRIES = 3
DELAYS = [1.0, 2.0, 4.0]  # seconds before each retry
TRANSIENT: tuple[type[BaseException], ...] = (StoreUnavailable, OperationalError)


def is_transient(error: BaseException | None) -> bool:
    """Whether an error is one a retry may cure: the database unreachable or busy."""
    return isinstance(error, TRANSIENT)


def transient(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect's `retry_condition_fn`: retry only when the failed run raised a transient
    database error."""
    try:
        state.result()
    except BaseException as error:  # the task's own exception, re-raised by result()
        return is_transient(error)
    return False


# The options of every flow task (`@task(name=..., cache_policy=NONE, **ON_TRANSIENT_ERRORS)`).
ON_TRANSIENT_ERRORS: dict[str, Any] = {
    "retries": RETRIES,
    "retry_delay_seconds": DELAYS,
    "retry_condition_fn": transient,
}
