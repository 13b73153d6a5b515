"""Running the CLI: in-process (fast, captured) or as a real process (exit codes, concurrency)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from workflow.cli.main import run

ROOT = Path(__file__).resolve().parents[2]
DEFINITIONS = ROOT / "definitions"


@dataclass
class Result:
    code: int
    out: str
    err: str


class Cli:
    def __init__(self, capsys: pytest.CaptureFixture[str], db: str) -> None:
        self.capsys = capsys
        self.db = db

    def __call__(self, *args: str) -> Result:
        self.capsys.readouterr()
        code = run(["--db", self.db, *args])
        captured = self.capsys.readouterr()
        assert "Traceback" not in captured.err, captured.err
        return Result(code, captured.out, captured.err)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], db_url: str) -> Cli:
    return Cli(capsys, db_url)


def run_process(
    *args: str, db: str | None = None, cwd: Path | None = None, timeout: float = 120
) -> Result:
    env = dict(os.environ)
    env.pop("PLANFLOW_DB", None)
    command = [sys.executable, "-m", "workflow.cli", *(["--db", db] if db else []), *args]
    done = subprocess.run(
        command, capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout
    )
    assert "Traceback" not in done.stderr, done.stderr
    return Result(done.returncode, done.stdout, done.stderr)
