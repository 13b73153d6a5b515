"""The outgoing register (sổ văn bản đi), on SQLite and PostgreSQL: numbers per organisation,
year and kind, from 01 each year, taken in the document's transaction: gapless, never twice,
under 8 concurrent issuers, and given back by a transaction that rolls back."""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.conftest import small_agency
from workflow.clock import LOCAL_TZ
from workflow.definitions.checks import validate
from workflow.definitions.models import OrganisationSpec
from workflow.domain.filters import AuditFilter
from workflow.domain.issuing import DocumentKind
from workflow.services import Context, apology
from workflow.services import audit_log as audit_service
from workflow.services import dossiers as dossier_service
from workflow.services import plans as plan_service
from workflow.services.organisations import upsert_organisation
from workflow.services.register import take_number
from workflow.store.repositories.registers import RegisterRepository

WORKERS = 8
LETTER, NOTICE, REPORT = (
    DocumentKind.APOLOGY_LETTER,
    DocumentKind.INSPECTION_NOTICE,
    DocumentKind.REPORT,
)
JUNE_5 = dt.date(2024, 6, 5)
DEFINITIONS = Path(__file__).resolve().parents[2] / "definitions"


def with_documents(code: str = "KHA-SCT") -> OrganisationSpec:
    data = small_agency(code).model_dump(mode="json", exclude_none=True)
    data["documents"] = {"governing_body": "UBND TỈNH KHÁNH HÒA", "abbreviation": "SCT"}
    return OrganisationSpec.model_validate(data)


def take(ctx: Context, spec: OrganisationSpec, kind: DocumentKind, on: dt.date) -> str:
    with ctx.uow.writing() as tx:
        return take_number(tx, spec, kind, on)


def last_numbers(ctx: Context, organisation: str) -> dict[tuple[int, str], int]:
    with ctx.uow.writing() as tx:
        return tx.registers.last_numbers(organisation)


@pytest.fixture
def two(ctx: Context) -> tuple[OrganisationSpec, OrganisationSpec]:
    plain, named = small_agency(), with_documents()
    upsert_organisation(ctx, plain)
    upsert_organisation(ctx, named)
    return plain, named


def test_numbers_run_from_01_per_organisation_year_and_kind(
    ctx: Context, two: tuple[OrganisationSpec, OrganisationSpec]
) -> None:
    plain, named = two
    assert [take(ctx, named, NOTICE, JUNE_5) for _ in range(3)] == [
        "01/TB-SCT",
        "02/TB-SCT",
        "03/TB-SCT",
    ]
    assert take(ctx, named, LETTER, JUNE_5) == "01/PXL-SCT"  # a register per kind
    assert take(ctx, named, REPORT, JUNE_5) == "01/BC-SCT"
    assert take(ctx, plain, NOTICE, JUNE_5) == "01/TB-SO-TEST"  # no block: the code
    # A new calendar year starts again at 01; the old year's register is kept.
    assert take(ctx, named, NOTICE, dt.date(2024, 12, 31)) == "04/TB-SCT"
    assert take(ctx, named, NOTICE, dt.date(2025, 1, 1)) == "01/TB-SCT"
    assert take(ctx, named, NOTICE, dt.date(2025, 1, 2)) == "02/TB-SCT"
    numbers = [take(ctx, named, LETTER, JUNE_5) for _ in range(9)]
    assert numbers[-2:] == ["09/PXL-SCT", "10/PXL-SCT"]  # two digits at least, then as is
    assert last_numbers(ctx, "KHA-SCT") == {
        (2024, "inspection_notice"): 4,
        (2025, "inspection_notice"): 2,
        (2024, "apology_letter"): 10,
        (2024, "report"): 1,
    }


def test_a_rolled_back_issue_leaves_no_gap(
    ctx: Context, two: tuple[OrganisationSpec, OrganisationSpec]
) -> None:
    _, named = two
    assert take(ctx, named, NOTICE, JUNE_5) == "01/TB-SCT"
    with pytest.raises(RuntimeError), ctx.uow.writing() as tx:
        assert take_number(tx, named, NOTICE, JUNE_5) == "02/TB-SCT"
        raise RuntimeError("the document's transaction fails after taking its number")
    assert take(ctx, named, NOTICE, JUNE_5) == "02/TB-SCT"  # given back, not skipped


def test_eight_concurrent_issuers_take_every_number_once(
    ctx: Context, two: tuple[OrganisationSpec, OrganisationSpec]
) -> None:
    _, named = two
    each = 20
    barrier = threading.Barrier(WORKERS)

    def issue(worker: int) -> list[str]:
        barrier.wait()
        taken = []
        for i in range(each):
            try:
                with ctx.uow.writing() as tx:
                    number = take_number(tx, named, NOTICE, JUNE_5)
                    if (worker + i) % 5 == 0:  # some issuers fail: their numbers come back
                        raise RuntimeError("rolled back")
                taken.append(number)
            except RuntimeError:
                continue
        return taken

    with ThreadPoolExecutor(WORKERS) as pool:
        results = [n for found in pool.map(issue, range(WORKERS)) for n in found]
    committed = WORKERS * each - sum(
        1 for w in range(WORKERS) for i in range(each) if (w + i) % 5 == 0
    )
    assert len(results) == committed
    assert len(set(results)) == committed  # no number twice
    assert sorted(int(n.split("/")[0]) for n in results) == list(range(1, committed + 1))
    assert last_numbers(ctx, "KHA-SCT") == {(2024, "inspection_notice"): committed}


def test_the_register_only_counts_forward(
    ctx: Context, two: tuple[OrganisationSpec, OrganisationSpec]
) -> None:
    _, named = two
    take(ctx, named, NOTICE, JUNE_5)
    take(ctx, named, NOTICE, JUNE_5)
    for statement in (
        "UPDATE document_registers SET last_number = 1",
        "UPDATE document_registers SET last_number = last_number + 2",
        "DELETE FROM document_registers",
    ):
        with pytest.raises(DBAPIError, match="never reused"), ctx.engine.begin() as conn:
            conn.execute(text(statement))
    assert take(ctx, named, NOTICE, JUNE_5) == "03/TB-SCT"


def test_a_repository_is_the_only_writer(ctx: Context) -> None:
    """The counter is reached through the unit of work's transaction, never on its own."""
    with ctx.uow.writing() as tx:
        assert isinstance(tx.registers, RegisterRepository)


# ----------------------------------------------------------------------------- letters


def at(day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2024, 6, day, hour, tzinfo=LOCAL_TZ)


def test_eight_apology_batches_at_once_number_their_letters_without_gaps(
    ctx: Context, tmp_path: Path
) -> None:
    found, problems = validate([DEFINITIONS])
    assert problems == []
    plan_service.load(ctx, found)
    ctx.clock.set(at(3, 8))  # type: ignore[attr-defined]
    ids = []
    for i in range(WORKERS * 2):
        ctx.clock.set(at(3, 9) + dt.timedelta(minutes=i))  # type: ignore[attr-defined]
        received = dossier_service.receive(
            ctx,
            dossier_service.NewDossier(
                "SKHDT-DN-01",
                dossier_service.Applicant(f"Công ty TNHH Số {i}", phone="0912 345 678"),
                ctx.clock.now(),
            ),
            "lsn.dkkd.be-thi-huong",
        )
        ids.append(int(received["id"]))
        dossier_service.delay(
            ctx, ids[-1], "Cần xác minh thông tin chủ sở hữu", 2, "lsn.dkkd.ly-van-duc"
        )
    ctx.clock.set(at(5, 7))  # type: ignore[attr-defined]
    barrier = threading.Barrier(WORKERS)

    def batch(i: int) -> list[str]:
        barrier.wait()
        done = apology.process_dossiers(ctx, JUNE_5, ids[i * 2 : i * 2 + 2], tmp_path)
        return [str(letter["number"]) for letter in done.letters]

    with ThreadPoolExecutor(WORKERS) as pool:
        numbers = [n for found in pool.map(batch, range(WORKERS)) for n in found]
    assert sorted(numbers) == [f"{n:02d}/PXL-SKHĐT" for n in range(1, WORKERS * 2 + 1)]
    entries = audit_service.query(ctx, AuditFilter(action="dossier.apology"))
    assert sorted(e["data"]["number"] for e in entries) == sorted(numbers)
    assert audit_service.verify(ctx).ok


# ----------------------------------------------------------------------------- reports


def test_a_report_takes_its_number_and_a_revision_the_next_one(ctx: Context) -> None:
    from tests.integration import test_reports as reporting

    reporting.build(ctx)
    first = reporting.ask(ctx)
    number = first.report["number"]
    assert number == "01/BC-SO-BC"  # the organisation has no documents: block: its code
    html = next(d.content for d in first.documents if d.path.endswith(".html"))
    assert f"Số: {number}" in html.decode("utf-8")
    assert reporting.ask(ctx).report["number"] == number  # the stored one: no number taken
    revised = reporting.ask(ctx, revise=True, reason="Bổ sung số liệu")
    assert revised.report["number"] == "02/BC-SO-BC"
    assert last_numbers(ctx, "SO-BC") == {(2024, "report"): 2}
    assert audit_service.verify(ctx).ok
