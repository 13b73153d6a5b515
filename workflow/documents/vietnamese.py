"""Vietnamese date wording for documents."""

from __future__ import annotations

import datetime as dt


def long_date(day: dt.date) -> str:
    """ngày 05 tháng 6 năm 2024 (day with two digits, as official documents write it)."""
    return f"ngày {day.day:02d} tháng {day.month} năm {day.year}"


def short_date(day: dt.date) -> str:
    return f"{day.day:02d}/{day.month:02d}/{day.year}"


def time_and_date(moment: dt.datetime) -> str:
    return f"{moment.hour:02d} giờ {moment.minute:02d} phút, {long_date(moment.date())}"
