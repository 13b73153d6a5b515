"""What `planflow serve` schedules, worked out from the seed organisations' files: which
deployments, their crons, time zone and parameters, and when they run, as the Prefect
server's own schedule code computes it (no server, no database)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from flows.settings import quiet_prefect
from workflow.clock import LOCAL_TZ
from workflow.definitions.checks import validate
from workflow.definitions.models import OrganisationSpec
from workflow.domain import flow_schedules
from workflow.domain.calendar import WorkingCalendar
from workflow.services.calendar import calendar_of

quiet_prefect()

from flows import serve as prefect_side  # noqa: E402  (Prefect reads its settings at import)

DEFINITIONS = Path(__file__).resolve().parents[2] / "definitions"
D = dt.date


@pytest.fixture(scope="module")
def seeds() -> dict[str, OrganisationSpec]:
    found, problems = validate([DEFINITIONS])
    assert problems == []
    return {code: spec for code, (spec, _src) in found.organisations.items()}


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), LOCAL_TZ)


def test_the_seed_organisations_get_three_deployments_each(
    seeds: dict[str, OrganisationSpec],
) -> None:
    planned = flow_schedules.plan(seeds.values())
    assert [(p.full_name, p.cron, p.timezone) for p in planned] == [
        ("apology/LSN-SKHDT", "0 7 * * *", "Asia/Ho_Chi_Minh"),
        ("inspection/LSN-SKHDT", "30 7 * * *", "Asia/Ho_Chi_Minh"),
        ("aggregate/LSN-SKHDT", "0 2 15 3,6,9,12 *", "Asia/Ho_Chi_Minh"),
        ("apology/QNA-BQLKKT", "0 7 * * *", "Asia/Ho_Chi_Minh"),
        ("inspection/QNA-BQLKKT", "30 7 * * *", "Asia/Ho_Chi_Minh"),
        ("aggregate/QNA-BQLKKT", "0 2 15 3,6,9,12 *", "Asia/Ho_Chi_Minh"),
    ]
    by_name = {p.full_name: p for p in planned}
    # None: the flow works it out when it runs (today; today's period; the quarter closed)
    assert by_name["apology/LSN-SKHDT"].parameters == {"organisation": "LSN-SKHDT", "as_of": None}
    assert by_name["inspection/QNA-BQLKKT"].parameters == {
        "organisation": "QNA-BQLKKT",
        "period": None,
        "actor": None,  # the draw is made as flow:inspection, on the file's authority
    }
    assert by_name["aggregate/LSN-SKHDT"].parameters == {
        "organisation": "LSN-SKHDT",
        "period": None,
        "rule": "reporting",
    }
    assert "quarter" in by_name["inspection/LSN-SKHDT"].description
    assert "year" in by_name["inspection/QNA-BQLKKT"].description


def test_no_inspection_section_no_inspection_deployment(
    seeds: dict[str, OrganisationSpec],
) -> None:
    bare = seeds["LSN-SKHDT"].model_copy(update={"inspection": None})
    assert [p.flow for p in flow_schedules.plan([bare])] == ["apology", "aggregate"]
    assert flow_schedules.plan([]) == []


def test_the_host_adds_the_database_without_its_password_and_the_folders(
    seeds: dict[str, OrganisationSpec],
) -> None:
    planned = {p.flow: p for p in flow_schedules.plan([seeds["QNA-BQLKKT"]])}
    url = "postgresql+psycopg://planflow:s3cret@db.internal:5432/planflow"
    out = Path("/srv/planflow/output")
    apology = prefect_side.parameters(planned["apology"], url, out)
    assert apology["db_url"] == "postgresql+psycopg://planflow@db.internal:5432/planflow"
    assert "s3cret" not in str(apology)
    assert apology["out_dir"] == "/srv/planflow/output"
    assert prefect_side.parameters(planned["inspection"], url, out)["out_dir"] == (
        "/srv/planflow/output/inspections"
    )
    assert prefect_side.parameters(planned["aggregate"], url, out)["out_dir"] == (
        "/srv/planflow/output/reports"
    )


def test_prefect_deployments_carry_the_schedule_in_vietnam_time(
    seeds: dict[str, OrganisationSpec],
) -> None:
    planned = flow_schedules.plan([seeds["LSN-SKHDT"]])
    built = prefect_side.deployments(planned, "sqlite:////tmp/p.db", Path("/tmp/out"))
    assert [(d.flow_name, d.name, d.entrypoint) for d in built] == [
        ("apology", "LSN-SKHDT", "flows.apology.apology_flow"),
        ("inspection", "LSN-SKHDT", "flows.inspection.inspection_flow"),
        ("aggregate", "LSN-SKHDT", "flows.aggregate.aggregate_flow"),
    ]
    for deployment, item in zip(built, planned, strict=True):
        [schedule] = deployment.schedules or []
        assert (schedule.schedule.cron, schedule.schedule.timezone) == (item.cron, item.timezone)
        assert deployment.parameters["organisation"] == "LSN-SKHDT"


def test_next_runs_are_in_vietnam_time_whatever_the_host(
    seeds: dict[str, OrganisationSpec],
) -> None:
    planned = {p.flow: p for p in flow_schedules.plan([seeds["LSN-SKHDT"]])}
    start = at(D(2024, 12, 31), 12)
    assert prefect_side.next_runs(planned["apology"], start, 3) == [
        at(D(2025, 1, 1), 7),  # New Year's Day: the run starts, finds a day off, does nothing
        at(D(2025, 1, 2), 7),
        at(D(2025, 1, 3), 7),
    ]
    # 02:00 in Hà Nội is 19:00 UTC the day before: the zone is the schedule's, not the host's
    [first, *_] = prefect_side.next_runs(planned["aggregate"], start, 4)
    assert first.astimezone(dt.UTC) == dt.datetime(2025, 3, 14, 19, tzinfo=dt.UTC)
    assert [t.date() for t in prefect_side.next_runs(planned["aggregate"], start, 4)] == [
        D(2025, 3, 15),  # Q1's reporting window (15/12/2024 to 14/03/2025) closed at midnight
        D(2025, 6, 15),
        D(2025, 9, 15),
        D(2025, 12, 15),
    ]
    # A run at the very minute it is due counts: the start is included.
    assert prefect_side.next_runs(planned["inspection"], at(D(2025, 1, 2), 7, 30), 1) == [
        at(D(2025, 1, 2), 7, 30)
    ]


def test_a_daily_cron_and_the_calendar_give_exactly_the_working_mornings(
    seeds: dict[str, OrganisationSpec],
) -> None:
    """Why the cron fires every day: around 30/4/2025 Saturday 26/04 is worked and Friday
    02/05 is off (a government swap). A Monday-to-Friday cron would miss the first and run
    on the second; the daily cron with the organisation's calendar does neither."""
    [apology, *_] = flow_schedules.plan([seeds["LSN-SKHDT"]])
    runs = prefect_side.next_runs(apology, at(D(2025, 4, 25), 0), 11)
    calendar = calendar_of(seeds["LSN-SKHDT"])
    acting = [t.date() for t in runs if calendar.is_working_day(t.date())]
    assert acting == [D(2025, 4, 25), D(2025, 4, 26), D(2025, 4, 28), D(2025, 4, 29), D(2025, 5, 5)]
    assert calendar.why_off(D(2025, 5, 2)) == "Ngày nghỉ (thay cho ngày 26/04/2025)"


def test_the_next_draw_is_the_first_working_day_of_the_next_period(
    seeds: dict[str, OrganisationSpec],
) -> None:
    lsn, qna = seeds["LSN-SKHDT"], seeds["QNA-BQLKKT"]  # quarterly, yearly
    national = WorkingCalendar()
    assert flow_schedules.next_draw(lsn, national, D(2024, 12, 20)) == ("2025Q1", D(2025, 1, 2))
    assert flow_schedules.next_draw(lsn, national, D(2025, 1, 2)) == ("2025Q2", D(2025, 4, 1))
    assert flow_schedules.next_draw(lsn, national, D(2025, 9, 30)) == ("2025Q4", D(2025, 10, 1))
    # 2027: 1 January is a Friday off, then a weekend
    assert flow_schedules.next_draw(qna, national, D(2026, 5, 1)) == ("2027", D(2027, 1, 4))
    half = lsn.model_copy(
        update={"inspection": lsn.inspection.model_copy(update={"every": "half"})}
        if lsn.inspection
        else {}
    )
    assert flow_schedules.next_draw(half, national, D(2025, 2, 1)) == ("2025H2", D(2025, 7, 1))
    # The organisation's own days off count too.
    closed = WorkingCalendar(extra_days_off={D(2025, 7, 1): "Kiểm kê"})
    assert flow_schedules.next_draw(half, closed, D(2025, 2, 1)) == ("2025H2", D(2025, 7, 2))


def test_each_report_run_falls_the_day_after_a_quarter_s_reporting_window_closed(
    seeds: dict[str, OrganisationSpec],
) -> None:
    from workflow.domain import reporting

    aggregate = next(p for p in flow_schedules.plan([seeds["LSN-SKHDT"]]) if p.flow == "aggregate")
    for run in prefect_side.next_runs(aggregate, at(D(2024, 1, 1), 0), 8):
        quarter = reporting.latest_closed_quarter(run.date(), "reporting")
        assert reporting.window(quarter, "reporting").end == run.date() - dt.timedelta(days=1)
