"""Period keys, as tasks, draws and reports use them: a year "2024", a half "2024H1" or a
quarter "2024Q3"; how far apart two of the same kind are."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from workflow.errors import InvalidInput

Granularity = Literal["year", "half", "quarter"]
_PER_YEAR: dict[Granularity, int] = {"year": 1, "half": 2, "quarter": 4}
_PERIOD_KEY = re.compile(r"([1-9][0-9]{3})(?:(Q)([1-4])|(H)([12]))?")


@dataclass(frozen=True, slots=True)
class Period:
    """A parsed period key; `ordinal` counts periods of its granularity (consecutive = +1)."""

    key: str
    granularity: Granularity
    year: int
    index: int  # 1 for a year; 1-2 for a half; 1-4 for a quarter

    @property
    def ordinal(self) -> int:
        return self.year * _PER_YEAR[self.granularity] + self.index - 1


def parse_period(key: str) -> Period:
    """'2024' (a year), '2024H1' (a half-year) or '2024Q3' (a quarter); anything else is
    `InvalidInput`."""
    match = _PERIOD_KEY.fullmatch(key) if isinstance(key, str) else None
    if match is None:
        raise InvalidInput(
            f"period {key!r} is not a year (2024), a half-year (2024H1) or a quarter (2024Q3)"
        )
    year = int(match.group(1))
    if match.group(2):
        return Period(key, "quarter", year, int(match.group(3)))
    if match.group(4):
        return Period(key, "half", year, int(match.group(5)))
    return Period(key, "year", year, 1)


def since(last: str | None, current: Period, unit: str | None = None) -> int | None:
    if last is None:
        return None
    previous = parse_period(last)
    whose = f"unit {unit} was last inspected in" if unit else "the last inspection is in"
    if previous.granularity != current.granularity:
        raise InvalidInput(
            f"{whose} {previous.key}, a {previous.granularity}, but the selection is for "
            f"{current.key}, a {current.granularity}: one organisation inspects on one kind "
            "of period"
        )
    if previous.ordinal > current.ordinal:
        raise InvalidInput(f"{whose} {previous.key}, after the period selected ({current.key})")
    return current.ordinal - previous.ordinal


def periods_since(last: str | None, current: str) -> int | None:
    """How many periods of `current`'s kind have passed since `last` (0: the same period;
    None: never inspected, staler than any number). Mixed kinds of period, or a `last` after
    `current`, are `InvalidInput`."""
    return since(last, parse_period(current))
