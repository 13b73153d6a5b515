"""The auditor's search in a real browser: the province's auditor finds a task's moves by
filter and by the words of a note (typed with and without diacritics), downloads them as CSV
and XLSX and reads them back, pages on with the keyset link, runs the chain's verification
and sees the anchor to copy; a staff member without audit:read gets the 403 page, and an
auditor of another agency sees none of these entries."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from tests.e2e.browser.conftest import Person, Site
from workflow.domain.lifecycle import Move
from workflow.errors import InvalidInput
from workflow.services import tasks as task_service

AUDITORS = ("snv.auditor", "so-b.auditor")


def with_accounts(site: Site) -> Site:
    """The auditors' accounts, once per server (another module may have made them)."""
    for person in AUDITORS:
        with contextlib.suppress(InvalidInput):  # signed up already
            site.world.account(person)
    return site


def downloaded(person: Person, link: Any) -> bytes:
    with person.page.expect_download() as info:
        link.click()
    return Path(info.value.path()).read_bytes()


def rows_shown(person: Person) -> list[str]:
    return [str(r) for r in person.page.locator("#entries tbody tr").all_inner_texts()]


def search(person: Person, **fields: str) -> Person:
    page = person.page
    page.get_by_role("link", name="Xoá bộ lọc").click()
    person.check()
    for label, value in fields.items():
        page.get_by_label(label, exact=True).fill(value)
    return person.submit(page.get_by_role("button", name="Tìm"))


def test_an_auditor_searches_exports_pages_and_verifies(
    people: Callable[..., Person], site: Site
) -> None:
    with_accounts(site)
    marker = f"Quảng Đà {os.getpid()}"
    task = site.task("Rà soát hồ sơ đất đai")
    task_service.move(site.world.setup, task, Move.START, "so-a.lan")
    note = f"Bổ sung hồ sơ {marker}"
    task_service.move(site.world.setup, task, Move.SUBMIT, "so-a.lan", note=note)

    auditor = people()
    auditor.go("/audit").sign_in("snv.auditor")
    assert auditor.page.url.endswith("/audit")
    search(auditor, **{"Mã nhiệm vụ": str(task)})
    assert "Lịch sử nhiệm vụ" in auditor.text()
    shown = rows_shown(auditor)
    assert len(shown) == 3 and "task.create" in shown[0] and note in shown[2]

    folded = f"bo sung quang da {os.getpid()}"
    for typed in (folded, f"Bổ sung {marker}"):
        search(auditor, **{"Nội dung ghi chú": typed})
        shown = rows_shown(auditor)
        assert len(shown) == 1 and note in shown[0], (typed, shown)
    auditor.screenshot("audit")

    exports = auditor.page.locator("p.exports")
    table = downloaded(auditor, exports.get_by_role("link", name="CSV"))
    assert table.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(table.decode("utf-8-sig"))))
    assert [json.loads(r["data"])["note"] for r in rows] == [note]
    book = load_workbook(io.BytesIO(downloaded(auditor, exports.get_by_role("link", name="XLSX"))))
    sheet = book.active
    assert sheet is not None
    cells = [[c.value for c in row] for row in sheet.iter_rows()]
    assert len(cells) == 2 and json.loads(cells[1][12])["note"] == note
    assert int(cells[1][0]) == int(rows[0]["seq"])

    # The keyset link, over the whole log (the world alone writes more than 20 entries):
    # the next page starts after the last seq shown, the page size carried along.
    auditor.go("/audit?limit=20")
    first = rows_shown(auditor)
    assert len(first) == 20
    auditor.submit(auditor.page.get_by_role("link", name="Trang sau"))
    assert "after=" in auditor.page.url and "limit=20" in auditor.page.url
    second = rows_shown(auditor)
    assert second and second[0] != first[0]
    last_first = int(first[-1].split()[0])
    assert int(second[0].split()[0]) > last_first  # oldest first, after the last seq shown

    auditor.page.get_by_role("link", name=re.compile("Tình trạng chuỗi nhật ký")).click()
    auditor.check()
    auditor.submit(auditor.page.get_by_role("button", name="Kiểm tra chuỗi"))
    assert "Chuỗi nguyên vẹn" in auditor.text()
    anchor = auditor.page.get_by_label("Mốc hiện tại (sao chép để lưu ở nơi khác)").input_value()
    assert re.fullmatch(r"\d+:[0-9a-f]{64}", anchor)

    # A staff member has no audit:read; another agency's auditor sees none of SO-A's entries.
    lan = people()
    lan.go("/sign-in").sign_in("so-a.lan")
    assert lan.page.locator("nav a[href='/audit']").count() == 0
    answer = lan.page.goto(site.url + "/audit")
    assert answer is not None and answer.status == 403
    assert "Không có quyền xem nhật ký" in lan.text()
    lan.console.clear()  # the 403 itself, which Chromium logs as a failed load
    lan.check()
    other = people()
    other.go("/audit").sign_in("so-b.auditor")
    search(other, **{"Mã nhiệm vụ": str(task)})
    assert rows_shown(other) == []
    search(other, **{"Nội dung ghi chú": folded})
    assert rows_shown(other) == [] and "Không có mục nào" in other.text()
