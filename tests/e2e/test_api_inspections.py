"""Inspections through the API, on SQLite and PostgreSQL: an inspector draws for their own
agency with a seed the server draws; the stored draw comes back when asked again; a redraw
is the office's, with a reason; reads are fenced by organisation; a record goes from its
template to its submission (If-Match), its verification and its conclusion notice, each
step recorded as who was signed in.

Each agency's inspection team (TTR) inspects half of QLDT and DKKD every quarter; each unit
has two tasks due in 2024Q2, the checklist of its inspection.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.e2e.test_api_support import error
from tests.support.province import Province, person, provinces

A, B = "SO-A", "SO-B"


@pytest.fixture
def province(db_url: str, tmp_path: Path) -> Iterator[Province]:
    yield from provinces(db_url, tmp_path)


def numbers(answer: httpx.Response) -> list[int]:
    assert answer.status_code == 200, answer.text
    return [d["inspection"] for d in answer.json()["inspections"]]


def test_an_inspector_draws_for_their_agency_with_a_seed_the_server_draws(
    province: Province,
) -> None:
    app = province.app()
    inspector = province.browser(app, person(A, "inspector"))
    office = province.browser(app, person(A, "office"))
    staff = province.browser(app, person(A, "staff"))
    other = province.browser(app, person(B, "inspector"))
    before = province.head()
    # Who draws and how the tie is broken are not the client's to say.
    for extra in ({"seed": 42}, {"actor": person(A, "office")}, {"drawn_by": "x"}):
        answer = inspector.post("/inspections", json={"period": "2024Q2", **extra})
        assert next(iter(extra)) in error(answer, 422, "invalid_request")
    error(
        other.post("/inspections", json={"organisation": A, "period": "2024Q2"}),
        403,
        "permission_denied",
    )
    error(staff.post("/inspections", json={"period": "2024Q2"}), 403, "permission_denied")
    assert "a draw needs the inspector role" in error(
        office.post("/inspections", json={"period": "2024Q2"}), 403, "permission_denied"
    )
    assert "give a period like 2024Q3, not 2024" in error(
        inspector.post("/inspections", json={"period": "2024"}), 400, "invalid_input"
    )
    assert province.head() == before

    drawn = inspector.post("/inspections", json={"period": "2024Q2"})
    assert drawn.status_code == 201, drawn.text
    body = drawn.json()
    assert (body["organisation"], body["period"], body["revision"]) == (A, "2024Q2", 1)
    assert (body["drawn_by"], body["existing"], body["count"]) == (person(A, "inspector"), False, 1)
    assert {p["unit"] for p in body["population"]} == {"QLDT", "DKKD"}
    assert isinstance(body["seed"], int) and body["conclusions"] == []
    [entry] = province.entries(action="inspection.draw")
    assert (entry["actor"], entry["role"], entry["channel"]) == (
        person(A, "inspector"),
        "inspector",
        "web",
    )
    assert entry["data"]["record"]["seed"] == body["seed"]

    # Asked again: the stored draw, nothing written.
    before = province.head()
    again = inspector.post("/inspections", json={"period": "2024Q2"})
    assert again.status_code == 200
    assert (again.json()["inspection"], again.json()["existing"]) == (body["inspection"], True)
    assert province.head() == before

    # A redraw is the office's, with a reason; it keeps the old draw.
    assert "a redraw needs the office role" in error(
        inspector.post(
            "/inspections", json={"period": "2024Q2", "redraw": True, "reason": "Sai sót"}
        ),
        403,
        "permission_denied",
    )
    error(
        office.post("/inspections", json={"period": "2024Q2", "redraw": True}), 400, "invalid_input"
    )
    error(
        office.post("/inspections", json={"period": "2024Q2", "reason": "x"}), 400, "invalid_input"
    )
    redrawn = office.post(
        "/inspections",
        json={"period": "2024Q2", "redraw": True, "reason": "Đơn vị được chọn đang sáp nhập"},
    )
    assert redrawn.status_code == 201, redrawn.text
    assert (redrawn.json()["revision"], redrawn.json()["supersedes"]) == (2, body["inspection"])
    assert redrawn.json()["drawn_by"] == person(A, "office")


def test_listing_showing_and_explaining_are_fenced_by_organisation(province: Province) -> None:
    app = province.app()
    drawn = {
        org: province.browser(app, person(org, "inspector"))
        .post("/inspections", json={"period": "2024Q2"})
        .json()["inspection"]
        for org in (A, B)
    }
    lan = province.browser(app, person(A, "staff"))
    snv = province.browser(app, "snv.auditor")
    assert numbers(lan.get("/inspections")) == [drawn[A]]
    assert numbers(snv.get("/inspections")) == [drawn[A], drawn[B]]
    assert numbers(snv.get("/inspections", params={"org": B, "period": "2024Q2"})) == [drawn[B]]
    error(lan.get("/inspections", params={"org": B}), 403, "permission_denied")
    error(province.browser(app, person(A, "admin")).get("/inspections"), 403, "permission_denied")

    shown = lan.get(f"/inspections/{drawn[A]}")
    assert shown.status_code == 200, shown.text
    [target] = shown.json()["targets"]
    assert (target["state"], target["conclusion"], target["fix_tasks"]) == ("assigned", None, [])
    assert len(target["checklist"]) == 2
    explained = lan.get(f"/inspections/{drawn[A]}/explain")
    assert explained.status_code == 200, explained.text
    assert explained.json()["verified"] is True
    assert [r["unit"] for r in explained.json()["ranking"]][:1] == explained.json()["selected"]

    for path in (f"/inspections/{drawn[B]}", f"/inspections/{drawn[B]}/explain"):
        hidden = lan.get(path)
        assert error(hidden, 404, "not_found") == f"inspection {drawn[B]} does not exist"
        assert B not in hidden.text
    assert (
        error(lan.get("/inspections/999999"), 404, "not_found")
        == "inspection 999999 does not exist"
    )
    assert snv.get(f"/inspections/{drawn[B]}/explain").json()["organisation"] == B


def test_a_record_from_its_template_to_its_conclusion(province: Province) -> None:
    app = province.app()
    inspector = province.browser(app, person(A, "inspector"))
    drawn = inspector.post("/inspections", json={"period": "2024Q2"}).json()
    [item] = drawn["tasks"]
    task, unit = item["task"], item["unit"]

    template = inspector.get(f"/inspections/tasks/{task}/record/template")
    assert template.status_code == 200, template.text
    assert template.headers["content-type"].startswith("application/yaml")
    filled: dict[str, Any] = yaml.safe_load(template.text)
    checklist = [f["task"] for f in filled["findings"]]
    assert len(checklist) == 2
    filled["findings"][0] |= {"compliant": False, "note": "Chưa công khai kết quả giải quyết"}
    filled["findings"][1] |= {"note": "Đạt yêu cầu"}
    filled["inspected_on"] = "2024-06-03"
    other_agency = province.browser(app, person(B, "inspector"))
    assert error(
        other_agency.get(f"/inspections/tasks/{task}/record/template"), 404, "not_found"
    ) == (f"task {task} does not exist")

    assert inspector.move(task, "start", 1).status_code == 200
    lan, office = (province.browser(app, person(A, r)) for r in ("staff", "office"))
    path = f"/inspections/tasks/{task}/record"
    as_yaml = {"Content-Type": "application/yaml"}
    before = province.head()
    # A non-compliant finding needs its fix: named where it is, in the YAML as sent.
    text = yaml.safe_dump(filled, allow_unicode=True, sort_keys=False)
    missing_fix = inspector.post(path, content=text.encode(), headers={**as_yaml, "If-Match": "2"})
    message = error(missing_fix, 422, "invalid_input")
    assert message.startswith("record:") and "no fix names it" in message
    line = int(message.split(":")[1])
    assert "task:" in text.splitlines()[line - 1] or "- task" in text.splitlines()[line - 1]
    # The same in JSON: named by its place in the record.
    as_json = inspector.post(path, json=filled, headers={"If-Match": "2"})
    assert error(as_json, 422, "invalid_input").startswith("findings[1]: task")
    assert as_json.json()["error"]["problems"][0]["at"] == "findings[1]"
    error(
        inspector.post(path, content=b"findings: [", headers={**as_yaml, "If-Match": "2"}),
        400,
        "invalid_input",
    )
    error(
        inspector.post(path, content=b"x", headers={"Content-Type": "text/plain", "If-Match": "2"}),
        415,
        "unsupported_media_type",
    )
    filled["fixes"] = [
        {"title": "Công khai kết quả giải quyết TTHC", "due": "2024-07-31", "task": checklist[0]}
    ]
    error(inspector.post(path, json=filled), 428, "precondition_required")
    stale = inspector.post(path, json=filled, headers={"If-Match": "1"})
    error(stale, 409, "conflict")
    assert (stale.json()["error"]["version"], stale.headers["etag"]) == (2, '"2"')
    # Only an inspector submits, and only their agency's.
    error(lan.post(path, json=filled, headers={"If-Match": "2"}), 403, "permission_denied")
    assert "submitted by an inspector" in error(
        office.post(path, json=filled, headers={"If-Match": "2"}), 403, "permission_denied"
    )
    error(other_agency.post(path, json=filled, headers={"If-Match": "2"}), 404, "not_found")
    assert province.head() == before

    submitted = inspector.post(
        path, content=yaml.safe_dump(filled, allow_unicode=True).encode(),
        headers={**as_yaml, "If-Match": "2"},
    )  # fmt: skip
    assert submitted.status_code == 200, submitted.text
    assert (submitted.json()["task"]["state"], submitted.headers["etag"]) == ("submitted", '"3"')
    assert submitted.json()["record_revision"] == 1
    entry = province.entries(action="submit", task_id=task)[-1]
    assert (entry["actor"], entry["role"], entry["channel"]) == (
        person(A, "inspector"),
        "inspector",
        "web",
    )

    # The office verifies it (four eyes); the next draw request concludes it.
    verifier = province.browser(app, person(A, "office2"))
    assert verifier.move(task, "verify", 3).status_code == 200
    concluded = inspector.post("/inspections", json={"period": "2024Q2"})
    assert concluded.status_code == 200 and concluded.json()["existing"] is True
    [conclusion] = concluded.json()["conclusions"]
    assert (conclusion["task"], conclusion["unit"], conclusion["number"]) == (
        task,
        unit,
        f"01/TB-{A}",  # the first notice of its register this year (no documents: block)
    )
    [fix] = conclusion["fix_tasks"]
    notice = Path(conclusion["html"])
    assert notice.is_file() and notice.is_relative_to(province.output / "inspections")
    assert "Chưa công khai kết quả giải quyết" in notice.read_text(encoding="utf-8")
    recorded = province.entries(action="inspection.conclude")[-1]
    assert (recorded["actor"], recorded["channel"]) == (person(A, "inspector"), "web")
    shown = inspector.get(f"/inspections/{drawn['inspection']}").json()
    [target] = shown["targets"]
    assert (target["state"], target["fix_tasks"], target["conclusion"]) == (
        "verified",
        [fix],
        str(notice),
    )
    fix_task = lan.get(f"/tasks/{fix}").json()
    assert (fix_task["kind"], fix_task["lead_unit"]) == ("fix", unit)
    # Concluded once: asked again, nothing more.
    assert inspector.post("/inspections", json={"period": "2024Q2"}).json()["conclusions"] == []
    # A record was submitted: the draw can no longer be redone.
    redraw = office.post("/inspections", json={"period": "2024Q2", "redraw": True, "reason": "Sai"})
    assert "already has a record" in error(redraw, 409, "move_not_allowed")
