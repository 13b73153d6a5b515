"""The working-day calendar: real Vietnamese holidays (the `holidays` package), overrides,
the receipt rules. Every date below was checked against the package's VN calendar."""

from __future__ import annotations

import datetime as dt

import holidays
import pytest

from workflow.clock import LOCAL_TZ
from workflow.domain.calendar import DueDate, SkippedDay, WorkingCalendar, national_days_off

D = dt.date
NATIONAL = WorkingCalendar()


def skipped(result: DueDate) -> list[tuple[str, str]]:
    return [(s.date.isoformat(), s.reason) for s in result.skipped]


# ---------------------------------------------------------------- the package's facts


def test_the_package_lists_swapped_saturdays_as_weekend_workdays() -> None:
    vn = holidays.country_holidays("VN", years=[2024, 2025, 2026], language="vi")
    assert {D(2024, 5, 4), D(2025, 4, 26), D(2026, 8, 22)} <= vn.weekend_workdays
    assert vn[D(2025, 5, 2)] == "Ngày nghỉ (thay cho ngày 26/04/2025)"
    assert vn[D(2024, 4, 29)] == "Ngày nghỉ (thay cho ngày 04/05/2024)"


def test_national_days_off_keep_weekends_holidays_and_swaps() -> None:
    off = {dt.date.fromordinal(o): s.reason for o, s in national_days_off(2025).items()}
    assert off[D(2025, 1, 1)] == "Tết Dương lịch"
    assert off[D(2025, 1, 4)] == "Thứ Bảy"
    assert off[D(2025, 1, 5)] == "Chủ nhật"
    assert off[D(2025, 2, 1)] == "Mùng bốn Tết Nguyên Đán"  # a Saturday: the holiday's name
    assert D(2025, 4, 26) not in off  # the swapped Saturday is worked
    assert NATIONAL.working_days_between(D(2024, 12, 31), D(2025, 12, 31)) == 250


# ---------------------------------------------------------------- national holidays


def test_tet_2025() -> None:
    # Friday 24/01/2025; Tết: Mon 27/01 to Sat 01/02 (Tết Nguyên Đán on Wed 29/01).
    result = NATIONAL.add_working_days(D(2025, 1, 24), 3)
    assert result.counted_from == D(2025, 1, 24)
    assert result.due == D(2025, 2, 5)
    assert skipped(result) == [
        ("2025-01-25", "Thứ Bảy"),
        ("2025-01-26", "Chủ nhật"),
        ("2025-01-27", "29 Tết"),
        ("2025-01-28", "Giao thừa Tết Nguyên Đán"),
        ("2025-01-29", "Tết Nguyên Đán"),
        ("2025-01-30", "Mùng hai Tết Nguyên Đán"),
        ("2025-01-31", "Mùng ba Tết Nguyên Đán"),
        ("2025-02-01", "Mùng bốn Tết Nguyên Đán"),
        ("2025-02-02", "Chủ nhật"),
    ]


def test_30_april_and_1_may_2025_with_the_day_off_swapped_for_saturday_26_april() -> None:
    # Tuesday 29/04/2025: 30/4 (Wed), 1/5 (Thu) and 2/5 (Fri, swapped for Sat 26/4) off.
    result = NATIONAL.add_working_days(D(2025, 4, 29), 2)
    assert result.due == D(2025, 5, 6)
    assert skipped(result) == [
        ("2025-04-30", "Ngày Chiến thắng"),
        ("2025-05-01", "Ngày Quốc tế Lao động"),
        ("2025-05-02", "Ngày nghỉ (thay cho ngày 26/04/2025)"),
        ("2025-05-03", "Thứ Bảy"),
        ("2025-05-04", "Chủ nhật"),
    ]


def test_a_swapped_saturday_is_a_working_day() -> None:
    assert NATIONAL.is_working_day(D(2025, 4, 26))
    assert NATIONAL.why_off(D(2025, 4, 26)) is None
    # Friday 25/04/2025 + 1 working day: Saturday 26/04/2025 (worked for Friday 2/5).
    result = NATIONAL.add_working_days(D(2025, 4, 25), 1)
    assert (result.due, skipped(result)) == (D(2025, 4, 26), [])
    # 2024: Saturday 4/5 worked for Monday 29/4.
    result = NATIONAL.add_working_days(D(2024, 4, 26), 3)
    assert result.due == D(2024, 5, 4)
    assert skipped(result) == [
        ("2024-04-27", "Thứ Bảy"),
        ("2024-04-28", "Chủ nhật"),
        ("2024-04-29", "Ngày nghỉ (thay cho ngày 04/05/2024)"),
        ("2024-04-30", "Ngày Chiến thắng"),
        ("2024-05-01", "Ngày Quốc tế Lao động"),
    ]


def test_national_day_2023_on_a_saturday_with_its_substitute_day_off() -> None:
    # 2/9/2023 is a Saturday: 1/9 (Fri) is the second day, Monday 4/9 the day off in lieu.
    result = NATIONAL.add_working_days(D(2023, 8, 31), 2)
    assert result.due == D(2023, 9, 6)
    assert skipped(result) == [
        ("2023-09-01", "Quốc khánh"),
        ("2023-09-02", "Quốc khánh"),
        ("2023-09-03", "Chủ nhật"),
        ("2023-09-04", "Quốc khánh (nghỉ bù)"),
    ]


def test_across_new_year_2026() -> None:
    result = NATIONAL.add_working_days(D(2025, 12, 30), 3)
    assert result.due == D(2026, 1, 5)
    assert skipped(result) == [
        ("2026-01-01", "Tết Dương lịch"),
        ("2026-01-03", "Thứ Bảy"),
        ("2026-01-04", "Chủ nhật"),
    ]
    assert NATIONAL.working_days_between(D(2025, 12, 30), D(2026, 1, 5)) == 3


# ---------------------------------------------------------------- receipt


def test_receipt_on_a_sunday_counts_from_the_next_working_day() -> None:
    # Sunday 9/3/2025: received as of Monday 10/3, which is not counted.
    result = NATIONAL.add_working_days(D(2025, 3, 9), 1)
    assert result.received == D(2025, 3, 9)
    assert result.counted_from == D(2025, 3, 10)
    assert result.due == D(2025, 3, 11)
    assert skipped(result) == [("2025-03-09", "Chủ nhật")]


def test_receipt_on_a_sunday_before_a_holiday_monday() -> None:
    # Sunday 31/12/2023, Monday 1/1/2024 New Year: counted from Tuesday 2/1.
    result = NATIONAL.add_working_days(D(2023, 12, 31), 1)
    assert (result.counted_from, result.due) == (D(2024, 1, 2), D(2024, 1, 3))
    assert skipped(result) == [("2023-12-31", "Chủ nhật"), ("2024-01-01", "Tết Dương lịch")]


def test_cutoff_hour() -> None:
    friday = dt.datetime(2025, 3, 7, 14, 59, tzinfo=LOCAL_TZ)
    before = NATIONAL.add_working_days(friday, 1, cutoff_hour=15)
    assert (before.counted_from, before.due) == (D(2025, 3, 7), D(2025, 3, 10))
    assert skipped(before) == [("2025-03-08", "Thứ Bảy"), ("2025-03-09", "Chủ nhật")]

    at = NATIONAL.add_working_days(friday.replace(minute=0, hour=15), 1, cutoff_hour=15)
    assert at.received == D(2025, 3, 7)
    assert (at.counted_from, at.due) == (D(2025, 3, 10), D(2025, 3, 11))
    assert skipped(at) == [("2025-03-08", "Thứ Bảy"), ("2025-03-09", "Chủ nhật")]

    # Without a cut-off, the hour does not matter.
    late = NATIONAL.add_working_days(friday.replace(hour=16), 1)
    assert late.due == D(2025, 3, 10)


def test_times_are_taken_in_vietnam() -> None:
    # 08:00 UTC is 15:00 in Hà Nội: past a 15:00 cut-off.
    utc = dt.datetime(2025, 3, 7, 8, 0, tzinfo=dt.UTC)
    assert NATIONAL.add_working_days(utc, 1, cutoff_hour=15).counted_from == D(2025, 3, 10)
    # 18:00 UTC on Sunday 9/3 is Monday 10/3 01:00 in Hà Nội: a working day.
    sunday_utc = dt.datetime(2025, 3, 9, 18, 0, tzinfo=dt.UTC)
    result = NATIONAL.add_working_days(sunday_utc, 1)
    assert (result.received, result.counted_from, result.due) == (
        D(2025, 3, 10),
        D(2025, 3, 10),
        D(2025, 3, 11),
    )
    with pytest.raises(ValueError, match="timezone-aware"):
        NATIONAL.add_working_days(dt.datetime(2025, 3, 7, 9, 0), 1)


def test_a_date_has_no_hour_so_no_cutoff() -> None:
    assert NATIONAL.add_working_days(D(2025, 3, 7), 1, cutoff_hour=15).due == D(2025, 3, 10)


# ---------------------------------------------------------------- overrides


def test_an_extra_day_off_and_an_extra_working_day() -> None:
    calendar = WorkingCalendar(
        extra_days_off={D(2025, 8, 22): "Ngày truyền thống của tỉnh"},
        extra_working_days={D(2025, 8, 23): "Làm bù ngày 22/8"},
    )
    assert calendar.why_off(D(2025, 8, 22)) == "Ngày truyền thống của tỉnh"
    assert calendar.is_working_day(D(2025, 8, 23))
    # Thursday 21/8/2025: Friday 22 off, Saturday 23 worked, Sunday 24 off.
    result = calendar.add_working_days(D(2025, 8, 21), 2)
    assert result.due == D(2025, 8, 25)
    assert skipped(result) == [
        ("2025-08-22", "Ngày truyền thống của tỉnh"),
        ("2025-08-24", "Chủ nhật"),
    ]
    result = calendar.add_working_days(D(2025, 8, 21), 1)
    assert (result.due, skipped(result)) == (
        D(2025, 8, 23),
        [("2025-08-22", "Ngày truyền thống của tỉnh")],
    )
    # The national calendar is untouched.
    assert NATIONAL.add_working_days(D(2025, 8, 21), 2).due == D(2025, 8, 25)
    assert skipped(NATIONAL.add_working_days(D(2025, 8, 21), 2)) == [
        ("2025-08-23", "Thứ Bảy"),
        ("2025-08-24", "Chủ nhật"),
    ]


def test_overrides_win_over_the_package() -> None:
    # An organisation that works on 2/5/2025 (the package's day off for Saturday 26/4) and
    # not on that Saturday; and a day off the package does not know about.
    calendar = WorkingCalendar(
        extra_days_off={
            D(2025, 4, 26): "Thứ Bảy (không làm bù)",
            D(2025, 5, 6): "Nghỉ theo quyết định của tỉnh",
        },
        extra_working_days={D(2025, 5, 2): "Làm việc"},
    )
    result = calendar.add_working_days(D(2025, 4, 25), 4)
    assert result.due == D(2025, 5, 5)
    assert skipped(result) == [
        ("2025-04-26", "Thứ Bảy (không làm bù)"),
        ("2025-04-27", "Chủ nhật"),
        ("2025-04-30", "Ngày Chiến thắng"),
        ("2025-05-01", "Ngày Quốc tế Lao động"),
        ("2025-05-03", "Thứ Bảy"),
        ("2025-05-04", "Chủ nhật"),
    ]
    assert calendar.next_working_day(D(2025, 5, 5)) == D(2025, 5, 7)


def test_a_day_cannot_be_both_off_and_worked() -> None:
    with pytest.raises(ValueError, match="2025-08-22"):
        WorkingCalendar({D(2025, 8, 22): "a"}, {D(2025, 8, 22): "b"})


# ---------------------------------------------------------------- helpers


def test_next_working_day_on_or_after_and_between() -> None:
    assert NATIONAL.next_working_day(D(2025, 1, 24)) == D(2025, 2, 3)
    assert NATIONAL.on_or_after(D(2025, 1, 29)) == D(2025, 2, 3)
    assert NATIONAL.on_or_after(D(2025, 2, 3)) == D(2025, 2, 3)
    assert NATIONAL.working_days_between(D(2025, 1, 24), D(2025, 2, 5)) == 3
    assert NATIONAL.working_days_between(D(2025, 2, 5), D(2025, 1, 24)) == -3
    assert NATIONAL.working_days_between(D(2025, 2, 5), D(2025, 2, 5)) == 0
    days_off = NATIONAL.days_off(2025)
    assert list(days_off)[:3] == [D(2025, 1, 1), D(2025, 1, 4), D(2025, 1, 5)]


def test_deadline_is_at_least_one_day() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        NATIONAL.add_working_days(D(2025, 1, 2), 0)
    with pytest.raises(ValueError, match="0-23"):
        NATIONAL.add_working_days(D(2025, 1, 2), 1, cutoff_hour=24)


def test_due_counts_exactly_n_working_days() -> None:
    start = D(2023, 1, 1)
    for offset in range(0, 3 * 365, 7):
        for days in (1, 5, 15, 30):
            result = NATIONAL.add_working_days(start + dt.timedelta(days=offset), days)
            assert NATIONAL.working_days_between(result.counted_from, result.due) == days
            assert NATIONAL.is_working_day(result.due)
            assert all(not NATIONAL.is_working_day(s.date) for s in result.skipped)
            span = (result.due - result.received).days + 1
            # Every day from receipt to due: a day off, a counted day, or the day not counted.
            assert len(result.skipped) + days + 1 == span


def test_skipped_day_shape() -> None:
    assert SkippedDay(D(2025, 1, 1), "Tết Dương lịch").reason == "Tết Dương lịch"
