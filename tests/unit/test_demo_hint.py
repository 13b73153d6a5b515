"""The demo's closing hint names planflow as this shell can run it: right after the README's
install command `planflow` is not on the PATH (the environment is not activated), so the hint
says `.venv/bin/planflow`; once activated, `planflow`."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from workflow.cli.demo_cmd import planflow_command


@pytest.fixture
def script(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    made = tmp_path / ".venv" / "bin" / "planflow"
    made.parent.mkdir(parents=True)
    made.write_text("#!/bin/sh\n", encoding="utf-8")
    made.chmod(0o755)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", [str(made), "demo"])
    return made


def test_not_activated_the_hint_names_the_script(
    script: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    assert planflow_command() == ".venv/bin/planflow"


def test_activated_the_hint_says_planflow(script: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", f"{script.parent}:/usr/bin:/bin")
    assert planflow_command() == "planflow"


def test_from_elsewhere_the_hint_is_the_full_path(
    script: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    elsewhere = tmp_path.parent / f"{tmp_path.name}-other"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert planflow_command() == str(script)
