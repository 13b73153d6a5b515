"""`--secret-file FILE`: a token's secret written to a new file only its owner can read,
instead of the terminal (where it stays in the scroll-back and, copied into a command, in the
shell's history). Scripts then read it: `export PLANFLOW_TOKEN=$(cat FILE)`.

The file is created (empty, 0600, never over an existing one) *before* the token is issued:
a secret that cannot be written must not exist, since nobody could ever use or see it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

from workflow.errors import InvalidInput
from workflow.private_files import FILE_MODE

SecretFileOpt = Annotated[
    Path | None,
    typer.Option(
        "--secret-file",
        help="Write the token's secret to this new file (0600, never over an existing one) "
        "instead of printing it; then: export PLANFLOW_TOKEN=$(cat FILE).",
    ),
]


@contextlib.contextmanager
def reserved(path: Path | None) -> Iterator[int | None]:
    """The file's descriptor, open for writing, for the duration of issuing the secret; the
    file is removed again if issuing fails. None: no file was asked for."""
    if path is None:
        yield None
        return
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        raise InvalidInput(
            f"--secret-file {path} already exists; choose a new file (a secret is never "
            "written over another)"
        ) from None
    except OSError as exc:
        raise InvalidInput(f"--secret-file {path}: cannot create it: {exc.strerror}") from None
    done = False
    try:
        yield fd
        done = True
    finally:
        os.close(fd)
        if not done:
            with contextlib.suppress(OSError):
                path.unlink()


def deliver_secret(fd: int, secret: str, token_id: int) -> None:
    """Write the issued secret. Past this point the token exists: if its secret cannot be
    written (a full disk), the one line says which token to revoke."""
    try:
        os.write(fd, (secret + "\n").encode("ascii"))
        os.fsync(fd)
    except OSError as exc:
        raise InvalidInput(
            f"API token {token_id} was issued but its secret could not be written to the "
            f"--secret-file ({exc.strerror}); revoke it: planflow tokens revoke {token_id}"
        ) from None
