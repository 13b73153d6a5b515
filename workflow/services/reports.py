"""Periodic reports: the figures of an organisation's period, computed in the database, kept
as immutable snapshots whose hashes go into the audit log.

**Figures.** Every figure is a SQL aggregate (`workflow.store.queries.report_figures`): one
grouped scan of the tasks open in the window (which also gives the trend's completions), one
of the window's moves in the audit log, one of the dossiers, two small ones for letters and
inspections, all read in one snapshot of the database. A report shows the progress of the
organisation's plans: every task open at any time in the window, whatever its due date
(`docs/reports.md`). `province` rolls every organisation up, ranked by on-time rate. Python
only adds up the grouped rows (`workflow.domain.report_content`), never the tasks
themselves. What each figure counts is
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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from workflow.clock import LOCAL_TZ, today_local
from workflow.context import Context
from workflow.definitions.models import OrganisationSpec
from workflow.documents import report as document
from workflow.domain import report_content, reporting
from workflow.domain.access import Access, Permission
from workflow.domain.audit_chain import canonical_json, content_hash, format_at
from workflow.domain.events import ReportSnapshotted
from workflow.domain.issuing import DocumentKind
from workflow.domain.reporting import Window
from workflow.errors import AuditVerificationFailed, InvalidInput, NotFound, PermissionDenied
from workflow.services.document_formats import renderings
from workflow.services.register import take_number
from workflow.store import files
from workflow.store.backend import Mutex
from workflow.store.queries.reports import Snapshot
from workflow.store.repositories.documents import NewDocument
from workflow.store.repositories.reports import NewSnapshot
from workflow.store.uow import Reader

ACTOR = "flow:aggregate"
ACTION = ReportSnapshotted.ACTION
FORMAT = "planflow.report/2"  # the content's shape; bump it when the keys change
MAX_REASON = 1000
FOLDER = Path("output/reports")  # the flow's default --out
# The order of the JSON's top-level keys (the stored content itself is canonical: sorted).
_ORDER = ("snapshot", "hash", "period", "window", "totals", "by_plan", "by_unit")


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
    # Its JSON, CSV and HTML files as recorded with the snapshot, for `write_files` (empty:
    # a snapshot stored before planflow kept its files, rendered again from the snapshot).
    documents: tuple[NewDocument, ...] = ()


# ----------------------------------------------------------------------------- use cases


def check(ctx: Context, request: Request) -> Window:
    """Refuse a request that cannot succeed before anything is computed or started: a bad
    period, window rule or reason, a period not begun, an unknown organisation (exit 2), or
    a stored snapshot that would be returned but no longer matches its hash (exit 6)."""
    win = _validated(ctx, request)
    with ctx.uow.reading() as r:
        r.organisations.require(request.organisation)
        found = None if request.revise else r.reports.latest(request.organisation, *_key(win))
        if found is not None:
            _verified(r, found)
    return win


def latest_closed_quarter(ctx: Context, rule: str = reporting.DEFAULT_RULE) -> str:
    """The quarter a scheduled run reports: the latest whose window closed before today."""
    return reporting.latest_closed_quarter(today_local(ctx.clock), reporting.parse_rule(rule))


def generate(ctx: Context, request: Request, folder: Path = FOLDER) -> Outcome:
    """The snapshot for the request: the stored one (latest revision), or a new one when
    there is none yet or `revise` is set. A new one's files are rendered and recorded
    (`documents`) in its transaction, for `write_files` to write under `folder` after it."""
    started = time.perf_counter()
    win = _validated(ctx, request)
    reason = _reason(request)
    as_of = today_local(ctx.clock)
    org = request.organisation
    if not request.revise:
        with ctx.uow.reading() as r:
            r.organisations.require(org)
            found = r.reports.latest(org, *_key(win))
            if found is not None:
                return _stored(r, found, folder, started)
    # One snapshot for every figure (REPEATABLE READ on PostgreSQL): a move committed
    # between two of the report's queries would otherwise count in one and not the other.
    with ctx.uow.reading(consistent=True) as r:
        spec = r.organisations.require(org)
        figures = compute(r, spec, win, as_of)
    span = reporting.span(win, as_of, LOCAL_TZ)
    with ctx.uow.writing() as tx:
        tx.serialise(Mutex.REPORT_REVISIONS)  # revisions number without gaps
        latest = tx.reports.latest(org, *_key(win))
        if latest is not None and not request.revise:  # another run stored it meanwhile
            return _stored(tx, latest, folder, started)
        revision = 1 if latest is None else latest.revision + 1
        if latest is not None:
            # The revision names the one it replaces by its hash: that must be the hash the
            # log recorded, of the content stored (exit 6 otherwise, nothing stored).
            _verified(tx, latest)
        generated_by = request.requested_by or ctx.acting
        content: dict[str, Any] = {
            "format": FORMAT,
            "organisation": {"code": spec.code, "name": spec.name, "province": spec.province},
            "office_unit": spec.office_unit,
            "period": win.period,
            "window": win.as_json(),
            "revision": revision,
            "previous": None
            if latest is None
            else {"snapshot": latest.id, "hash": latest.content_hash},
            "reason": reason,
            # Its number from the organisation's register (sổ văn bản đi), taken in this
            # transaction: committed with the snapshot's audit entry, or given back with it.
            "number": take_number(tx, spec, DocumentKind.REPORT, as_of),
            "generated_at": format_at(tx.now),
            "generated_by": generated_by,
            "as_of": as_of.isoformat(),
            "provisional": reporting.provisional(win, as_of),
            "next_period": {"period": span.next_window.period, **span.next_window.as_json()},
            **figures,
        }
        text = canonical_json(content)
        digest = content_hash(text)
        snapshot_id = tx.reports.add(
            NewSnapshot(
                organisation=spec.code,
                period=win.period,
                window_rule=win.rule,
                revision=revision,
                window_from=win.start,
                window_to=win.end,
                previous_id=None if latest is None else latest.id,
                generated_at=tx.now,
                generated_by=generated_by,
                reason=reason,
                content=text,
                content_hash=digest,
            )
        )
        tx.record(
            ReportSnapshotted(
                actor=ctx.acting,
                role="system",
                organisation=spec.code,
                snapshot=snapshot_id,
                hash=digest,
                period=win.period,
                window=win.as_json(),
                revision=revision,
                plans={p["id"]: p["version"] for p in figures["plans"]},
                requested_by=generated_by,
                previous=None if latest is None else latest.id,
                reason=reason,
            )
        )
        report = as_report(snapshot_id, text, digest)
        documents = tuple(render_documents(report, folder))
        tx.documents.add(documents, tx.now)
    ctx.log.info(
        "report.snapshot",
        snapshot=snapshot_id,
        organisation=spec.code,
        period=win.period,
        rule=win.rule,
        revision=revision,
    )
    return Outcome(report, True, time.perf_counter() - started, documents)


def _stored(r: Reader, found: Snapshot, folder: Path, started: float) -> Outcome:
    """A stored snapshot (checked), with the files recorded with it."""
    report = _verified(r, found)
    documents = tuple(
        NewDocument(
            path=d.path,
            kind=d.kind,
            source=d.source,
            organisation=d.organisation,
            target=folder / _under_folder(d.path),
            sha256=d.sha256,
            content=d.content,
        )
        for d in r.documents.of_source(f"report:{found.id}")
    )
    return Outcome(report, False, time.perf_counter() - started, documents)


def show(ctx: Context, snapshot_id: int) -> dict[str, Any]:
    """One stored snapshot, checked against its hash and its audit entry."""
    with ctx.uow.reading() as r:
        found = r.reports.get(snapshot_id)
        if found is None:
            raise NotFound(f"report {snapshot_id} does not exist (see `planflow reports list`)")
        return _verified(r, found)


def list_snapshots(
    ctx: Context, organisation: str | None = None, period: str | None = None
) -> list[dict[str, Any]]:
    """Every stored snapshot (revisions included), oldest first."""
    key = None if period is None else reporting.report_period(period).key
    with ctx.uow.reading() as r:
        found = r.reports.summaries(organisation, key)
    return [
        {
            "id": s.id,
            "organisation": s.organisation,
            "period": s.period,
            "window": s.window_rule,
            "revision": s.revision,
            "from": s.window_from.isoformat(),
            "to": s.window_to.isoformat(),
            "generated_at": format_at(s.generated_at),
            "generated_by": s.generated_by,
            "previous": s.previous_id,
            "reason": s.reason,
            "hash": s.content_hash,
        }
        for s in found
    ]


def render_documents(report: Mapping[str, Any], folder: Path) -> list[NewDocument]:
    """The report's JSON, CSV and HTML, rendered from the snapshot alone, named
    reports/<ORG>/<period>-<rule>-r<revision>.* (written under `folder`/<ORG>/)."""
    org = str(report["organisation"]["code"])
    stem = f"{report['period']}-{report['window']['rule']}-r{report['revision']}"
    out = []
    for kind, text in (
        ("json", document.render_json(report)),
        ("csv", document.render_csv(report)),
        ("html", document.render_html(report)),
    ):
        data = text.encode("utf-8")
        out.append(
            NewDocument(
                path=f"reports/{org}/{stem}.{kind}",
                kind="report",
                source=f"report:{report['snapshot']}",
                organisation=org,
                target=folder / org / f"{stem}.{kind}",
                sha256=content_hash(data),
                content=data,
            )
        )
    # Its PDF and the CSV's XLSX, dated by the snapshot (the same bytes every time).
    return out + renderings(out, dt.datetime.fromisoformat(str(report["generated_at"])))


def write_files(
    report: Mapping[str, Any], folder: Path, documents: Sequence[NewDocument] = ()
) -> dict[str, str]:
    """Write the report's files under folder/<ORG>/, each atomically: the bytes recorded
    with the snapshot (`documents`, an Outcome's), else rendered from the snapshot alone,
    so asking again writes the same bytes. Call it after the snapshot's transaction."""
    chosen = [
        replace(d, target=folder / _under_folder(d.path)) for d in documents
    ] or render_documents(report, folder)
    try:
        files.write_all((d.target, d.content) for d in chosen)
    except OSError as exc:
        raise InvalidInput(f"cannot write the report under {folder}: {exc.strerror}") from exc
    return {d.path.rsplit(".", 1)[1]: str(d.target) for d in chosen}


def _under_folder(path: str) -> Path:
    """A report's recorded path without its leading reports/ (the flows' --out is that)."""
    return Path(*Path(path).parts[1:])


def as_report(snapshot_id: int, text: str, digest: str) -> dict[str, Any]:
    content = json.loads(text)
    out: dict[str, Any] = {"snapshot": snapshot_id, "hash": digest}
    out |= {k: content[k] for k in _ORDER if k in content}
    out |= {k: v for k, v in content.items() if k not in out}
    return out


def compute(r: Reader, spec: OrganisationSpec, win: Window, as_of: dt.date) -> dict[str, Any]:
    """Every figure of the report (everything but its identity), from the SQL aggregates;
    `r` should be a consistent reader (one snapshot for every query)."""
    # The quarters of the trend tile the period's window (domain.reporting): one scan of the
    # tasks (flagged open in the window, and by the quarter they were completed in) and one
    # of the dossiers (bucketed by quarter) give both the figures and the trend; the moves
    # in the window are one more.
    quarters = [reporting.window(q, win.rule) for q in reporting.quarters_up_to(win.period)]
    span = reporting.span(win, as_of, LOCAL_TZ)
    sql = r.reports.figures
    counted = report_content.tally(
        win,
        quarters,
        sql.task_groups(spec.code, span, quarters),
        sql.move_groups(spec.code, span),
        sql.dossier_groups(spec.code, quarters, as_of),
        sql.notice_groups(spec.code, win),
        sql.inspection_groups(spec.code, win),
    )
    names = report_content.unit_names(spec, r.organisations.unit_names(spec.code))
    return report_content.figures(
        counted,
        quarters,
        names,
        report_content.inspectable(spec, names),
        sql.plan_versions(spec.code, counted.plans()),
    )


def province(
    ctx: Context, period: str, rule: str = reporting.DEFAULT_RULE, access: Access | None = None
) -> dict[str, Any]:
    """The province roll-up, for the provincial coordinating body: every organisation
    loaded, its tasks open in the period's window, done on time, late, overdue and its
    on-time rate, ranked by that rate (`report_content.rollup`). Computed now, stored
    nowhere. `access`: the principal's (None: the operator of a simulation, or the host),
    who must read every organisation loaded (an organisation whose file `oversees: all`)."""
    win = reporting.window(period, reporting.parse_rule(rule))
    as_of = today_local(ctx.clock)
    if reporting.not_begun(win, as_of):
        raise InvalidInput(
            f"period {win.period} has not begun: its {win.rule} window starts on "
            f"{win.start.isoformat()} (today is {as_of.isoformat()}); nothing to report yet"
        )
    span = reporting.span(win, as_of, LOCAL_TZ)
    with ctx.uow.reading(consistent=True) as r:
        loaded = {o["code"]: o for o in r.organisations.summaries()}
        if access is not None:
            access.require(Permission.REPORTS_READ)
            unread = sorted(set(loaded) - access.readable)
            if unread:
                raise PermissionDenied(
                    f"{access.actor.id} of {access.actor.organisation} may not read every "
                    f"organisation ({', '.join(unread[:5])}{' …' if len(unread) > 5 else ''} "
                    "not): the province roll-up is for a body whose file oversees all"
                )
        groups = r.reports.figures.task_groups(None, span)
    return {
        "period": win.period,
        "window": win.as_json(),
        "as_of": as_of.isoformat(),
        "provisional": reporting.provisional(win, as_of),
        "next_period": {"period": span.next_window.period, **span.next_window.as_json()},
        "organisations": report_content.rollup(groups, loaded),
    }


# ----------------------------------------------------------------------------- checking


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


def _reason(request: Request) -> str | None:
    reason = (request.reason or "").strip() or None
    if request.revise and reason is None:
        raise InvalidInput("--revise needs --reason saying why the report is made again")
    if not request.revise and request.reason is not None:
        raise InvalidInput("--reason goes with --revise (a first report needs no reason)")
    if reason is not None and len(reason) > MAX_REASON:
        raise InvalidInput(f"--reason is longer than {MAX_REASON} characters")
    return reason


def _key(win: Window) -> tuple[str, str]:
    """What names a report besides its organisation: (period, window rule)."""
    return win.period, win.rule


def _verified(r: Reader, found: Snapshot) -> dict[str, Any]:
    """The stored snapshot as JSON, after checking that its content still hashes to its
    recorded hash and that its audit entry records the same hash."""
    actual = content_hash(found.content)
    if actual != found.content_hash:
        raise AuditVerificationFailed(
            f"report {found.id} was altered: its content hashes to {actual[:12]}…, not to its "
            f"recorded hash {found.content_hash[:12]}…"
        )
    entry = r.audit.first(ACTION, f"report:{found.id}")
    if entry is None or json.loads(entry["data"]).get("hash") != found.content_hash:
        where = "has no audit entry" if entry is None else f"audit entry {entry['seq']} differs"
        raise AuditVerificationFailed(
            f"report {found.id} {where}: its hash {found.content_hash[:12]}… is not the one "
            "the audit log recorded"
        )
    return as_report(found.id, found.content, found.content_hash)
