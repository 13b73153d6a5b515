"""The README's "Set up your own agency", run word for word: every `sh` block of the section,
in order, in one bash shell, in an empty home folder where `~/planflow` is this checkout
(with the virtual environment the tests run in). What the guide promises must then be there:
the imported plan loaded, the first draw's units and tasks, the first report's files.

A guide that drifts from the commands (a renamed option, a changed message the guide's steps
depend on, a step that no longer works on a fresh folder) fails here."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SECTION = "## Set up your own agency"


def guide_commands() -> str:
    readme = REPO.joinpath("README.md").read_text(encoding="utf-8")
    start = readme.index(f"\n{SECTION}\n")
    end = readme.find("\n## ", start + len(SECTION) + 2)
    section = readme[start : end if end != -1 else len(readme)]
    blocks = re.findall(r"^```sh\n(.*?)^```$", section, flags=re.M | re.S)
    assert len(blocks) >= 6, "the guide's steps are sh blocks"
    return "\n".join(blocks)


def home_with_planflow(home: Path) -> None:
    """`~/planflow`: this checkout's files, and as its `.venv` the environment running the
    tests (a clean clone's own, in CI)."""
    checkout = home / "planflow"
    checkout.mkdir(parents=True)
    for entry in REPO.iterdir():
        if entry.name != ".venv":
            (checkout / entry.name).symlink_to(entry)
    (checkout / ".venv").symlink_to(Path(sys.prefix))


def test_the_setup_guide_runs_word_for_word_on_a_clean_folder(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home_with_planflow(home)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PLANFLOW_", "VIRTUAL_ENV"))}
    env["HOME"] = str(home)
    # `planflow` must come from the step that activates the environment, not from the PATH
    # the tests happen to run with.
    venv_bin = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p != venv_bin)
    script = "set -euo pipefail\ncd ~\n" + guide_commands()
    done = subprocess.run(
        ["bash", "-c", script], cwd=home, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    assert "Traceback" not in done.stderr and "error" not in done.stderr.lower(), done.stderr

    agency = home / "kha-sct"
    imported = (agency / "definitions/kha-sct/plans/cchc-2026.yaml").read_text(encoding="utf-8")
    assert "ĐOÁN" in imported  # the guesses are commented for the person to review
    with sqlite3.connect(agency / "planflow.db") as db:
        rows = db.execute(
            "SELECT count(DISTINCT code) FROM tasks WHERE kind = 'plan' AND organisation = ?",
            ("KHA-SCT",),
        ).fetchone()
        draw = db.execute("SELECT selected FROM inspections").fetchall()
        kinds = db.execute(
            "SELECT count(*) FROM tasks WHERE kind = 'inspection' AND lead_unit = 'TTR'"
        ).fetchone()
        reports = db.execute("SELECT organisation, period FROM report_snapshots").fetchall()
    assert rows == (9,)  # every task row of the sample's table
    assert len(draw) == 1  # one draw, of ceil(0.3 x 6) = 2 units
    assert kinds == (2,)
    assert reports == [("KHA-SCT", "2026Q4")]
    html = list((agency / "output/reports/KHA-SCT").glob("2026Q4-*.html"))
    assert len(html) == 1 and "Sở Công Thương tỉnh Khánh Hòa" in html[0].read_text("utf-8")
    assert (home / ".kha-sct-admin.token").stat().st_mode & 0o077 == 0
