"""Reports through the API, on SQLite and PostgreSQL: the office (or the leadership) makes
its agency's report as of the server's day, requested by who is signed in; asked again, the
stored snapshot; a revision needs a reason; its files are written under the server's output
folder and downloaded byte for byte; every read is fenced by organisation.

The server's day is Monday 03/06/2024: 2024Q1's reporting window (15/12/2023 to 14/03/2024)
has closed, 2024Q2's (15/03 to 14/06) is open (a provisional report), 2024Q4 has not begun.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.test_api_support import error
from tests.support.province import START, Province, person, provinces

A, B = "SO-A", "SO-B"


@pytest.fixture
def province(db_url: str, tmp_path: Path) -> Iterator[Province]:
    yield from provinces(db_url, tmp_path)


def snapshots(answer: httpx.Response) -> list[int]:
    assert answer.status_code == 200, answer.text
    return [r["id"] for r in answer.json()["reports"]]


def test_the_office_makes_its_agencys_report_as_of_the_servers_day(province: Province) -> None:
    app = province.app()
    office = province.browser(app, person(A, "office"))
    others = {r: province.browser(app, person(A, r)) for r in ("staff", "inspector", "auditor")}
    leader = province.browser(app, person(A, "leader"))
    other_office = province.browser(app, person(B, "office"))
    before = province.head()
    # Who asks and as of when are never the client's to say.
    for extra in ({"as_of": "2024-03-31"}, {"generated_by": person(A, "leader")}, {"now": "x"}):
        answer = office.post("/reports", json={"period": "2024Q1", **extra})
        assert next(iter(extra)) in error(answer, 422, "invalid_request")
    for who in others.values():
        error(who.post("/reports", json={"period": "2024Q1"}), 403, "permission_denied")
    # For their own agency only, whichever way it is asked.
    error(
        office.post("/reports", json={"organisation": B, "period": "2024Q1"}),
        403,
        "permission_denied",
    )
    error(
        other_office.post("/reports", json={"organisation": A, "period": "2024Q1"}),
        403,
        "permission_denied",
    )
    assert "has not begun" in error(
        office.post("/reports", json={"period": "2024Q4"}), 400, "invalid_input"
    )
    error(
        office.post("/reports", json={"period": "2024Q1", "window": "lunar"}),
        422,
        "invalid_request",
    )
    assert province.head() == before

    made = office.post("/reports", json={"period": "2024Q1"})
    assert made.status_code == 201, made.text
    report = made.json()
    snapshot = report["snapshot"]
    assert (report["created"], report["organisation"]["code"], report["period"]) == (
        True,
        A,
        "2024Q1",
    )
    assert (report["generated_by"], report["as_of"], report["provisional"]) == (
        person(A, "office"),
        START.date().isoformat(),
        False,
    )
    assert made.headers["location"] == f"/api/v1/reports/{snapshot}"
    [entry] = province.entries(action="report.snapshot")
    assert (entry["actor"], entry["channel"], entry["data"]["hash"]) == (
        person(A, "office"),
        "web",
        report["hash"],
    )
    # Its files, under the server's output folder, are what a download gives, byte for byte.
    folder = province.output / "reports" / A
    for kind, path in report["files"].items():
        written = Path(path)
        assert written.parent == folder and written.name == f"2024Q1-reporting-r1.{kind}"
        got = office.get(report["download"][kind].removeprefix("/api/v1"))
        assert got.status_code == 200, got.text
        assert got.content == written.read_bytes()
        assert got.headers["content-disposition"] == (
            f'attachment; filename="{A}-2024Q1-reporting-r1.{kind}"'
        )
    assert sorted(report["files"]) == ["csv", "html", "json", "pdf", "xlsx"]
    html = office.get(f"/reports/{snapshot}/download", params={"format": "html"})
    assert html.headers["content-type"].startswith("text/html")
    assert (
        "<script" not in html.text
        and "frame-ancestors 'none'" in html.headers["content-security-policy"]
    )
    error(
        office.get(f"/reports/{snapshot}/download", params={"format": "docx"}),
        422,
        "invalid_request",
    )

    # Asked again (by the leadership too): the stored snapshot, nothing written.
    before = province.head()
    again = leader.post("/reports", json={"period": "2024Q1"})
    assert again.status_code == 200
    assert (again.json()["snapshot"], again.json()["created"]) == (snapshot, False)
    assert province.head() == before
    # A revision says why; the reason goes with a revision only.
    error(office.post("/reports", json={"period": "2024Q1", "revise": True}), 400, "invalid_input")
    error(office.post("/reports", json={"period": "2024Q1", "reason": "x"}), 400, "invalid_input")
    revised = leader.post(
        "/reports",
        json={"period": "2024Q1", "revise": True, "reason": "Bổ sung số liệu quý I"},
    )
    assert revised.status_code == 201, revised.text
    assert (revised.json()["revision"], revised.json()["previous"]["snapshot"]) == (2, snapshot)
    assert revised.json()["generated_by"] == person(A, "leader")
    # The open quarter's report is provisional.
    assert office.post("/reports", json={"period": "2024Q2"}).json()["provisional"] is True


def test_listing_showing_and_downloading_are_fenced_by_organisation(province: Province) -> None:
    app = province.app()
    made = {}
    for org in (A, B):
        answer = province.browser(app, person(org, "office")).post(
            "/reports", json={"period": "2024Q1"}
        )
        made[org] = answer.json()["snapshot"]
    auditor = province.browser(app, person(A, "auditor"))
    snv = province.browser(app, "snv.auditor")
    assert snapshots(auditor.get("/reports")) == [made[A]]
    assert snapshots(snv.get("/reports")) == [made[A], made[B]]
    assert snapshots(snv.get("/reports", params={"org": B, "period": "2024Q1"})) == [made[B]]
    assert snapshots(auditor.get("/reports", params={"period": "2024Q2"})) == []
    error(auditor.get("/reports", params={"org": B}), 403, "permission_denied")
    error(auditor.get("/reports", params={"period": "2024Q9"}), 400, "invalid_input")
    error(province.browser(app, person(A, "admin")).get("/reports"), 403, "permission_denied")

    shown = auditor.get(f"/reports/{made[A]}")
    assert shown.status_code == 200 and shown.json()["snapshot"] == made[A]
    for path in (f"/reports/{made[B]}", f"/reports/{made[B]}/download"):
        hidden = auditor.get(path)
        assert error(hidden, 404, "not_found") == f"report {made[B]} does not exist"
        assert B not in hidden.text
    assert error(auditor.get("/reports/999999"), 404, "not_found") == "report 999999 does not exist"
    assert snv.get(f"/reports/{made[B]}/download", params={"format": "csv"}).status_code == 200

    # A reporting tool reads with a token of the auditor's; it makes nothing.
    tool = province.bearer(app, person(A, "auditor"), ["reports:read"])
    assert snapshots(tool.get("/reports")) == [made[A]]
    assert tool.get(f"/reports/{made[A]}/download").json()["snapshot"] == made[A]
    error(tool.post("/reports", json={"period": "2024Q1"}), 403, "permission_denied")
    office_tool = province.bearer(app, person(A, "office"), ["reports:read"])
    error(office_tool.post("/reports", json={"period": "2024Q2"}), 403, "permission_denied")


def test_a_server_that_cannot_write_its_documents_says_so_before_anything_is_stored(
    province: Province, tmp_path: Path
) -> None:
    blocked = tmp_path / "a-file-not-a-folder"
    blocked.write_text("", encoding="utf-8")
    app = province.app(output_dir=blocked)
    office = province.browser(app, person(A, "office"))
    inspector = province.browser(app, person(A, "inspector"))
    before = province.head()
    for who, path, body in (
        (office, "/reports", {"period": "2024Q1"}),
        (inspector, "/inspections", {"period": "2024Q2"}),
    ):
        message = error(who.post(path, json=body), 503, "service_unavailable")
        assert "cannot write" in message and str(blocked) not in message
    assert province.head() == before
    assert snapshots(office.get("/reports")) == []
    assert inspector.get("/inspections").json()["inspections"] == []


def test_the_province_roll_up_is_for_whoever_reads_every_agency(province: Province) -> None:
    """SNV (its file oversees all) reads the roll-up of SO-A, SO-B and itself; an agency's
    own people, even its auditor, are refused; asked as of the server's day (provisional:
    2024Q2's window is open)."""
    app = province.app()
    snv = province.browser(app, "snv.auditor")
    refused = [
        province.browser(app, who)
        for who in (person(A, "auditor"), person(A, "office"), person(B, "leader"))
    ]
    before = province.head()  # signed in: what follows are reads
    answer = snv.get("/reports/province", params={"period": "2024Q2"})
    assert answer.status_code == 200, answer.text
    rolled = answer.json()
    assert (rolled["period"], rolled["as_of"], rolled["provisional"]) == (
        "2024Q2",
        START.date().isoformat(),
        True,
    )
    rows = {r["organisation"]: r for r in rolled["organisations"]}
    assert set(rows) == {A, B, "SNV"}
    for org in (A, B):  # their plan tasks, all open
        assert rows[org]["tasks"] == len(province.tasks[org]), org
    assert [r["rank"] for r in rolled["organisations"]][-1] is None  # SNV: nothing to rate
    for who in refused:
        answer = who.get("/reports/province", params={"period": "2024Q2"})
        assert "may not read every organisation" in error(answer, 403, "permission_denied")
    assert "has not begun" in error(
        snv.get("/reports/province", params={"period": "2024Q4"}), 400, "invalid_input"
    )
    error(
        snv.get("/reports/province", params={"period": "2024Q2", "window": "lunar"}),
        422,
        "invalid_request",
    )
    assert province.head() == before  # a read writes nothing
