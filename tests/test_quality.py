"""The code stays ruff- and mypy-clean: checked by the same command that runs the tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True)


def test_ruff_finds_nothing() -> None:
    lint = _run("ruff", "check", ".")
    assert lint.returncode == 0, lint.stdout + lint.stderr
    fmt = _run("ruff", "format", "--check", ".")
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


def test_mypy_strict_finds_nothing() -> None:
    checked = _run("mypy")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # the stand-alone verifier stands outside the packages: checked on its own
    alone = _run("mypy", "--strict", "tools/verify_audit_export.py")
    assert alone.returncode == 0, alone.stdout + alone.stderr
