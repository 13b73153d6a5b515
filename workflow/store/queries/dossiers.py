"""Reading dossiers: one, a filtered list, the day's numbering, and what the apology flow
looks for (dossiers near or past their due date, overdue plan tasks not yet reminded).

A dossier is a task (kind 'dossier') with an applicant: a `Dossier` is its `dossiers` row
with its task's state, lead unit and version.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, select

from workflow.clock import as_utc
from workflow.domain import replay_model
from workflow.domain.lifecycle import NOT_DONE, State
from workflow.store.queries.base import Queries
from workflow.store.tables import dossiers, notices, procedures, tasks

_NOT_DONE = sorted(s.value for s in NOT_DONE)


@dataclass(frozen=True, slots=True)
class Dossier:
    task_id: int
    organisation: str
    code: str
    procedure: str
    applicant_name: str
    applicant_address: str | None
    applicant_phone: str | None
    applicant_email: str | None
    received_at: dt.datetime  # aware, UTC
    original_due: dt.date
    current_due: dt.date  # after the letter's extension, if any
    extension_count: int
    delay_reason: str | None
    delay_days: int | None
    escalated: bool
    state: State  # the task's
    lead_unit: str
    version: int


_FIELDS = [f.name for f in dataclasses.fields(Dossier)]
_OF_TASK = ("state", "lead_unit", "version")  # the rest are the dossier row's own columns
_COLUMNS = [tasks.c[name] if name in _OF_TASK else dossiers.c[name] for name in _FIELDS]
_RECEIVED, _ESCALATED, _STATE = map(_FIELDS.index, ("received_at", "escalated", "state"))


def _dossier(row: Any) -> Dossier:
    """A Dossier from a row selected as `_select` does (positionally: the apology flow reads
    thousands a batch, and attribute access by name costs more than the rest)."""
    values = list(row[: len(_COLUMNS)])
    values[_RECEIVED] = as_utc(values[_RECEIVED])
    values[_ESCALATED] = bool(values[_ESCALATED])
    values[_STATE] = State(values[_STATE])
    return Dossier(*values)


def _select(*extra: Any) -> Any:
    return select(*_COLUMNS, *extra).join(tasks, tasks.c.id == dossiers.c.task_id)


class DossierQueries(Queries):
    def get(self, task_id: int) -> Dossier | None:
        row = self.conn.execute(_select().where(dossiers.c.task_id == task_id)).first()
        return None if row is None else _dossier(row)

    def of_ids(self, task_ids: Sequence[int]) -> list[Dossier]:
        """These dossiers, by id."""
        rows = self.conn.execute(
            _select().where(dossiers.c.task_id.in_(list(task_ids))).order_by(dossiers.c.task_id)
        )
        return [_dossier(row) for row in rows]

    def find(
        self,
        organisation: str | None = None,
        state: State | None = None,
        late_on: dt.date | None = None,
        *,
        organisations: Collection[str] | None = None,
        after_id: int | None = None,
        limit: int | None = None,
        newest_first: bool = False,
    ) -> list[Dossier]:
        """Dossiers by id: of an organisation, in a state, past their due date on a day and
        not yet done (each when given); of one of `organisations` (a reader's fence), after
        the id `after_id`, at most `limit` (a page: keyset paging by id); `newest_first`: the
        last `limit` received, the newest first (the desk's list)."""
        conditions = []
        if organisation:
            conditions.append(dossiers.c.organisation == organisation)
        if organisations is not None:
            conditions.append(dossiers.c.organisation.in_(sorted(organisations)))
        if state:
            conditions.append(tasks.c.state == state.value)
        if late_on:
            conditions.append(dossiers.c.current_due < late_on)
            conditions.append(tasks.c.state.in_(_NOT_DONE))
        if after_id is not None:
            conditions.append(dossiers.c.task_id > after_id)
        order = dossiers.c.task_id.desc() if newest_first else dossiers.c.task_id
        stmt = _select().where(and_(True, *conditions)).order_by(order)
        if limit is not None:
            stmt = stmt.limit(limit)
        return [_dossier(row) for row in self.conn.execute(stmt)]

    def numbered(self, prefix: str) -> int:
        """How many dossier codes start with `prefix` (an organisation's day)."""
        return int(
            self.conn.execute(
                select(func.count()).select_from(dossiers).where(dossiers.c.code.like(prefix + "%"))
            ).scalar_one()
        )

    # ------------------------------------------------------------------ the apology flow

    def due_by(self, last_due: dt.date, organisation: str | None = None) -> list[int]:
        """Dossiers not yet done and due on or before `last_due` (the flow's candidates for a
        letter or an escalation), by id."""
        conditions = [tasks.c.state.in_(_NOT_DONE), dossiers.c.current_due <= last_due]
        if organisation:
            conditions.append(dossiers.c.organisation == organisation)
        return list(
            self.conn.execute(
                select(dossiers.c.task_id)
                .join(tasks, tasks.c.id == dossiers.c.task_id)
                .where(and_(*conditions))
                .order_by(dossiers.c.task_id)
            ).scalars()
        )

    def reminder_candidates(self, as_of: dt.date, organisation: str | None = None) -> list[int]:
        """Tasks other than dossiers, past their due date on `as_of`, not yet done, that have
        no reminder for that due date yet, by id."""
        reminded = (
            select(notices.c.id)
            .where(
                notices.c.task_id == tasks.c.id,
                notices.c.kind == "reminder",
                notices.c.due_date == tasks.c.due_date,
            )
            .exists()
        )
        conditions = [
            tasks.c.kind != "dossier",
            tasks.c.due_date < as_of,
            tasks.c.state.in_(_NOT_DONE),
            ~reminded,
        ]
        if organisation:
            conditions.append(tasks.c.organisation == organisation)
        return list(
            self.conn.execute(
                select(tasks.c.id).where(and_(*conditions)).order_by(tasks.c.id)
            ).scalars()
        )

    def for_letters(self, task_ids: Sequence[int]) -> list[tuple[Dossier, str]]:
        """These dossiers, each with its procedure's name (printed on a letter), by id."""
        rows = self.conn.execute(
            _select(procedures.c.name.label("procedure_name"))
            .join(
                procedures,
                and_(
                    procedures.c.organisation == dossiers.c.organisation,
                    procedures.c.code == dossiers.c.procedure,
                ),
            )
            .where(dossiers.c.task_id.in_(list(task_ids)))
            .order_by(dossiers.c.task_id)
        )
        return [(_dossier(row), row[-1]) for row in rows]

    def as_replay_compares(self) -> list[dict[str, Any]]:
        """Every dossier's own columns that `audit replay` rebuilds from the log, in the log's
        text forms (dates and instants ISO 8601, instants in UTC), by task id."""
        c = dossiers.c
        names = ("task_id", "code", *replay_model.DOSSIER_COMPARED)
        rows = self.conn.execute(select(*(c[name] for name in names)).order_by(c.task_id))
        out = []
        for row in rows:
            values = dict(zip(names, row, strict=True))
            values["received_at"] = as_utc(values["received_at"]).isoformat()
            for name in ("original_due", "current_due"):
                values[name] = values[name].isoformat()
            values["escalated"] = bool(values["escalated"])
            out.append(values)
        return out
