"""Anyone can verify the log without planflow: `tools/verify_audit_export.py` (standard library
only, written from docs/audit-log-encoding.md) checks an export of each backend, and names
each kind of tampering an export can suffer.

The entries hold every character that is hard to encode (each control character, quotes,
backslashes, U+2028, bidirectional overrides, emoji, Vietnamese), with and without the
optional fields, and on PostgreSQL they are hashed by the server (`planflow_append`).
"""

from __future__ import annotations

import ast
import datetime as dt
import hashlib
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import small_agency
from workflow.clock import FixedClock
from workflow.domain import audit_chain as audit
from workflow.services import Context, audit_log, organisations
from workflow.services import tasks as svc

ROOT = Path(__file__).resolve().parents[2]
VERIFIER = ROOT / "tools" / "verify_audit_export.py"
HARD = [chr(c) for c in range(1, 32)] + ['"', "\\", "/", "\u2028", "\u2029", "\u202e", "\x7f"]
HARD += ["Bổ sung số liệu", "Ý kiến: “đạt”", "😀", "𝔘", "\ufeff", "é"]  # e, combining accent


def note(rng: random.Random, most: int = 200) -> str:
    """Hard text of at most `most` characters (a column's width)."""
    return "".join(rng.choice(HARD) for _ in range(rng.randint(0, 12)))[:most]


@pytest.fixture
def exported(ctx: Context, tmp_path: Path) -> tuple[Path, str]:
    """An export of a log of 60 entries of hard text, and its anchor (SEQ:HASH)."""
    organisations.upsert_organisation(ctx, small_agency())
    [task] = svc.create_tasks(ctx, [svc.NewTask("SO-TEST", "A.1", "Báo cáo", "QLDT")])
    rng = random.Random(15)
    touch = (
        "UPDATE tasks SET version = version + 1 WHERE tasks.id = ? RETURNING tasks.id",
        (task,),
    )
    start = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)  # after the set-up's entries, time goes on
    for i in range(60):
        record = audit.Record(
            actor=f"so-test.{note(rng, 60)}",
            action=rng.choice(["start", "submit", "note", "verify"]),
            subject=f"task:{task}",
            role=rng.choice([None, "staff", note(rng, 20)]),
            unit=rng.choice([None, "QLDT"]),
            organisation="SO-TEST",
            task_id=task,
            data={
                note(rng): note(rng),
                "n": rng.randint(-(2**40), 2**40),
                "ok": rng.random() < 0.5,
                "list": [note(rng), None],
                "nested": {"x": note(rng)},
            },
            channel=rng.choice([None, "web", "api"]),
            credential=rng.choice([None, f"token:{i}"]),
        )
        with ctx.uow.moving() as tx:
            clock = FixedClock(start + dt.timedelta(seconds=i))
            tx.backend.recorder.move(tx.conn, touch, record, clock)
    path = tmp_path / "audit.jsonl"
    with path.open("w", encoding="utf-8") as out:
        audit_log.export(ctx, "jsonl", out)
    anchor = audit_log.anchor(ctx)["anchor"]
    assert isinstance(anchor, str)
    return path, anchor


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(VERIFIER), *map(str, args)], capture_output=True, text=True
    )


def lines_of(path: Path) -> list[dict[str, object]]:
    # Lines end with \n only: str.splitlines would also cut at U+2028 and U+0085, which JSON
    # leaves unescaped inside strings.
    text = path.read_text(encoding="utf-8")
    return [json.loads(line) for line in text.split("\n") if line]


def write(path: Path, entries: list[dict[str, object]]) -> Path:
    text = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entries)
    path.write_text(text, encoding="utf-8")
    return path


def rehash_from(entries: list[dict[str, object]], index: int) -> None:
    """Rewrite the chain from `index` on, as an owner who recomputes every hash would."""
    for i in range(index, len(entries)):
        if i > 0:
            entries[i]["prev_hash"] = entries[i - 1]["hash"]
        body = {k: v for k, v in entries[i].items() if k != "hash"}
        text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        entries[i]["hash"] = hashlib.sha256(text.encode()).hexdigest()


def failed(done: subprocess.CompletedProcess[str], words: str) -> None:
    assert done.returncode == 6, done.stdout + done.stderr
    assert done.stderr.count("\n") == 1 and words in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_an_export_of_either_backend_verifies_against_its_anchor(
    exported: tuple[Path, str],
) -> None:
    path, anchor = exported
    entries = lines_of(path)
    assert any("channel" in e for e in entries) and any("channel" not in e for e in entries)
    done = run(path, "--anchor", anchor)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"ok: {len(entries)} entries checked, head {anchor}"


def test_each_tampering_of_an_export_is_named(exported: tuple[Path, str], tmp_path: Path) -> None:
    path, anchor = exported
    entries = lines_of(path)
    k = len(entries) - 20  # an entry among the hard ones, 0-based
    seq = entries[k]["seq"]

    edited = [dict(e) for e in entries]
    edited[k]["data"] = str(edited[k]["data"]).replace("}", ',"x":1}', 1)
    failed(run(write(tmp_path / "edited.jsonl", edited)), f"entry {seq}: its hash does not match")

    deleted = entries[:k] + entries[k + 1 :]
    failed(
        run(write(tmp_path / "deleted.jsonl", deleted)),
        f"entry {int(seq) + 1}: expected entry {seq}",
    )

    swapped = [*entries[:k], entries[k + 1], entries[k], *entries[k + 2 :]]
    failed(run(write(tmp_path / "swapped.jsonl", swapped)), "expected entry")

    relinked = [dict(e) for e in entries]
    relinked[k]["actor"] = "nobody.that.exists"
    rehash_from(relinked, k)  # consistent: passes alone, not against the anchor published before
    path_relinked = write(tmp_path / "relinked.jsonl", relinked)
    assert run(path_relinked).returncode == 0
    failed(run(path_relinked, "--anchor", anchor), "differs from the anchor's")

    shortened = write(tmp_path / "shortened.jsonl", entries[:-3])
    assert run(shortened).returncode == 0  # a shorter log is a log: only an anchor tells
    failed(run(shortened, "--anchor", anchor), "is not in the export (shortened)")

    backdated = [dict(e) for e in entries]
    backdated[k]["at"] = "2001-01-01T00:00:00.000000Z"
    rehash_from(backdated, k)
    failed(run(write(tmp_path / "backdated.jsonl", backdated)), f"entry {seq}: dated 2001-01-01")

    broken = tmp_path / "broken.jsonl"
    broken.write_text(path.read_text(encoding="utf-8") + '{"seq": 1.5}\n', encoding="utf-8")
    done = run(broken)
    assert done.returncode == 2 and "line " in done.stderr and "Traceback" not in done.stderr
    surrogate = tmp_path / "surrogate.jsonl"
    bad = dict(entries[0], actor="\\ud800")
    surrogate.write_text(json.dumps(bad).replace("\\\\ud800", "\\ud800") + "\n", encoding="utf-8")
    done = run(surrogate)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr


def test_the_verifier_uses_the_standard_library_only() -> None:
    tree = ast.parse(VERIFIER.read_text(encoding="utf-8"))
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in (
            node.names if isinstance(node, ast.Import) else [ast.alias(node.module or "")]
        )
    }
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}, imported
    assert len(VERIFIER.read_text(encoding="utf-8").splitlines()) < 200  # read in five minutes
