"""The periodic report over a large organisation (issue 6): the aggregates in the database.

Setup (not timed): one organisation of 20 units with N tasks spread over the 2024 reporting
year (15/12/2023 to 14/12/2024): 80% plan tasks (5 plans × 21 index categories) and fix
tasks in every state, 19% dossiers (with their dossier rows), 1% inspection tasks (with their
targets), plus letters, escalations and reminders, and N audit entries (a valid chain), all
bulk-inserted (executemany on SQLite, COPY on PostgreSQL), not through the services.

Timed: `services.reports.generate` for the year 2024 (every task in the window: the whole
table aggregated; first ask, then `revise` three times, each computing anew), for the
quarter 2024Q2, asking again (the stored snapshot), and the Prefect flow end to end (a
revision, rendered to JSON, CSV and HTML; after a warm-up run that starts Prefect's server).
Target (full run): the year's report under 5 s on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import random
import shutil
import statistics
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text

from bench.common import agency, judged, result, timed
from workflow.clock import LOCAL_TZ, FixedClock
from workflow.definitions.vocabulary import CATEGORIES
from workflow.domain import audit_chain as audit
from workflow.services import Context, reports
from workflow.services import organisations as org_service
from workflow.store.engine import open_engine

TARGET = "report for a year of 1,000,000 tasks (1,000,000 audit entries) under 5 s"
ORG = "SO-BENCH"
UNITS = 20
PLANS = 5
ASKED = dt.datetime(2024, 12, 20, 9, 0, tzinfo=LOCAL_TZ)  # after the year's window closed
FIRST_DAY = dt.date(2023, 12, 15)
DAYS = 366  # 15/12/2023 to 14/12/2024
CHUNK = 50_000
REVISIONS = 3
_STATES = ("assigned", "in_progress", "submitted", "verified", "closed")
_WEIGHTS = (15, 15, 10, 30, 30)

TASK_COLUMNS = (
    "id", "organisation", "plan_id", "kind", "code", "period", "title", "category", "lead_unit",
    "cooperating_units", "due_date", "state", "version", "returned_count", "completed_at",
    "created_at", "updated_at",
)  # fmt: skip
DOSSIER_COLUMNS = (
    "task_id", "organisation", "code", "procedure", "applicant_name", "received_at",
    "original_due", "current_due", "extension_count", "escalated",
)  # fmt: skip
NOTICE_COLUMNS = ("key", "kind", "task_id", "organisation", "unit", "due_date", "issued_at")


def _utc(day: dt.date, minutes: int) -> dt.datetime:
    local = dt.datetime.combine(day, dt.time(), LOCAL_TZ) + dt.timedelta(minutes=minutes)
    return local.astimezone(dt.UTC)


class Data:
    """The synthetic organisation's rows, generated in chunks from one seeded generator."""

    def __init__(self, tasks: int, seed: int = 2024) -> None:
        self.tasks = tasks
        self.rng = random.Random(seed)
        self.units = [f"P{i:02d}" for i in range(1, UNITS + 1)]
        self.plans = [f"bench-plan-{i}" for i in range(1, PLANS + 1)]
        self.categories = [c.code for c in CATEGORIES]
        self.dossiers: list[tuple[int, str]] = []  # (task id, unit)
        self.inspections: list[tuple[int, str]] = []
        self.created = dt.datetime(2023, 12, 1, tzinfo=dt.UTC)

    def task_rows(self) -> Iterator[list[tuple[Any, ...]]]:
        rng, chunk = self.rng, []
        for task_id in range(1, self.tasks + 1):
            roll = rng.random()
            kind = "plan" if roll < 0.78 else "fix" if roll < 0.80 else "dossier"
            if roll >= 0.99:
                kind = "inspection"
            due = FIRST_DAY + dt.timedelta(days=rng.randrange(DAYS))
            state = rng.choices(_STATES, _WEIGHTS)[0]
            withdrawn = state == "closed" and rng.random() < 0.1
            done = state == "verified" or (state == "closed" and not withdrawn)
            completed = (
                _utc(due + dt.timedelta(days=rng.randint(-20, 8)), rng.randrange(480, 1080))
                if done
                else None
            )
            unit = rng.choice(self.units)
            plan = rng.choice(self.plans) if kind == "plan" else None
            category = rng.choice(self.categories) if kind in ("plan", "fix") else None
            if kind == "dossier":
                self.dossiers.append((task_id, unit))
            elif kind == "inspection":
                self.inspections.append((task_id, unit))
            chunk.append(
                (
                    task_id, ORG, plan, kind, f"B{task_id}", "", f"Nhiệm vụ {task_id}", category,
                    "VP" if kind == "inspection" else unit, "[]", due, state, 4,
                    rng.choice((0, 0, 0, 0, 0, 0, 0, 0, 1, 2)), completed, self.created,
                    self.created,
                )
            )  # fmt: skip
            if len(chunk) == CHUNK:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    def dossier_rows(self) -> Iterator[list[tuple[Any, ...]]]:
        rng = self.rng
        for start in range(0, len(self.dossiers), CHUNK):
            rows = []
            for task_id, _unit in self.dossiers[start : start + CHUNK]:
                received = FIRST_DAY + dt.timedelta(days=rng.randrange(DAYS))
                due = received + dt.timedelta(days=rng.randint(3, 15))
                extended = rng.random() < 0.1
                rows.append(
                    (
                        task_id, ORG, f"{ORG}-{task_id}", "BENCH-01", f"Công ty {task_id}",
                        _utc(received, rng.randrange(420, 1020)), due,
                        due + dt.timedelta(days=5) if extended else due, int(extended),
                        extended and rng.random() < 0.2,
                    )
                )  # fmt: skip
            yield rows

    def notice_rows(self) -> Iterator[list[tuple[Any, ...]]]:
        rng, rows = self.rng, []
        picked = self.dossiers[:: max(1, len(self.dossiers) // 40_000 or 1)]
        for i, (task_id, unit) in enumerate(picked):
            kind = rng.choices(("apology", "escalation", "reminder"), (5, 1, 4))[0]
            day = FIRST_DAY + dt.timedelta(days=rng.randrange(DAYS))
            rows.append((f"{kind}:{task_id}:{i}", kind, task_id, ORG, unit, day, _utc(day, 600)))
        for start in range(0, len(rows), CHUNK):
            yield rows[start : start + CHUNK]

    def audit_rows(self, entries: int, head: tuple[int, str]) -> Iterator[list[tuple[Any, ...]]]:
        """A valid chain of task lives (create, start, submit, verify, ...) after `head`,
        hashed as the log hashes them, so the report's own entry extends a chain that
        verifies."""
        rng, chunk = self.rng, []
        first, prev = head[0] + 1, head[1]
        actions = (
            ("task.create", None, "assigned"),
            ("start", "assigned", "in_progress"),
            ("submit", "in_progress", "submitted"),
            ("verify", "submitted", "verified"),
        )
        start = dt.datetime(2023, 12, 15, 1, tzinfo=dt.UTC)
        for seq in range(first, first + entries):
            task_id = (seq - 1) // len(actions) % max(1, self.tasks) + 1
            action, before, after = actions[(seq - 1) % len(actions)]
            at = audit.format_at(start + dt.timedelta(seconds=seq * 29))
            unit = self.units[task_id % UNITS]
            data = audit.canonical_json({"version": (seq - 1) % len(actions) + 1})
            row: tuple[Any, ...] = (
                seq, at, f"so-bench.{unit.lower()}.s{rng.randint(1, 2)}", "staff", unit, ORG,
                action, f"task:{task_id}", task_id, None, before, after, data, prev,
            )  # fmt: skip
            prev = audit.entry_hash(dict(zip(audit.FIELDS, row, strict=False)))
            chunk.append((*row, prev, None, None))  # no channel nor credential
            if len(chunk) == CHUNK:
                yield chunk
                chunk = []
        if chunk:
            yield chunk


def _copy(conn: Connection, table: str, columns: Sequence[str], chunks: Iterator[list[Any]]) -> int:
    """Bulk insert: COPY on PostgreSQL, executemany on SQLite; returns the rows written."""
    written = 0
    raw = conn.connection.dbapi_connection
    assert raw is not None
    if conn.dialect.name == "postgresql":
        sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        with raw.cursor() as cursor, cursor.copy(sql) as copy:  # type: ignore[attr-defined]
            for chunk in chunks:
                for row in chunk:
                    copy.write_row(row)
                written += len(chunk)
        return written
    marks = ", ".join("?" for _ in columns)
    cursor = raw.cursor()
    for chunk in chunks:
        cursor.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
            [tuple(_sqlite(v) for v in row) for row in chunk],
        )
        written += len(chunk)
    cursor.close()
    return written


def _sqlite(value: Any) -> Any:
    """What SQLAlchemy's SQLite types store: ISO text for dates, naive UTC text for times."""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def build(ctx: Context, tasks: int, entries: int) -> dict[str, int]:
    org_service.upsert_organisation(ctx, agency(ORG, units=UNITS, staff_per_unit=2))
    data = Data(tasks)
    now = ctx.clock.now()
    counts: dict[str, int] = {}
    with ctx.uow.writing() as tx:
        conn = tx.conn
        for plan in data.plans:
            conn.execute(
                text(
                    "INSERT INTO plans (id, organisation, title, current_version) "
                    "VALUES (:id, :org, :title, 1)"
                ),
                {"id": plan, "org": ORG, "title": f"Kế hoạch {plan}"},
            )
            conn.execute(
                text(
                    "INSERT INTO plan_versions (plan_id, version, content_hash, source, "
                    "definition, loaded_at) VALUES (:id, 1, :hash, 'bench', '{}', :at)"
                ),
                {"id": plan, "hash": audit.content_hash(plan), "at": now},
            )
        conn.execute(
            text(
                "INSERT INTO procedures (organisation, code, name, working_days, unit, "
                "illustrative) VALUES (:org, 'BENCH-01', 'Thủ tục', 3, 'P01', false)"
            ),
            {"org": ORG},
        )
        counts["tasks"] = _copy(conn, "tasks", TASK_COLUMNS, data.task_rows())
        counts["dossiers"] = _copy(conn, "dossiers", DOSSIER_COLUMNS, data.dossier_rows())
        counts["notices"] = _copy(conn, "notices", NOTICE_COLUMNS, data.notice_rows())
        # Each inspection task targets its unit in one draw; a unit is drawn once per draw,
        # so the k-th inspection of every unit goes into draw k.
        targets: list[tuple[Any, ...]] = []
        seen: dict[str, int] = {}
        draws: list[int] = []
        for task_id, unit in data.inspections:
            k = seen[unit] = seen.get(unit, 0) + 1
            while len(draws) < k:
                draws.append(
                    conn.execute(
                        text(
                            "INSERT INTO inspections (organisation, period, revision, ratio, "
                            "seed, algorithm, selected, record_hash, drawn_by, drawn_at) VALUES "
                            "(:org, '2024', :rev, '0.3', 1, 'rotation-risk-seeded/1', '[]', "
                            ":hash, 'bench', :at) RETURNING id"
                        ),
                        {"org": ORG, "rev": len(draws) + 1, "hash": "0" * 64, "at": now},
                    ).scalar_one()
                )
            targets.append((draws[k - 1], unit, task_id, "[]"))
        counts["inspection_targets"] = _copy(
            conn,
            "inspection_targets",
            ("inspection_id", "unit", "task_id", "checklist"),
            iter([targets]),
        )
        head = conn.execute(text("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")).one()
        counts["audit_entries"] = _copy(
            conn, "audit_log", audit.FIELDS, data.audit_rows(entries, (head.seq, head.hash))
        )
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT setval('tasks_id_seq', (SELECT max(id) FROM tasks))"))
    with ctx.engine.connect() as conn:  # fresh statistics, as a maintained database has
        conn.execute(text("ANALYZE"))
        conn.commit()
    return counts


def bench(url: str, backend: str, tasks: int, entries: int, quick: bool) -> dict[str, Any]:
    from flows.settings import quiet_prefect

    quiet_prefect()
    from flows.aggregate import aggregate_flow
    from flows.runtime import dispose

    work = Path(tempfile.mkdtemp(prefix="planflow-bench-aggregate-"))
    try:
        engine = open_engine(url)
        ctx = Context(engine, clock=FixedClock(ASKED), operator="operator:bench")
        counts, setup_s = timed(lambda: build(ctx, tasks, entries))

        def ask(period: str, revise: bool = False) -> reports.Outcome:
            reason = "bench: tính lại" if revise else None
            return reports.generate(ctx, reports.Request(ORG, period, revise=revise, reason=reason))

        first, first_s = timed(lambda: ask("2024"))
        revised = [timed(lambda: ask("2024", revise=True)) for _ in range(REVISIONS)]
        runs = [seconds for _, seconds in revised]
        year_s = statistics.median([first_s, *runs])
        again, again_s = timed(lambda: ask("2024"))
        quarter, quarter_s = timed(lambda: ask("2024Q2"))
        totals = first.report["totals"]
        engine.dispose()

        aggregate_flow(url, ORG, "2024Q1", "reporting", str(work), now=ASKED)  # warm-up
        flow, flow_s = timed(
            lambda: aggregate_flow(
                url, ORG, "2024", "reporting", str(work), True, "bench: luồng", "bench", ASKED
            )
        )
        dispose()
        aggregated = totals["tasks"] + totals["dossiers_received"]
        figures = {
            "tasks": counts["tasks"],
            "audit_entries": counts["audit_entries"],
            "dossiers": counts["dossiers"],
            "notices": counts["notices"],
            "year_tasks_reported": totals["tasks"],
            "year_dossiers_reported": totals["dossiers_received"],
            "year_seconds_first": round(first_s, 3),
            "year_seconds_median": round(year_s, 3),
            "year_seconds_runs": [round(s, 3) for s in (first_s, *runs)],
            "rows_per_second": round((aggregated + totals["inspections_done"]) / year_s),
            "quarter_seconds": round(quarter_s, 3),
            "quarter_tasks_reported": quarter.report["totals"]["tasks"],
            "ask_again_seconds": round(again_s, 4),
            "flow_seconds": round(flow_s, 3),
            "flow_database_seconds": flow["seconds"]["database"],
            "flow_files_seconds": flow["seconds"]["files"],
            "flow_prefect_seconds": flow["seconds"]["prefect"],
            "setup_seconds": round(setup_s, 1),
        }
        latest = revised[-1][0].report
        assert not again.created and again.report["snapshot"] == latest["snapshot"]
        assert latest["revision"] == REVISIONS + 1 and latest["totals"] == totals
        met = judged(quick, year_s < 5 and first_s < 5)
        return result(figures, TARGET, met)
    finally:
        shutil.rmtree(work, ignore_errors=True)
