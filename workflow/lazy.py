"""Modules loaded on first use, so that `planflow --help` and a quick read do not pay for
the imports of commands they do not run (SQLAlchemy's tables, Prefect, the demo, the
document templates: over a second in all).

A command module names its service as usual for the type checker and binds it lazily at
run time:

    if TYPE_CHECKING:
        from workflow.services import tasks as task_service
    else:
        task_service = lazy_module("workflow.services.tasks")

The module body runs when an attribute is first read (the standard library's
`importlib.util.LazyLoader`); an error in it surfaces there, as it would have at import.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType


def lazy_module(name: str) -> ModuleType:
    """`name`, imported already or made to load on first attribute access."""
    found = sys.modules.get(name)
    if found is not None:
        return found
    spec = importlib.util.find_spec(name)  # imports the parent packages, which are light
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    parent, _, child = name.rpartition(".")
    if parent:  # as an import does: `workflow.logs` is an attribute of `workflow` too
        setattr(sys.modules[parent], child, module)
    return module
