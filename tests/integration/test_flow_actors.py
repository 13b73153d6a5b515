"""Who a flow's entries name: the person who started it with their token (through the `flow`
channel, with the token as credential), the schedule that started it, or, with nobody
authenticated (a simulation), the flow itself as before; and each run recorded for the day
it worked as of. Real Prefect flows on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flows.runtime import principal_fields
from tests.e2e.conftest import DEFINITIONS
from workflow.clock import LOCAL_TZ, FixedClock
from workflow.definitions.checks import validate
from workflow.domain.filters import AuditFilter
from workflow.domain.principals import Channel, schedule
from workflow.errors import PermissionDenied
from workflow.services import Context, flow_runs
from workflow.services import accounts as account_service
from workflow.services import audit_log as audit_service
from workflow.services import dossiers as dossier_service
from workflow.services import plans as plan_service
from workflow.services import tokens as token_service
from workflow.store.engine import open_engine

LSN, QNA = "LSN-SKHDT", "QNA-BQLKKT"
OFFICE = "lsn.vp.luong-thi-thu"  # office, staff: runs the apology flow, reports
INSPECTOR = "lsn.ttr.lang-thi-mai"


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=LOCAL_TZ)


@pytest.fixture
def loaded(db_url: str) -> Iterator[Context]:
    """The definitions in a simulation database (its mode never chosen), on a clock the
    test moves forward."""
    engine = open_engine(db_url)
    ctx = Context(engine, clock=FixedClock(at("2024-06-03T08:00")), operator="operator:test")
    found, problems = validate([DEFINITIONS])
    assert problems == []
    plan_service.load(ctx, found)
    yield ctx
    engine.dispose()


def token_for(ctx: Context, person: str, permissions: list[str]) -> tuple[int, dict[str, Any]]:
    """A token for the person (made by the simulation's operator), and the principal its
    secret authenticates, as a flow's parameter."""
    account_service.invite(ctx, person, "http://127.0.0.1:8080")
    issued = token_service.create(ctx, person, permissions, 30, "dòng lệnh")
    principal = token_service.authenticate_token(ctx, issued.secret, Channel.CLI).principal
    fields = principal_fields(principal)
    assert fields is not None
    return issued.id, fields


def entries(ctx: Context, action: str) -> list[dict[str, Any]]:
    return audit_service.query(ctx, AuditFilter(action=action))


def who(entry: dict[str, Any]) -> tuple[Any, Any, Any]:
    return entry["actor"], entry["channel"], entry["credential"]


def test_the_apology_flow_records_the_person_who_started_it_or_its_schedule(
    prefect_server: None, loaded: Context, db_url: str, tmp_path: Path
) -> None:
    from flows.apology import apology_flow

    ctx = loaded
    token_id, person = token_for(ctx, OFFICE, ["flows:run", "tasks:read"])
    ctx.clock.set(at("2024-06-03T09:00"))  # type: ignore[attr-defined]
    received = dossier_service.receive(
        ctx,
        dossier_service.NewDossier(
            "SKHDT-DN-01", dossier_service.Applicant("Công ty TNHH Hoa Sen"), at("2024-06-03T09:00")
        ),
        "lsn.dkkd.be-thi-huong",
    )
    # A letter states the reason the handling unit declared.
    dossier_service.delay(ctx, int(received["id"]), "Cần xác minh", 2, "lsn.dkkd.ly-van-duc")
    now = at("2024-06-05T07:00")
    by_person = apology_flow(
        db_url, dt.date(2024, 6, 5), str(tmp_path), LSN, 500, now, principal=person
    )
    assert by_person["letters"]
    [letter] = entries(ctx, "dossier.apology")
    assert who(letter) == (OFFICE, "flow", f"token:{token_id}")
    last = flow_runs.last(ctx, "apology", LSN)
    assert last is not None and (last.as_of, last.run_by) == (dt.date(2024, 6, 5), OFFICE)

    # A scheduled run (as `planflow serve`'s deployment of the flow makes it) names its
    # schedule; its letters and reminders are its own, with no credential.
    ran_by = schedule(f"apology/{QNA}")
    later = at("2024-06-06T07:00")
    scheduled = apology_flow(
        db_url, None, str(tmp_path), QNA, 500, later, principal=principal_fields(ran_by)
    )
    assert scheduled["as_of"] == "2024-06-06" and scheduled["reminders"]
    qna = [e for e in entries(ctx, "task.remind") if e["organisation"] == QNA]
    assert qna and {who(e) for e in qna} == {(f"schedule:apology/{QNA}", "flow", None)}
    last = flow_runs.last(ctx, "apology", QNA)
    assert last is not None and last.run_by == f"schedule:apology/{QNA}"

    # Nobody authenticated (a simulation's run without a token): the flow, as always.
    # Every organisation's half-year reports were due on 30/06: reminders for both.
    apology_flow(db_url, dt.date(2024, 7, 20), str(tmp_path), None, 500, at("2024-07-20T07:00"))
    anonymous = [e for e in entries(ctx, "task.remind") if e["actor"] == "flow:apology"]
    assert anonymous and {who(e) for e in anonymous} == {("flow:apology", None, None)}
    for code in (LSN, QNA):
        last = flow_runs.last(ctx, "apology", code)
        assert last is not None and (last.as_of, last.run_by) == (
            dt.date(2024, 7, 20),
            "flow:apology",
        )
    assert audit_service.verify(ctx).ok


def test_the_inspection_and_aggregate_flows_record_the_person_who_started_them(
    prefect_server: None, loaded: Context, db_url: str, tmp_path: Path
) -> None:
    from flows.aggregate import aggregate_flow
    from flows.inspection import inspection_flow

    ctx = loaded
    inspector_token, inspector = token_for(ctx, INSPECTOR, ["inspections:write"])
    office_token, office = token_for(ctx, OFFICE, ["reports:write"])
    drawn = inspection_flow(
        db_url, LSN, "2024Q2", INSPECTOR, None, 7, None, str(tmp_path),
        at("2024-06-04T08:00"), principal=inspector,
    )  # fmt: skip
    assert drawn["drawn_by"] == INSPECTOR
    [draw] = entries(ctx, "inspection.draw")
    assert who(draw) == (INSPECTOR, "flow", f"token:{inspector_token}")
    created = [e for e in entries(ctx, "task.create") if e["data"]["reason"].startswith("insp")]
    assert created and {who(e) for e in created} == {
        (INSPECTOR, "flow", f"token:{inspector_token}")
    }

    report = aggregate_flow(
        db_url, LSN, "2024Q2", "reporting", str(tmp_path / "reports"),
        requested_by="operator:someone-else", now=at("2024-06-17T08:00"), principal=office,
    )  # fmt: skip
    assert (report["generated_by"], report["created"]) == (OFFICE, True)
    [snapshot] = entries(ctx, "report.snapshot")
    assert who(snapshot) == (OFFICE, "flow", f"token:{office_token}")
    assert snapshot["data"]["requested_by"] == OFFICE
    for flow in ("inspection", "aggregate"):
        last = flow_runs.last(ctx, flow, LSN)
        assert last is not None and last.run_by in (INSPECTOR, OFFICE)

    # A scheduled draw names the schedule, not `flow:inspection`.
    ran_by = principal_fields(schedule(f"inspection/{QNA}"))
    by_schedule = inspection_flow(
        db_url, QNA, None, None, None, 7, None, str(tmp_path),
        at("2024-06-18T07:30"), principal=ran_by,
    )  # fmt: skip
    assert by_schedule["drawn_by"] == f"schedule:inspection/{QNA}"
    assert audit_service.verify(ctx).ok


def test_a_deployment_s_run_acts_as_its_schedule_whatever_its_parameters_say(
    prefect_server: None,
    loaded: Context,
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Inside a run of a `planflow serve` deployment (which `tests/e2e/test_serve.py` runs
    for real), who acts is the deployment's schedule: a run started through the Prefect API
    with a person in its parameters is refused and writes nothing."""
    from flows import runtime
    from flows.apology import apology_flow

    ctx = loaded
    monkeypatch.setattr(runtime, "_deployment", lambda: f"apology/{QNA}")
    _, person = token_for(ctx, OFFICE, ["flows:run"])
    entries_before = len(audit_service.query(ctx, AuditFilter()))
    with pytest.raises(PermissionDenied, match=f"acts as its schedule \\(schedule:apology/{QNA}"):
        apology_flow(
            db_url, None, str(tmp_path), QNA, 500, at("2024-06-06T07:00"), principal=person
        )
    assert len(audit_service.query(ctx, AuditFilter())) == entries_before
    assert flow_runs.last(ctx, "apology", QNA) is None

    apology_flow(db_url, None, str(tmp_path), QNA, 500, at("2024-06-06T07:00"))
    reminded = entries(ctx, "task.remind")
    assert reminded and {who(e) for e in reminded} == {(f"schedule:apology/{QNA}", "flow", None)}
