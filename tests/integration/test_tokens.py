"""API tokens on both backends: shown once and stored as a hash, scoped to the person's
organisation and to permissions their roles give (never wider than the credential that
makes one), expiring, revocable; what a token does is recorded with it as the credential."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, select

from tests.integration.test_accounts import (
    BASE,
    STRONG,
    acting,
    agency_with_admin,
    secret_of,
    signed_up,
    stored_text,
)
from tests.support import log
from workflow.clock import FixedClock, SystemClock
from workflow.definitions.models import OrganisationSpec
from workflow.domain.lifecycle import Move, State
from workflow.domain.principals import Channel, Principal
from workflow.errors import InvalidInput, NotAuthenticated, NotFound, PermissionDenied
from workflow.security import secret as secrets
from workflow.services import Context, access, accounts, database, sessions, tokens
from workflow.services import organisations as org_service
from workflow.services import tasks as task_service
from workflow.store.tables import api_tokens

P = "so-test."


@pytest.fixture
def org(ctx: Context) -> OrganisationSpec:
    spec = agency_with_admin()
    org_service.upsert_organisation(ctx, spec)
    org_service.upsert_organisation(ctx, agency_with_admin("SO-KHAC"))
    for person in (P + "lan", P + "office1", P + "admin", "so-khac.lan"):
        signed_up(ctx, person)
    return spec


def test_a_token_is_shown_once_and_only_its_hash_is_kept(
    ctx: Context, org: OrganisationSpec
) -> None:
    made = tokens.create(ctx, P + "lan", ["tasks:read", "tasks:move"], 30, "hệ thống một cửa")
    assert made.secret.startswith(f"pft_{made.id}_") and len(made.secret.split("_", 2)[2]) == 43
    assert (made.person, made.organisation, made.permissions) == (
        P + "lan",
        "SO-TEST",
        ["tasks:move", "tasks:read"],
    )
    assert made.expires_at == ctx.clock.now() + dt.timedelta(days=30)
    with ctx.engine.connect() as conn:
        stored = conn.execute(
            select(api_tokens.c.token_hash).where(api_tokens.c.id == made.id)
        ).scalar_one()
    assert stored == secrets.digest(made.secret)
    assert made.secret not in stored_text(ctx.engine)
    listed = tokens.list_tokens(ctx, "SO-TEST")
    assert [(t["id"], t["label"], t["state"]) for t in listed] == [
        (made.id, "hệ thống một cửa", "active")
    ]
    assert made.secret not in str(listed) and stored not in str(listed)
    [entry] = log.entries(ctx, action="token.create")
    assert entry["subject"] == f"token:{made.id}"
    assert entry["data"] == {
        "person": P + "lan",
        "label": "hệ thống một cửa",
        "permissions": ["tasks:move", "tasks:read"],
        "expires_at": made.expires_at.isoformat(),
    }


def test_a_token_authenticates_its_person_with_its_scope_only(
    ctx: Context, org: OrganisationSpec
) -> None:
    made = tokens.create(ctx, P + "office1", ["tasks:read", "audit:read"], 30, "báo cáo")
    found = tokens.authenticate_token(ctx, made.secret, Channel.API)
    assert found.principal == Principal(
        P + "office1",
        Channel.API,
        credential=f"token:{made.id}",
        permissions=frozenset({"tasks:read", "audit:read"}),
    )
    assert found.csrf_hash is None
    assert {p.value for p in found.access.permissions} == {"tasks:read", "audit:read"}
    assert found.access.readable == frozenset({"SO-TEST"})
    for wrong in (
        made.secret[:-1] + ("x" if made.secret[-1] != "x" else "y"),
        f"pft_{made.id + 1}_" + made.secret.split("_", 2)[2],
        "pft_abc_def",
        "Bearer something",
        "",
    ):
        with pytest.raises(NotAuthenticated, match="the API token is unknown"):
            tokens.authenticate_token(ctx, wrong, Channel.API)


def test_permissions_not_held_unknown_or_durations_out_of_range_are_refused(
    ctx: Context, org: OrganisationSpec
) -> None:
    with pytest.raises(PermissionDenied, match=r"so-test\.lan does not hold reports:write"):
        tokens.create(ctx, P + "lan", ["tasks:read", "reports:write"], 30, "báo cáo")
    with pytest.raises(InvalidInput, match="'tasks:delete' is not a permission"):
        tokens.create(ctx, P + "lan", ["tasks:delete"], 30, "báo cáo")
    with pytest.raises(InvalidInput, match="at least one permission"):
        tokens.create(ctx, P + "lan", [], 30, "báo cáo")
    for days in (0, 367):
        with pytest.raises(InvalidInput, match="from 1 to 366 days"):
            tokens.create(ctx, P + "lan", ["tasks:read"], days, "báo cáo")
    with pytest.raises(InvalidInput, match="needs a label"):
        tokens.create(ctx, P + "lan", ["tasks:read"], 30, "  ")
    with pytest.raises(InvalidInput, match=r"so-test\.mai has no account"):
        tokens.create(ctx, P + "mai", ["tasks:read"], 30, "báo cáo")
    with pytest.raises(NotFound):
        tokens.create(ctx, P + "nobody", ["tasks:read"], 30, "báo cáo")
    assert log.entries(ctx, action="token.create") == []


def test_who_may_make_tokens_for_whom(ctx: Context, org: OrganisationSpec) -> None:
    admin = acting(ctx, Principal(P + "admin", Channel.CLI))
    for_lan = tokens.create(admin, P + "lan", ["dossiers:write"], 10, "một cửa")
    assert for_lan.person == P + "lan"
    with pytest.raises(PermissionDenied, match="may not accounts:admin for SO-KHAC"):
        tokens.create(admin, "so-khac.lan", ["tasks:read"], 10, "khác")
    lan = acting(ctx, Principal(P + "lan", Channel.CLI))
    with pytest.raises(PermissionDenied, match="may not accounts:admin"):
        tokens.create(lan, P + "office1", ["tasks:read"], 10, "của người khác")
    # A person makes their own, never wider than the credential they came with.
    narrow = tokens.create(lan, P + "lan", ["tasks:read"], 10, "chỉ đọc")
    with_narrow = acting(ctx, tokens.authenticate_token(ctx, narrow.secret, Channel.CLI).principal)
    with pytest.raises(PermissionDenied, match="cannot give more than the credential"):
        tokens.create(with_narrow, P + "lan", ["tasks:move"], 10, "rộng hơn")
    assert tokens.create(with_narrow, P + "lan", ["tasks:read"], 5, "vẫn chỉ đọc").person
    # Lists: the administrator sees the organisation's, a person their own.
    assert {t["person"] for t in tokens.list_tokens(admin, None)} == {P + "lan"}
    assert len(tokens.list_tokens(lan, None)) == 3
    with pytest.raises(PermissionDenied, match="only their own tokens"):
        tokens.list_tokens(lan, "SO-KHAC")


def test_a_token_expires(ctx: Context, org: OrganisationSpec) -> None:
    clock = ctx.clock
    assert isinstance(clock, FixedClock)
    made = tokens.create(ctx, P + "lan", ["tasks:read"], 1, "một ngày")
    clock.advance(dt.timedelta(hours=23, minutes=59))
    assert tokens.authenticate_token(ctx, made.secret, Channel.API).principal.id == P + "lan"
    clock.advance(dt.timedelta(minutes=1))
    with pytest.raises(NotAuthenticated, match=f"API token {made.id} expired on"):
        tokens.authenticate_token(ctx, made.secret, Channel.API)
    assert tokens.list_tokens(ctx, "SO-TEST")[0]["state"] == "expired"


def test_a_revoked_token_is_refused_at_once(ctx: Context, org: OrganisationSpec) -> None:
    made = tokens.create(ctx, P + "lan", ["tasks:read"], 30, "thu hồi")
    other = tokens.create(ctx, P + "lan", ["tasks:read"], 30, "giữ lại")
    lan = acting(ctx, Principal(P + "lan", Channel.CLI))
    tokens.revoke(lan, made.id)  # its person may
    with pytest.raises(NotAuthenticated, match=f"API token {made.id} was revoked"):
        tokens.authenticate_token(ctx, made.secret, Channel.API)
    with pytest.raises(InvalidInput, match="already revoked"):
        tokens.revoke(ctx, made.id)
    with pytest.raises(PermissionDenied):
        tokens.revoke(acting(ctx, Principal(P + "office1", Channel.CLI)), other.id)
    with pytest.raises(NotFound, match="API token 999 does not exist"):
        tokens.revoke(ctx, 999)
    assert tokens.authenticate_token(ctx, other.secret, Channel.API).principal.id == P + "lan"
    [entry] = log.entries(ctx, action="token.revoke")
    assert (entry["actor"], entry["subject"], entry["data"]) == (
        P + "lan",
        f"token:{made.id}",
        {"person": P + "lan"},
    )


def test_in_production_what_a_token_does_is_recorded_with_it(engine: Engine) -> None:
    here = Context(engine, clock=SystemClock(), operator="operator:test")
    org_service.upsert_organisation(here, agency_with_admin())
    database.initialise(here, simulation=False, os_user="root")
    invitation, boot = accounts.bootstrap_admin(here, P + "admin", "root", BASE)
    accounts.activate(here, secret_of(invitation), STRONG)
    admin = acting(here, tokens.authenticate_token(here, boot.secret, Channel.CLI).principal)
    # The administrator makes the office a token; the office creates a task with it.
    accounts.activate(here, secret_of(accounts.invite(admin, P + "office1", BASE)), STRONG)
    made = tokens.create(admin, P + "office1", ["tasks:read", "tasks:move"], 30, "CLI")
    office = acting(here, tokens.authenticate_token(here, made.secret, Channel.API).principal)
    [task_id] = task_service.create_tasks(
        office, [task_service.NewTask("SO-TEST", "A.1", "Báo cáo", "VP")]
    )
    entry = log.entries(here, task_id=task_id)[-1]
    assert (entry["actor"], entry["channel"], entry["credential"]) == (
        P + "office1",
        "api",
        f"token:{made.id}",
    )
    # Another's name on a move made with the token is refused, and nothing is written.
    with pytest.raises(PermissionDenied, match=r"cannot record an act of so-test\.office2"):
        task_service.move(office, task_id, Move.START, P + "office2")
    assert task_service.get_task(here, task_id).state is State.ASSIGNED
    task_service.move(office, task_id, Move.START, P + "office1")
    assert log.entries(here, task_id=task_id)[-1]["credential"] == f"token:{made.id}"
    # A session is a credential as good, recorded as its hash.
    signed = sessions.sign_in(here, P + "office1", STRONG, None, "10.0.0.1")
    assert signed.session not in stored_text(engine)
    assert log.chain_ok(here).ok


def test_a_person_reads_their_organisation_and_those_their_file_oversees(
    ctx: Context, org: OrganisationSpec
) -> None:
    province = agency_with_admin("SO-NV").model_dump()
    province["oversees"] = "all"
    org_service.upsert_organisation(ctx, OrganisationSpec.model_validate(province))
    some = agency_with_admin("SO-TC").model_dump()
    some["oversees"] = ["SO-TEST"]
    org_service.upsert_organisation(ctx, OrganisationSpec.model_validate(some))
    signed_up(ctx, "so-nv.auditor")
    made = tokens.create(ctx, "so-nv.auditor", ["audit:read", "tasks:read"], 30, "thanh tra")
    auditor = tokens.authenticate_token(ctx, made.secret, Channel.API).access
    assert auditor.readable == frozenset({"SO-NV", "SO-TEST", "SO-KHAC", "SO-TC"})
    assert access.access_of(ctx, Principal("so-tc.lan", Channel.CLI)).readable == frozenset(
        {"SO-TC", "SO-TEST"}
    )
    assert access.access_of(ctx, Principal(P + "lan", Channel.CLI)).readable == {"SO-TEST"}
    with pytest.raises(NotAuthenticated, match="is not a person"):
        access.access_of(ctx, Principal("schedule:apology", Channel.FLOW, person=False))
    with pytest.raises(NotAuthenticated, match="not a person of any organisation"):
        access.access_of(ctx, Principal(P + "nobody", Channel.CLI))
    # With a credential, an account is needed (in a simulation too).
    with pytest.raises(NotAuthenticated, match=r"so-test\.mai has no enabled account"):
        access.access_of(ctx, Principal(P + "mai", Channel.WEB, credential="session:x"))
