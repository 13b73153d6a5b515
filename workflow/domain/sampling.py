"""Which units an inspection visits in a period: at least 30%, reproducible, fair.

The PAR INDEX plan requires inspecting at least 30% of an agency's units each period, and an
auditor must be able to check the draw was not cherry-picked. So the selection is a pure
function of recorded inputs (the population with its signals, the period, the ratio, the
seed) and the algorithm version; `explain` re-derives it from a record alone.

**How many.** `required_count` is ceil(ratio × units), at least 1, computed exactly: the ratio
is read from its shortest decimal form (`str(0.3)` is "0.3", i.e. 3/10), so 0.3 × 10 gives 3,
never 4 from the binary float 0.30000000000000004-style error. Ratios below 0.3 or above 1 are
refused.

**Which ones** (algorithm "rotation-risk-seeded/1"), every unit ranked by, in order:

1. staleness: never-inspected units first, then the most periods since the last inspection;
2. risk: the most risk signals, `overdue_tasks + returned_submissions + late_dossiers`
   (unweighted on purpose: each signal is one observable fact and the sum is easy to check);
3. a seeded draw: `sha256(f"{seed}:{period}:{unit}")` as a hex string, lowest first. It is
   not `random.Random` (whose algorithms may change between Python versions) nor `hash()`
   (salted per process by PYTHONHASHSEED): the same inputs give the same draw everywhere,
   forever. The unit code is a last resort for a (never observed) digest collision.

The first `required_count` units of the ranking are selected, in ranking order.

**Rotation guarantee.** If each period's `last_inspected` is the last period the unit was
selected (or otherwise inspected), every unit of a fixed population is selected at least once
in every window of L = ceil(1/ratio) consecutive periods, whether or not the counts divide
evenly. Proof: let n be the number of units and k = required_count(n, ratio) ≥ ratio × n, so
k × L ≥ ratio × n × (1/ratio) = n. Suppose unit u is not selected in periods p+1 … p+L, and
was last inspected in period a ≤ p (or never). In each such period q, u was passed over, so
each of the k units selected at q ranks ahead of u; risk and the draw only order units of
*equal* staleness, so each is at least as stale as u: last inspected at or before a (or
never, if u never was either). Once selected at q its last inspection is q > a, so it is
strictly fresher than u for the rest of the window and cannot rank ahead of u again. Hence the
k × L units selected in the window are all distinct and all differ from u: k × L ≤ n − 1 < n,
a contradiction. (With 10 units at 0.3: k = 3, L = 4, 12 ≥ 10; the fourth period's draw just
revisits two of the first period's units.) The guarantee is for a fixed population: a unit
added later enters as never inspected and ranks first, which can delay others by a period.

**Periods.** A key is a year "2024", a half "2024H1" or a quarter "2024Q3" (the keys tasks
use). One organisation inspects on one kind of period: comparing a unit last inspected in
"2024Q3" with a selection for "2025" is refused as `InvalidInput` rather than guessed
(`workflow.domain.periods`).

Pure: no database, no Prefect, no logging; stdlib only.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from workflow.domain.periods import Period as Period  # re-exported: draws name periods
from workflow.domain.periods import parse_period as parse_period
from workflow.domain.periods import periods_since as periods_since
from workflow.domain.periods import since as _since
from workflow.errors import AuditVerificationFailed, InvalidInput

MIN_RATIO = 0.3
ALGORITHM_VERSION = "rotation-risk-seeded/1"

_MIN_RATIO_EXACT = Fraction(3, 10)
_KNOWN_ALGORITHMS = frozenset({ALGORITHM_VERSION})


# ------------------------------------------------------------------------- the ratio rule


def _exact_ratio(ratio: float) -> Fraction:
    if isinstance(ratio, bool) or not isinstance(ratio, int | float) or not math.isfinite(ratio):
        raise InvalidInput(f"ratio must be a number between {MIN_RATIO} and 1, got {ratio!r}")
    exact = Fraction(str(ratio))  # the decimal as written: 0.3 is exactly 3/10
    if exact < _MIN_RATIO_EXACT:
        raise InvalidInput(
            "the plan requires at least 30% of units to be inspected each period: "
            f"ratio {ratio} is below {MIN_RATIO}"
        )
    if exact > 1:
        raise InvalidInput(
            f"ratio {ratio} is above 1: an inspection cannot visit more than all units"
        )
    return exact


def required_count(units: int, ratio: float) -> int:
    """ceil(ratio × units), exactly, and at least 1. `InvalidInput` for a ratio below
    `MIN_RATIO` or above 1, or for no units."""
    exact = _exact_ratio(ratio)
    if isinstance(units, bool) or not isinstance(units, int) or units < 1:
        raise InvalidInput(f"there are no units to select from ({units!r})")
    return max(1, math.ceil(exact * units))


def rotation_period(ratio: float) -> int:
    """L = ceil(1/ratio): every unit is selected at least once in any L consecutive periods."""
    return math.ceil(1 / _exact_ratio(ratio))


# ----------------------------------------------------------------------------- the draw


def _nonnegative(value: object, what: str, unit: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput(f"unit {unit}: {what} must be a whole number ≥ 0, got {value!r}")


@dataclass(frozen=True, slots=True)
class UnitSignals:
    """One unit of the population, as the selection saw it."""

    unit: str
    last_inspected: str | None  # period key of its last inspection; None: never inspected
    overdue_tasks: int = 0
    returned_submissions: int = 0
    late_dossiers: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.unit, str) or not self.unit.strip():
            raise InvalidInput(f"a unit code must be a non-empty string, got {self.unit!r}")
        if self.last_inspected is not None:
            if not isinstance(self.last_inspected, str):
                raise InvalidInput(
                    f"unit {self.unit}: last_inspected must be a period key or null, "
                    f"got {self.last_inspected!r}"
                )
            parse_period(self.last_inspected)
        _nonnegative(self.overdue_tasks, "overdue_tasks", self.unit)
        _nonnegative(self.returned_submissions, "returned_submissions", self.unit)
        _nonnegative(self.late_dossiers, "late_dossiers", self.unit)

    @property
    def risk(self) -> int:
        """Unweighted sum of the risk signals."""
        return self.overdue_tasks + self.returned_submissions + self.late_dossiers

    def as_dict(self) -> dict[str, Any]:
        return {
            "unit": self.unit,
            "last_inspected": self.last_inspected,
            "overdue_tasks": self.overdue_tasks,
            "returned_submissions": self.returned_submissions,
            "late_dossiers": self.late_dossiers,
        }


def tie_key(seed: int, period: str, unit: str) -> str:
    """The seeded draw: sha256 of "seed:period:unit", hex. Lowest wins a tie. Stable across
    processes and Python versions (no `hash()`, no `random`)."""
    return hashlib.sha256(f"{seed}:{period}:{unit}".encode()).hexdigest()


# ---------------------------------------------------------------------------- the seed

SEED_RULE = "sha256-org-period-head/1"
SEED_DIGITS = 15  # hex digits: 60 bits, within the signed 64-bit column that stores seeds


@dataclass(frozen=True, slots=True)
class SeedDerivation:
    """Where a draw's seed comes from when nobody chooses it (a production database's
    draws; a simulation's without --seed): the organisation, the period, and the audit
    log's head (seq and hash) read in the draw's transaction. The head hashes every entry
    before it, so nobody can aim it at a seed without writing entries anyone can see.

    seed = the first SEED_DIGITS hex digits of SHA-256("ORG|PERIOD|HEAD_SEQ|HEAD_HASH")."""

    organisation: str
    period: str
    head_seq: int
    head_hash: str

    @property
    def text(self) -> str:
        return f"{self.organisation}|{self.period}|{self.head_seq}|{self.head_hash}"

    @property
    def seed(self) -> int:
        return int(hashlib.sha256(self.text.encode()).hexdigest()[:SEED_DIGITS], 16)

    def explanation(self) -> str:
        return (
            f'seed = the first {SEED_DIGITS} hex digits of SHA-256("{self.text}") = {self.seed} '
            f"(organisation, period, and the audit log's head, entry {self.head_seq}, when "
            "the draw was made)"
        )

    def as_record(self) -> dict[str, Any]:
        """What the draw's audit entry records (`seed_from`): the inputs and the rule."""
        return {
            "rule": SEED_RULE,
            "organisation": self.organisation,
            "period": self.period,
            "head_seq": self.head_seq,
            "head_hash": self.head_hash,
        }

    @classmethod
    def from_record(cls, raw: object) -> SeedDerivation:
        """A recorded derivation, read back; AuditVerificationFailed if it is not one."""
        if not isinstance(raw, Mapping) or raw.get("rule") != SEED_RULE:
            raise AuditVerificationFailed(
                f"the draw's seed derivation cannot be read: expected rule {SEED_RULE}"
            )
        inputs = ("organisation", "period", "head_seq", "head_hash")
        org, period, seq, head = (raw.get(k) for k in inputs)
        if not (
            isinstance(org, str)
            and isinstance(period, str)
            and isinstance(seq, int)
            and not isinstance(seq, bool)
            and isinstance(head, str)
        ):
            raise AuditVerificationFailed("the draw's seed derivation lacks one of its inputs")
        return cls(org, period, seq, head)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _staleness(since: int | None, last: str | None) -> str:
    if since is None:
        return "never inspected"
    if since == 0:
        return f"already inspected this period ({last})"
    return f"not inspected for {_plural(since, 'period')} (last in {last})"


def _risk_text(s: UnitSignals) -> str:
    return (
        f"risk {s.risk} ({_plural(s.overdue_tasks, 'overdue task')}, "
        f"{_plural(s.returned_submissions, 'returned submission')}, "
        f"{_plural(s.late_dossiers, 'late dossier')})"
    )


@dataclass(frozen=True, slots=True)
class RankedUnit:
    """One unit's place in the ranking and, in plain words, why it was or wasn't chosen."""

    rank: int  # 1-based
    signals: UnitSignals
    periods_since_inspection: int | None  # None: never inspected
    tie_key: str
    tied_with: int  # other units with the same staleness and risk (ordered by the draw)
    chosen: bool
    reason: str

    @property
    def unit(self) -> str:
        return self.signals.unit

    @property
    def risk(self) -> int:
        return self.signals.risk

    @property
    def staleness(self) -> str:
        return _staleness(self.periods_since_inspection, self.signals.last_inspected)

    @property
    def risk_text(self) -> str:
        return _risk_text(self.signals)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            **self.signals.as_dict(),
            "risk": self.risk,
            "periods_since_inspection": self.periods_since_inspection,
            "tie_key": self.tie_key,
            "tied_with": self.tied_with,
            "chosen": self.chosen,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class Selection:
    """The result of a draw, with everything needed to re-derive and explain it."""

    period: str
    ratio: float
    seed: int
    algorithm: str
    count: int
    population: tuple[UnitSignals, ...]  # sorted by unit code
    selected: tuple[str, ...]  # in ranking order
    ranking: tuple[RankedUnit, ...]  # every unit, best first

    def as_record(self) -> dict[str, Any]:
        """JSON-ready: the inputs, the algorithm version and the result (not the ranking,
        which `explain` re-derives)."""
        return {
            "algorithm": self.algorithm,
            "period": self.period,
            "ratio": self.ratio,
            "seed": self.seed,
            "count": self.count,
            "population": [u.as_dict() for u in self.population],
            "selected": list(self.selected),
        }

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Selection:
        """The selection a record describes, re-derived and checked: see `explain`."""
        return explain(record)


def _check_seed(seed: object) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise InvalidInput(f"the seed must be a whole number, got {seed!r}")
    return seed


def select(population: Sequence[UnitSignals], period: str, ratio: float, seed: int) -> Selection:
    """Select required_count(len(population), ratio) distinct units for `period`: staleness
    first (never inspected, then longest ago), then risk, then the seeded draw."""
    current = parse_period(period)
    seed = _check_seed(seed)
    units = sorted(population, key=lambda u: u.unit)
    for before, after in itertools.pairwise(units):
        if before.unit == after.unit:
            raise InvalidInput(f"unit {after.unit} appears twice in the population")
    count = required_count(len(units), ratio)

    scored = []
    for u in units:
        since = _since(u.last_inspected, current, u.unit)
        draw = tie_key(seed, current.key, u.unit)
        never_first = 0 if since is None else 1
        order = (never_first, -(since or 0), -u.risk, draw, u.unit)
        scored.append((order, u, since, draw))
    scored.sort(key=lambda row: row[0])

    groups: dict[tuple[int | None, int], int] = {}
    for _, u, since, _ in scored:
        groups[(since, u.risk)] = groups.get((since, u.risk), 0) + 1
    seen: dict[tuple[int | None, int], int] = {}

    ranking = []
    for position, (_, u, since, draw) in enumerate(scored, start=1):
        group = (since, u.risk)
        seen[group] = seen.get(group, 0) + 1
        chosen = position <= count
        tied_with = groups[group] - 1
        parts = [
            f"chosen: ranks {_ordinal(position)} of the {count} needed"
            if chosen
            else f"not chosen: ranks {_ordinal(position)}, only {count} needed",
            _staleness(since, u.last_inspected),
            _risk_text(u),
        ]
        if tied_with:
            parts.append(
                f"tied with {_plural(tied_with, 'other unit')} on staleness and risk; "
                f"tie broken by seeded draw: {_ordinal(seen[group])} of {groups[group]}"
            )
        ranking.append(RankedUnit(position, u, since, draw, tied_with, chosen, "; ".join(parts)))

    return Selection(
        period=current.key,
        ratio=ratio,
        seed=seed,
        algorithm=ALGORITHM_VERSION,
        count=count,
        population=tuple(units),
        selected=tuple(r.unit for r in ranking[:count]),
        ranking=tuple(ranking),
    )


# ---------------------------------------------------------------------------- explain

_RECORD_KEYS = ("algorithm", "period", "ratio", "seed", "count", "population", "selected")
_SIGNAL_KEYS = ("unit", "last_inspected", "overdue_tasks", "returned_submissions", "late_dossiers")


def _malformed(problem: str) -> AuditVerificationFailed:
    return AuditVerificationFailed(f"the recorded selection cannot be read: {problem}")


def _read_population(raw: object) -> list[UnitSignals]:
    if not isinstance(raw, list):
        raise _malformed("population is not a list")
    population = []
    for i, entry in enumerate(raw):
        if not isinstance(entry, Mapping):
            raise _malformed(f"population entry {i} is not an object")
        missing = [k for k in _SIGNAL_KEYS if k not in entry]
        if missing:
            raise _malformed(f"population entry {i} lacks {', '.join(missing)}")
        try:
            population.append(UnitSignals(**{k: entry[k] for k in _SIGNAL_KEYS}))
        except InvalidInput as e:
            raise _malformed(f"population entry {i}: {e}") from e
    return population


def _why(ranked: RankedUnit) -> str:
    tie = f", tie with {_plural(ranked.tied_with, 'other')} broken by seeded draw"
    return f"{ranked.staleness}, {ranked.risk_text}{tie if ranked.tied_with else ''}"


def _difference(recorded: list[str], derived: Selection) -> AuditVerificationFailed:
    by_unit = {r.unit: r for r in derived.ranking}
    notes = []
    for unit in dict.fromkeys(u for u in recorded if recorded.count(u) > 1):
        notes.append(f"{unit} is recorded more than once")
    for unit in dict.fromkeys(u for u in recorded if u not in derived.selected):
        ranked = by_unit.get(unit)
        if ranked is None:
            notes.append(f"{unit} is not in the recorded population")
        else:
            notes.append(
                f"{unit} was not in the top {derived.count}: it ranks {_ordinal(ranked.rank)}, "
                f"{_why(ranked)}"
            )
    for unit in derived.selected:
        if unit not in recorded:
            ranked = by_unit[unit]
            notes.append(f"{unit} ranks {_ordinal(ranked.rank)}: {_why(ranked)}")
    if not notes:
        notes.append("the same units in a different order")
    return AuditVerificationFailed(
        f"recorded selection [{', '.join(recorded)}] does not follow from the recorded inputs "
        f"(period {derived.period}, ratio {derived.ratio}, seed {derived.seed}, "
        f"{_plural(len(derived.population), 'unit')}): they give "
        f"[{', '.join(derived.selected)}] ({'; '.join(notes)})"
    )


def explain(record: Mapping[str, Any]) -> Selection:
    """Re-derive a selection from its record alone (`Selection.as_record`'s keys; extra keys
    are ignored) and return it with its ranking and reasons. Raises `AuditVerificationFailed`
    if the algorithm version is unknown, the record is malformed, or the recorded count or
    selection does not follow from the recorded inputs. (That the record itself is the one
    written is the audit chain's job, not this function's.)"""
    if not isinstance(record, Mapping):
        raise _malformed("it is not an object")
    algorithm = record.get("algorithm")
    if algorithm not in _KNOWN_ALGORITHMS:
        raise AuditVerificationFailed(
            f"the recorded selection uses algorithm {algorithm!r}, which this planflow does "
            f"not know (it knows {', '.join(sorted(_KNOWN_ALGORITHMS))}): it cannot be re-derived"
        )
    missing = [k for k in _RECORD_KEYS if k not in record]
    if missing:
        raise _malformed(f"it lacks {', '.join(missing)}")
    recorded = record["selected"]
    if not isinstance(recorded, list) or not all(isinstance(u, str) for u in recorded):
        raise _malformed("selected is not a list of unit codes")
    population = _read_population(record["population"])
    try:
        derived = select(population, record["period"], record["ratio"], record["seed"])
    except InvalidInput as e:
        raise AuditVerificationFailed(f"the recorded selection cannot be re-derived: {e}") from e
    if record["count"] != derived.count:
        raise AuditVerificationFailed(
            f"recorded count {record['count']!r} does not follow from the recorded inputs: "
            f"ratio {derived.ratio} of {_plural(len(population), 'unit')} needs {derived.count}"
        )
    if recorded != list(derived.selected):
        raise _difference(recorded, derived)
    return derived
