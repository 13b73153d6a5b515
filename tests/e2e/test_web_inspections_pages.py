"""The inspection pages over HTTP, without a browser (as a browser without JavaScript posts
its forms), on SQLite and PostgreSQL: an inspector's draw from its preview to its
explanation, the record form refused in words next to its field then accepted, the
conclusion notices downloaded; who may not draw is refused, another agency sees nothing,
a form without its CSRF token changes nothing, a redraw needs the office and a reason.

The province of tests/support/province.py: SO-A's inspection team (TTR) inspects half of
QLDT and DKKD every quarter; the clock is in 2024Q2."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.e2e.test_api_support import PASSWORD
from tests.support.province import Province, person, provinces
from workflow.domain.lifecycle import Move
from workflow.services import inspections as service
from workflow.services import tasks as task_service

A, B = "SO-A", "SO-B"


@pytest.fixture
def province(db_url: str, tmp_path: Path) -> Iterator[Province]:
    yield from provinces(db_url, tmp_path)


def signed_in(province: Province, who: str) -> TestClient:
    province.account(who)
    client = TestClient(province.app())
    answer = client.post(
        "/sign-in", data={"login": who, "password": PASSWORD}, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text
    return client


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


def draws_of(province: Province) -> list[dict[str, Any]]:
    return service.list_draws(province.setup, A)


def draw(client: TestClient) -> int:
    preview = client.get("/inspections/draw", params={"period": "2024Q2"})
    answer = client.post(
        "/inspections/draw",
        data={"csrf": csrf_of(preview.text), "period": "2024Q2"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    found = re.fullmatch(r"/inspections/(\d+)\?done=drawn", answer.headers["location"])
    assert found, answer.headers["location"]
    return int(found.group(1))


def test_an_inspection_from_the_draw_to_the_conclusion_notice(province: Province) -> None:
    inspector = signed_in(province, person(A, "inspector"))
    listing = inspector.get("/inspections")
    assert listing.status_code == 200 and "quý II năm 2024 (2024Q2)" in listing.text

    preview = inspector.get("/inspections/draw", params={"period": "2024Q2"})
    assert preview.status_code == 200
    # The population and its signals before anything is written; the choice at confirmation.
    assert 'id="unit-QLDT"' in preview.text and 'id="unit-DKKD"' in preview.text
    assert "chỉ có khi bạn xác nhận" in preview.text
    assert "Do bốc thăm quyết định khi xác nhận" in preview.text  # both never inspected
    assert draws_of(province) == []

    forged = inspector.post("/inspections/draw", data={"csrf": "x" * 43, "period": "2024Q2"})
    assert forged.status_code == 403 and "Biểu mẫu đã cũ" in forged.text
    assert draws_of(province) == []

    number = draw(inspector)
    page = inspector.get(f"/inspections/{number}?done=drawn")
    assert "Đã bốc thăm đơn vị kiểm tra" in page.text
    [row] = draws_of(province)
    [unit] = row["selected"]
    assert f'id="why-{unit}"' in page.text and "Được chọn: xếp thứ 1 trong 1" in page.text
    assert "Hạt giống = 15 chữ số hex đầu của SHA-256" in page.text
    # The next quarter, before its draw: the unit never inspected goes first, for sure.
    following = inspector.get("/inspections/draw", params={"period": "2024Q3"}).text
    other = "DKKD" if unit == "QLDT" else "QLDT"
    assert re.search(rf'id="unit-{other}">.*?Được chọn \(dù bốc thăm', following, re.S)
    assert re.search(
        rf'id="unit-{unit}">.*?2024Q2 \(1 kỳ trước\).*?Không được chọn', following, re.S
    )
    shown = service.show(province.setup, number)
    [target] = shown["targets"]
    task = target["task"]
    assert f'href="/tasks/{task}"' in page.text
    # Asked again, the period's stored draw comes back: nothing is drawn twice.
    again = inspector.post(
        "/inspections/draw",
        data={"csrf": csrf_of(page.text), "period": "2024Q2"},
        follow_redirects=False,
    )
    assert again.headers["location"] == f"/inspections/{number}?done=existing"

    task_service.move(province.setup, task, Move.START, person(A, "inspector"))
    form = inspector.get(f"/inspections/tasks/{task}/record")
    assert form.status_code == 200
    checklist = [int(t) for t in re.findall(r'id="finding-(\d+)"', form.text)]
    assert checklist == target["checklist"] and checklist
    first = checklist[0]
    fields = {"csrf": csrf_of(form.text), "version": "2", "inspected_on": "2024-06-03"}
    fields |= {f"c{t}": "1" for t in checklist}
    fields |= {f"c{first}": "0", f"ft{first}": "Bổ sung báo cáo", f"fd{first}": "2024-07-31"}
    refused = inspector.post(f"/inspections/tasks/{task}/record", data=fields)
    assert refused.status_code == 200
    assert f'<p class="alert error" id="e-n{first}">Nhiệm vụ chưa đạt: phải ghi rõ lý do' in (
        refused.text
    )
    assert 'value="Bổ sung báo cáo"' in refused.text  # what was typed is kept
    assert task_service.get_task(province.setup, task).state == "in_progress"

    fields[f"n{first}"] = "Chưa có báo cáo quý."
    done = inspector.post(f"/inspections/tasks/{task}/record", data=fields, follow_redirects=False)
    assert done.headers["location"] == f"/inspections/{number}?done=record"
    assert task_service.get_task(province.setup, task).state == "submitted"

    page = inspector.get(f"/inspections/{number}")
    assert "Ban hành thông báo kết luận" not in page.text  # nothing verified yet
    task_service.move(province.setup, task, Move.VERIFY, person(A, "office"))
    page = inspector.get(f"/inspections/{number}")
    assert "1 biên bản đã được văn phòng xác nhận" in page.text
    concluded = inspector.post(
        "/inspections/draw",
        data={"csrf": csrf_of(page.text), "period": "2024Q2"},
        follow_redirects=False,
    )
    assert concluded.headers["location"] == f"/inspections/{number}?done=concluded"
    page = inspector.get(f"/inspections/{number}")
    assert f'href="/inspections/tasks/{task}/notice/docx"' in page.text
    assert "Bổ sung báo cáo" in page.text  # the fix task, linked
    docx = inspector.get(f"/inspections/tasks/{task}/notice/docx")
    assert docx.status_code == 200 and docx.content[:2] == b"PK"
    assert docx.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert f"TB-2024Q2-{unit}-{task}.docx" in docx.headers["content-disposition"]
    html = inspector.get(f"/inspections/tasks/{task}/notice/html")
    assert html.headers["content-type"].startswith("text/html")
    assert "Chưa có báo cáo quý." in html.text
    assert inspector.get(f"/inspections/tasks/{task}/notice/pdf").status_code == 404


def test_staff_cannot_draw_and_another_agency_sees_nothing(province: Province) -> None:
    number = draw(signed_in(province, person(A, "inspector")))
    task = service.show(province.setup, number)["targets"][0]["task"]
    staff = signed_in(province, person(A, "staff"))
    refused = staff.get("/inspections/draw", params={"period": "2024Q2"})
    assert refused.status_code == 403 and "Chỉ thanh tra viên mới được bốc thăm" in refused.text
    page = staff.get(f"/inspections/{number}")  # reading is every role's
    assert page.status_code == 200 and "Bốc thăm lại" not in page.text
    posted = staff.post("/inspections/draw", data={"csrf": csrf_of(page.text), "period": "2024Q3"})
    assert posted.status_code == 403 and len(draws_of(province)) == 1

    other = signed_in(province, person(B, "inspector"))
    assert f"/inspections/{number}" not in other.get("/inspections").text
    for path in (
        f"/inspections/{number}",
        f"/inspections/tasks/{task}/record",
        f"/inspections/tasks/{task}/notice/html",
    ):
        answer = other.get(path)
        assert answer.status_code == 404 and "không có quyền xem" in answer.text, path


def test_a_bad_period_is_one_line_and_a_redraw_needs_the_office_and_a_reason(
    province: Province,
) -> None:
    inspector = signed_in(province, person(A, "inspector"))
    bad = inspector.get("/inspections/draw", params={"period": "2024"})
    assert bad.status_code == 400 and "Kỳ kiểm tra không hợp lệ" in bad.text
    number = draw(inspector)

    office = signed_in(province, person(A, "office"))
    page = office.get(f"/inspections/{number}")
    assert "Lý do bốc thăm lại (bắt buộc)" in page.text
    token = csrf_of(page.text)
    empty = office.post(f"/inspections/{number}/redraw", data={"csrf": token, "reason": " "})
    assert "Hãy ghi lý do bốc thăm lại." in empty.text and len(draws_of(province)) == 1
    redrawn = office.post(
        f"/inspections/{number}/redraw",
        data={"csrf": token, "reason": "Sai danh sách đơn vị"},
        follow_redirects=False,
    )
    assert redrawn.status_code == 303
    newer = int(redrawn.headers["location"].split("/")[-1].split("?")[0])
    page = office.get(f"/inspections/{newer}")
    assert "Sai danh sách đơn vị" in page.text and f"Lần bốc thăm số {number}" in page.text
    old = office.get(f"/inspections/{number}")
    assert "đã bị thay thế bởi" in old.text and "Lý do bốc thăm lại (bắt buộc)" not in old.text
    listing = office.get("/inspections")
    assert "Xem danh sách đơn vị trước khi bốc thăm" not in listing.text  # the inspector's
    assert f'Đã bị thay thế bởi <a href="/inspections/{newer}">' in listing.text
    # An inspector is not the office: the redraw is refused in words.
    refused = inspector.post(
        f"/inspections/{newer}/redraw",
        data={"csrf": csrf_of(inspector.get("/inspections").text), "reason": "x"},
    )
    assert refused.status_code == 403 and "Chỉ văn phòng mới được bốc thăm lại." in refused.text
