"""Periodic reports: the figures of an organisation's period, computed in the database, kept
as immutable snapshots whose hashes go into the audit log.

**Figures.** Every figure is a SQL aggregate over the indexed columns of 0004: one grouped
scan of the tasks (`GROUP BY` quarter, plan, category and unit, conditional `sum`s for the
classes; the quarters give the on-time trend from the same pass), one of the dossiers, two
small ones for letters and inspections. Python only adds up the grouped rows (a few per
quarter × plan × category × unit), never the tasks themselves. What each figure counts is
stated in `workflow.domain.reporting`.

**Snapshots.** A report is stored once per (organisation, period, window rule, revision): its
content as canonical JSON (sorted keys, no spaces, UTF-8), the SHA-256 of that text, and, in
the same transaction, a `report.snapshot` audit entry carrying the hash. Asking again for the
same period and rule returns the stored snapshot, byte for byte, after checking its hash
against the content and the audit entry. `revise` adds a new revision that names the one it
revises (`previous`) and keeps it. The table refuses UPDATE and DELETE (triggers, 0004).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    Date,
    Engine,
    and_,
    case,
    cast,
    distinct,
    func,
    insert,
    select,
)
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import ColumnElement, UnaryExpression

from workflow import audit
from workflow.clock import LOCAL_TZ, today_local
from workflow.definitions.models import OrganisationSpec
from workflow.definitions.vocabulary import BY_CODE
from workflow.documents import report as document
from workflow.domain import reporting
from workflow.domain.lifecycle import State
from workflow.domain.reporting import Window, percent
from workflow.errors import AuditVerificationFailed, InvalidInput, NotFound
from workflow.services.context import Context
from workflow.store.engine import reading, translated, writing
from workflow.store.tables import (
    audit_log,
    dossiers,
    inspection_targets,
    notices,
    organisations,
    plan_versions,
    plans,
    report_snapshots,
    tasks,
    units,
)

ACTOR = "flow:aggregate"
ACTION = "report.snapshot"
FORMAT = "planflow.report/1"  # the content's shape; bump it when the keys change
TASK_KINDS = ("plan", "fix")  # inspection and conclusion tasks feed the inspection figures
STATES = tuple(s.value for s in State)
OPEN = (State.ASSIGNED.value, State.IN_PROGRESS.value, State.SUBMITTED.value)
MAX_REASON = 1000

TASK_COUNTS = (
    "tasks",
    "tasks_completed",
    "tasks_completed_on_time",
    "tasks_completed_late",
    "tasks_overdue",
    "tasks_returned",
    "tasks_withdrawn",
)
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
_TREND_COUNTS = (
    "tasks_completed",
    "tasks_completed_on_time",
    "dossiers_resolved",
    "dossiers_resolved_on_time",
)
# The order of the JSON's top-level keys (the stored content itself is canonical: sorted).
_ORDER = ("snapshot", "hash", "period", "window", "totals", "by_plan", "by_unit")

Key = tuple[str | None, str | None, str | None]  # (plan, category, unit)


@dataclass(frozen=True, slots=True)
class Request:
    organisation: str
    period: str
    rule: str = reporting.DEFAULT_RULE
    revise: bool = False
    reason: str | None = None
    requested_by: str | None = None  # who asked (the operator); the flow is the actor


@dataclass(frozen=True, slots=True)
class Outcome:
    report: dict[str, Any]  # the JSON: snapshot, hash, and the stored content
    created: bool  # False: the stored snapshot was returned
    seconds: float  # spent computing and storing (or fetching)


# ----------------------------------------------------------------------------- use cases


def check(ctx: Context, request: Request) -> Window:
    """Refuse a request that cannot succeed before anything is computed or started: a bad
    period, window rule or reason, a period not begun, an unknown organisation (exit 2), or
    a stored snapshot that would be returned but no longer matches its hash (exit 6)."""
    win = _validated(ctx, request)
    with reading(ctx.engine) as conn:
        _organisation(conn, request.organisation)
        found = None if request.revise else _latest(conn, request.organisation, win)
        if found is not None:
            _verified(conn, found)
    return win


def latest_closed_quarter(ctx: Context, rule: str = reporting.DEFAULT_RULE) -> str:
    """The quarter a scheduled run reports: the latest whose window closed before today."""
    return reporting.latest_closed_quarter(today_local(ctx.clock), reporting.parse_rule(rule))


def _validated(ctx: Context, request: Request) -> Window:
    win = reporting.window(request.period, reporting.parse_rule(request.rule))
    _reason(request)
    as_of = today_local(ctx.clock)
    if reporting.not_begun(win, as_of):
        raise InvalidInput(
            f"period {win.period} has not begun: its {win.rule} window starts on "
            f"{win.start.isoformat()} (today is {as_of.isoformat()}); nothing to report yet"
        )
    return win


def generate(ctx: Context, request: Request) -> Outcome:
    """The snapshot for the request: the stored one (latest revision), or a new one when
    there is none yet or `revise` is set."""
    started = time.perf_counter()
    win = _validated(ctx, request)
    rule = win.rule
    reason = _reason(request)
    now = ctx.clock.now()
    as_of = today_local(ctx.clock)
    if not request.revise:
        with reading(ctx.engine) as conn:
            _organisation(conn, request.organisation)
            found = _latest(conn, request.organisation, win)
            if found is not None:
                return Outcome(_verified(conn, found), False, time.perf_counter() - started)
    with _consistent_read(ctx.engine) as conn:
        spec = _organisation(conn, request.organisation)
        figures = compute(conn, spec, win, as_of)
    with writing(ctx.engine) as conn:
        audit.lock_chain(conn)  # serialises snapshot writers: revisions number without gaps
        latest = _latest(conn, request.organisation, win)
        if latest is not None and not request.revise:  # another run stored it meanwhile
            return Outcome(_verified(conn, latest), False, time.perf_counter() - started)
        content: dict[str, Any] = {
            "format": FORMAT,
            "organisation": {"code": spec.code, "name": spec.name, "province": spec.province},
            "office_unit": spec.office_unit,
            "period": win.period,
            "window": win.as_json(),
            "revision": 1 if latest is None else latest.revision + 1,
            "previous": None
            if latest is None
            else {"snapshot": latest.id, "hash": latest.content_hash},
            "reason": reason,
            "generated_at": audit.format_at(now),
            "generated_by": request.requested_by or ctx.operator,
            "as_of": as_of.isoformat(),
            "provisional": reporting.provisional(win, as_of),
            **figures,
        }
        text = audit.canonical_json(content)
        digest = audit.content_hash(text)
        snapshot_id = conn.execute(
            insert(report_snapshots)
            .values(
                organisation=spec.code,
                period=win.period,
                window_rule=rule,
                revision=content["revision"],
                window_from=win.start,
                window_to=win.end,
                previous_id=None if latest is None else latest.id,
                generated_at=now,
                generated_by=content["generated_by"],
                reason=reason,
                content=text,
                content_hash=digest,
            )
            .returning(report_snapshots.c.id)
        ).scalar_one()
        audit.append(
            conn,
            audit.Record(
                actor=ctx.operator,
                role="system",
                organisation=spec.code,
                action=ACTION,
                subject=f"report:{snapshot_id}",
                data={
                    "hash": digest,
                    "period": win.period,
                    "window": win.as_json(),
                    "revision": content["revision"],
                    "plans": {p["id"]: p["version"] for p in figures["plans"]},
                    "requested_by": content["generated_by"],
                    **({"previous": latest.id} if latest is not None else {}),
                    **({"reason": reason} if reason is not None else {}),
                },
            ),
            now,
        )
    ctx.log.info(
        "report.snapshot",
        snapshot=snapshot_id,
        organisation=spec.code,
        period=win.period,
        rule=rule,
        revision=content["revision"],
    )
    return Outcome(as_report(snapshot_id, text, digest), True, time.perf_counter() - started)


def show(ctx: Context, snapshot_id: int) -> dict[str, Any]:
    """One stored snapshot, checked against its hash and its audit entry."""
    with reading(ctx.engine) as conn:
        row = conn.execute(
            select(report_snapshots).where(report_snapshots.c.id == snapshot_id)
        ).first()
        if row is None:
            raise NotFound(f"report {snapshot_id} does not exist (see `planflow reports list`)")
        return _verified(conn, row)


def list_snapshots(
    ctx: Context, organisation: str | None = None, period: str | None = None
) -> list[dict[str, Any]]:
    """Every stored snapshot (revisions included), oldest first."""
    s = report_snapshots.c
    conditions = []
    if organisation is not None:
        conditions.append(s.organisation == organisation)
    if period is not None:
        conditions.append(s.period == reporting.report_period(period).key)
    with reading(ctx.engine) as conn:
        rows = conn.execute(
            select(
                s.id,
                s.organisation,
                s.period,
                s.window_rule,
                s.revision,
                s.window_from,
                s.window_to,
                s.generated_at,
                s.generated_by,
                s.previous_id,
                s.reason,
                s.content_hash,
            )
            .where(and_(True, *conditions))
            .order_by(s.id)
        ).all()
    return [
        {
            "id": r.id,
            "organisation": r.organisation,
            "period": r.period,
            "window": r.window_rule,
            "revision": r.revision,
            "from": r.window_from.isoformat(),
            "to": r.window_to.isoformat(),
            "generated_at": audit.format_at(_utc(r.generated_at)),
            "generated_by": r.generated_by,
            "previous": r.previous_id,
            "reason": r.reason,
            "hash": r.content_hash,
        }
        for r in rows
    ]


def write_files(report: Mapping[str, Any], folder: Path) -> dict[str, str]:
    """JSON, CSV and HTML under folder/<ORG>/<period>-<rule>-r<revision>.*; rendered from the
    snapshot alone, so asking again writes the same bytes."""
    org = str(report["organisation"]["code"])
    stem = f"{report['period']}-{report['window']['rule']}-r{report['revision']}"
    target = folder / org
    try:
        target.mkdir(parents=True, exist_ok=True)
        paths = {}
        for kind, text in (
            ("json", document.render_json(report)),
            ("csv", document.render_csv(report)),
            ("html", document.render_html(report)),
        ):
            path = target / f"{stem}.{kind}"
            path.write_text(text, encoding="utf-8", newline="")
            paths[kind] = str(path)
    except OSError as exc:
        raise InvalidInput(f"cannot write the report under {folder}: {exc.strerror}") from exc
    return paths


def as_report(snapshot_id: int, text: str, digest: str) -> dict[str, Any]:
    content = json.loads(text)
    out: dict[str, Any] = {"snapshot": snapshot_id, "hash": digest}
    out |= {k: content[k] for k in _ORDER if k in content}
    out |= {k: v for k, v in content.items() if k not in out}
    return out


# ----------------------------------------------------------------------------- figures


def compute(
    conn: Connection, spec: OrganisationSpec, win: Window, as_of: dt.date
) -> dict[str, Any]:
    """Every figure of the report (everything but its identity), from SQL aggregates."""
    rows: dict[Key, dict[str, Any]] = {}

    def row(key: Key) -> dict[str, Any]:
        if key not in rows:
            rows[key] = _empty()
        return rows[key]

    # The quarters of the trend tile the period's window (domain.reporting): one scan of the
    # tasks and one of the dossiers, bucketed by quarter, give both the figures and the trend.
    quarters = [reporting.window(q, win.rule) for q in reporting.quarters_up_to(win.period)]
    inside = {i for i, q in enumerate(quarters) if win.contains(q.start)}
    trend = [dict.fromkeys(_TREND_COUNTS, 0) for _ in quarters]
    for bucket, key, counts, by_state in _task_groups(conn, spec.code, quarters, as_of):
        trend[bucket]["tasks_completed"] += counts["tasks_completed"]
        trend[bucket]["tasks_completed_on_time"] += counts["tasks_completed_on_time"]
        if bucket in inside:
            target = row(key)
            _add(target, counts)
            _add(target["tasks_by_state"], by_state)
    for bucket, unit, counts in _dossier_groups(conn, spec.code, quarters, as_of):
        trend[bucket]["dossiers_resolved"] += counts["dossiers_resolved"]
        trend[bucket]["dossiers_resolved_on_time"] += counts["dossiers_resolved_on_time"]
        if bucket in inside:
            _add(row((None, None, unit)), counts)
    for letters_unit, letters in _notice_groups(conn, spec.code, win):
        _add(row((None, None, letters_unit)), letters)
    for inspected, done in _inspection_groups(conn, spec.code, win):
        row((None, None, inspected))["inspections_done"] += done

    unit_names = _unit_names(conn, spec)
    inspectable = _inspectable(spec, unit_names)
    plan_info = _plans(conn, spec.code, {k[0] for k, r in rows.items() if r["tasks"] and k[0]})
    ordered_units = list(unit_names)
    unit_rank = {u: i for i, u in enumerate(ordered_units)}

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
    by_unit: dict[str | None, dict[str, Any]] = {u: _empty() for u in ordered_units}
    for (plan, category, lead), figures in rows.items():
        if figures["tasks"]:
            _add_all(by_plan.setdefault(plan, _empty()), figures)
            _add_all(by_category.setdefault(category, _empty()), figures)
        _add_all(by_unit.setdefault(lead, _empty()), figures)

    covered = [u for u in inspectable if by_unit.get(u, {}).get("inspections_done")]
    totals_out = _rated(totals, tasks_only=False)
    totals_out |= {
        "units_inspected": len(covered),
        "units_inspectable": len(inspectable),
        "inspection_coverage_pct": percent(len(covered), len(inspectable)),
    }
    return {
        "plans": [plan_info[p] for p in sorted(plan_info)],
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
        "by_unit": [
            {
                "unit": u,
                "name": unit_names.get(u or ""),
                **_rated(by_unit[u], tasks_only=False),
                "inspectable": u in inspectable,
                "inspected": u in inspectable and by_unit[u]["inspections_done"] > 0,
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
            for q, f in zip(quarters, trend, strict=True)
        ],
    }


def _local_date(column: Any, dialect: str) -> ColumnElement[Any]:
    """The Vietnam-time date of a stored UTC timestamp, in SQL (Vietnam keeps UTC+7)."""
    if dialect == "postgresql":
        return cast(func.timezone(str(LOCAL_TZ), column), Date)
    return func.date(column, "+7 hours")  # SQLite stores UTC text: 'YYYY-MM-DD HH:MM:SS...'


def _count(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _bucket(column: Any, ends: Sequence[dt.date]) -> ColumnElement[Any]:
    """The index of the first quarter whose last day the date is not after (ascending)."""
    return case(*((column <= end, i) for i, end in enumerate(ends)))


def _task_groups(
    conn: Connection, org: str, quarters: Sequence[Window], as_of: dt.date
) -> Iterable[tuple[int, Key, dict[str, int], dict[str, int]]]:
    """Tasks due in the quarters, per (quarter, plan, category, lead unit)."""
    t = tasks.c
    first, last = quarters[0].start, quarters[-1].end
    whole = _mostly(
        conn,
        select(func.count()).where(t.organisation == org, t.due_date.between(first, last)),
        select(func.max(t.id)),
    )
    completed = t.completed_at.is_not(None)
    on_time = and_(completed, _local_date(t.completed_at, conn.dialect.name) <= t.due_date)
    bucket = _bucket(t.due_date, [q.end for q in quarters]).label("bucket")
    stmt = (
        select(
            bucket,
            t.plan_id,
            t.category,
            t.lead_unit,
            func.count().label("tasks"),
            _count(completed).label("tasks_completed"),
            _count(on_time).label("tasks_completed_on_time"),
            _count(and_(t.state.in_(OPEN), t.due_date < as_of)).label("tasks_overdue"),
            _count(t.returned_count > 0).label("tasks_returned"),
            _count(and_(t.completed_at.is_(None), t.state == State.CLOSED.value)).label(
                "tasks_withdrawn"
            ),
            *(_count(t.state == s).label(f"state_{s}") for s in STATES),
        )
        .where(
            _unindexed(t.organisation, whole) == org,
            t.kind.in_(TASK_KINDS),
            _unindexed(t.due_date, whole) >= first,
            _unindexed(t.due_date, whole) <= last,
        )
        .group_by(bucket, t.plan_id, t.category, t.lead_unit)
    )
    for r in conn.execute(stmt):
        m = r._mapping
        counts = {name: int(m[name]) for name in TASK_COUNTS if name != "tasks_completed_late"}
        done, on_time_n = counts["tasks_completed"], counts["tasks_completed_on_time"]
        counts["tasks_completed_late"] = done - on_time_n
        by_state = {s: int(m[f"state_{s}"]) for s in STATES}
        yield int(r.bucket), (r.plan_id, r.category, r.lead_unit), counts, by_state


def _dossier_groups(
    conn: Connection, org: str, quarters: Sequence[Window], as_of: dt.date
) -> Iterable[tuple[int, str, dict[str, int]]]:
    """Dossiers received in the quarters, per (quarter, handling unit)."""
    t, d = tasks.c, dossiers.c
    bounds = [q.instants(LOCAL_TZ) for q in quarters]
    lo, hi = bounds[0][0], bounds[-1][1]
    whole = _mostly(
        conn,
        select(func.count()).where(d.organisation == org, d.received_at >= lo, d.received_at < hi),
        select(func.count()).select_from(dossiers),
    )
    resolved = t.completed_at.is_not(None)
    done_on = _local_date(t.completed_at, conn.dialect.name)
    pending = and_(t.completed_at.is_(None), t.state != State.CLOSED.value)
    # received_at < the next quarter's first instant: the bucket's end, exclusive
    bucket = case(*((d.received_at < end, i) for i, (_, end) in enumerate(bounds))).label("bucket")
    stmt = (
        select(
            bucket,
            t.lead_unit,
            func.count().label("dossiers_received"),
            _count(resolved).label("dossiers_resolved"),
            _count(and_(resolved, done_on <= d.original_due)).label("dossiers_resolved_on_time"),
            _count(pending).label("dossiers_pending"),
            _count(and_(pending, d.current_due < as_of)).label("dossiers_overdue"),
        )
        .select_from(dossiers.join(tasks, t.id == d.task_id))
        .where(
            _unindexed(d.organisation, whole) == org,
            _unindexed(d.received_at, whole) >= lo,
            _unindexed(d.received_at, whole) < hi,
        )
        .group_by(bucket, t.lead_unit)
    )
    for r in conn.execute(stmt):
        counts = {k: int(v) for k, v in r._mapping.items() if k not in ("bucket", "lead_unit")}
        counts["dossiers_resolved_late"] = (
            counts["dossiers_resolved"] - counts["dossiers_resolved_on_time"]
        )
        yield int(r.bucket), r.lead_unit, counts


def _mostly(conn: Connection, in_range: Any, table_size: Any) -> bool:
    """SQLite only: whether the range holds most of the table (over a tenth), to be read by
    scanning the table rather than through the (organisation, date) index.

    SQLite's planner (without STAT4) cannot tell a window that holds most of the table from
    one that holds little of it, and takes the index either way: one random row lookup per
    row, two to three times slower than reading the table through once most rows match.
    Counting the range in the index (index only: milliseconds) tells which case this is;
    PostgreSQL's planner knows from its statistics and is left to choose.
    """
    if conn.dialect.name != "sqlite":
        return False
    total = conn.execute(table_size).scalar() or 0
    return bool(total) and (conn.execute(in_range).scalar() or 0) * 10 > total


def _unindexed(column: ColumnElement[Any], whole: bool) -> ColumnElement[Any]:
    """The column itself; when `whole`, as SQLite's unary plus (`+column`: the same value,
    which no index can serve), so that SQLite reads the table through instead."""
    if not whole:
        return column
    return UnaryExpression(column, operator=operators.custom_op("+"), type_=column.type)


def _notice_groups(
    conn: Connection, org: str, win: Window
) -> Iterable[tuple[str | None, dict[str, int]]]:
    """Apology letters and escalations issued in the window, per unit."""
    n = notices.c
    lo, hi = win.instants(LOCAL_TZ)
    names = {"apology": "apology_letters", "escalation": "escalations"}
    stmt = (
        select(n.unit, n.kind, func.count())
        .where(
            n.organisation == org,
            n.kind.in_(list(names)),
            n.issued_at >= lo,
            n.issued_at < hi,
        )
        .group_by(n.unit, n.kind)
    )
    for unit, kind, count in conn.execute(stmt):
        yield unit, {names[kind]: int(count)}


def _inspection_groups(conn: Connection, org: str, win: Window) -> Iterable[tuple[str, int]]:
    """Per inspected unit: inspection tasks completed (verified) in the window. A redraw that
    keeps a unit keeps its task, hence DISTINCT."""
    t, it = tasks.c, inspection_targets.c
    lo, hi = win.instants(LOCAL_TZ)
    stmt = (
        select(it.unit, func.count(distinct(t.id)))
        .select_from(inspection_targets.join(tasks, t.id == it.task_id))
        .where(
            t.organisation == org,
            t.kind == "inspection",
            t.completed_at >= lo,
            t.completed_at < hi,
        )
        .group_by(it.unit)
    )
    for unit, count in conn.execute(stmt):
        yield unit, int(count)


# ----------------------------------------------------------------------------- adding up


def _empty() -> dict[str, Any]:
    return {**dict.fromkeys(COUNTS, 0), "tasks_by_state": dict.fromkeys(STATES, 0)}


def _add(into: dict[str, Any], counts: Mapping[str, int]) -> None:
    for name, value in counts.items():
        into[name] += value


def _add_all(into: dict[str, Any], figures: Mapping[str, Any]) -> None:
    _add(into, {k: figures[k] for k in COUNTS})
    _add(into["tasks_by_state"], figures["tasks_by_state"])


def _sum(groups: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    total = _empty()
    for figures in groups:
        _add_all(total, figures)
    return total


def _rated(figures: Mapping[str, Any], *, tasks_only: bool) -> dict[str, Any]:
    """The counts in a fixed order, with their rates (see reporting's docstring)."""
    out: dict[str, Any] = {
        "tasks": figures["tasks"],
        "tasks_by_state": dict(figures["tasks_by_state"]),
    }
    out |= {k: figures[k] for k in TASK_COUNTS[1:]}
    out["completion_pct"] = percent(
        figures["tasks_completed"], figures["tasks"] - figures["tasks_withdrawn"]
    )
    out["on_time_pct"] = percent(figures["tasks_completed_on_time"], figures["tasks_completed"])
    if tasks_only:
        return out
    out |= {k: figures[k] for k in DOSSIER_COUNTS}
    out["dossiers_on_time_pct"] = percent(
        figures["dossiers_resolved_on_time"], figures["dossiers_resolved"]
    )
    out["inspections_done"] = figures["inspections_done"]
    return out


def _last(value: str | None) -> tuple[bool, str]:
    """Sort key putting None (outside any plan or category) last."""
    return (value is None, value or "")


# ----------------------------------------------------------------------------- reading


def _reason(request: Request) -> str | None:
    reason = (request.reason or "").strip() or None
    if request.revise and reason is None:
        raise InvalidInput("--revise needs --reason saying why the report is made again")
    if not request.revise and request.reason is not None:
        raise InvalidInput("--reason goes with --revise (a first report needs no reason)")
    if reason is not None and len(reason) > MAX_REASON:
        raise InvalidInput(f"--reason is longer than {MAX_REASON} characters")
    return reason


def _organisation(conn: Connection, code: str) -> OrganisationSpec:
    found = conn.execute(
        select(organisations.c.definition).where(organisations.c.code == code)
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(f"organisation {code!r} does not exist (see `planflow orgs list`)")
    return OrganisationSpec.model_validate_json(found)


def _unit_names(conn: Connection, spec: OrganisationSpec) -> dict[str, str]:
    """Every unit of the organisation, in the order its file lists them (then any unit the
    file no longer lists: units are never deleted), with its name."""
    stored: dict[str, str] = {
        code: name
        for code, name in conn.execute(
            select(units.c.code, units.c.name).where(units.c.organisation == spec.code)
        )
    }
    ordered = {u.code: stored.get(u.code, u.name) for u in spec.units}
    ordered |= {code: stored[code] for code in sorted(stored) if code not in ordered}
    return ordered


def _inspectable(spec: OrganisationSpec, unit_names: Mapping[str, str]) -> list[str]:
    """The units inspections draw from: what the file's `inspection:` names (the team set
    aside), or every unit of an organisation that declares no inspection."""
    if spec.inspection is None:
        return list(unit_names)
    return [u for u in spec.inspected_units() if u in unit_names]


def _plans(conn: Connection, org: str, ids: set[str]) -> dict[str, dict[str, Any]]:
    """The version of each plan the figures come from, with that version's content hash."""
    if not ids:
        return {}
    p, v = plans.c, plan_versions.c
    rows = conn.execute(
        select(p.id, p.title, p.current_version, v.content_hash)
        .join(plan_versions, and_(v.plan_id == p.id, v.version == p.current_version))
        .where(p.organisation == org, p.id.in_(sorted(ids)))
    ).all()
    return {
        r.id: {"id": r.id, "title": r.title, "version": r.current_version, "hash": r.content_hash}
        for r in rows
    }


def _latest(conn: Connection, org: str, win: Window) -> Any:
    s = report_snapshots.c
    return conn.execute(
        select(report_snapshots)
        .where(s.organisation == org, s.period == win.period, s.window_rule == win.rule)
        .order_by(s.revision.desc())
        .limit(1)
    ).first()


def _verified(conn: Connection, row: Any) -> dict[str, Any]:
    """The stored snapshot as JSON, after checking that its content still hashes to its
    recorded hash and that its audit entry records the same hash."""
    actual = audit.content_hash(row.content)
    if actual != row.content_hash:
        raise AuditVerificationFailed(
            f"report {row.id} was altered: its content hashes to {actual[:12]}…, not to its "
            f"recorded hash {row.content_hash[:12]}…"
        )
    entry = conn.execute(
        select(audit_log.c.seq, audit_log.c.data).where(
            audit_log.c.action == ACTION, audit_log.c.subject == f"report:{row.id}"
        )
    ).first()
    if entry is None or json.loads(entry.data).get("hash") != row.content_hash:
        found = "has no audit entry" if entry is None else f"audit entry {entry.seq} differs"
        raise AuditVerificationFailed(
            f"report {row.id} {found}: its hash {row.content_hash[:12]}… is not the one the "
            "audit log recorded"
        )
    return as_report(row.id, row.content, row.content_hash)


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


@contextmanager
def _consistent_read(engine: Engine) -> Iterator[Connection]:
    """A reading transaction in which every statement sees the same data: REPEATABLE READ on
    PostgreSQL (under READ COMMITTED a move could land between two of the report's queries);
    SQLite's read transaction is one snapshot already."""
    with translated(), engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            yield conn
