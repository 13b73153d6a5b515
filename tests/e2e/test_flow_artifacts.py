"""Each flow run publishes a table artifact of what it issued, read back here from the
session's Prefect test server; a task that fails on a transient database error is retried by
Prefect, any other error is not. Real Prefect flows on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from sqlalchemy.exc import OperationalError

from flows import artifacts
from flows.retries import is_transient
from tests.e2e.conftest import DEFINITIONS
from workflow.clock import LOCAL_TZ, FixedClock
from workflow.definitions.checks import validate
from workflow.errors import Conflict, StoreUnavailable
from workflow.services import Context
from workflow.services import dossiers as dossier_service
from workflow.services import plans as plan_service
from workflow.services import reports as report_service
from workflow.store.engine import open_engine

LSN = "LSN-SKHDT"
INSPECTOR = "lsn.ttr.lang-thi-mai"


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=LOCAL_TZ)


@pytest.fixture
def loaded(db_url: str) -> Iterator[Context]:
    engine = open_engine(db_url)
    ctx = Context(engine, clock=FixedClock(at("2024-06-03T08:00")), operator="operator:test")
    found, problems = validate([DEFINITIONS])
    assert problems == []
    plan_service.load(ctx, found)
    yield ctx
    engine.dispose()


def table_of(flow_run_id: UUID) -> tuple[str | None, str | None, list[dict[str, Any]]]:
    """The one table artifact of a flow run, from the Prefect server's REST API (the
    client's `read_artifacts` cannot leave out the task-run filter, which drops artifacts
    of a flow run's own): key, description, rows."""
    from prefect.settings import PREFECT_API_URL

    answer = httpx.post(
        f"{PREFECT_API_URL.value()}/artifacts/filter",
        json={"artifacts": {"flow_run_id": {"any_": [str(flow_run_id)]}}},
        timeout=30,
    )
    answer.raise_for_status()
    [artifact] = answer.json()
    assert artifact["type"] == "table"
    rows = json.loads(artifact["data"])
    assert isinstance(rows, list)
    return artifact["key"], artifact["description"], rows


def ran(state: Any) -> tuple[dict[str, Any], UUID]:
    """A flow's result and its run's id, from the state `return_state=True` gives."""
    run_id = state.state_details.flow_run_id
    assert run_id is not None
    return state.result(), run_id


def test_the_apology_flow_lists_the_letters_it_numbered_and_wrote(
    prefect_server: None, loaded: Context, db_url: str, tmp_path: Path
) -> None:
    from flows.apology import apology_flow

    received = []
    for i in range(2):
        loaded.clock.set(at(f"2024-06-03T09:0{i}"))  # type: ignore[attr-defined]
        view = dossier_service.receive(
            loaded,
            dossier_service.NewDossier(
                "SKHDT-DN-01",
                dossier_service.Applicant(f"Công ty TNHH Hoa Sen số {i}"),
                at(f"2024-06-03T09:0{i}"),
            ),
            "lsn.dkkd.be-thi-huong",
        )
        received.append(int(view["id"]))
    for i, dossier in enumerate(received):  # the handling unit says why they will be late
        loaded.clock.set(at(f"2024-06-04T09:0{i}"))  # type: ignore[attr-defined]
        dossier_service.delay(
            loaded, dossier, "Cần xác minh thêm thông tin", 3, "lsn.dkkd.be-thi-huong"
        )
    state = apology_flow(
        db_url, dt.date(2024, 6, 5), str(tmp_path), LSN, 500, at("2024-06-05T07:00"),
        return_state=True,
    )  # fmt: skip
    result, run_id = ran(state)
    key, description, rows = table_of(run_id)
    assert key == "apology-lsn-skhdt"
    assert description is not None and f"{len(result['letters'])} phiếu xin lỗi" in description
    letters = [r for r in rows if r["kind"] == "Phiếu xin lỗi và hẹn lại ngày trả kết quả"]
    assert len(letters) == len(result["letters"]) == 2
    assert {r["number"] for r in letters} == {str(x["number"]) for x in result["letters"]}
    assert {r["file"] for r in letters} == {x["path"] for x in result["letters"]}
    assert all(Path(r["file"]).exists() for r in letters)
    assert len([r for r in rows if r["kind"] == "Nhắc việc"]) == len(result["reminders"])
    assert all(set(r) == set(artifacts.COLUMNS) for r in rows)
    # Run again the same day: nothing new, and the table says so.
    again, again_id = ran(
        apology_flow(
            db_url,
            dt.date(2024, 6, 5),
            str(tmp_path),
            LSN,
            500,
            at("2024-06-05T07:00"),
            return_state=True,
        )
    )
    assert again["letters"] == [] and again_id != run_id
    _, _, rows = table_of(again_id)
    assert [r["kind"] for r in rows] == ["Không phát hành văn bản nào"]


def test_the_inspection_and_aggregate_flows_list_what_they_issued(
    prefect_server: None, loaded: Context, db_url: str, tmp_path: Path
) -> None:
    from flows.aggregate import aggregate_flow
    from flows.inspection import inspection_flow

    drawn, run_id = ran(
        inspection_flow(
            db_url,
            LSN,
            "2024Q2",
            INSPECTOR,
            None,
            7,
            None,
            str(tmp_path),
            at("2024-06-04T08:00"),
            return_state=True,
        )
    )
    key, description, rows = table_of(run_id)
    assert key == "inspection-lsn-skhdt"
    assert description is not None and f"lượt chọn {drawn['inspection']}" in description
    assert rows[0]["kind"] == "Danh sách đơn vị được kiểm tra"
    assert rows[0]["unit"] == ", ".join(drawn["selected"])
    tasks = [r for r in rows if r["kind"] == "Nhiệm vụ kiểm tra"]
    assert [(r["unit"], r["number"]) for r in tasks] == [
        (t["unit"], f"nhiệm vụ {t['task']}") for t in drawn["tasks"]
    ]

    report, run_id = ran(
        aggregate_flow(
            db_url,
            LSN,
            "2024Q2",
            "reporting",
            str(tmp_path / "reports"),
            now=at("2024-06-17T08:00"),
            return_state=True,
        )
    )
    key, description, rows = table_of(run_id)
    assert key == "report-lsn-skhdt-2024q2-reporting"
    assert description is not None and report["hash"] in description
    assert rows[0]["kind"] == "Báo cáo"
    assert f"{report['totals']['tasks']} nhiệm vụ" in rows[0]["unit"]
    files = {r["file"] for r in rows[1:]}
    assert files == set(report["files"].values()) and all(Path(f).exists() for f in files)
    # Asked again: the stored snapshot, said so.
    _, again_id = ran(
        aggregate_flow(
            db_url,
            LSN,
            "2024Q2",
            "reporting",
            str(tmp_path / "reports"),
            now=at("2024-06-17T09:00"),
            return_state=True,
        )
    )
    assert table_of(again_id)[2][0]["kind"] == "Báo cáo (đã lưu)"


def test_a_transient_database_error_is_retried_and_a_bug_is_not(
    prefect_server: None,
    loaded: Context,
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from flows import aggregate

    real = report_service.generate
    calls: list[str] = []

    def flaky(ctx: Context, request: report_service.Request, folder: Path) -> Any:
        calls.append(request.period)
        if len(calls) == 1:
            raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))
        return real(ctx, request, folder)

    monkeypatch.setattr(aggregate.service, "generate", flaky)
    report = aggregate.aggregate_flow(
        db_url, LSN, "2024Q2", "reporting", str(tmp_path), now=at("2024-06-17T08:00")
    )
    assert calls == ["2024Q2", "2024Q2"] and report["created"] is True

    calls.clear()

    def buggy(ctx: Context, request: report_service.Request, folder: Path) -> Any:
        calls.append(request.period)
        raise KeyError("a bug")

    monkeypatch.setattr(aggregate.service, "generate", buggy)
    with pytest.raises(KeyError):
        aggregate.aggregate_flow(
            db_url, LSN, "2024Q1", "reporting", str(tmp_path), now=at("2024-06-17T08:00")
        )
    assert calls == ["2024Q1"]  # not retried


def test_only_database_errors_are_transient() -> None:
    assert is_transient(StoreUnavailable("cannot reach the database"))
    assert is_transient(OperationalError("SELECT 1", {}, Exception("database is locked")))
    assert not is_transient(Conflict("someone changed the task meanwhile"))
    assert not is_transient(KeyError("a bug"))
    assert not is_transient(None)
    assert artifacts.key("report", "LSN-SKHDT", "2024Q2", "reporting") == (
        "report-lsn-skhdt-2024q2-reporting"
    )
