"""Files a person fills in next (`orgs new`, `plans new`, `plans import`): written to stdout
or to a new file, never over an existing one (it may hold an afternoon's work), their folders
made as needed (`--out definitions/kha-sct/organisation.yaml` in an empty folder is how an
agency starts)."""

from __future__ import annotations

import sys
from pathlib import Path

from workflow.errors import InvalidInput


def refuse_existing(out: Path | None) -> None:
    """Checked before any work, so that nothing is read or computed for a file that cannot
    be written."""
    if out is not None and out.exists():
        raise InvalidInput(f"{out} already exists; choose another --out or move it")


def write_new(text: str, out: Path | None) -> None:
    if out is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("x", encoding="utf-8") as handle:
            handle.write(text)
    except FileExistsError:
        raise InvalidInput(f"{out} already exists; choose another --out or move it") from None
    except OSError as exc:
        raise InvalidInput(f"cannot write {out}: {exc.strerror}") from None
