"""The outgoing register (sổ văn bản đi): every document planflow issues (an apology letter,
an inspection conclusion notice, a report) takes its number here, inside the transaction that
records it and its audit entry.

Numbers run per organisation, calendar year (of the date the document bears) and kind of
document, from 1 each year, without gaps and never twice: the counter row is taken in the
document's own transaction (`store.repositories.registers`), so a transaction that rolls
back, or dies, gives its number back with everything else it wrote.
"""

from __future__ import annotations

import datetime as dt

from workflow.definitions.models import OrganisationSpec
from workflow.domain.issuing import DocumentKind, document_number, letterhead, register_year
from workflow.store.uow import Tx


def take_number(tx: Tx, spec: OrganisationSpec, kind: DocumentKind, issued_on: dt.date) -> str:
    """The next number of `spec`'s register of `kind` for the year of `issued_on`, formatted
    as Nghị định 30/2020 writes it (`15/TB-SCT`)."""
    number = tx.registers.next_number(spec.code, register_year(issued_on), kind.value)
    return document_number(number, kind, letterhead(spec).abbreviation)
