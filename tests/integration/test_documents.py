"""Letters, conclusion notices and reports on disk against their records (`documents`), on
SQLite and PostgreSQL: a changed or deleted file is named, restore writes it back byte for
byte, a copy altered in the database is never written out, and two apology runs at once
leave on disk only the files of the run that committed."""

from __future__ import annotations

import datetime as dt
import os
import stat
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, text, update

from tests.integration.test_dossiers import at
from tests.support import documents as made
from workflow.clock import FixedClock
from workflow.domain.audit_chain import content_hash
from workflow.domain.filters import AuditFilter
from workflow.errors import Conflict, NotFound
from workflow.services import Context, apology, documents
from workflow.services import audit_log as audit_service
from workflow.store.engine import open_engine
from workflow.store.files import TEMP_PREFIX
from workflow.store.tables import documents as documents_table

Maker = Callable[[Context, Path], list[Path]]
KINDS: dict[str, Maker] = {"letter": made.letters, "notice": made.notice, "report": made.report}


def files_under(folder: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("kind", list(KINDS))
def test_a_changed_and_a_deleted_file_are_named_and_restored_byte_for_byte(
    ctx: Context, tmp_path: Path, kind: str
) -> None:
    out = tmp_path / "output"
    written = KINDS[kind](ctx, out)
    before = files_under(out)
    assert set(before) == set(written)  # nothing else: no temporary file left behind
    for path in written:  # personal data: the owner's only
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    fine = documents.verify(ctx)
    assert (fine.ok, fine.checked, fine.by_kind) == (True, len(written), {kind: len(written)})

    changed, deleted = written[0], written[-1]
    changed.write_bytes(before[changed].replace(b"2024", b"2025", 1) + b" ")
    deleted.unlink()
    found = documents.verify(ctx)
    assert not found.ok
    assert sorted((f.file, f.problem) for f in found.findings) == sorted(
        [(str(changed), documents.CHANGED), (str(deleted), documents.MISSING)]
    )
    lines = [f.line() for f in found.findings]
    assert any(str(deleted) in line and "missing" in line for line in lines)

    restored = documents.restore(ctx)
    assert sorted(restored.restored) == sorted([str(changed), str(deleted)])
    assert files_under(out) == before  # byte for byte, and nothing more
    assert stat.S_IMODE(deleted.stat().st_mode) == 0o600
    assert documents.verify(ctx).ok
    assert documents.restore(ctx).restored == []  # only what differs is ever written


def test_the_recorded_hashes_are_the_audit_log_s(ctx: Context, tmp_path: Path) -> None:
    """The bytes kept for restore hash to what the letter's and the notice's entries hold."""
    letter_files = made.letters(ctx, tmp_path, count=1)
    [entry] = audit_service.query(ctx, AuditFilter(action="dossier.apology"))
    by_name = {p.suffix: content_hash(p.read_bytes()) for p in letter_files}
    assert (entry["data"]["letter_sha256"], entry["data"]["docx_sha256"]) == (
        by_name[".html"],
        by_name[".docx"],
    )
    with ctx.uow.reading() as r:
        stored = list(r.documents.every())
    assert {d.path: d.sha256 for d in stored} == {
        f"letters/{made.LETTERS_ORG}/{p.name}": content_hash(p.read_bytes()) for p in letter_files
    }


def test_another_output_folder_and_one_organisation(ctx: Context, tmp_path: Path) -> None:
    """`out`: the files looked for under another folder laid out as the flows lay it out
    (a copy, a shared disk mounted elsewhere); `organisations`: only theirs."""
    made.letters(ctx, tmp_path / "output", count=2)
    moved = tmp_path / "elsewhere"
    (tmp_path / "output").rename(moved)
    assert [f.problem for f in documents.verify(ctx).findings] == [documents.MISSING] * 4
    assert documents.verify(ctx, out=moved).ok
    assert documents.verify(ctx, ["QNA-BQLKKT"]).checked == 0
    with pytest.raises(NotFound, match="organisation 'SO-KHAC' does not exist"):
        documents.verify(ctx, ["SO-KHAC"])
    assert documents.verify(ctx, [made.LETTERS_ORG], moved).checked == 4
    restored = documents.restore(ctx, [made.LETTERS_ORG], tmp_path / "copy")
    assert len(restored.restored) == 4
    assert documents.verify(ctx, out=tmp_path / "copy").ok


def test_a_copy_altered_in_the_database_is_named_and_never_written_out(
    ctx: Context, engine: Engine, tmp_path: Path
) -> None:
    [docx, html, _pdf] = made.notice(ctx, tmp_path)
    html.unlink()
    with engine.begin() as conn:
        conn.execute(
            update(documents_table)
            .where(documents_table.c.path.like("%.html"))
            .values(content=b"<p>Da thuc hien tot</p>")
        )
    found = documents.verify(ctx)
    [problem] = found.findings
    assert problem.problem == documents.ALTERED
    assert problem.path == f"inspections/{html.relative_to(tmp_path / 'inspections')}"
    assert "cannot be restored" in problem.line()
    restored = documents.restore(ctx)
    assert (restored.restored, [f.path for f in restored.unrestorable]) == ([], [problem.path])
    assert not html.exists() and docx.exists()


# ---------------------------------------------------------------- concurrent apology runs


def waiting_on_locks(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'"
                )
            ).scalar_one()
        )


@pytest.mark.postgres
def test_two_apology_runs_at_once_leave_only_the_committed_run_s_files(
    pg_url: str, tmp_path: Path
) -> None:
    """The issue's case: runs as of 20/6 and 21/6 on the same late dossiers, at once. Both
    render every letter, then meet on the dossiers' rows (held here until both wait, so they
    really overlap); one commits, the other gets a conflict. On disk: exactly the committed
    letters, each as recorded; nothing of the loser's, no temporary file."""
    now = at(21, 7)
    engine = open_engine(pg_url, pool_size=4)
    setup = Context(engine, clock=FixedClock(at(3, 8)), operator="operator:test")
    made.load_definitions(setup)
    ids = made.late_dossiers(setup, 60)
    out = tmp_path / "output"
    outcomes: dict[int, object] = {}
    runs = {day: Context(open_engine(pg_url), clock=FixedClock(now)) for day in (20, 21)}

    def run(day: int) -> None:
        try:
            outcomes[day] = apology.process_dossiers(runs[day], dt.date(2024, 6, day), ids, out)
        except Conflict as exc:
            outcomes[day] = exc

    with engine.begin() as holder:
        holder.execute(text("SELECT id FROM tasks WHERE id = :id FOR UPDATE"), {"id": ids[-1]})
        threads = [threading.Thread(target=run, args=(day,)) for day in runs]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 60
        while waiting_on_locks(engine) < 2:  # both rendered, both at the dossiers' rows
            assert time.monotonic() < deadline, "the two runs never met"
            time.sleep(0.05)
    for thread in threads:
        thread.join(60)
    conflicts = [day for day, o in outcomes.items() if isinstance(o, Conflict)]
    assert len(conflicts) == 1, outcomes
    [winner] = [o for o in outcomes.values() if isinstance(o, apology.BatchResult)]
    assert len(winner.letters) == 60

    verified = documents.verify(setup)
    assert (verified.ok, verified.checked) == (True, 120), [f.line() for f in verified.findings]
    on_disk = files_under(out)
    assert len(on_disk) == 120 and not any(p.name.startswith(TEMP_PREFIX) for p in on_disk)
    entries = audit_service.query(setup, AuditFilter(action="dossier.apology"))
    assert {e["data"]["letter_sha256"] for e in entries} == {
        content_hash(data) for p, data in on_disk.items() if p.suffix == ".html"
    }
    # The letters recorded are the winner's (its new return date), and so are the files.
    assert {e["data"]["new_due"] for e in entries} == {x["new_due"] for x in winner.letters}
    for context in (setup, *runs.values()):
        context.uow.dispose()
    assert os.listdir(out / "letters") == [made.LETTERS_ORG]


@pytest.mark.parametrize("kind", list(KINDS))
def test_a_copy_rewritten_with_its_hash_is_not_what_the_audit_log_recorded(
    ctx: Context, engine: Engine, tmp_path: Path, kind: str
) -> None:
    """The owner of the database rewrites a document, its recorded SHA-256 and the file on
    disk alike: the letter's or notice's entry (the report's snapshot entry) still names it."""
    written = KINDS[kind](ctx, tmp_path)
    # A report's JSON file: the one whose content the snapshot's entry covers.
    target = next(p for p in written if p.suffix == (".json" if kind == "report" else ".html"))
    forged = target.read_bytes().replace(b"2024", b"2023")
    assert forged != target.read_bytes()
    target.write_bytes(forged)
    with engine.begin() as conn:
        conn.execute(
            update(documents_table)
            .where(documents_table.c.written_to == str(target.absolute()))
            .values(content=forged, sha256=content_hash(forged))
        )
    [problem] = documents.verify(ctx).findings
    assert (problem.problem, problem.file) == (documents.NOT_LOGGED, str(target))
    assert "the audit log says" in problem.line()
    assert documents.restore(ctx).restored == [] and target.read_bytes() == forged
