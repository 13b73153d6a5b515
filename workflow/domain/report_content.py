"""A report's figures from the database's grouped counts: added up by plan, index category
and unit, with their rates and the on-time trend. Pure: the grouped rows come from
`workflow.store.queries.report_figures` (a few per quarter × plan × category × unit, never
the tasks themselves); what each figure counts is stated in `workflow.domain.reporting`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from workflow.definitions.models import OrganisationSpec
from workflow.definitions.vocabulary import BY_CODE
from workflow.domain.lifecycle import State
from workflow.domain.reporting import Window, percent

STATES = tuple(s.value for s in State)
# Counted over the tasks open in the window, by the scan of the tasks (`TaskGroup`).
SCANNED = (
    "tasks",
    "tasks_due",
    "tasks_completed",
    "tasks_completed_on_time",
    "tasks_completed_late",
    "tasks_withdrawn",
    "tasks_open_at_end",
    "tasks_overdue",
    "tasks_due_next",
)
# Counted from the audit log's moves in the window (`MoveGroup`): tasks that made the move.
MOVED = {
    "start": "tasks_started",
    "submit": "tasks_submitted",
    "return": "tasks_returned",
    "verify": "tasks_verified",
    "close": "tasks_closed",
}
TASK_COUNTS = (*SCANNED[:2], *MOVED.values(), *SCANNED[2:])
DOSSIER_COUNTS = (
    "dossiers_received",
    "dossiers_resolved",
    "dossiers_resolved_on_time",
    "dossiers_resolved_late",
    "dossiers_pending",
    "dossiers_overdue",
    "apology_letters",
    "escalations",
)
COUNTS = (*TASK_COUNTS, *DOSSIER_COUNTS, "inspections_done")
TREND_COUNTS = (
    "tasks_completed",
    "tasks_completed_on_time",
    "dossiers_resolved",
    "dossiers_resolved_on_time",
)
INDEXES = ("PAPI", "PAR INDEX", "SIPAS")  # the index components, in the order reports print

Key = tuple[str | None, str | None, str | None]  # (plan, category, unit)


@dataclass(frozen=True, slots=True)
class TaskGroup:
    """Tasks of one organisation, plan, category and lead unit: open in the window
    (`listed`) or not, completed in one quarter of the trend (`done_in`, its index) or not
    (-1). The report's figures are the listed groups'; the trend counts each quarter's."""

    organisation: str
    key: Key
    counts: dict[str, int]  # every name of SCANNED
    by_state: dict[str, int]  # every name of STATES (the state now)
    listed: bool = True
    done_in: int = -1


@dataclass(frozen=True, slots=True)
class MoveGroup:
    """Tasks of one organisation, plan, category and lead unit that made each move in the
    window (the audit log's entries, by their time)."""

    organisation: str
    key: Key
    counts: dict[str, int]  # every name of MOVED's values


@dataclass(frozen=True, slots=True)
class DossierGroup:
    """Dossiers of one quarter of the trend received by one handling unit."""

    quarter: int
    unit: str | None
    counts: dict[str, int]  # DOSSIER_COUNTS but the letters'


@dataclass
class Tally:
    """The period's counts per (plan, category, unit), and every quarter's trend counts."""

    rows: dict[Key, dict[str, Any]] = field(default_factory=dict)
    trend: list[dict[str, int]] = field(default_factory=list)

    def row(self, key: Key) -> dict[str, Any]:
        if key not in self.rows:
            self.rows[key] = _empty()
        return self.rows[key]

    def plans(self) -> set[str]:
        """The plans some task of the period belongs to."""
        return {k[0] for k, r in self.rows.items() if _has_tasks(r) and k[0]}


def tally(
    win: Window,
    quarters: Sequence[Window],
    tasks: Iterable[TaskGroup],
    moves: Iterable[MoveGroup],
    dossiers: Iterable[DossierGroup],
    notices: Iterable[tuple[str | None, dict[str, int]]],
    inspections: Iterable[tuple[str, int]],
) -> Tally:
    """The grouped counts added up. The quarters of the trend tile the period's window
    (`reporting.quarters_up_to`): the dossier groups of a quarter inside it are the period's;
    the listed task groups are the period's (the tasks open in its window), and each task
    group completed in a quarter counts in that quarter's trend."""
    inside = {i for i, q in enumerate(quarters) if win.contains(q.start)}
    out = Tally(trend=[dict.fromkeys(TREND_COUNTS, 0) for _ in quarters])
    for t in tasks:
        if t.done_in >= 0:  # completed in that quarter: all of them, on time or not
            out.trend[t.done_in]["tasks_completed"] += t.counts["tasks"]
            out.trend[t.done_in]["tasks_completed_on_time"] += t.counts["tasks_completed_on_time"]
        if t.listed:
            target = out.row(t.key)
            _add(target, t.counts)
            _add(target["tasks_by_state"], t.by_state)
    for m in moves:
        _add(out.row(m.key), m.counts)
    for d in dossiers:
        out.trend[d.quarter]["dossiers_resolved"] += d.counts["dossiers_resolved"]
        out.trend[d.quarter]["dossiers_resolved_on_time"] += d.counts["dossiers_resolved_on_time"]
        if d.quarter in inside:
            _add(out.row((None, None, d.unit)), d.counts)
    for letters_unit, letters in notices:
        _add(out.row((None, None, letters_unit)), letters)
    for inspected, done in inspections:
        out.row((None, None, inspected))["inspections_done"] += done
    return out


def unit_names(spec: OrganisationSpec, stored: Mapping[str, str]) -> dict[str, str]:
    """Every unit of the organisation, in the order its file lists them (then any unit the
    file no longer lists: units are never deleted), with its stored name."""
    ordered = {u.code: stored.get(u.code, u.name) for u in spec.units}
    ordered |= {code: stored[code] for code in sorted(stored) if code not in ordered}
    return ordered


def inspectable(spec: OrganisationSpec, names: Mapping[str, str]) -> list[str]:
    """The units inspections draw from: what the file's `inspection:` names (the team set
    aside), or every unit of an organisation that declares no inspection."""
    if spec.inspection is None:
        return list(names)
    return [u for u in spec.inspected_units() if u in names]


def figures(
    counted: Tally,
    quarters: Sequence[Window],
    names: Mapping[str, str],
    inspected_from: Sequence[str],
    plan_info: Mapping[str, Mapping[str, Any]],
) -> dict[str, Any]:
    """Every figure of the report (everything but its identity): `names` is `unit_names`,
    `inspected_from` is `inspectable`, `plan_info` the version of each plan of
    `counted.plans()` (id, title, version, hash)."""
    rows = counted.rows
    unit_rank = {u: i for i, u in enumerate(names)}

    def unit_order(unit: str | None) -> tuple[int, str]:
        return (unit_rank.get(unit or "", len(unit_rank)), unit or "")

    keys = sorted(rows, key=lambda k: (_last(k[0]), _last(k[1]), unit_order(k[2])))
    out_rows = [
        {"plan": k[0], "category": k[1], "unit": k[2], **_rated(rows[k], tasks_only=False)}
        for k in keys
    ]

    totals = _sum(rows.values())
    by_plan: dict[str | None, dict[str, Any]] = {}
    by_category: dict[str | None, dict[str, Any]] = {}
    by_index: dict[str | None, dict[str, Any]] = {}
    by_unit: dict[str | None, dict[str, Any]] = {u: _empty() for u in names}
    for (plan, category, lead), counts in rows.items():
        if _has_tasks(counts):
            _add_all(by_plan.setdefault(plan, _empty()), counts)
            _add_all(by_category.setdefault(category, _empty()), counts)
            _add_all(by_index.setdefault(index_of(category), _empty()), counts)
        _add_all(by_unit.setdefault(lead, _empty()), counts)

    covered = [u for u in inspected_from if by_unit.get(u, {}).get("inspections_done")]
    totals_out = _rated(totals, tasks_only=False)
    totals_out |= {
        "units_inspected": len(covered),
        "units_inspectable": len(inspected_from),
        "inspection_coverage_pct": percent(len(covered), len(inspected_from)),
    }
    return {
        "plans": [dict(plan_info[p]) for p in sorted(plan_info)],
        "totals": totals_out,
        "by_plan": [
            {
                "plan": p,
                "title": plan_info[p]["title"] if p else None,
                "version": plan_info[p]["version"] if p else None,
                **_rated(by_plan[p], tasks_only=True),
            }
            for p in sorted(by_plan, key=_last)
        ],
        "by_category": [
            {
                "category": c,
                "index": BY_CODE[c].index if c in BY_CODE else None,
                "name": BY_CODE[c].name if c in BY_CODE else None,
                **_rated(by_category[c], tasks_only=True),
            }
            for c in sorted(by_category, key=_last)
        ],
        "by_index": [
            {"index": i, **_rated(by_index[i], tasks_only=True)}
            for i in sorted(by_index, key=_index_order)
        ],
        "by_unit": [
            {
                "unit": u,
                "name": names.get(u or ""),
                **_rated(by_unit[u], tasks_only=False),
                "inspectable": u in inspected_from,
                "inspected": u in inspected_from and by_unit[u]["inspections_done"] > 0,
            }
            for u in sorted(by_unit, key=unit_order)
        ],
        "rows": out_rows,
        "trend": [
            {
                "period": q.period,
                "from": q.start.isoformat(),
                "to": q.end.isoformat(),
                "tasks_completed": f["tasks_completed"],
                "tasks_completed_on_time": f["tasks_completed_on_time"],
                "on_time_pct": percent(f["tasks_completed_on_time"], f["tasks_completed"]),
                "dossiers_resolved": f["dossiers_resolved"],
                "dossiers_resolved_on_time": f["dossiers_resolved_on_time"],
                "dossiers_on_time_pct": percent(
                    f["dossiers_resolved_on_time"], f["dossiers_resolved"]
                ),
            }
            for q, f in zip(quarters, counted.trend, strict=True)
        ],
    }


# ----------------------------------------------------------------------------- province

ROLLUP_COUNTS = (
    "tasks",
    "tasks_completed",
    "tasks_completed_on_time",
    "tasks_completed_late",
    "tasks_overdue",
    "tasks_open_at_end",
    "tasks_withdrawn",
)


def rollup(
    groups: Iterable[TaskGroup], organisations: Mapping[str, Mapping[str, str]]
) -> list[dict[str, Any]]:
    """The province roll-up: per organisation loaded (`organisations`: code → its `name`
    and `province`), its open tasks' counts and on-time rate = on time / (completed +
    overdue), ranked by that rate (highest first; then fewer overdue; then the code). Equal
    rates share a rank (1, 2, 2, 4); an organisation with nothing to rate comes last,
    unranked."""
    counts = {code: dict.fromkeys(ROLLUP_COUNTS, 0) for code in organisations}
    for g in groups:
        if g.listed and g.organisation in counts:
            _add(counts[g.organisation], {k: g.counts[k] for k in ROLLUP_COUNTS})
    rows: list[dict[str, Any]] = []
    for code, c in counts.items():
        rated = c["tasks_completed"] + c["tasks_overdue"]
        rows.append(
            {
                "organisation": code,
                "name": organisations[code]["name"],
                "province": organisations[code]["province"],
                **c,
                "completion_pct": percent(c["tasks_completed"], c["tasks"] - c["tasks_withdrawn"]),
                "on_time_pct": percent(c["tasks_completed_on_time"], rated),
            }
        )
    rows.sort(
        key=lambda r: (
            r["on_time_pct"] is None,
            -(r["on_time_pct"] or 0.0),
            r["tasks_overdue"],
            r["organisation"],
        )
    )
    previous: tuple[float | None, int] = (None, 0)
    for position, row in enumerate(rows, start=1):
        rate = row["on_time_pct"]
        if rate is None:
            row["rank"] = None
            continue
        rank = previous[1] if rate == previous[0] else position
        row["rank"] = rank
        previous = (rate, rank)
    return [{"rank": r.pop("rank"), **r} for r in rows]


# ----------------------------------------------------------------------------- adding up


def _empty() -> dict[str, Any]:
    return {**dict.fromkeys(COUNTS, 0), "tasks_by_state": dict.fromkeys(STATES, 0)}


def _add(into: dict[str, Any], counts: Mapping[str, int]) -> None:
    for name, value in counts.items():
        into[name] += value


def _add_all(into: dict[str, Any], counts: Mapping[str, Any]) -> None:
    _add(into, {k: counts[k] for k in COUNTS})
    _add(into["tasks_by_state"], counts["tasks_by_state"])


def _sum(groups: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    total = _empty()
    for counts in groups:
        _add_all(total, counts)
    return total


def _has_tasks(counts: Mapping[str, Any]) -> bool:
    """Whether a row holds tasks: open in the window, or moved in it (a task verified
    before the window and closed in it is not open in it, but was closed in it)."""
    return any(counts[k] for k in TASK_COUNTS)


def index_of(category: str | None) -> str | None:
    """The index component (PAPI, PAR INDEX, SIPAS) a category belongs to; None outside."""
    return BY_CODE[category].index if category in BY_CODE else None


def _index_order(index: str | None) -> tuple[int, str]:
    return (INDEXES.index(index) if index in INDEXES else len(INDEXES), index or "")


def _rated(counts: Mapping[str, Any], *, tasks_only: bool) -> dict[str, Any]:
    """The counts in a fixed order, with their rates (see reporting's docstring)."""
    out: dict[str, Any] = {
        "tasks": counts["tasks"],
        "tasks_by_state": dict(counts["tasks_by_state"]),
    }
    out |= {k: counts[k] for k in TASK_COUNTS[1:]}
    out["completion_pct"] = percent(
        counts["tasks_completed"], counts["tasks"] - counts["tasks_withdrawn"]
    )
    out["on_time_pct"] = percent(counts["tasks_completed_on_time"], counts["tasks_completed"])
    if tasks_only:
        return out
    out |= {k: counts[k] for k in DOSSIER_COUNTS}
    out["dossiers_on_time_pct"] = percent(
        counts["dossiers_resolved_on_time"], counts["dossiers_resolved"]
    )
    out["inspections_done"] = counts["inspections_done"]
    return out


def _last(value: str | None) -> tuple[bool, str]:
    """Sort key putting None (outside any plan or category) last."""
    return (value is None, value or "")
