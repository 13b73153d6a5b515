"""The tie-breaking seed of an inspection draw is nobody's choice: derived from the
organisation, the period and the audit log's head when the draw is made, recorded in the
draw's entry, and derived again by `explain`; only a simulation database takes `--seed`.
On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text

from tests.integration.test_faults_tampering import owner, rehash_from
from tests.integration.test_inspections import INSPECTOR, OFFICE1, ORG, entries, org  # noqa: F401
from workflow.cli.main import run
from workflow.clock import SystemClock
from workflow.domain.principals import Channel, Principal
from workflow.domain.sampling import SeedDerivation
from workflow.errors import AuditVerificationFailed, PermissionDenied
from workflow.services import Context
from workflow.services import inspections as service
from workflow.store.engine import open_engine
from workflow.store.tables import audit_log

pytestmark = pytest.mark.usefixtures("org")


def head(ctx: Context) -> tuple[int, str]:
    with ctx.uow.reading() as r:
        return r.audit.head()


def make_production(engine: Engine) -> None:
    """What `planflow init` records for a production database."""
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO database_info (id, mode, created_at, created_by) "
                "VALUES (1, 'production', :at, 'root')"
            ),
            {"at": dt.datetime(2024, 1, 1, tzinfo=dt.UTC)},
        )


@pytest.fixture
def production(ctx: Context, db_url: str) -> Iterator[Context]:
    """The same database made a production one, and an inspector signed in with a token
    (a fresh engine: the mode is read once per engine)."""
    make_production(ctx.engine)
    engine = open_engine(db_url)
    inspector = Principal(INSPECTOR, Channel.CLI, credential="token:1")
    yield Context(engine, clock=SystemClock(), principal=inspector)
    engine.dispose()


def test_a_draw_without_a_seed_derives_it_from_the_log_s_head(
    ctx: Context, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    head_seq, head_hash = head(ctx)
    drawn = service.draw(ctx, ORG, "2024", INSPECTOR)
    derivation = SeedDerivation(ORG, "2024", head_seq, head_hash)
    assert drawn.seed == derivation.seed and 0 < drawn.seed < 2**60
    assert drawn.seed_from == derivation.as_record()
    [entry] = entries(ctx, "inspection.draw")
    assert entry["seq"] > head_seq and entry["data"]["seed_from"] == derivation.as_record()
    explained = service.explain(ctx, drawn.inspection)
    assert explained["seed_from"]["explanation"] == (
        f'seed = the first 15 hex digits of SHA-256("{ORG}|2024|{head_seq}|{head_hash}") = '
        f"{drawn.seed} (organisation, period, and the audit log's head, entry {head_seq}, "
        "when the draw was made)"
    )
    capsys.readouterr()
    assert run(["--db", db_url, "inspections", "explain", str(drawn.inspection)]) == 0
    assert f'  seed = the first 15 hex digits of SHA-256("{ORG}|2024|{head_seq}|' in (
        capsys.readouterr().out
    )
    # A redraw is made later, from a later head: another seed, derived the same way.
    redrawn = service.draw(ctx, ORG, "2024", OFFICE1, redraw_reason="Đổi đoàn kiểm tra")
    assert redrawn.seed_from is not None and redrawn.seed_from["head_seq"] > head_seq
    assert redrawn.seed != drawn.seed and service.explain(ctx, redrawn.inspection)["verified"]


def test_a_simulation_takes_a_seed_and_explain_says_it_was_given(ctx: Context) -> None:
    drawn = service.draw(ctx, ORG, "2024", INSPECTOR, seed=7)
    assert (drawn.seed, drawn.seed_from) == (7, None)
    assert "seed_from" not in entries(ctx, "inspection.draw")[0]["data"]
    assert service.explain(ctx, drawn.inspection)["seed_from"] is None


def test_a_production_database_refuses_a_seed_and_derives_its_own(
    ctx: Context, production: Context
) -> None:
    before = head(ctx)
    for attempt in (
        lambda: service.preflight(production, ORG, "2024", INSPECTOR, seed=7),
        lambda: service.draw(production, ORG, "2024", INSPECTOR, seed=7),
    ):
        with pytest.raises(PermissionDenied, match=r"a draw's seed is derived .* drop --seed"):
            attempt()
    assert head(ctx) == before  # nothing written
    drawn = service.draw(production, ORG, "2024", INSPECTOR)
    assert drawn.seed == SeedDerivation(ORG, "2024", *before).seed
    assert service.explain(production, drawn.inspection)["seed_from"]["head_seq"] == before[0]
    # The period's draw exists: asking again with a seed is still refused, not ignored.
    with pytest.raises(PermissionDenied, match="seed"):
        service.draw(production, ORG, "2024", INSPECTOR, seed=7)


def test_explain_refuses_a_production_draw_whose_seed_was_chosen(ctx: Context, db_url: str) -> None:
    drawn = service.draw(ctx, ORG, "2024", INSPECTOR, seed=7)  # before the mode was chosen
    make_production(ctx.engine)
    engine = open_engine(db_url)
    try:
        with pytest.raises(AuditVerificationFailed, match="seed 7 was not derived"):
            service.explain(Context(engine), drawn.inspection)
    finally:
        engine.dispose()


def test_explain_refuses_a_derivation_from_another_head(ctx: Context) -> None:
    """The drawer claims an earlier head than the one read (a seed they liked better): the
    claimed entry is in the log, but the recorded seed does not follow from it."""
    drawn = service.draw(ctx, ORG, "2024", INSPECTOR)
    [entry] = entries(ctx, "inspection.draw")
    claimed = dict(entry["data"])
    earlier = claimed["seed_from"]["head_seq"] - 1
    with ctx.uow.reading() as r:
        earlier_hash = r.audit.hash_at(earlier)
    claimed["seed_from"] = {**claimed["seed_from"], "head_seq": earlier, "head_hash": earlier_hash}
    with owner(ctx) as conn:  # the owner rewrites the entry and re-hashes the chain
        conn.execute(
            audit_log.update()
            .where(audit_log.c.seq == entry["seq"])
            .values(data=json.dumps(claimed, sort_keys=True, separators=(",", ":")))
        )
        rehash_from(conn, entry["seq"])
    with pytest.raises(AuditVerificationFailed, match=f"recorded seed {drawn.seed} does not"):
        service.explain(ctx, drawn.inspection)
    # A head that is no entry of the log (or not one before the draw) is named as such.
    claimed["seed_from"] = {**claimed["seed_from"], "head_seq": entry["seq"] + 5}
    with owner(ctx) as conn:
        conn.execute(
            audit_log.update()
            .where(audit_log.c.seq == entry["seq"])
            .values(data=json.dumps(claimed, sort_keys=True, separators=(",", ":")))
        )
        rehash_from(conn, entry["seq"])
    with pytest.raises(AuditVerificationFailed, match="not an entry of the log before the draw"):
        service.explain(ctx, drawn.inspection)
