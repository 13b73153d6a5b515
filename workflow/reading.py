"""Reading a file a user names, never more than a limit: the size is checked before the
file is read (os.stat), and the read itself stops one byte past the limit, so a file that
grows meanwhile, a FIFO or /dev/zero (whose size says 0) cannot make planflow read without
end or hold more than the limit in memory."""

from __future__ import annotations

from pathlib import Path

MB = 1024 * 1024


class TooLarge(Exception):
    """The file holds more than the limit; `size` is what is known of it (at least that)."""

    def __init__(self, size: int) -> None:
        super().__init__(f"{size} bytes")
        self.size = size


def read_at_most(path: Path, limit: int) -> bytes:
    """The file's bytes; TooLarge when it holds more than `limit` (OSError as open raises)."""
    size = path.stat().st_size
    if size > limit:
        raise TooLarge(size)
    with path.open("rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(len(data))
    return data
