"""`planflow calendar due`, in-process, on SQLite and PostgreSQL (for --org)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.conftest import Cli

ORGANISATION = """\
kind: organisation
code: QNI-STP
name: Sở Tư pháp tỉnh Quảng Ngãi
province: Quảng Ngãi
office_unit: VP
units:
  - {code: VP, name: Văn phòng Sở}
calendar:
  days_off: [{date: 2025-08-22, reason: Ngày truyền thống của tỉnh}]
  working_days: [{date: 2025-08-23, reason: Làm bù ngày 22/8}]
"""


def test_due_as_json(cli: Cli) -> None:
    result = cli("calendar", "due", "--from", "2025-12-30", "--days", "3", "--format", "json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["due"] == "2026-01-05"
    assert data["skipped"] == [
        {"date": "2026-01-01", "reason": "Tết Dương lịch"},
        {"date": "2026-01-03", "reason": "Thứ Bảy"},
        {"date": "2026-01-04", "reason": "Chủ nhật"},
    ]
    assert data["received"] == "2025-12-30"
    assert data["counted_from"] == "2025-12-30"
    assert data["working_days"] == 3


def test_due_as_a_table(cli: Cli) -> None:
    result = cli("calendar", "due", "--from", "2025-04-29", "--days", "2")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0].startswith("due")
    assert "2025-05-06" in lines[0]
    for day, reason in [
        ("2025-04-30", "Ngày Chiến thắng"),
        ("2025-05-01", "Ngày Quốc tế Lao động"),
        ("2025-05-02", "Ngày nghỉ (thay cho ngày 26/04/2025)"),
        ("2025-05-03", "Thứ Bảy"),
        ("2025-05-04", "Chủ nhật"),
    ]:
        assert any(day in line and line.endswith(reason) for line in lines), (day, result.out)


def test_cutoff_hour_and_a_time_of_receipt(cli: Cli) -> None:
    args = ("calendar", "due", "--from", "2025-03-07T15:30", "--days", "1", "-f", "json")
    late = json.loads(cli(*args, "--cutoff-hour", "15").out)
    assert (late["counted_from"], late["due"]) == ("2025-03-10", "2025-03-11")
    assert late["received"] == "2025-03-07T15:30:00+07:00"
    on_time = json.loads(cli(*args, "--cutoff-hour", "16").out)
    assert (on_time["counted_from"], on_time["due"]) == ("2025-03-07", "2025-03-10")
    assert on_time["skipped"] == [
        {"date": "2025-03-08", "reason": "Thứ Bảy"},
        {"date": "2025-03-09", "reason": "Chủ nhật"},
    ]


def test_organisation_overrides(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "quang-ngai-stp"
    folder.mkdir()
    (folder / "organisation.yaml").write_text(ORGANISATION, encoding="utf-8")
    assert cli("plans", "load", str(folder)).code == 0
    args = ("calendar", "due", "--from", "2025-08-21", "--days", "1", "-f", "json")
    data = json.loads(cli(*args, "--org", "QNI-STP").out)
    assert data["due"] == "2025-08-23"  # Saturday, a working day for this organisation
    assert data["skipped"] == [{"date": "2025-08-22", "reason": "Ngày truyền thống của tỉnh"}]
    national = json.loads(cli(*args).out)
    assert (national["due"], national["skipped"]) == ("2025-08-22", [])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--from", "2025-13-01", "--days", "3"), "--from '2025-13-01' is not a date"),
        (("--from", "30/12/2025", "--days", "3"), "--from '30/12/2025' is not a date"),
        (("--from", "2025-01-02", "--days", "0"), "--days must be between 1 and"),
        (("--from", "2025-01-02", "--days", "2", "--cutoff-hour", "15"), "needs the time"),
        (("--from", "2025-01-02T09:00", "--days", "2", "--cutoff-hour", "24"), "0 to 23"),
        (("--from", "2025-01-02", "--days", "2", "--format", "csv"), "--format 'csv'"),
    ],
)
def test_bad_input_exits_2(cli: Cli, args: tuple[str, ...], message: str) -> None:
    result = cli("calendar", "due", *args)
    assert result.code == 2
    assert result.err.startswith("planflow: error: ")
    assert message in result.err
    assert result.err.count("\n") == 1


def test_unknown_organisation_exits_2(cli: Cli) -> None:
    result = cli("calendar", "due", "--from", "2025-01-02", "--days", "2", "--org", "NOPE")
    assert result.code == 2
    assert result.err == "planflow: error: organisation 'NOPE' does not exist\n"
