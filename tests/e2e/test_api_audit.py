"""The audit log through the API: query fenced by organisation with keyset paging, verify
and anchor for whoever answers for the whole chain, export streamed (byte for byte the
CLI's for a reader of everything)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import text

from tests.e2e.test_api_support import Bearer, Browser, World, error, worlds
from workflow.domain.audit_chain import FIELDS
from workflow.services import audit_log


@pytest.fixture
def world(db_url: str) -> Iterator[World]:
    yield from worlds(db_url)


def signed_in(world: World, *people: str) -> dict[str, Browser]:
    app = world.app()
    out = {}
    for person in people:
        world.account(person)
        out[person] = Browser(app).sign_in(person)
    return out


def every_page(browser: Browser | Bearer, **params: Any) -> tuple[list[dict[str, Any]], int]:
    entries: list[dict[str, Any]] = []
    pages = 0
    while True:
        answer = browser.get("/audit", params=params)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        entries += body["entries"]
        pages += 1
        if body["next"] is None:
            return entries, pages
        params["after"] = body["next"]


def test_the_log_is_fenced_by_organisation(world: World) -> None:
    people = signed_in(
        world,
        "so-a.office1",
        "so-a.leader",
        "so-a.lan",
        "so-b.office1",
        "snv.auditor",
        "so-a.admin",
    )
    a, b = world.tasks["SO-A"], world.tasks["SO-B"]
    assert people["so-a.lan"].move(a[0], "start", 1).status_code == 200

    office_a, _ = every_page(people["so-a.office1"], limit=5)
    assert office_a and {e["organisation"] for e in office_a} == {"SO-A"}
    assert {e["task_id"] for e in office_a if e["task_id"]} == set(a)
    office_b, _ = every_page(people["so-b.office1"])
    assert {e["organisation"] for e in office_b} == {"SO-B"}
    leader, _ = every_page(people["so-a.leader"])
    assert leader == office_a

    everything, pages = every_page(people["snv.auditor"], limit=7)
    stored = world.entries()
    assert [e["seq"] for e in everything] == [e["seq"] for e in stored] and pages > 1

    # Filters, as `audit query` has them; another agency's task answers nothing.
    moves = people["so-a.office1"].get("/audit", params={"task": a[0], "action": "start"})
    assert [(e["actor"], e["channel"]) for e in moves.json()["entries"]] == [("so-a.lan", "web")]
    assert people["so-a.office1"].get("/audit", params={"task": b[0]}).json()["entries"] == []
    by_actor = people["snv.auditor"].get("/audit", params={"actor": "so-a.lan"}).json()
    assert {e["actor"] for e in by_actor["entries"]} == {"so-a.lan"}
    future = people["snv.auditor"].get("/audit", params={"since": "2099-01-01"}).json()
    assert future["entries"] == []
    today = people["snv.auditor"].get("/audit", params={"until": "2000-01-01"}).json()
    assert today["entries"] == []
    bad = people["snv.auditor"].get("/audit", params={"since": "hôm qua"})
    assert "since" in error(bad, 400, "invalid_input")

    # Without audit:read: staff, and a token scoped to tasks.
    error(people["so-a.lan"].get("/audit"), 403, "permission_denied")
    token = world.token("so-a.office1", ["tasks:read"])
    error(Bearer(world.app(), token.secret).get("/audit"), 403, "permission_denied")


def test_verify_and_anchor_are_for_whoever_answers_for_the_whole_chain(world: World) -> None:
    people = signed_in(world, "so-a.office1", "snv.auditor", "so-a.admin", "so-a.auditor")
    for person in ("so-a.office1", "so-a.auditor"):  # their own agency's log only
        error(people[person].get("/audit/verify"), 403, "permission_denied")
        error(people[person].get("/audit/anchor"), 403, "permission_denied")
    for person in ("snv.auditor", "so-a.admin"):
        verified = people[person].get("/audit/verify")
        assert verified.status_code == 200 and verified.json()["ok"] is True
        anchor = people[person].get("/audit/anchor").json()
        assert anchor["ok"] is True and anchor["anchor"] == f"{anchor['seq']}:{anchor['hash']}"
    anchor = people["snv.auditor"].get("/audit/anchor").json()["anchor"]
    again = people["snv.auditor"].get("/audit/verify", params={"anchor": anchor})
    assert again.json()["ok"] is True
    wrong = anchor.split(":")[0] + ":" + "0" * 64
    assert (
        people["snv.auditor"].get("/audit/verify", params={"anchor": wrong}).json()["ok"] is False
    )
    malformed = people["snv.auditor"].get("/audit/verify", params={"anchor": "head"})
    error(malformed, 400, "invalid_input")


def test_a_broken_chain_is_reported_and_gets_no_anchor(world: World) -> None:
    people = signed_in(world, "snv.auditor")
    with world.setup.engine.begin() as conn:  # the database's owner, past the API
        if conn.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER audit_log_no_update"))
        else:
            conn.execute(text("DROP TRIGGER audit_log_no_update_delete ON audit_log"))
        conn.execute(text("UPDATE audit_log SET actor = 'so-a.leader' WHERE seq = 3"))
    verified = people["snv.auditor"].get("/audit/verify").json()
    assert verified["ok"] is False and verified["first_bad_seq"] == 3
    message = error(people["snv.auditor"].get("/audit/anchor"), 409, "audit_verification_failed")
    assert "broken" in message


def test_a_dropped_safeguard_is_reported_and_gets_no_anchor(world: World) -> None:
    people = signed_in(world, "snv.auditor")
    assert people["snv.auditor"].get("/audit/verify").json()["safeguards"] == []
    with world.setup.engine.begin() as conn:  # the owner drops a guard, changes nothing else
        if conn.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER audit_log_no_delete"))
            name = "audit_log_no_delete"
        else:
            conn.execute(text("DROP TRIGGER audit_log_no_truncate ON audit_log"))
            name = "audit_log_no_truncate"
    verified = people["snv.auditor"].get("/audit/verify").json()
    assert (verified["ok"], verified["first_bad_seq"]) == (False, None)
    assert [(p["name"], p["problem"]) for p in verified["safeguards"]] == [(name, "missing")]
    message = error(people["snv.auditor"].get("/audit/anchor"), 409, "audit_verification_failed")
    assert f"trigger {name} on audit_log is missing" in message


def test_export_streams_the_readable_entries_exactly_as_hashed(world: World) -> None:
    people = signed_in(world, "so-a.office1", "snv.auditor", "so-a.lan")
    assert people["so-a.lan"].move(world.tasks["SO-A"][0], "start", 1).status_code == 200

    whole = people["snv.auditor"].get("/audit/export")
    assert whole.status_code == 200
    assert whole.headers["content-type"].startswith("application/x-ndjson")
    assert 'filename="audit.jsonl"' in whole.headers["content-disposition"]
    cli = io.StringIO()
    audit_log.export(world.setup, "jsonl", cli)
    assert whole.text == cli.getvalue()  # what `planflow audit export` writes

    own = people["so-a.office1"].get("/audit/export").text.splitlines()
    rows = [json.loads(line) for line in own]
    assert rows and {row["organisation"] for row in rows} == {"SO-A"}
    assert set(own) <= set(whole.text.splitlines())

    table = people["so-a.office1"].get("/audit/export", params={"format": "csv"})
    assert table.headers["content-type"].startswith("text/csv")
    read = list(csv.DictReader(io.StringIO(table.text.removeprefix("\ufeff"))))
    assert [int(r["seq"]) for r in read] == [row["seq"] for row in rows]
    assert table.text.count("seq,at,actor") == 1
    whole_csv = io.StringIO()
    audit_log.export(world.setup, "csv", whole_csv)
    assert people["snv.auditor"].get("/audit/export", params={"format": "csv"}).text == (
        whole_csv.getvalue()
    )
    # XLSX: the CSV's rows as a sheet, the same bytes as `planflow audit export --format xlsx`.
    sheet_file = people["so-a.office1"].get("/audit/export", params={"format": "xlsx"})
    assert sheet_file.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert 'filename="audit.xlsx"' in sheet_file.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(sheet_file.content)).active
    assert sheet is not None
    cells = list(sheet.iter_rows(values_only=True))
    assert list(cells[0]) == list(FIELDS)
    assert [row[0] for row in cells[1:]] == [row["seq"] for row in rows]
    whole_xlsx = people["snv.auditor"].get("/audit/export", params={"format": "xlsx"})
    assert whole_xlsx.content == audit_log.export_xlsx(world.setup)[0]
    error(
        people["so-a.office1"].get("/audit/export", params={"format": "xml"}),
        422,
        "invalid_request",
    )
    error(people["so-a.lan"].get("/audit/export"), 403, "permission_denied")


def test_export_pages_through_a_log_longer_than_a_batch(world: World) -> None:
    from workflow.web.routers import audit as audit_router

    people = signed_in(world, "snv.auditor")
    batch = audit_router.EXPORT_BATCH
    audit_router.EXPORT_BATCH = 4  # the same paging, on a small log
    try:
        exported = people["snv.auditor"].get("/audit/export").text
        exported_csv = people["snv.auditor"].get("/audit/export", params={"format": "csv"}).text
    finally:
        audit_router.EXPORT_BATCH = batch
    cli = io.StringIO()
    audit_log.export(world.setup, "jsonl", cli)
    assert exported == cli.getvalue() and len(exported.splitlines()) > 8
    cli_csv = io.StringIO()
    audit_log.export(world.setup, "csv", cli_csv)
    assert exported_csv == cli_csv.getvalue()
