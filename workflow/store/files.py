"""Writing document files (letters, notices, reports) so that a file on disk is never a
half-written one, nor one whose record was rolled back.

A file is written under a temporary name in its own folder, flushed and fsync'd, made 0600,
then renamed over its final name (`os.replace`, atomic on one file system): a reader sees
the old file or the new one, never a mix. The folders made on the way are 0700: the files
carry applicants' names, addresses and phone numbers. Callers write only after the
transaction recording the document has committed, so a run that loses a conflict, or dies
before its commit, leaves nothing on disk that its record does not say.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from workflow.private_files import FILE_MODE, private_folder

TEMP_PREFIX = ".planflow-"  # a temporary file left by a killed writer starts with it


def write_atomically(path: Path, data: bytes, *, sync_folder: bool = True) -> None:
    """Replace `path` with `data`, all at once (see the module's docstring); `sync_folder`
    False leaves making the rename durable to the caller (`write_all`: once per folder)."""
    private_folder(path.parent)
    fd, temp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, FILE_MODE)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    if sync_folder:
        _sync_folder(path.parent)


def write_all(files: Iterable[tuple[Path, bytes]]) -> list[Path]:
    """Write each (path, bytes) atomically, as `write_atomically` does; the paths written,
    in order. A batch at a time: every temporary file written, then all fsync'd at once
    from a few threads (the file system commits concurrent fsyncs together: a thousand
    letters take ~0.1 s here, not the ~4 s of one fsync after another), then renamed; each
    folder synced once at the end."""
    written: list[Path] = []
    pending = list(files)
    for start in range(0, len(pending), _CHUNK):
        written += _write_chunk(pending[start : start + _CHUNK])
    for folder in dict.fromkeys(p.parent for p in written):
        _sync_folder(folder)
    return written


_CHUNK = 256  # open temporary files at once: well under the usual limit of 1,024 descriptors
_SYNC_THREADS = 32  # concurrent fsyncs are committed together: more is faster here


def _write_chunk(chunk: list[tuple[Path, bytes]]) -> list[Path]:
    made: list[tuple[str, Path]] = []  # (temporary name, final path), in order
    descriptors: list[int] = []  # still open
    renamed = 0
    try:
        for folder in dict.fromkeys(path.parent for path, _ in chunk):
            private_folder(folder)
        for path, data in chunk:
            fd, temp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=".tmp", dir=path.parent)
            descriptors.append(fd)
            made.append((temp, path))
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        with ThreadPoolExecutor(min(_SYNC_THREADS, len(descriptors))) as pool:
            list(pool.map(os.fsync, descriptors))
        while descriptors:
            os.close(descriptors.pop())  # mkstemp made each 0600, whatever the umask
        for temp, path in made:
            os.replace(temp, path)
            renamed += 1
    except BaseException:
        for fd in descriptors:
            with contextlib.suppress(OSError):
                os.close(fd)
        for temp, _ in made[renamed:]:
            with contextlib.suppress(OSError):
                os.unlink(temp)
        raise
    return [path for _, path in made]


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX: the folder's entry is data of the folder)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems refuse fsync on a folder; the rename still happened
        pass
    finally:
        os.close(fd)
