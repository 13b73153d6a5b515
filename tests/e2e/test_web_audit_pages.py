"""The auditor's pages over HTTP, without a browser: the search by filter and by the words
of a note (with and without diacritics), keyset paging, the three exports of the current
filter, the chain's checks on request, and who may see what (audit:read, the organisation's
fence, CSRF). The browser tests (tests/e2e/browser/test_web_audit.py) drive the same pages
in Chromium."""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections.abc import Iterator

import pytest
from alembic import command
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from tests.e2e.test_api_support import PASSWORD, World, worlds
from workflow.domain.lifecycle import Move
from workflow.services import audit_log, audit_pages
from workflow.services import tasks as task_service
from workflow.store import schema
from workflow.store.engine import backend_for, translated


@pytest.fixture
def world(db_url: str) -> Iterator[World]:
    yield from worlds(db_url)


def signed_in(world: World, person: str) -> TestClient:
    world.account(person)
    client = TestClient(world.app())
    answer = client.post(
        "/sign-in", data={"login": person, "password": PASSWORD}, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text
    return client


def seqs(html: str) -> list[int]:
    return [int(s) for s in re.findall(r'<tr id="seq-(\d+)"', html)]


def submit(world: World, task: int, note: str) -> None:
    task_service.move(world.setup, task, Move.START, "so-a.lan")
    task_service.move(world.setup, task, Move.SUBMIT, "so-a.lan", note=note)


def test_fold_makes_vietnamese_with_and_without_diacritics_the_same() -> None:
    assert audit_pages.fold("Bổ sung  HỒ SƠ") == "bo sung ho so"
    assert audit_pages.fold("Đề nghị đính kèm") == "de nghi dinh kem"
    assert audit_pages.fold("bo sung") in audit_pages.fold("Đã bổ sung hồ sơ")


def test_an_auditor_finds_moves_by_filter_and_text_and_exports_them(world: World) -> None:
    first, second, third = world.tasks["SO-A"]
    submit(world, first, "Bổ sung hồ sơ dự án")
    submit(world, second, '=HYPERLINK("http://x") đã xong')
    submit(world, third, "Đính kèm biên bản")
    auditor = signed_in(world, "so-a.auditor")
    by_task = auditor.get("/audit", params={"task": first})
    assert by_task.status_code == 200 and "Lịch sử nhiệm vụ" in by_task.text
    assert {e["seq"] for e in world.entries(task_id=first)} == set(seqs(by_task.text))
    for typed in ("bo sung", "Bổ sung", "BỔ SUNG hồ"):
        found = auditor.get("/audit", params={"text": typed})
        assert "Bổ sung hồ sơ dự án" in found.text, typed
        assert "Đính kèm biên bản" not in found.text
        assert len(seqs(found.text)) == 1
    assert "Đính kèm biên bản" in auditor.get("/audit", params={"text": "dinh kem"}).text
    submitted = auditor.get("/audit", params={"action": "submit", "actor": "so-a.lan"})
    assert len(seqs(submitted.text)) == 3

    csv_file = auditor.get("/audit/export", params={"action": "submit", "format": "csv"})
    assert csv_file.headers["content-type"].startswith("text/csv")
    assert 'filename="audit.csv"' in csv_file.headers["content-disposition"]
    assert csv_file.content.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(csv_file.content.decode("utf-8-sig"))))
    assert len(rows) == 3
    notes = sorted(json.loads(r["data"])["note"] for r in rows)
    assert notes == sorted(
        ["Bổ sung hồ sơ dự án", '=HYPERLINK("http://x") đã xong', "Đính kèm biên bản"]
    )

    xlsx = auditor.get("/audit/export", params={"text": "bo sung", "format": "xlsx"})
    assert "spreadsheetml" in xlsx.headers["content-type"]
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][:3] == ["seq", "at", "actor"] and len(values) == 2
    assert "Bổ sung hồ sơ dự án" in json.loads(values[1][12])["note"]

    jsonl = auditor.get("/audit/export", params={"task": first, "format": "jsonl"})
    assert jsonl.headers["content-type"].startswith("application/x-ndjson")
    from_api = auditor.get("/api/v1/audit/export", params={"format": "jsonl"}).text
    lines = jsonl.text.splitlines()
    assert len(lines) == len(world.entries(task_id=first))
    assert all(line in from_api.splitlines() for line in lines)  # the same bytes as the API's


def test_pages_go_on_after_the_last_seq(world: World) -> None:
    for task in world.tasks["SO-A"]:
        submit(world, task, "Bổ sung hồ sơ")
    auditor = signed_in(world, "so-a.auditor")
    everything = [e["seq"] for e in world.entries(organisations={"SO-A"})]
    assert len(everything) > 20  # more than one page of 20
    shown: list[int] = []
    pages = 0
    link: str | None = "/audit?limit=20"
    while link:
        pages += 1
        page = auditor.get(link).text
        shown += seqs(page)
        found = re.search(r'href="([^"]+)" rel="next"', page)
        link = found.group(1).replace("&amp;", "&") if found else None
        assert link is None or ("after=" in link and "limit=20" in link)
    assert shown == everything and pages == (len(everything) + 19) // 20
    assert auditor.get("/audit?limit=7").status_code == 400


def test_the_fence_the_permission_and_the_chain(world: World) -> None:
    task = world.tasks["SO-A"][0]
    submit(world, task, "Bổ sung hồ sơ")
    other = signed_in(world, "so-b.auditor")
    assert seqs(other.get("/audit", params={"task": task}).text) == []
    assert "Bổ sung" not in other.get("/audit", params={"text": "bo sung"}).text
    exported = other.get("/audit/export", params={"format": "jsonl"}).text
    assert all(json.loads(line)["organisation"] != "SO-A" for line in exported.splitlines())

    staff = signed_in(world, "so-a.lan")
    for path in ("/audit", "/audit/export?format=csv", "/audit/chain"):
        denied = staff.get(path)
        assert denied.status_code == 403 and "Không có quyền" in denied.text, path
    assert 'href="/audit"' not in staff.get("/my-work").text

    own = signed_in(world, "so-a.auditor")  # reads SO-A only: not the whole chain
    assert own.get("/audit/chain").status_code == 403
    assert "/audit/chain" not in own.get("/audit").text
    bad = own.get("/audit", params={"since": "hôm qua"})
    assert bad.status_code == 400 and "«Từ ngày» không đúng dạng ngày" in bad.text
    for params in ({"task": "²"}, {"task": "abc"}, {"after": "-1"}):
        assert own.get("/audit", params=params).status_code == 400, params
    long = own.get("/audit", params={"actor": "x" * 81})
    assert long.status_code == 400 and "«Người thực hiện» dài quá 80 ký tự" in long.text

    province = signed_in(world, "snv.auditor")
    page = province.get("/audit/chain")
    assert page.status_code == 200 and "Kiểm tra chuỗi" in page.text
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token
    forged = province.post("/audit/chain", data={"run": "verify", "csrf": "x"})
    assert forged.status_code == 403 and "Biểu mẫu đã cũ" in forged.text
    checked = province.post("/audit/chain", data={"run": "verify", "csrf": token.group(1)})
    anchor = re.search(
        r'id="head-anchor" class="anchor" readonly value="(\d+:[0-9a-f]{64})"', checked.text
    )
    assert anchor and "Chuỗi nguyên vẹn" in checked.text
    again = province.post(
        "/audit/chain", data={"run": "verify", "anchor": anchor.group(1), "csrf": token.group(1)}
    )
    assert "Chuỗi nguyên vẹn" in again.text
    wrong = province.post(
        "/audit/chain", data={"run": "verify", "anchor": "12:abc", "csrf": token.group(1)}
    )
    assert wrong.status_code == 400 and "không đúng dạng SEQ:HASH" in wrong.text
    replayed = province.post("/audit/chain", data={"run": "replay", "csrf": token.group(1)})
    assert "Khớp: đã phát lại" in replayed.text


def test_entries_appended_before_the_index_are_found_and_the_chain_stays_whole(
    world: World,
) -> None:
    """Migration 0011 indexes the notes already in the log; the appends after it (the
    recorder's and PostgreSQL's planflow_append) keep the index, and `audit verify` still
    finds the chain and its safeguards intact."""
    first, second, _ = world.tasks["SO-A"]
    engine = world.setup.engine
    config = schema._config()
    with translated(), backend_for(engine).writing(engine) as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0010")
    submit(world, first, "Đã bổ sung hồ sơ trước khi có chỉ mục")
    schema.upgrade(engine)
    submit(world, second, "Bổ sung hồ sơ sau khi có chỉ mục")
    auditor = signed_in(world, "so-a.auditor")
    for typed in ("bổ sung hồ sơ", "BO SUNG HO SO", "bổ su"):
        page = auditor.get("/audit", params={"text": typed}).text
        assert "trước khi có chỉ mục" in page and "sau khi có chỉ mục" in page, typed
    inside = auditor.get("/audit", params={"text": "ung"}).text  # a piece of a word: no
    assert "Không có mục nào" in inside
    assert "trước khi" in auditor.get("/audit", params={"text": "truoc, chi-muc!"}).text
    # A note typed decomposed (NFD), and one holding a NUL (valid JSON: `\\u0000`, which
    # PostgreSQL's jsonb refuses): appended, and found.
    third = world.tasks["SO-A"][2]
    submit(world, third, unicodedata.normalize("NFD", "Tổng hợp xong") + "\x00 đợt hai")
    for typed in ("tong hop dot hai", "Tổng hợp đợt"):
        assert "đợt hai" in auditor.get("/audit", params={"text": typed}).text, typed
    assert audit_log.verify(world.setup, workers=1).ok
