"""Typed audit events: what happened, as the services say it, and as the log stores it.

Every audit entry is one of these. Its envelope (who acted, in what role and unit, for which
organisation, on which task or plan, from and to which state) goes to the entry's columns;
its own fields go to the entry's `data` object, under the same names, in a fixed shape per
action. `decode` turns a stored entry back into its event (replay dispatches on the type); an
action this module does not know is an `UnknownAction`, never skipped.

To add an event: a frozen dataclass here with `ACTION`, its fields (the keys of its `data`),
`OMIT_NONE` for the fields left out of `data` when None, and a `subject`; then say what
replay does with it (`workflow.domain.replay.HANDLERS`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from workflow.domain.audit_chain import Record
from workflow.domain.lifecycle import Move

# The entry's columns an event fills; everything else an event holds is its `data`.
ENVELOPE = ("actor", "role", "unit", "organisation", "task_id", "plan_id", "from_state", "to_state")


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    actor: str
    role: str | None = None
    unit: str | None = None
    organisation: str | None = None
    task_id: int | None = None
    plan_id: str | None = None
    from_state: str | None = None
    to_state: str | None = None

    ACTION: ClassVar[str] = ""
    OMIT_NONE: ClassVar[frozenset[str]] = frozenset()
    PAYLOAD: ClassVar[tuple[str, ...]] = ()  # set for every subclass below

    @property
    def action(self) -> str:
        return self.ACTION

    @property
    def subject(self) -> str:
        return f"task:{self.task_id}"

    def data(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        omit = self.OMIT_NONE
        for name in self.PAYLOAD:
            value = getattr(self, name)
            if value is None and name in omit:
                continue
            out[name] = value
        return out

    def to_record(self, channel: str | None = None, credential: str | None = None) -> Record:
        """The entry's own fields (what the chain numbers, links and hashes), made through
        `channel` with `credential` (the principal's)."""
        return Record(
            self.actor,
            self.action,
            self.subject,
            self.role,
            self.unit,
            self.organisation,
            self.task_id,
            self.plan_id,
            self.from_state,
            self.to_state,
            self.data(),
            channel,
            credential,
        )


# ----------------------------------------------------------------------------- tasks


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskCreated(Event):
    ACTION: ClassVar[str] = "task.create"
    OMIT_NONE: ClassVar[frozenset[str]] = frozenset(
        {"parent_task", "cooperating_units", "kind", "title", "category"}
    )
    code: str
    period: str
    lead_unit: str
    due_date: str | None  # ISO date
    reason: str
    parent_task: int | None = None
    # Since issue 15, so that replay rebuilds the columns reports read; absent from older
    # entries (a category may be None: then it is absent too, and replays as None).
    cooperating_units: list[str] | None = None
    kind: str | None = None
    title: str | None = None
    category: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskMoved(Event):
    """A move of the lifecycle; its action is the move's name (start, submit, ...)."""

    OMIT_NONE: ClassVar[frozenset[str]] = frozenset(
        {"note", "from_unit", "to_unit", "record", "record_hash", "record_revision", "completed_at"}
    )
    move: Move
    version: int  # the task's version after the move
    note: str | None = None
    from_unit: str | None = None  # reassign
    to_unit: str | None = None
    record: Any = None  # an inspection record submitted with the move, its hash, its revision
    record_hash: str | None = None
    record_revision: int | None = None
    # verify: the instant stored as the task's completed_at (UTC, ISO 8601), which reports
    # read; the entry's own time is read later, under the chain's lock. Since issue 15.
    completed_at: str | None = None

    @property
    def action(self) -> str:
        return self.move.value

    def data(self) -> dict[str, Any]:
        # By hand: a move's entry is the hot path (the generic loop costs a third more).
        out: dict[str, Any] = {"version": self.version}
        if self.note is not None:
            out["note"] = self.note
        if self.from_unit is not None:
            out["from_unit"], out["to_unit"] = self.from_unit, self.to_unit
        if self.record_hash is not None:
            out["record"] = self.record
            out["record_hash"] = self.record_hash
            out["record_revision"] = self.record_revision
        if self.completed_at is not None:
            out["completed_at"] = self.completed_at
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskAmended(Event):
    """A plan's new version changed a task's fields."""

    ACTION: ClassVar[str] = "task.amend"
    plan_version: int
    version: int
    changes: dict[str, list[Any]]  # field: [before, after]


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskReminded(Event):
    ACTION: ClassVar[str] = "task.remind"
    to_unit: str
    due: str
    days_overdue: int
    code: str
    period: str


# ----------------------------------------------------------------------------- dossiers


@dataclass(frozen=True, slots=True, kw_only=True)
class DossierReceived(Event):
    ACTION: ClassVar[str] = "dossier.receive"
    code: str
    procedure: str
    applicant: str
    received_at: str
    counted_from: str
    working_days: int
    due: str
    handling_unit: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DossierDelayDeclared(Event):
    ACTION: ClassVar[str] = "dossier.delay"
    reason: str
    days: int
    due: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ApologyIssued(Event):
    """An apology letter (Mẫu số 04) issued, and the dossier's due date re-set."""

    ACTION: ClassVar[str] = "dossier.apology"
    code: str
    letter_sha256: str
    docx_sha256: str
    number: str
    missed_due: str
    new_due: str
    extension: int
    working_days: int
    version: int
    rules: str
    file: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DossierEscalated(Event):
    ACTION: ClassVar[str] = "dossier.escalate"
    code: str
    missed_extended_due: str
    working_days_late: int
    to: str
    rules: str


# ----------------------------------------------------------------------------- definitions


@dataclass(frozen=True, slots=True, kw_only=True)
class OrganisationLoaded(Event):
    ACTION: ClassVar[str] = "organisation.load"
    content_hash: str
    source: str
    units: int
    people: int
    created: bool

    @property
    def subject(self) -> str:
        return f"organisation:{self.organisation}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ProceduresLoaded(Event):
    ACTION: ClassVar[str] = "procedures.load"
    OMIT_NONE: ClassVar[frozenset[str]] = frozenset({"procedures"})
    file_sha256: str
    source: str
    changed: list[str]
    # What due dates are computed from, of each procedure added or changed: code ->
    # {name, working_days, unit, cutoff_hour}. Since issue 15; absent from older entries.
    procedures: dict[str, dict[str, Any]] | None = None

    @property
    def subject(self) -> str:
        return f"procedures:{self.organisation}"


@dataclass(frozen=True, slots=True, kw_only=True)
class RulesLoaded(Event):
    ACTION: ClassVar[str] = "rules.load"
    rules: str  # the rule set's id: the subject, not part of data
    file_sha256: str
    spec_sha256: str
    source: str
    effective_from: str
    verified: bool

    @property
    def subject(self) -> str:
        return f"rules:{self.rules}"


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanLoaded(Event):
    ACTION: ClassVar[str] = "plan.load"
    version: int
    file_sha256: str
    spec_sha256: str
    source: str
    task_rows: int
    tasks_created: int
    rows_added: list[str]
    rows_removed: list[str]
    lead_changes: list[str]

    @property
    def subject(self) -> str:
        return f"plan:{self.plan_id}@v{self.version}"


# ----------------------------------------------------------------------------- inspections


@dataclass(frozen=True, slots=True, kw_only=True)
class InspectionDrawn(Event):
    """A draw's full record (population, signals, seed, algorithm, result)."""

    ACTION: ClassVar[str] = "inspection.draw"
    OMIT_NONE: ClassVar[frozenset[str]] = frozenset({"seed_from"})
    inspection: int  # the draw's id: the subject, not part of data
    record: dict[str, Any]
    record_hash: str
    revision: int
    supersedes: int | None
    reason: str | None
    tasks: dict[str, int]
    withdrawn: list[int]
    # How the seed was derived (`sampling.SeedDerivation.as_record`); absent when a
    # simulation's drawer gave it (--seed), and from draws made before issue 15.
    seed_from: dict[str, Any] | None = None

    @property
    def subject(self) -> str:
        return f"inspection:{self.inspection}"


@dataclass(frozen=True, slots=True, kw_only=True)
class InspectionConcluded(Event):
    """A conclusion notice issued for a verified inspection record, with its fix tasks."""

    ACTION: ClassVar[str] = "inspection.conclude"
    notice: str
    number: str
    record_hash: str
    html_hash: str
    docx_hash: str
    path: str
    fix_tasks: list[int]


# ----------------------------------------------------------------------------- reports


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportSnapshotted(Event):
    ACTION: ClassVar[str] = "report.snapshot"
    OMIT_NONE: ClassVar[frozenset[str]] = frozenset({"previous", "reason"})
    snapshot: int  # the snapshot's id: the subject, not part of data
    hash: str
    period: str
    window: dict[str, Any]
    revision: int
    plans: dict[str, int]
    requested_by: str
    previous: int | None = None
    reason: str | None = None

    @property
    def subject(self) -> str:
        return f"report:{self.snapshot}"


# ----------------------------------------------------------------------------- who acts


@dataclass(frozen=True, slots=True, kw_only=True)
class DatabaseInitialised(Event):
    """`planflow init` chose what the database is: production, or a simulation."""

    ACTION: ClassVar[str] = "database.init"
    mode: str  # production or simulation
    os_user: str  # who ran it on the host

    @property
    def subject(self) -> str:
        return "database"


@dataclass(frozen=True, slots=True, kw_only=True)
class RoleChanged(Event):
    """A role granted to or revoked from a person by loading their organisation's file:
    who held which role when can be rebuilt from the log."""

    ACTION: ClassVar[str] = "role.change"
    person: str
    role_name: str  # the role granted or revoked (`role` is the one the actor acted in)
    granted: bool  # False: revoked
    person_unit: str
    before: list[str]  # the person's roles before the load, sorted
    after: list[str]  # and after it

    @property
    def subject(self) -> str:
        return f"person:{self.person}"


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountEvent(Event):
    """Something done to a person's account (`action` says what); `detail` says more when
    there is more to say (never a secret: a hashed token id at most)."""

    ACTION: ClassVar[str] = ""
    OMIT_NONE: ClassVar[frozenset[str]] = frozenset({"detail", "expires_at", "credential_id"})
    person: str
    detail: str | None = None
    expires_at: str | None = None  # an invitation's or a session's end, ISO 8601
    credential_id: str | None = None  # a session's or an invitation's hashed id

    @property
    def subject(self) -> str:
        return f"account:{self.person}"


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountInvited(AccountEvent):
    """A one-time sign-up link issued (valid 72 h), or a reset link (`detail`: reset)."""

    ACTION: ClassVar[str] = "account.invite"


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountActivated(AccountEvent):
    """The person signed up with the link: their password set."""

    ACTION: ClassVar[str] = "account.activate"


@dataclass(frozen=True, slots=True, kw_only=True)
class PasswordChanged(AccountEvent):
    ACTION: ClassVar[str] = "account.password"


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountDisabled(AccountEvent):
    ACTION: ClassVar[str] = "account.disable"


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountEnabled(AccountEvent):
    ACTION: ClassVar[str] = "account.enable"


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionsRevoked(AccountEvent):
    """Every session of the person ended (`detail`: why)."""

    ACTION: ClassVar[str] = "account.revoke_sessions"


@dataclass(frozen=True, slots=True, kw_only=True)
class SecondFactorEnabled(AccountEvent):
    ACTION: ClassVar[str] = "account.second_factor"


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountLocked(AccountEvent):
    """Too many failed sign-ins: the account refuses sign-ins until `expires_at`."""

    ACTION: ClassVar[str] = "account.lockout"


@dataclass(frozen=True, slots=True, kw_only=True)
class SignedIn(AccountEvent):
    """A session began (`credential_id`: the session's hashed id, as later entries record)."""

    ACTION: ClassVar[str] = "session.start"


@dataclass(frozen=True, slots=True, kw_only=True)
class SignedOut(AccountEvent):
    ACTION: ClassVar[str] = "session.end"


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenCreated(Event):
    """An API token issued for `person` (who answers for it), scoped and expiring."""

    ACTION: ClassVar[str] = "token.create"
    token: int  # its id: the subject
    person: str
    label: str
    permissions: list[str]
    expires_at: str

    @property
    def subject(self) -> str:
        return f"token:{self.token}"


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenRevoked(Event):
    ACTION: ClassVar[str] = "token.revoke"
    token: int
    person: str

    @property
    def subject(self) -> str:
        return f"token:{self.token}"


# ----------------------------------------------------------------------------- decoding

# Fields that name the subject rather than go into data, and how to read them back from it.
_SUBJECT_FIELDS: dict[type[Event], tuple[str, Callable[[str], Any]]] = {
    RulesLoaded: ("rules", str),
    InspectionDrawn: ("inspection", int),
    ReportSnapshotted: ("snapshot", int),
    TokenCreated: ("token", int),
    TokenRevoked: ("token", int),
}


def _payload(cls: type[Event]) -> tuple[str, ...]:
    skip = {*ENVELOPE, _SUBJECT_FIELDS.get(cls, ("move", str))[0], "move"}
    return tuple(f.name for f in dataclasses.fields(cls) if f.name not in skip)


EVENT_TYPES: tuple[type[Event], ...] = (
    TaskCreated,
    TaskMoved,
    TaskAmended,
    TaskReminded,
    DossierReceived,
    DossierDelayDeclared,
    ApologyIssued,
    DossierEscalated,
    OrganisationLoaded,
    ProceduresLoaded,
    RulesLoaded,
    PlanLoaded,
    InspectionDrawn,
    InspectionConcluded,
    ReportSnapshotted,
    DatabaseInitialised,
    RoleChanged,
    AccountInvited,
    AccountActivated,
    PasswordChanged,
    AccountDisabled,
    AccountEnabled,
    SessionsRevoked,
    SecondFactorEnabled,
    AccountLocked,
    SignedIn,
    SignedOut,
    TokenCreated,
    TokenRevoked,
)
for _cls in EVENT_TYPES:
    _cls.PAYLOAD = _payload(_cls)

BY_ACTION: dict[str, type[Event]] = {
    **{cls.ACTION: cls for cls in EVENT_TYPES if cls is not TaskMoved},
    **{move.value: TaskMoved for move in Move},
}


class UnknownAction(ValueError):
    """A stored entry whose action is not an event this planflow knows."""


def decode(entry: Mapping[str, Any], data: Mapping[str, Any]) -> Event:
    """The event a stored entry records (`data`: its data, decoded). Fields its data lacks
    are None: replay judges the values, decoding only finds the type."""
    action = str(entry.get("action"))
    cls = BY_ACTION.get(action)
    if cls is None:
        raise UnknownAction(action)
    values: dict[str, Any] = {name: entry.get(name) for name in ENVELOPE}
    values |= {name: data.get(name) for name in cls.PAYLOAD}
    if cls is TaskMoved:
        values["move"] = Move(action)
    if cls in _SUBJECT_FIELDS:
        name, read = _SUBJECT_FIELDS[cls]
        named = str(entry.get("subject", "")).partition(":")[2]
        try:
            values[name] = read(named)
        except ValueError:  # a subject that names no id: replay judges the entry, not this
            values[name] = named
    return cls(**values)
