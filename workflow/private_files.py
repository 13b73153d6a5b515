"""Files that hold personal data (applicants' names, phone numbers, addresses), created for
their owner only: files 0600, folders 0700, whatever the umask.

Only what planflow creates is made private: a folder that already exists (`/tmp`, a home
directory) is the user's choice and is never changed. A regular file planflow writes its
data into again (an export over last week's) is made 0600 as it is written.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path
from typing import IO

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def private_folder(path: Path) -> None:
    """`path` and any missing folder above it, each created 0700; existing ones as they are."""
    missing: list[Path] = []
    at = path
    while not at.exists():
        missing.append(at)
        if at.parent == at:
            break
        at = at.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=FOLDER_MODE)
        except FileExistsError:  # created meanwhile by someone else: theirs
            continue
        os.chmod(folder, FOLDER_MODE)  # a umask only takes bits away; this says it exactly
    if not path.is_dir():
        path.mkdir()  # raises what a plain mkdir raises (a file in the way, ...)


def create_private(path: Path) -> None:
    """Create `path` empty, 0600, if it does not exist (before SQLite opens it: its -wal and
    -shm files take the database file's permissions)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return
    os.close(fd)


def open_private(path: Path) -> IO[str]:
    """`path` opened to write UTF-8 text from its start, created 0600 (a regular file there
    already is made 0600; a device such as /dev/stdout is left alone)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        if stat.S_ISREG(os.fstat(fd).st_mode):
            # Someone else's file we may write to: its permissions are theirs to set.
            with contextlib.suppress(PermissionError):
                os.fchmod(fd, FILE_MODE)
        return open(fd, "w", encoding="utf-8", newline="")
    except BaseException:
        os.close(fd)
        raise


def write_private(path: Path, data: bytes) -> None:
    """`data` written to `path` from its start, the file 0600 as `open_private` makes it."""
    with open_private(path) as handle:
        handle.flush()
        handle.buffer.write(data)  # type: ignore[attr-defined]
