"""The unit of work: the one way services reach the database.

    with ctx.uow.writing() as tx:          # one writing transaction
        task = tx.tasks.get(8)             # repositories read and write their aggregate
        ...
        tx.record(TaskCreated(...))        # typed audit events, appended at the commit

    with ctx.uow.reading() as r:           # reads: the query modules
        r.tasks.list(TaskFilter(...))

    with ctx.uow.moving() as tx:           # one move, the hot path (see `moving`)

The unit of work owns the transaction, the writers' turn and the chain's lock (through its
backend, `store.sqlite` or `store.postgres`), who acts (the principal its adapter
authenticated) and when: `tx.now`, read once from the clock, stamps the rows a transaction
writes; its audit entries are dated by the same clock under the chain's lock, so that they
are dated in the order they are chained.

In a production database (`planflow init`), every write needs an authenticated principal
and the system clock, and every audit event must be the principal's own act: a typed name
or an injected clock is refused there (`Who`). A simulation database (`init --simulation`,
the demo, the tests) accepts both, as it always did.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine

from workflow.clock import Clock, SystemClock
from workflow.domain.audit_chain import Record
from workflow.domain.principals import Principal
from workflow.domain.tasks import TaskView
from workflow.errors import PermissionDenied
from workflow.store.backend import Backend, Mutex
from workflow.store.engine import backend_for, open_engine, translated

# Each query and repository module loads when a transaction first uses it: a command that
# lists tasks does not load the organisations' files' models nor the reports' queries.
if TYPE_CHECKING:
    from workflow.domain.events import Event
    from workflow.store.queries.accounts import AccountQueries
    from workflow.store.queries.audit import AuditQueries
    from workflow.store.queries.database import DatabaseQueries
    from workflow.store.queries.documents import DocumentQueries
    from workflow.store.queries.dossiers import DossierQueries
    from workflow.store.queries.inspections import InspectionQueries
    from workflow.store.queries.notices import NoticeQueries
    from workflow.store.queries.organisations import OrganisationQueries
    from workflow.store.queries.plans import PlanQueries
    from workflow.store.queries.procedures import ProcedureQueries
    from workflow.store.queries.replay_rows import ReplayRows
    from workflow.store.queries.reports import ReportQueries
    from workflow.store.queries.rules import RuleQueries
    from workflow.store.queries.tasks import TaskQueries
    from workflow.store.repositories.accounts import AccountRepository
    from workflow.store.repositories.database import DatabaseRepository
    from workflow.store.repositories.documents import DocumentRepository
    from workflow.store.repositories.dossiers import DossierRepository
    from workflow.store.repositories.inspections import InspectionRepository
    from workflow.store.repositories.notices import NoticeRepository
    from workflow.store.repositories.organisations import OrganisationRepository
    from workflow.store.repositories.plans import PlanRepository
    from workflow.store.repositories.procedures import ProcedureRepository
    from workflow.store.repositories.registers import RegisterRepository
    from workflow.store.repositories.reports import ReportRepository
    from workflow.store.repositories.rules import RuleRepository
    from workflow.store.repositories.tasks import TaskRepository


@dataclass(frozen=True, slots=True)
class Who:
    """Who a transaction acts as, and whether the database holds it to it (production)."""

    principal: Principal | None
    production: bool

    def entry(self, event: Event) -> Record:
        """The event's entry, with the channel and credential of who acts; in production,
        only an act of the principal itself."""
        principal = self.principal
        if principal is None:
            return event.to_record()
        if self.production and event.actor != principal.id:
            raise PermissionDenied(
                f"{principal.id} cannot record an act of {event.actor}: in a production "
                "database every entry is the act of who is signed in"
            )
        return event.to_record(principal.channel.value, principal.credential)


class Reader:
    """A reading transaction: the query modules, each on its connection."""

    def __init__(self, conn: Connection, backend: Backend, clock: Clock) -> None:
        self.conn = conn
        self.backend = backend
        self.clock = clock

    @cached_property
    def now(self) -> dt.datetime:
        """The transaction's time: read once from the clock."""
        return self.clock.now()

    @cached_property
    def tasks(self) -> TaskQueries:
        from workflow.store.queries.tasks import TaskQueries

        return TaskQueries(self.conn, self.backend)

    @cached_property
    def database(self) -> DatabaseQueries:
        from workflow.store.queries.database import DatabaseQueries

        return DatabaseQueries(self.conn, self.backend)

    @cached_property
    def accounts(self) -> AccountQueries:
        from workflow.store.queries.accounts import AccountQueries

        return AccountQueries(self.conn, self.backend)

    @cached_property
    def audit(self) -> AuditQueries:
        from workflow.store.queries.audit import AuditQueries

        return AuditQueries(self.conn, self.backend)

    @cached_property
    def organisations(self) -> OrganisationQueries:
        from workflow.store.queries.organisations import OrganisationQueries

        return OrganisationQueries(self.conn, self.backend)

    @cached_property
    def plans(self) -> PlanQueries:
        from workflow.store.queries.plans import PlanQueries

        return PlanQueries(self.conn, self.backend)

    @cached_property
    def rules(self) -> RuleQueries:
        from workflow.store.queries.rules import RuleQueries

        return RuleQueries(self.conn, self.backend)

    @cached_property
    def procedures(self) -> ProcedureQueries:
        from workflow.store.queries.procedures import ProcedureQueries

        return ProcedureQueries(self.conn, self.backend)

    @cached_property
    def dossiers(self) -> DossierQueries:
        from workflow.store.queries.dossiers import DossierQueries

        return DossierQueries(self.conn, self.backend)

    @cached_property
    def notices(self) -> NoticeQueries:
        from workflow.store.queries.notices import NoticeQueries

        return NoticeQueries(self.conn, self.backend)

    @cached_property
    def documents(self) -> DocumentQueries:
        from workflow.store.queries.documents import DocumentQueries

        return DocumentQueries(self.conn, self.backend)

    @cached_property
    def inspections(self) -> InspectionQueries:
        from workflow.store.queries.inspections import InspectionQueries

        return InspectionQueries(self.conn, self.backend)

    @cached_property
    def reports(self) -> ReportQueries:
        from workflow.store.queries.reports import ReportQueries

        return ReportQueries(self.conn, self.backend)

    @cached_property
    def replay_rows(self) -> ReplayRows:
        from workflow.store.queries.replay_rows import ReplayRows

        return ReplayRows(self.conn, self.backend)


class Tx(Reader):
    """A writing transaction: the repositories, and the audit events it records."""

    def __init__(self, conn: Connection, backend: Backend, clock: Clock, who: Who) -> None:
        super().__init__(conn, backend, clock)
        self.who = who
        self._records: list[Record] = []

    def record(self, *events: Event) -> None:
        """Audit events of this transaction, appended in order when it commits (so the
        chain's lock is taken last and held only for the append and the commit)."""
        self._records.extend(self.who.entry(event) for event in events)

    def serialise(self, mutex: Mutex) -> None:
        """Do the rest of this transaction alone among the writers that take `mutex`."""
        self.backend.serialise(self.conn, mutex)

    def apply_to_task(
        self, task_id: int, expected_version: int, values: Mapping[str, Any], event: Event
    ) -> TaskView | None:
        """A task's compare-and-set and its audit event; None (nothing written) when the
        task is no longer at `expected_version`."""
        updated = self.tasks.compare_and_set(task_id, expected_version, values)
        if updated is not None:
            self.record(event)
        return updated

    def flush(self) -> None:
        records, self._records = self._records, []
        self.backend.recorder.append(self.conn, records, self.clock)

    @cached_property
    def tasks(self) -> TaskRepository:
        from workflow.store.repositories.tasks import TaskRepository

        return TaskRepository(self.conn, self.backend)

    @cached_property
    def database(self) -> DatabaseRepository:
        from workflow.store.repositories.database import DatabaseRepository

        return DatabaseRepository(self.conn, self.backend)

    @cached_property
    def accounts(self) -> AccountRepository:
        from workflow.store.repositories.accounts import AccountRepository

        return AccountRepository(self.conn, self.backend)

    @cached_property
    def organisations(self) -> OrganisationRepository:
        from workflow.store.repositories.organisations import OrganisationRepository

        return OrganisationRepository(self.conn, self.backend)

    @cached_property
    def plans(self) -> PlanRepository:
        from workflow.store.repositories.plans import PlanRepository

        return PlanRepository(self.conn, self.backend)

    @cached_property
    def rules(self) -> RuleRepository:
        from workflow.store.repositories.rules import RuleRepository

        return RuleRepository(self.conn, self.backend)

    @cached_property
    def procedures(self) -> ProcedureRepository:
        from workflow.store.repositories.procedures import ProcedureRepository

        return ProcedureRepository(self.conn, self.backend)

    @cached_property
    def dossiers(self) -> DossierRepository:
        from workflow.store.repositories.dossiers import DossierRepository

        return DossierRepository(self.conn, self.backend)

    @cached_property
    def notices(self) -> NoticeRepository:
        from workflow.store.repositories.notices import NoticeRepository

        return NoticeRepository(self.conn, self.backend)

    @cached_property
    def documents(self) -> DocumentRepository:
        from workflow.store.repositories.documents import DocumentRepository

        return DocumentRepository(self.conn, self.backend)

    @cached_property
    def inspections(self) -> InspectionRepository:
        from workflow.store.repositories.inspections import InspectionRepository

        return InspectionRepository(self.conn, self.backend)

    @cached_property
    def reports(self) -> ReportRepository:
        from workflow.store.repositories.reports import ReportRepository

        return ReportRepository(self.conn, self.backend)

    @cached_property
    def registers(self) -> RegisterRepository:
        """The outgoing registers: a document's number, taken in its transaction."""
        from workflow.store.repositories.registers import RegisterRepository

        return RegisterRepository(self.conn, self.backend)


class MoveTx:
    """One move (`UnitOfWork.moving`): its reads each a statement of its own, then the
    compare-and-set and its entry as one transaction (on PostgreSQL one statement, the entry
    numbered and hashed by the server)."""

    def __init__(self, conn: Connection, backend: Backend, clock: Clock, who: Who) -> None:
        self.conn = conn
        self.backend = backend
        self.clock = clock
        self.who = who
        from workflow.store.repositories.tasks import TaskRepository

        self.tasks = TaskRepository(conn, backend)
        from workflow.store.queries.organisations import OrganisationQueries

        self.organisations = OrganisationQueries(conn, backend)

    @cached_property
    def now(self) -> dt.datetime:
        return self.clock.now()

    def apply_to_task(
        self, task_id: int, expected_version: int, values: Mapping[str, Any], event: Event
    ) -> TaskView | None:
        change = self.tasks.change(task_id, expected_version, values)
        entry = self.who.entry(event)
        changed, _seq = self.backend.recorder.move(self.conn, change, entry, self.clock)
        return self.tasks.changed(changed)


class UnitOfWork:
    """The database (an engine and its backend) and the clock, for one context."""

    def __init__(self, engine: Engine, clock: Clock, principal: Principal | None = None) -> None:
        self.engine = engine
        self.clock = clock
        self.principal = principal
        self.backend = backend_for(engine)

    @classmethod
    def open(cls, url: str, clock: Clock) -> UnitOfWork:
        return cls(open_engine(url), clock)

    def production(self) -> bool:
        """Whether `planflow init` made this a production database (read once per engine)."""
        if self.backend.production is None:
            with translated(), self.backend.reading(self.engine, consistent=False) as conn:
                from workflow.store.queries.database import DatabaseQueries

                found = DatabaseQueries(conn, self.backend).mode()
            self.backend.production = found is not None and found.mode == "production"
        return self.backend.production

    def _who(self) -> Who:
        """Who the writes act as; in production, refused unless authenticated and on the
        system's clock."""
        production = self.production()
        principal = self.principal
        if production:
            if principal is None or (principal.person and principal.credential is None):
                raise PermissionDenied(
                    "this is a production database: every change is made by a signed-in "
                    "person or with an API token (--token or PLANFLOW_TOKEN), never a typed "
                    "name"
                )
            if not isinstance(self.clock, SystemClock):
                raise PermissionDenied(
                    "this is a production database: its entries are dated by the system's "
                    "clock, and another time (PLANFLOW_NOW, a flow's `now`) is refused"
                )
        return Who(principal, production)

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=False)

    def dispose(self) -> None:
        """Close every pooled connection (before forking, or when done)."""
        self.engine.dispose()

    def shared_between_processes(self) -> bool:
        return self.backend.shared_between_processes(self.engine)

    @contextmanager
    def writing(self) -> Iterator[Tx]:
        """One writing transaction: committed with its audit events when the block ends,
        everything rolled back on any error."""
        who = self._who()
        with translated(), self.backend.writing(self.engine) as conn:
            tx = Tx(conn, self.backend, self.clock, who)
            yield tx
            tx.flush()

    @contextmanager
    def reading(self, *, consistent: bool = False) -> Iterator[Reader]:
        """A reading transaction; `consistent`: every read sees the same snapshot (a report's
        figures, replay's tasks against the log)."""
        with translated(), self.backend.reading(self.engine, consistent=consistent) as conn:
            yield Reader(conn, self.backend, self.clock)

    @contextmanager
    def moving(self) -> Iterator[MoveTx]:
        """One move: the hot path. SQLite: held with this process's writers' turn, on the
        movers' own connection (its page cache stays warm); PostgreSQL: a pooled connection
        in autocommit."""
        who = self._who()
        with translated(), self.backend.moving(self.engine) as conn:
            yield MoveTx(conn, self.backend, self.clock, who)
