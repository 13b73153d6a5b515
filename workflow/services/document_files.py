"""Writing recorded documents to disk, after the transaction that recorded them committed.

The letters, notices and reports are rendered inside their transaction and recorded there
(`documents`: bytes, SHA-256, path); the services call `write_recorded` once it has
committed, so a run that loses a conflict (or dies before its commit) writes nothing. A run
that dies between its commit and the end of its writes leaves files missing, never wrong:
`planflow documents verify` names them and `planflow documents restore` writes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from workflow.errors import InvalidInput
from workflow.store import files
from workflow.store.repositories.documents import NewDocument


def write_recorded(documents: Sequence[NewDocument], folder: Path) -> None:
    """Write each document's bytes to its target, atomically (`store.files`)."""
    try:
        files.write_all((d.target, d.content) for d in documents)
    except OSError as exc:
        raise InvalidInput(
            f"cannot write the documents under {folder}: {exc.strerror or exc}; they are "
            "recorded: free the space or fix the folder, then run `planflow documents restore`"
        ) from exc
