"""The inspection draw: the 30% rule, determinism, ordering, rotation, and explain's
re-derivation from a record alone. Pure: no database."""

from __future__ import annotations

import copy
import hashlib
import json
import math
import os
import random
import subprocess
import sys
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workflow.domain.sampling import (
    ALGORITHM_VERSION,
    MIN_RATIO,
    Selection,
    UnitSignals,
    explain,
    parse_period,
    periods_since,
    required_count,
    rotation_period,
    select,
    tie_key,
)
from workflow.errors import AuditVerificationFailed, InvalidInput

ROOT = Path(__file__).resolve().parents[2]


def never(unit: str, overdue: int = 0, returned: int = 0, late: int = 0) -> UnitSignals:
    return UnitSignals(unit, None, overdue, returned, late)


def units(n: int, last: str | None = None) -> list[UnitSignals]:
    return [UnitSignals(f"U{i:02d}", last) for i in range(n)]


# ------------------------------------------------------------------------ the ratio rule

RATIOS = [("0.3", 0.3), ("0.35", 0.35), ("0.5", 0.5), ("0.55", 0.55), ("0.7", 0.7), ("1.0", 1.0)]


@pytest.mark.parametrize(("text", "ratio"), RATIOS)
def test_count_is_the_exact_ceiling_for_every_size(text: str, ratio: float) -> None:
    exact = Fraction(text)
    for n in range(1, 201):
        smallest = next(k for k in range(n + 1) if k >= exact * n)
        assert required_count(n, ratio) == max(1, smallest), (n, text)


def test_float_ceiling_pitfalls_are_avoided() -> None:
    assert math.ceil(0.55 * 100) == 56  # binary floats: 55.00000000000001
    assert required_count(100, 0.55) == 55
    assert required_count(10, 0.3) == 3
    assert required_count(20, 0.35) == 7
    assert required_count(10, 0.1 + 0.2) == 4  # 0.30000000000000004 is more than 30%: taken as is


def test_at_least_one_unit() -> None:
    assert required_count(1, 0.3) == 1
    assert required_count(2, 0.3) == 1
    assert required_count(3, 0.3) == 1
    assert required_count(4, 0.3) == 2
    assert required_count(1, 1.0) == 1


def test_below_thirty_percent_is_refused() -> None:
    with pytest.raises(InvalidInput) as refused:
        required_count(10, 0.29)
    assert str(refused.value) == (
        "the plan requires at least 30% of units to be inspected each period: ratio 0.29 is below 0.3"
    )
    assert refused.value.exit_code == 2
    assert MIN_RATIO == 0.3
    with pytest.raises(InvalidInput, match="at least 30%"):
        required_count(10, 0.2999999)
    with pytest.raises(InvalidInput, match="at least 30%"):
        select([never("A")], "2024", 0.1, 1)


@pytest.mark.parametrize("ratio", [1.01, 2.0, float("nan"), float("inf"), True])
def test_ratio_above_one_or_not_a_number_is_refused(ratio: float) -> None:
    with pytest.raises(InvalidInput, match="ratio"):
        required_count(10, ratio)
    with pytest.raises(InvalidInput, match=r"ratio 1\.01 is above 1: an inspection cannot"):
        required_count(10, 1.01)


def test_no_units_is_refused() -> None:
    with pytest.raises(InvalidInput, match="no units"):
        required_count(0, 0.5)
    with pytest.raises(InvalidInput, match="no units"):
        select([], "2024", 0.5, 1)


def test_rotation_period_is_the_exact_ceiling_of_one_over_ratio() -> None:
    assert [rotation_period(r) for r in (0.3, 0.34, 0.5, 0.51, 1.0)] == [4, 3, 2, 2, 1]
    # 1/3 as a float is 0.3333333333333333, a little under a third: four periods, not three
    assert rotation_period(1 / 3) == 4
    assert required_count(3, 1 / 3) == 1


# ------------------------------------------------------------------------------ periods


def test_period_keys() -> None:
    assert parse_period("2024").granularity == "year"
    assert parse_period("2024H2").granularity == "half"
    assert parse_period("2024Q3").granularity == "quarter"
    assert parse_period("2025Q1").ordinal - parse_period("2024Q4").ordinal == 1
    assert parse_period("2025H1").ordinal - parse_period("2024H2").ordinal == 1


@pytest.mark.parametrize(
    "bad", ["24", "2024Q5", "2024Q0", "2024H3", "2024q1", " 2024", "2024-Q1", "", "0999", "2024Q1 "]
)
def test_bad_period_keys_are_refused(bad: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_period(bad)
    assert str(refused.value) == (
        f"period {bad!r} is not a year (2024), a half-year (2024H1) or a quarter (2024Q3)"
    )
    with pytest.raises(InvalidInput, match="is not a year"):
        select(units(3), bad, 0.5, 1)
    with pytest.raises(InvalidInput, match="is not a year"):
        UnitSignals("A", bad)


def test_periods_since() -> None:
    assert periods_since(None, "2024") is None
    assert periods_since("2024", "2024") == 0
    assert periods_since("2021", "2024") == 3
    assert periods_since("2023Q3", "2024Q2") == 3
    assert periods_since("2023H2", "2024H1") == 1


def test_mixed_kinds_of_period_and_future_inspections_are_refused() -> None:
    with pytest.raises(
        InvalidInput, match="2024Q3, a quarter, but the selection is for 2025, a year"
    ):
        periods_since("2024Q3", "2025")
    with pytest.raises(InvalidInput) as mixed:
        select([UnitSignals("A", "2024H1"), never("B")], "2025", 0.5, 1)
    assert str(mixed.value) == (
        "unit A was last inspected in 2024H1, a half, but the selection is for 2025, a year: "
        "one organisation inspects on one kind of period"
    )
    with pytest.raises(
        InvalidInput, match="unit A was last inspected in 2026, after the period selected"
    ):
        select([UnitSignals("A", "2026"), never("B")], "2025", 0.5, 1)


def test_bad_signals_and_populations_are_refused() -> None:
    with pytest.raises(InvalidInput, match="unit A: overdue_tasks must be a whole number"):
        UnitSignals("A", None, -1)
    with pytest.raises(InvalidInput, match="late_dossiers must be a whole number"):
        UnitSignals("A", None, 0, 0, True)
    with pytest.raises(InvalidInput, match="unit code must be a non-empty string"):
        UnitSignals(" ", None)
    with pytest.raises(InvalidInput, match="unit A appears twice"):
        select([never("A"), never("B"), never("A")], "2024", 0.5, 1)
    with pytest.raises(InvalidInput, match="seed must be a whole number"):
        select([never("A")], "2024", 0.5, "7")  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- ordering


def test_never_inspected_before_stale_before_recent_whatever_the_risk() -> None:
    population = [
        UnitSignals("RECENT", "2023", 50, 50, 50),
        UnitSignals("STALE", "2021"),
        UnitSignals("OLDER", "2019", 1),
        never("NEW"),
        UnitSignals("NOW", "2024", 99),
    ]
    result = select(population, "2024", 1.0, 42)
    assert result.selected == ("NEW", "OLDER", "STALE", "RECENT", "NOW")
    assert [r.periods_since_inspection for r in result.ranking] == [None, 5, 3, 1, 0]


def test_within_equal_staleness_higher_risk_first() -> None:
    population = [
        UnitSignals("A", "2022", 1, 0, 0),
        UnitSignals("B", "2022", 0, 3, 1),
        UnitSignals("C", "2022", 0, 0, 2),
        never("D", 0, 0, 1),
        never("E", 2, 2, 2),
    ]
    result = select(population, "2024", 1.0, 0)
    assert result.selected == ("E", "D", "B", "C", "A")
    assert [r.risk for r in result.ranking] == [6, 1, 4, 2, 1]


def test_ties_are_broken_by_the_seeded_draw() -> None:
    population = units(10)  # all alike: only the draw orders them
    result = select(population, "2024Q3", 0.3, 123)
    expected = sorted((u.unit for u in population), key=lambda u: tie_key(123, "2024Q3", u))
    assert list(result.selected) == expected[:3]
    assert tie_key(123, "2024Q3", "U01") == hashlib.sha256(b"123:2024Q3:U01").hexdigest()
    assert all(r.tied_with == 9 for r in result.ranking)
    assert "tie broken by seeded draw: 1st of 10" in result.ranking[0].reason


def test_reasons_in_plain_words() -> None:
    population = [
        UnitSignals("KT", "2021", 2, 1, 2),
        UnitSignals("PC", "2023"),
        never("VP"),
        never("TTr"),
    ]
    result = select(population, "2024", 0.5, 7)
    by_unit = {r.unit: r for r in result.ranking}
    assert by_unit["KT"].reason == (
        "not chosen: ranks 3rd, only 2 needed; not inspected for 3 periods (last in 2021); "
        "risk 5 (2 overdue tasks, 1 returned submission, 2 late dossiers)"
    )
    assert by_unit["PC"].reason == (
        "not chosen: ranks 4th, only 2 needed; not inspected for 1 period (last in 2023); "
        "risk 0 (0 overdue tasks, 0 returned submissions, 0 late dossiers)"
    )
    assert by_unit["VP"].reason.startswith("chosen: ranks ")
    assert "never inspected" in by_unit["VP"].reason
    assert (
        "tied with 1 other unit on staleness and risk; tie broken by seeded draw"
        in by_unit["VP"].reason
    )


# -------------------------------------------------------------------------- determinism

MIXED = [
    UnitSignals("VP", None, 1, 0, 0),
    UnitSignals("KT", None, 0, 2, 0),
    UnitSignals("TCCB", "2022", 2, 2, 0),
    UnitSignals("TTr", "2022", 1, 1, 1),
    UnitSignals("PC", "2023"),
    UnitSignals("QLDT", "2023"),
    UnitSignals("KHTC", "2023"),
    UnitSignals("DKKD", "2023", 3, 0, 0),
    UnitSignals("DTNN", "2023", 0, 0, 3),
    UnitSignals("HTDN", "2022"),
]


def test_same_inputs_same_selection() -> None:
    first = select(MIXED, "2024", 0.5, 2024)
    again = select(list(reversed(MIXED)), "2024", 0.5, 2024)  # population order is irrelevant
    assert first == again
    assert first.selected == ("KT", "VP", "TCCB", "TTr", "HTDN")


def test_the_draw_is_pinned() -> None:
    # if this changes, the algorithm changed: ALGORITHM_VERSION must change too, or old
    # records stop re-deriving
    assert select(units(10), "2024Q3", 0.3, 123).selected == PINNED


PINNED = ("U07", "U02", "U03")


def test_same_selection_in_a_fresh_process_whatever_the_hash_seed() -> None:
    population = json.dumps([u.as_dict() for u in [*MIXED, *units(6, "2023")]])
    script = (
        "import json, sys\n"
        "from workflow.domain.sampling import UnitSignals, select\n"
        "population = [UnitSignals(**u) for u in json.loads(sys.argv[1])]\n"
        "s = select(population, '2024', 0.5, 99)\n"
        "print(json.dumps([s.as_record(), [r.as_dict() for r in s.ranking]]))\n"
    )
    here = select([UnitSignals(**u) for u in json.loads(population)], "2024", 0.5, 99)
    expected = json.loads(json.dumps([here.as_record(), [r.as_dict() for r in here.ranking]]))
    assert here.count == 8 and here.ranking[7].tied_with == 8  # the 8th: a 9-way tie
    for hash_seed in ("0", "1", "4242"):
        out = subprocess.run(
            [sys.executable, "-c", script, population],
            cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
            capture_output=True,
            text=True,
            check=True,
        )
        assert json.loads(out.stdout) == expected


def test_a_different_seed_reorders_only_ties() -> None:
    base = select(MIXED, "2024", 0.6, 1)
    profile = [(r.periods_since_inspection, r.risk) for r in base.ranking]
    outcomes = set()
    for seed in range(40):
        other = select(MIXED, "2024", 0.6, seed)
        assert [(r.periods_since_inspection, r.risk) for r in other.ranking] == profile
        assert other.selected[:5] == base.selected[:5]  # decided by staleness and risk alone
        outcomes.add(other.selected)
    assert outcomes == {
        ("KT", "VP", "TCCB", "TTr", "HTDN", "DKKD"),
        ("KT", "VP", "TCCB", "TTr", "HTDN", "DTNN"),
    }  # the sixth place is a tie of two (last in 2023, risk 3): the draw settles it


def test_a_different_period_redraws_ties() -> None:
    outcomes = {select(units(10), f"20{y}", 0.3, 5).selected for y in range(10, 30)}
    assert len(outcomes) > 1


# ------------------------------------------------------------------------------ rotation


def period_key(granularity: str, i: int) -> str:
    if granularity == "year":
        return str(2020 + i)
    if granularity == "half":
        return f"{2020 + i // 2}H{i % 2 + 1}"
    return f"{2020 + i // 4}Q{i % 4 + 1}"


@settings(max_examples=200, deadline=None)
@given(
    size=st.integers(min_value=1, max_value=60),
    ratio=st.one_of(
        st.sampled_from([0.3, 0.33, 1 / 3, 0.34, 0.35, 0.5, 0.51, 0.7, 1.0]),
        st.floats(min_value=0.3, max_value=1.0),
    ),
    seed=st.integers(min_value=-(2**63), max_value=2**63),
    signals_seed=st.integers(min_value=0, max_value=2**32),
    granularity=st.sampled_from(["year", "half", "quarter"]),
    history=st.booleans(),
)
def test_rotation_every_unit_is_inspected_once_every_ceil_one_over_ratio_periods(
    size: int, ratio: float, seed: int, signals_seed: int, granularity: str, history: bool
) -> None:
    window = rotation_period(ratio)
    assert window == math.ceil(1 / Fraction(str(ratio)))
    rng = random.Random(signals_seed)
    start = 8  # leave room for a made-up history before the first simulated period
    names = [f"U{i:02d}" for i in range(size)]
    last: dict[str, str | None] = {
        u: period_key(granularity, start - rng.randint(1, 8))
        if history and rng.random() < 0.7
        else None
        for u in names
    }
    chosen_in: list[set[str]] = []
    for i in range(start, start + 3 * window + 1):
        period = period_key(granularity, i)
        population = [
            UnitSignals(u, last[u], rng.randint(0, 9), rng.randint(0, 3), rng.randint(0, 5))
            for u in names
        ]
        result = select(population, period, ratio, seed)
        assert len(set(result.selected)) == result.count == required_count(size, ratio)
        for u in result.selected:
            last[u] = period
        chosen_in.append(set(result.selected))
    for first in range(len(chosen_in) - window + 1):
        covered = set().union(*chosen_in[first : first + window])
        assert covered == set(names), (first, sorted(set(names) - covered))


# ------------------------------------------------------------------------------- explain


def record(result: Selection) -> dict[str, Any]:
    return json.loads(json.dumps(result.as_record()))  # as stored: through JSON


def test_the_record_holds_everything_needed() -> None:
    result = select(MIXED, "2024", 0.3, 11)
    stored = record(result)
    assert set(stored) == {
        "algorithm",
        "period",
        "ratio",
        "seed",
        "count",
        "population",
        "selected",
    }
    assert stored["algorithm"] == ALGORITHM_VERSION == "rotation-risk-seeded/1"
    assert stored["population"][0] == {
        "unit": "DKKD",
        "last_inspected": "2023",
        "overdue_tasks": 3,
        "returned_submissions": 0,
        "late_dossiers": 0,
    }
    assert stored["selected"] == list(result.selected)
    assert stored["count"] == 3


def test_explain_re_derives_the_same_selection() -> None:
    for seed in range(10):
        result = select(MIXED, "2024", 0.3, seed)
        assert explain(record(result)) == result
        assert Selection.from_record(record(result)) == result
    stored = record(select(MIXED, "2024", 0.3, 1))
    stored["inspection"] = 17  # extra keys (the service's ids) are ignored
    assert explain(stored).selected == tuple(stored["selected"])


def test_a_doctored_selection_fails_naming_the_difference() -> None:
    population = [never("A"), never("B", 1), UnitSignals("C", "2022"), UnitSignals("D", "2023")]
    stored = record(select(population, "2024", 0.5, 3))
    assert stored["selected"] == ["B", "A"]
    stored["selected"] = ["B", "D"]
    with pytest.raises(AuditVerificationFailed) as failed:
        explain(stored)
    assert str(failed.value) == (
        "recorded selection [B, D] does not follow from the recorded inputs (period 2024, "
        "ratio 0.5, seed 3, 4 units): they give [B, A] (D was not in the top 2: it ranks 4th, "
        "not inspected for 1 period (last in 2023), risk 0 (0 overdue tasks, 0 returned "
        "submissions, 0 late dossiers); A ranks 2nd: never inspected, risk 0 (0 overdue tasks, "
        "0 returned submissions, 0 late dossiers))"
    )
    assert failed.value.exit_code == 6

    stored["selected"] = ["A", "B"]
    with pytest.raises(AuditVerificationFailed, match=r"\(the same units in a different order\)"):
        explain(stored)
    stored["selected"] = ["B", "X"]
    with pytest.raises(AuditVerificationFailed, match="X is not in the recorded population"):
        explain(stored)
    stored["selected"] = ["B", "B"]
    with pytest.raises(AuditVerificationFailed, match="B is recorded more than once"):
        explain(stored)


def test_doctored_signals_fail() -> None:
    stored = record(select(MIXED, "2024", 0.3, 5))
    assert "PC" not in stored["selected"]
    for entry in stored["population"]:
        if entry["unit"] == "PC":
            entry["last_inspected"] = None  # "PC was never inspected": it would have been chosen
    with pytest.raises(AuditVerificationFailed) as failed:
        explain(stored)
    assert "they give [KT, VP, PC] (TCCB was not in the top 3: it ranks 4th" in str(failed.value)
    assert "PC ranks 3rd: never inspected, risk 0" in str(failed.value)


def test_doctored_seed_fails() -> None:
    original = select(units(10), "2024", 0.3, 1)
    other_seed = next(
        s for s in range(2, 100) if select(units(10), "2024", 0.3, s).selected != original.selected
    )
    stored = record(original)
    stored["seed"] = other_seed
    with pytest.raises(AuditVerificationFailed, match=f"seed {other_seed}, 10 units\\): they give"):
        explain(stored)
    with pytest.raises(AuditVerificationFailed, match="tie with 9 others broken by seeded draw"):
        explain(stored)


def test_doctored_count_or_ratio_fails() -> None:
    stored = record(select(MIXED, "2024", 0.3, 5))
    stored["count"] = 4
    with pytest.raises(AuditVerificationFailed, match=r"recorded count 4 does not follow.*needs 3"):
        explain(stored)
    stored = record(select(MIXED, "2024", 0.3, 5))
    stored["ratio"] = 0.2
    with pytest.raises(
        AuditVerificationFailed, match="cannot be re-derived: the plan requires at least 30%"
    ):
        explain(stored)


def test_unknown_algorithm_fails_loudly() -> None:
    stored = record(select(MIXED, "2024", 0.3, 5))
    for version in ("rotation-risk-seeded/2", None, 1):
        doctored = copy.deepcopy(stored)
        doctored["algorithm"] = version
        with pytest.raises(AuditVerificationFailed) as failed:
            explain(doctored)
        assert str(failed.value) == (
            f"the recorded selection uses algorithm {version!r}, which this planflow does not "
            "know (it knows rotation-risk-seeded/1): it cannot be re-derived"
        )


@pytest.mark.parametrize(
    ("doctor", "message"),
    [
        (lambda r: r.pop("seed"), "cannot be read: it lacks seed"),
        (lambda r: r.__setitem__("selected", "VP"), "selected is not a list of unit codes"),
        (lambda r: r.__setitem__("population", {}), "population is not a list"),
        (
            lambda r: r["population"][0].pop("late_dossiers"),
            "population entry 0 lacks late_dossiers",
        ),
        (
            lambda r: r["population"][1].__setitem__("overdue_tasks", -2),
            "population entry 1: unit DTNN: overdue_tasks",
        ),
        (lambda r: r.__setitem__("period", "2024Q7"), "cannot be re-derived: period '2024Q7'"),
    ],
)
def test_malformed_records_fail(doctor: Any, message: str) -> None:
    stored = record(select(MIXED, "2024", 0.3, 5))
    doctor(stored)
    with pytest.raises(AuditVerificationFailed, match=message.replace("(", r"\(")):
        explain(stored)
