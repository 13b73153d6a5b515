"""`bench/run` writing its results: a partial run keeps the other benchmarks' figures, and
every run keeps the hand-written part of RESULTS.md."""

from __future__ import annotations

import json
from pathlib import Path

from bench.cli import KEPT, write


def _results(**keys: object) -> dict[str, object]:
    return {"mode": "full", "generated_at": "2026-11-22T10:00:00+00:00", **keys}


def test_a_partial_run_updates_its_keys_and_keeps_the_rest(tmp_path: Path) -> None:
    old = {"figures": {"ratio": 0.3}, "target": "t", "met": False}
    kept = {"figures": {"entries_per_s": 1}, "target": "v", "met": False}
    write(_results(**{"transitions.sqlite.1_writer": old, "audit_verify.sqlite": kept}), tmp_path)
    new = {"figures": {"ratio": 0.6}, "target": "t", "met": True}
    write(_results(**{"transitions.sqlite.1_writer": new}), tmp_path, merge=True)
    stored = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert stored["transitions.sqlite.1_writer"] == new
    assert stored["audit_verify.sqlite"] == kept
    write(_results(**{"transitions.sqlite.1_writer": new}), tmp_path)  # a full run: its own
    assert "audit_verify.sqlite" not in json.loads((tmp_path / "results.json").read_text())


def test_quick_results_never_merge_into_full_ones(tmp_path: Path) -> None:
    write(
        _results(**{"audit_verify.sqlite": {"figures": {}, "target": None, "met": None}}), tmp_path
    )
    quick = {"mode": "quick", "loading.sqlite": {"figures": {}, "target": None, "met": None}}
    write(quick, tmp_path, merge=True)
    assert set(json.loads((tmp_path / "results.json").read_text())) == set(quick)


def test_the_hand_written_part_of_results_md_survives_a_run(tmp_path: Path) -> None:
    write(_results(), tmp_path)
    report = tmp_path / "RESULTS.md"
    notes = f"{KEPT}\n\n## Findings\n\nThe chain lock serialises appends.\n"
    report.write_text(report.read_text(encoding="utf-8") + "\n" + notes, encoding="utf-8")
    write(_results(), tmp_path)
    text = report.read_text(encoding="utf-8")
    assert text.startswith("# planflow benchmarks") and text.endswith(notes)
    assert text.count(KEPT) == 1
