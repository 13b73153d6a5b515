"""Vietnamese date wording for documents."""

from __future__ import annotations

import datetime as dt

from workflow.domain.periods import parse_period
from workflow.errors import InvalidInput


def long_date(day: dt.date) -> str:
    """ngày 05 tháng 6 năm 2024 (day with two digits, as official documents write it)."""
    return f"ngày {day.day:02d} tháng {day.month} năm {day.year}"


def short_date(day: dt.date) -> str:
    return f"{day.day:02d}/{day.month:02d}/{day.year}"


def time_and_date(moment: dt.datetime) -> str:
    return f"{moment.hour:02d} giờ {moment.minute:02d} phút, {long_date(moment.date())}"


_ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}


def period_label(key: str) -> str:
    """'2024' → 'năm 2024', '2024H1' → '6 tháng đầu năm 2024', '2024Q2' → 'quý II năm 2024'."""
    try:
        period = parse_period(key)
    except InvalidInput as bad:
        # A plain ValueError: rendering is usable without the service layer's error types.
        raise ValueError(str(bad)) from bad
    if period.granularity == "quarter":
        return f"quý {_ROMAN[period.index]} năm {period.year}"
    if period.granularity == "half":
        return f"6 tháng {'đầu' if period.index == 1 else 'cuối'} năm {period.year}"
    return f"năm {period.year}"
