"""The use cases: the only code that changes state, one database transaction each."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workflow.context import Context

__all__ = ["Context"]


def __getattr__(name: str) -> object:
    # `Context` on first use: importing a service (or the CLI naming one) must not load the
    # whole store.
    if name == "Context":
        from workflow.context import Context

        return Context
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
