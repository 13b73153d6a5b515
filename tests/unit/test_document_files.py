"""Document files are replaced whole or not at all: 0600 in folders made 0700, no temporary
file left behind when a write fails, and a file that existed keeps its bytes until the new
ones are complete."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from workflow.store import files


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_new_files_are_0600_in_new_folders_0700_and_existing_folders_are_left_alone(
    tmp_path: Path,
) -> None:
    tmp_path.chmod(0o755)
    old = os.umask(0o022)
    try:
        written = files.write_all(
            [(tmp_path / "a" / "b" / f"{i}.html", b"x" * i) for i in range(300)]
        )
    finally:
        os.umask(old)
    assert len(written) == 300 and written[7].read_bytes() == b"x" * 7
    assert (mode(tmp_path), mode(tmp_path / "a"), mode(tmp_path / "a" / "b")) == (
        0o755,
        0o700,
        0o700,
    )
    assert {mode(p) for p in written} == {0o600}
    assert sorted(os.listdir(tmp_path / "a" / "b")) == sorted(p.name for p in written)


def test_an_existing_file_is_replaced_whole_and_made_0600(tmp_path: Path) -> None:
    target = tmp_path / "letter.html"
    target.write_bytes(b"old")
    target.chmod(0o644)
    files.write_atomically(target, b"new letter")
    assert (target.read_bytes(), mode(target)) == (b"new letter", 0o600)


def test_a_failed_write_leaves_no_temporary_file(tmp_path: Path) -> None:
    """A folder where a file should go: the rename fails; what was not renamed is removed."""
    in_the_way = tmp_path / "b.html"
    (in_the_way / "inside").mkdir(parents=True)
    with pytest.raises(OSError):
        files.write_all(
            [(tmp_path / "a.html", b"a"), (in_the_way, b"b"), (tmp_path / "c.html", b"c")]
        )
    left = sorted(os.listdir(tmp_path))
    assert not [name for name in left if name.startswith(files.TEMP_PREFIX)], left
    assert not (tmp_path / "c.html").exists() and (in_the_way / "inside").is_dir()
    with pytest.raises(OSError):
        files.write_atomically(in_the_way, b"b")
    assert not [n for n in os.listdir(tmp_path) if n.startswith(files.TEMP_PREFIX)]
