"""Dossiers, procedures and the calendar through the API, on SQLite and PostgreSQL: the desk
officer is who is signed in and the receipt is dated by the server; a CSV arrives as the
body or as an upload, all rows or none; a delay is the handling unit's, before the due date
by the server's clock; every read is fenced by organisation.

The server's clock starts on Monday 03/06/2024 at 09:00 (Vietnam); procedure DN takes 3
working days (QLDT handles it, receipts from 16:00 count from the next day), DT 15 (DKKD).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.e2e.test_api_support import error, session_credential
from tests.support.province import (
    START,
    Province,
    build_province,
    person,
    procedure,
    provinces,
)
from workflow.clock import LOCAL_TZ, SystemClock
from workflow.context import Context
from workflow.services import database

A, B = "SO-A", "SO-B"


@pytest.fixture
def province(db_url: str, tmp_path: Path) -> Iterator[Province]:
    yield from provinces(db_url, tmp_path)


def receipt(org: str = A, **more: Any) -> dict[str, Any]:
    return {"procedure": procedure(org, "DN"), "applicant": "Công ty TNHH Hoa Sen", **more}


def ids(answer: httpx.Response) -> list[int]:
    assert answer.status_code == 200, answer.text
    return [d["id"] for d in answer.json()["dossiers"]]


def test_the_desk_officer_is_who_signed_in_and_the_server_dates_the_receipt(
    province: Province,
) -> None:
    app = province.app()
    lan = province.browser(app, person(A, "staff"))
    received = lan.post("/dossiers", json=receipt(phone="0912 345 678"))
    assert received.status_code == 201, received.text
    dossier = received.json()
    assert (dossier["code"], dossier["organisation"], dossier["lead_unit"]) == (
        "SO-A-240603-0001",
        A,
        "QLDT",
    )
    # Received now by the server's clock; three working days, the day itself not counted.
    assert dossier["received_at"] == START.isoformat()
    assert (dossier["due_date"], dossier["state"], dossier["version"]) == (
        "2024-06-06",
        "assigned",
        1,
    )
    assert received.headers["location"] == f"/api/v1/dossiers/{dossier['id']}"
    assert received.headers["etag"] == '"1"'
    [entry] = province.entries(action="dossier.receive")
    assert (entry["actor"], entry["role"], entry["organisation"]) == (
        person(A, "staff"),
        "staff",
        A,
    )
    assert (entry["channel"], entry["credential"]) == ("web", session_credential(lan.session))

    # Who receives is never a field of the body; nor is "now".
    before = province.head()
    for extra in ({"actor": person(A, "office")}, {"desk_officer": person(A, "hung")}):
        message = error(lan.post("/dossiers", json=receipt(**extra)), 422, "invalid_request")
        assert next(iter(extra)) in message
    # The desk may say when it received it: earlier today, never later than now.
    future = (START + dt.timedelta(days=1)).isoformat()
    assert "in the future" in error(
        lan.post("/dossiers", json=receipt(received_at=future)), 400, "invalid_input"
    )
    assert "between 2000 and 2099" in error(
        lan.post("/dossiers", json=receipt(received_at="9999-01-01T08:00")), 400, "invalid_input"
    )
    assert province.head() == before
    earlier = lan.post("/dossiers", json=receipt(received_at="2024-06-03T08:15"))
    assert earlier.status_code == 201
    assert earlier.json()["received_at"] == "2024-06-03T08:15:00+07:00"

    # The province's one-stop system posts with a token of the desk officer's.
    system = province.bearer(app, person(A, "staff"), ["dossiers:write", "dossiers:read"])
    posted = system.post("/dossiers", json=receipt(applicant="Hộ kinh doanh Mai Anh"))
    assert posted.status_code == 201, posted.text
    last = province.entries(action="dossier.receive")[-1]
    assert (last["actor"], last["channel"]) == (person(A, "staff"), "api")
    assert last["credential"].startswith("token:")

    # Those who do not receive dossiers are refused, and nothing is written.
    reader = province.bearer(app, person(A, "staff"), ["dossiers:read"])
    others = [
        province.browser(app, person(A, r)) for r in ("leader", "inspector", "auditor", "admin")
    ]
    before = province.head()
    error(reader.post("/dossiers", json=receipt()), 403, "permission_denied")
    for who in others:
        error(who.post("/dossiers", json=receipt()), 403, "permission_denied")
    # Another agency's procedure is not one of theirs: it cannot receive into it.
    message = error(lan.post("/dossiers", json=receipt(B)), 400, "invalid_input")
    assert f"unknown procedure '{procedure(B, 'DN')}'" in message
    assert province.head() == before


CSV_HEADER = "procedure,applicant,received_at,phone,email\n"


def test_a_csv_as_the_body_or_as_an_upload_all_rows_or_none(province: Province) -> None:
    app = province.app()
    office = province.browser(app, person(A, "office"))
    good = (
        CSV_HEADER
        + f"{procedure(A, 'DN')},Công ty Cổ phần Đá Xanh,2024-06-03 08:00,0912345678,\n"
        + f"{procedure(A, 'DT')},Hợp tác xã Lúa Vàng,2024-06-03 08:30,,htx@example.vn\n"
    )
    as_body = office.post(
        "/dossiers/import", content=good.encode(), headers={"Content-Type": "text/csv"}
    )
    assert as_body.status_code == 201, as_body.text
    assert as_body.json()["count"] == 2
    imported = as_body.json()["dossiers"]
    assert [(d["procedure"], d["lead_unit"], d["due_date"]) for d in imported] == [
        (procedure(A, "DN"), "QLDT", "2024-06-06"),
        (procedure(A, "DT"), "DKKD", "2024-06-24"),
    ]
    entries = province.entries(action="dossier.receive")
    assert {(e["actor"], e["channel"]) for e in entries} == {(person(A, "office"), "web")}

    # An upload (multipart/form-data, field `file`), a spreadsheet's byte-order mark and all.
    upload = office.post(
        "/dossiers/import",
        files={"file": ("ho-so.csv", ("\ufeff" + good).encode(), "text/csv")},
    )
    assert upload.status_code == 201, upload.text
    assert [d["code"] for d in upload.json()["dossiers"]] == [
        "SO-A-240603-0003",
        "SO-A-240603-0004",
    ]

    # One bad row refuses the file: every problem named by the file's name and line.
    small = province.app(max_body_bytes=2048)
    office_small = province.browser(small, person(A, "office"))
    before = (province.head(), ids(office.get("/dossiers")))
    bad = (
        CSV_HEADER
        + f"{procedure(A, 'DN')},Công ty A,2024-06-03 08:00,,\n"
        + f"{procedure(A, 'DN')}X,Công ty B,2024-06-03 08:00,,\n"
        + f"{procedure(A, 'DN')},,2024-06-03 08:00,,\n"
        + f"{procedure(A, 'DN')},Công ty D,0001-01-01 00:00,,\n"
        + f"{procedure(A, 'DN')},Công ty E,2024-06-04 08:00,,\n"
    )
    refused = office.post(
        "/dossiers/import",
        files={"file": ("../../etc/<script>danh-sach.csv", bad.encode(), "text/csv")},
    )
    message = error(refused, 422, "invalid_input")
    assert message == "4 bad row(s); nothing was imported"
    problems = refused.json()["error"]["problems"]
    assert problems == [
        f"scriptdanh-sach.csv:3: unknown procedure '{procedure(A, 'DN')}X'; did you mean "
        f"'{procedure(A, 'DN')}'?",
        "scriptdanh-sach.csv:4: the applicant's name is empty",
        "scriptdanh-sach.csv:5: received_at '0001-01-01 00:00': the year must be between 2000 "
        "and 2099",
        "scriptdanh-sach.csv:6: received_at 2024-06-04T08:00:00+07:00 is in the future",
    ]
    assert (province.head(), ids(office.get("/dossiers"))) == before

    # What is not a CSV is refused, one clear line each.
    as_json = office.post("/dossiers/import", json={"rows": []})
    assert "text/csv" in error(as_json, 415, "unsupported_media_type")
    not_utf8 = office.post(
        "/dossiers/import",
        content=(CSV_HEADER + "X,Công ty,2024-06-03 08:00,,\n").encode("cp1258"),
        headers={"Content-Type": "text/csv"},
    )
    assert error(not_utf8, 400, "invalid_input") == "body: not UTF-8 text; save the CSV as UTF-8"
    no_file = office.post("/dossiers/import", files={"tep": ("a.csv", good.encode(), "text/csv")})
    assert "no part named `file`" in error(no_file, 400, "invalid_input")
    # Within the server's body limit: a larger file is refused before it is read.
    big = CSV_HEADER + f"{procedure(A, 'DN')},Công ty A,2024-06-03 08:00,,\n" * 100
    too_big = office_small.post(
        "/dossiers/import", content=big.encode(), headers={"Content-Type": "text/csv"}
    )
    error(too_big, 413, "body_too_large")
    assert (province.head(), ids(office.get("/dossiers"))) == before

    # Nobody signed in: refused before the body is looked at.
    nobody = TestClient(app).post(
        "/api/v1/dossiers/import", content=good.encode(), headers={"Content-Type": "text/csv"}
    )
    error(nobody, 401, "not_authenticated")


def test_a_delay_is_the_handling_units_before_the_due_date_by_the_servers_clock(
    province: Province,
) -> None:
    app = province.app()
    lan = province.browser(app, person(A, "staff"))
    first = lan.post("/dossiers", json=receipt()).json()  # due Thursday 06/06
    second = lan.post("/dossiers", json=receipt()).json()
    office = province.browser(app, person(A, "office"))
    other = province.browser(app, person(B, "staff"))
    before = province.head()
    body = {"reason": "Cần xác minh thực địa tại địa chỉ kinh doanh", "days": 5}
    # The office is not the handling unit (QLDT); another agency does not see the dossier.
    assert "only the handling unit QLDT" in error(
        office.post(f"/dossiers/{first['id']}/delay", json=body), 403, "permission_denied"
    )
    assert (
        error(other.post(f"/dossiers/{first['id']}/delay", json=body), 404, "not_found")
        == f"dossier {first['id']} does not exist"
    )
    # The body says why and how long; never who, never when.
    error(
        lan.post(f"/dossiers/{first['id']}/delay", json={**body, "today": "2024-06-01"}),
        422,
        "invalid_request",
    )
    error(
        lan.post(f"/dossiers/{first['id']}/delay", json={**body, "days": 61}),
        422,
        "invalid_request",
    )
    error(
        lan.post(f"/dossiers/{first['id']}/delay", json={**body, "reason": "   "}),
        422,
        "invalid_request",
    )
    assert province.head() == before

    delayed = lan.post(f"/dossiers/{first['id']}/delay", json=body)
    assert delayed.status_code == 200, delayed.text
    assert (delayed.json()["delay_days"], delayed.json()["delay_reason"]) == (5, body["reason"])
    entry = province.entries(action="dossier.delay")[-1]
    assert (entry["actor"], entry["channel"], entry["data"]["days"]) == (
        person(A, "staff"),
        "web",
        5,
    )

    # On the due date, by the server's clock, it is too late to declare one.
    province.at(dt.datetime(2024, 6, 6, 8, 0, tzinfo=LOCAL_TZ))
    lan = province.browser(app, person(A, "staff"))  # the session of three days ago ended
    late = lan.post(f"/dossiers/{second['id']}/delay", json=body)
    assert "a delay is declared before the due date (today is 2024-06-06)" in error(
        late, 409, "move_not_allowed"
    )


def test_listing_and_showing_are_fenced_by_organisation(province: Province) -> None:
    app = province.app()
    lan_a = province.browser(app, person(A, "staff"))
    lan_b = province.browser(app, person(B, "staff"))
    a = [
        lan_a.post("/dossiers", json=receipt(applicant=f"Công ty A{n}")).json()["id"]
        for n in range(3)
    ]
    b = [lan_b.post("/dossiers", json=receipt(B, applicant="Công ty Bí Mật Sở B")).json()["id"]]
    snv = province.browser(app, "snv.auditor")  # Home Affairs oversees every agency
    assert ids(lan_a.get("/dossiers")) == a
    assert ids(lan_b.get("/dossiers")) == b
    assert ids(snv.get("/dossiers")) == sorted(a + b)
    assert ids(snv.get("/dossiers", params={"org": B})) == b
    error(lan_a.get("/dossiers", params={"org": B}), 403, "permission_denied")
    error(province.browser(app, person(A, "admin")).get("/dossiers"), 403, "permission_denied")

    shown = lan_a.get(f"/dossiers/{a[0]}")
    assert shown.status_code == 200 and shown.json()["applicant"] == "Công ty A0"
    assert shown.headers["etag"] == '"1"'
    hidden = lan_a.get(f"/dossiers/{b[0]}")
    assert error(hidden, 404, "not_found") == f"dossier {b[0]} does not exist"
    assert error(lan_a.get("/dossiers/999999"), 404, "not_found") == "dossier 999999 does not exist"
    assert "Bí Mật" not in hidden.text and B not in hidden.text
    assert snv.get(f"/dossiers/{b[0]}").json()["applicant"] == "Công ty Bí Mật Sở B"

    # The CLI's filters, and keyset paging by id.
    page = lan_a.get("/dossiers", params={"limit": 2})
    assert ids(page) == a[:2] and page.json()["next"] == a[1]
    rest = lan_a.get("/dossiers", params={"limit": 2, "after": page.json()["next"]})
    assert ids(rest) == a[2:] and rest.json()["next"] is None
    assert ids(lan_a.get("/dossiers", params={"state": "assigned"})) == a
    assert ids(lan_a.get("/dossiers", params={"state": "verified"})) == []
    assert ids(lan_a.get("/dossiers", params={"late": True})) == []  # due 06/06
    assert ids(lan_a.get("/dossiers", params={"late": True, "as_of": "2024-06-07"})) == a
    error(lan_a.get("/dossiers", params={"state": "lost"}), 422, "invalid_request")
    error(
        lan_a.get("/dossiers", params={"late": True, "as_of": "0001-01-01"}), 400, "invalid_input"
    )

    # A dossier is a task: the desk moves it with the version the dossier showed.
    started = lan_a.move(a[0], "start", 1)
    assert started.status_code == 200, started.text
    assert lan_a.get(f"/dossiers/{a[0]}").json()["state"] == "in_progress"


def test_procedures_and_the_calendar(province: Province) -> None:
    app = province.app()
    lan = province.browser(app, person(A, "staff"))
    listed = lan.get("/procedures").json()["procedures"]
    assert [(p["organisation"], p["code"], p["working_days"]) for p in listed] == [
        (A, procedure(A, "DN"), 3),
        (A, procedure(A, "DT"), 15),
    ]
    snv = province.browser(app, "snv.auditor")
    assert {p["organisation"] for p in snv.get("/procedures").json()["procedures"]} == {A, B}
    error(lan.get("/procedures", params={"org": B}), 403, "permission_denied")
    error(province.browser(app, person(A, "admin")).get("/procedures"), 403, "permission_denied")

    # Received after the 16:00 cut-off: counted from the next working day.
    late = lan.get(
        "/calendar/due", params={"from": "2024-06-03T17:00", "days": 3, "cutoff_hour": 16, "org": A}
    )
    assert late.status_code == 200, late.text
    assert {k: late.json()[k] for k in ("due", "counted_from", "organisation")} == {
        "due": "2024-06-07",
        "counted_from": "2024-06-04",
        "organisation": A,
    }
    # Reunification Day and Labour Day are skipped, with their names.
    holidays = lan.get("/calendar/due", params={"from": "2024-04-26", "days": 3}).json()
    skipped = {s["date"] for s in holidays["skipped"]}
    assert {"2024-04-30", "2024-05-01"} <= skipped
    assert holidays["due"] > "2024-05-01"
    error(
        lan.get("/calendar/due", params={"from": "2024-06-03", "days": 3, "org": B}),
        403,
        "permission_denied",
    )
    bad = lan.get("/calendar/due", params={"from": "2024-06-03", "days": 3, "cutoff_hour": 16})
    assert "needs the time of receipt" in error(bad, 400, "invalid_input")
    error(lan.get("/calendar/due", params={"from": "03/06/2024", "days": 3}), 400, "invalid_input")
    error(
        lan.get("/calendar/due", params={"from": "2024-06-03", "days": 0}), 422, "invalid_request"
    )


def test_a_production_database_takes_receipts_from_signed_in_people_only(
    db_url: str, tmp_path: Path
) -> None:
    """On a production database (the system's clock), a receipt through the API is the
    signed-in person's, dated by the system's clock; nobody signed in writes nothing."""
    province = build_province(db_url, tmp_path)
    try:
        province.account(person(A, "staff"))
        host = Context(province.setup.engine, clock=SystemClock(), operator="operator:root")
        assert database.initialise(host, simulation=False, os_user="root") == "production"
        app = province.app(clock=SystemClock())
        lan = province.browser(app, person(A, "staff"))
        now = dt.datetime.now(dt.UTC)
        received = lan.post("/dossiers", json=receipt())
        assert received.status_code == 201, received.text
        at = dt.datetime.fromisoformat(received.json()["received_at"])
        assert abs(at - now) < dt.timedelta(minutes=1)
        entry = province.entries(action="dossier.receive")[-1]
        assert (entry["actor"], entry["channel"]) == (person(A, "staff"), "web")
        nobody = TestClient(app).post("/api/v1/dossiers", json=receipt())
        error(nobody, 401, "not_authenticated")
    finally:
        province.close()
