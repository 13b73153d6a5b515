"""Accounts on both backends: invitations (72 h, one use), the password policy, Argon2id
hashes (never a password nor a secret in the database), administrators and who else may
act, disabling and changing a password ending sessions, the first administrator (once per
database), the database's mode, and a production database refusing a write without a
principal. Every account event is an audit entry with its actor, channel and hashed
credential, and the chain still verifies."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
from sqlalchemy import Engine, select

from tests.conftest import small_agency
from tests.support import log
from workflow.clock import FixedClock, SystemClock
from workflow.definitions.models import OrganisationSpec
from workflow.domain.principals import Channel, Principal
from workflow.errors import InvalidInput, NotAuthenticated, NotFound, PermissionDenied
from workflow.security import secret as secrets
from workflow.services import Context, access, accounts, database, sessions, tokens
from workflow.services import organisations as org_service
from workflow.services import tasks as task_service
from workflow.store.tables import Base
from workflow.store.tables import accounts as accounts_table

BASE = "https://planflow.example.vn"
STRONG = "Ba con mèo trèo cây cau"
OTHER = "Đường lên đỉnh Fansipan"
P = "so-test."


def agency_with_admin(code: str = "SO-TEST") -> OrganisationSpec:
    """The small agency, with a system administrator in its office."""
    spec = small_agency(code).model_dump()
    spec["people"].append(
        {"id": f"{code.lower()}.admin", "name": "Bùi Văn Quản", "unit": "VP", "roles": ["admin"]}
    )
    return OrganisationSpec.model_validate(spec)


def secret_of(invitation: accounts.Invitation) -> str:
    return invitation.link.split("token=", 1)[1]


def signed_up(ctx: Context, person: str, password: str = STRONG) -> None:
    accounts.activate(ctx, secret_of(accounts.invite(ctx, person, BASE)), password)


def acting(ctx: Context, principal: Principal | None) -> Context:
    return dataclasses.replace(ctx, principal=principal)


def stored_text(engine: Engine) -> str:
    """Every row of every table, as text: where a leaked secret would show."""
    out = []
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            out.extend(repr(tuple(row)) for row in conn.execute(select(table)))
    return "\n".join(out)


def account_events(ctx: Context) -> list[dict[str, Any]]:
    return [
        e
        for e in log.entries(ctx)
        if e["action"].startswith(("account.", "session.", "token.", "database."))
    ]


@pytest.fixture
def org(ctx: Context) -> OrganisationSpec:
    spec = agency_with_admin()
    org_service.upsert_organisation(ctx, spec)
    return spec


@pytest.fixture
def prod(engine: Engine) -> Context:
    """A production database (on the system's clock) with the agency loaded before."""
    here = Context(engine, clock=SystemClock(), operator="operator:test")
    org_service.upsert_organisation(here, agency_with_admin())
    assert database.initialise(here, simulation=False, os_user="root") == "production"
    return here


# ----------------------------------------------------------------------------- invitations


def test_an_invitation_is_a_one_time_link_of_which_only_the_hash_is_kept(
    ctx: Context, org: OrganisationSpec
) -> None:
    invitation = accounts.invite(ctx, P + "lan", BASE + "/")
    secret = secret_of(invitation)
    assert invitation.link == f"{BASE}/signup?token={secret}"
    assert len(secret) == 43
    assert invitation.expires_at == ctx.clock.now() + dt.timedelta(hours=72)
    text = stored_text(ctx.engine)
    assert secret not in text
    assert secrets.digest(secret) in text
    assert accounts.activate(ctx, secret, STRONG) == P + "lan"
    with pytest.raises(NotAuthenticated, match="unknown, used or expired"):
        accounts.activate(ctx, secret, OTHER)  # used


def test_an_invitation_expires_after_72_hours(ctx: Context, org: OrganisationSpec) -> None:
    clock = ctx.clock
    assert isinstance(clock, FixedClock)
    late = secret_of(accounts.invite(ctx, P + "lan", BASE))
    in_time = secret_of(accounts.invite(ctx, P + "mai", BASE))
    clock.advance(dt.timedelta(hours=71, minutes=59))
    assert accounts.activate(ctx, in_time, STRONG) == P + "mai"
    clock.advance(dt.timedelta(minutes=1))
    with pytest.raises(NotAuthenticated, match="unknown, used or expired"):
        accounts.activate(ctx, late, STRONG)
    with pytest.raises(NotAuthenticated, match="unknown, used or expired"):
        accounts.activate(ctx, "not-a-link-anyone-was-given", STRONG)


def test_a_new_invitation_replaces_the_one_not_used(ctx: Context, org: OrganisationSpec) -> None:
    first = secret_of(accounts.invite(ctx, P + "lan", BASE))
    second = secret_of(accounts.invite(ctx, P + "lan", BASE))
    with pytest.raises(NotAuthenticated):
        accounts.activate(ctx, first, STRONG)
    assert accounts.activate(ctx, second, STRONG) == P + "lan"
    with pytest.raises(InvalidInput, match=r"signed up already; .* accounts reset"):
        accounts.invite(ctx, P + "lan", BASE)


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("ngắn quá", "too short: at least 12 characters are needed"),
        ("Qwerty123456", "on the list of common passwords"),
        ("anhyeuem123456", "on the list of common passwords"),
        ("mật khẩu so-test.lan", "contains your login"),
    ],
)
def test_a_weak_password_is_refused_and_the_link_stays_good(
    ctx: Context, org: OrganisationSpec, password: str, why: str
) -> None:
    secret = secret_of(accounts.invite(ctx, P + "lan", BASE))
    with pytest.raises(InvalidInput, match=why):
        accounts.activate(ctx, secret, password)
    assert accounts.activate(ctx, secret, STRONG) == P + "lan"


def test_the_password_is_stored_as_an_argon2id_hash_never_in_clear(
    ctx: Context, org: OrganisationSpec
) -> None:
    signed_up(ctx, P + "lan")
    with ctx.engine.connect() as conn:
        stored = conn.execute(
            select(accounts_table.c.password_hash).where(accounts_table.c.person_id == P + "lan")
        ).scalar_one()
    assert stored.startswith("$argon2id$")
    assert STRONG not in stored_text(ctx.engine)
    assert sessions.sign_in(ctx, P + "lan", STRONG, None, "10.0.0.1").person == P + "lan"


# ----------------------------------------------------------------------------- administrators


def test_an_administrator_manages_the_accounts_of_their_organisation_only(
    ctx: Context, org: OrganisationSpec
) -> None:
    org_service.upsert_organisation(ctx, agency_with_admin("SO-KHAC"))
    admin = Principal(P + "admin", Channel.CLI)  # a typed name: a simulation accepts it
    as_admin = acting(ctx, admin)
    invitation = accounts.invite(as_admin, P + "lan", BASE)
    assert invitation.person == P + "lan"
    with pytest.raises(PermissionDenied, match="of SO-TEST may not accounts:admin for SO-KHAC"):
        accounts.invite(as_admin, "so-khac.lan", BASE)
    with pytest.raises(PermissionDenied, match="may not accounts:admin"):
        accounts.invite(acting(ctx, Principal(P + "office1", Channel.CLI)), P + "mai", BASE)
    with pytest.raises(NotFound, match=r"'so-test\.nobody' does not exist"):
        accounts.invite(as_admin, P + "nobody", BASE)
    with pytest.raises(InvalidInput, match="not an http"):
        accounts.invite(as_admin, P + "mai", "planflow.example.vn")
    listed = {a["person"]: a for a in accounts.list_accounts(as_admin, None)}
    assert set(listed) == {p.id for p in org.people}
    assert listed[P + "lan"]["state"] == "invited"
    assert listed[P + "mai"]["state"] == "none"
    with pytest.raises(PermissionDenied):
        accounts.list_accounts(as_admin, "SO-KHAC")
    entry = log.entries(ctx, action="account.invite")[-1]
    assert (entry["actor"], entry["role"], entry["unit"], entry["organisation"]) == (
        P + "admin",
        "admin",
        "VP",
        "SO-TEST",
    )
    assert entry["subject"] == f"account:{P}lan"
    assert entry["data"]["credential_id"] == secrets.digest(secret_of(invitation))


def test_disabling_ends_every_session_and_refuses_sign_ins_and_tokens(
    ctx: Context, org: OrganisationSpec
) -> None:
    signed_up(ctx, P + "lan")
    first = sessions.sign_in(ctx, P + "lan", STRONG, None, "10.0.0.1")
    second = sessions.sign_in(ctx, P + "lan", STRONG, None, "10.0.0.2")
    token = tokens.create(ctx, P + "lan", ["tasks:read"], 30, "báo cáo")
    accounts.disable(ctx, P + "lan", "chuyển công tác")
    for signed in (first, second):
        with pytest.raises(NotAuthenticated):
            sessions.authenticate_session(ctx, signed.session)
    with pytest.raises(NotAuthenticated, match="the login or the password is wrong"):
        sessions.sign_in(ctx, P + "lan", STRONG, None, "10.0.0.1")
    with pytest.raises(NotAuthenticated, match="disabled"):
        tokens.authenticate_token(ctx, token.secret, Channel.API)
    with pytest.raises(InvalidInput, match="disabled already"):
        accounts.disable(ctx, P + "lan", "lại")
    entry = log.entries(ctx, action="account.disable")[-1]
    assert entry["data"]["detail"] == "chuyển công tác (2 sessions ended)"
    accounts.enable(ctx, P + "lan")
    assert sessions.sign_in(ctx, P + "lan", STRONG, None, "10.0.0.1").person == P + "lan"
    assert tokens.authenticate_token(ctx, token.secret, Channel.API).principal.id == P + "lan"
    with pytest.raises(InvalidInput, match="enabled and not locked already"):
        accounts.enable(ctx, P + "lan")
    with pytest.raises(InvalidInput, match="say why"):
        accounts.disable(ctx, P + "lan", "  ")


def test_an_administrator_cannot_disable_their_own_account(
    ctx: Context, org: OrganisationSpec
) -> None:
    signed_up(ctx, P + "admin")
    with pytest.raises(InvalidInput, match="cannot disable their own account"):
        accounts.disable(acting(ctx, Principal(P + "admin", Channel.CLI)), P + "admin", "thử")


def test_a_reset_link_sets_a_new_password_and_ends_the_sessions(
    ctx: Context, org: OrganisationSpec
) -> None:
    signed_up(ctx, P + "lan")
    signed = sessions.sign_in(ctx, P + "lan", STRONG, None, "10.0.0.1")
    reset = accounts.reset(ctx, P + "lan", BASE)
    # Until the link is used, the current password still works.
    sessions.authenticate_session(ctx, signed.session)
    assert accounts.activate(ctx, secret_of(reset), OTHER) == P + "lan"
    with pytest.raises(NotAuthenticated):
        sessions.authenticate_session(ctx, signed.session)
    with pytest.raises(NotAuthenticated):
        sessions.sign_in(ctx, P + "lan", STRONG, None, "10.0.0.1")
    assert sessions.sign_in(ctx, P + "lan", OTHER, None, "10.0.0.1").person == P + "lan"
    changed = log.entries(ctx, action="account.password")[-1]
    assert changed["actor"] == P + "lan"
    assert changed["credential"] == "invitation:" + secrets.digest(secret_of(reset))
    assert changed["data"]["detail"] == "reset with a link (1 session ended)"


def test_revoking_sessions_ends_them_all(ctx: Context, org: OrganisationSpec) -> None:
    signed_up(ctx, P + "lan")
    signed = [sessions.sign_in(ctx, P + "lan", STRONG, None, "10.0.0.1") for _ in range(3)]
    assert accounts.revoke_sessions(ctx, P + "lan", "mất máy tính") == 3
    for one in signed:
        with pytest.raises(NotAuthenticated):
            sessions.authenticate_session(ctx, one.session)
    with pytest.raises(NotFound, match="has no account"):
        accounts.revoke_sessions(ctx, P + "mai", "không có")


# ----------------------------------------------------------------------------- the person


def test_changing_the_password_needs_the_current_one_and_ends_every_session(
    ctx: Context, org: OrganisationSpec
) -> None:
    signed_up(ctx, P + "lan")
    one = sessions.sign_in(ctx, P + "lan", STRONG, None, "10.0.0.1")
    two = sessions.sign_in(ctx, P + "lan", STRONG, None, "10.0.0.2")
    me = acting(ctx, sessions.authenticate_session(ctx, one.session).principal)
    with pytest.raises(NotAuthenticated, match="the current password is wrong"):
        accounts.change_password(me, P + "lan", "không phải mật khẩu", OTHER)
    with pytest.raises(InvalidInput, match="too short"):
        accounts.change_password(me, P + "lan", STRONG, "ngắn")
    with pytest.raises(InvalidInput, match="the new password is the current one"):
        accounts.change_password(me, P + "lan", STRONG, STRONG)
    with pytest.raises(PermissionDenied, match=r"only so-test.mai may change their password"):
        accounts.change_password(me, P + "mai", STRONG, OTHER)
    accounts.change_password(me, P + "lan", STRONG, OTHER)
    for signed in (one, two):
        with pytest.raises(NotAuthenticated):
            sessions.authenticate_session(ctx, signed.session)
    assert sessions.sign_in(ctx, P + "lan", OTHER, None, "10.0.0.1").person == P + "lan"
    entry = log.entries(ctx, action="account.password")[-1]
    assert (entry["actor"], entry["channel"], entry["credential"]) == (
        P + "lan",
        "web",
        "session:" + secrets.digest(one.session),
    )
    assert entry["data"]["detail"] == "2 sessions ended"
    assert OTHER not in stored_text(ctx.engine)


# ----------------------------------------------------------------------------- the database


def test_the_mode_is_chosen_once_and_recorded(ctx: Context, engine: Engine) -> None:
    assert database.mode(ctx) is None
    assert database.initialise(ctx, simulation=True, os_user="thu") == "simulation"
    assert database.initialise(ctx, simulation=True, os_user="thu") == "simulation"
    assert database.mode(ctx) == "simulation"
    with pytest.raises(
        InvalidInput, match=r"is a simulation database .* cannot become a production"
    ):
        database.initialise(ctx, simulation=False, os_user="thu")
    [entry] = log.entries(ctx, action="database.init")
    assert (entry["actor"], entry["subject"], entry["data"]) == (
        "operator:thu",
        "database",
        {"mode": "simulation", "os_user": "thu"},
    )


def test_a_production_database_is_dated_by_the_system_clock(ctx: Context) -> None:
    with pytest.raises(PermissionDenied, match="system's clock"):
        database.initialise(ctx, simulation=False, os_user="root")
    assert database.mode(ctx) is None


def test_a_production_database_refuses_a_write_without_a_principal(prod: Context) -> None:
    assert database.initialise(prod, simulation=False, os_user="root") == "production"
    with pytest.raises(InvalidInput, match="cannot become a simulation"):
        database.initialise(prod, simulation=True, os_user="root")
    with pytest.raises(PermissionDenied, match="production database"):
        accounts.invite(prod, P + "lan", BASE)
    with pytest.raises(PermissionDenied, match="production database"):
        org_service.upsert_organisation(prod, agency_with_admin("SO-KHAC"))
    with pytest.raises(PermissionDenied, match="production database"):
        task_service.create_tasks(prod, [task_service.NewTask("SO-TEST", "A.1", "Báo cáo", "QLDT")])
    # A typed name is no sign-in there.
    typed = acting(prod, Principal(P + "admin", Channel.CLI))
    with pytest.raises(PermissionDenied, match="never a typed name"):
        accounts.invite(typed, P + "lan", BASE)
    assert log.entries(prod, action="account.invite") == []


def test_the_first_administrator_is_made_once_on_the_host_and_can_act_at_once(
    prod: Context,
) -> None:
    with pytest.raises(InvalidInput, match="does not hold the admin role"):
        accounts.bootstrap_admin(prod, P + "office1", "root", BASE)
    invitation, token = accounts.bootstrap_admin(prod, P + "admin", "root", BASE)
    assert token.secret.startswith(f"pft_{token.id}_")
    assert token.permissions == ["accounts:admin", "audit:read", "definitions:load"]
    # Made in the same transaction: the link lasts 72 hours, the token 24.
    assert invitation.expires_at - token.expires_at == dt.timedelta(hours=48)
    with pytest.raises(
        InvalidInput, match=r"administrator account exists already \(so-test.admin\)"
    ):
        accounts.bootstrap_admin(prod, P + "admin", "root", BASE)
    # The token works at once: the administrator invites the office.
    admin = acting(prod, tokens.authenticate_token(prod, token.secret, Channel.CLI).principal)
    office = accounts.invite(admin, P + "office1", BASE)
    # The person signs up in production (their link is their credential) and signs in.
    assert accounts.activate(prod, secret_of(invitation), STRONG) == P + "admin"
    assert accounts.activate(prod, secret_of(office), OTHER) == P + "office1"
    signed = sessions.sign_in(prod, P + "office1", OTHER, None, "10.0.0.9")
    events = {e["action"]: e for e in account_events(prod)}
    found = [(e["action"], e["actor"], e["channel"], e["credential"]) for e in account_events(prod)]
    assert found == [
        ("database.init", "operator:root", None, None),
        ("account.invite", "operator:root", "cli", None),
        ("token.create", "operator:root", "cli", None),
        ("account.invite", P + "admin", "cli", f"token:{token.id}"),
        (
            "account.activate",
            P + "admin",
            "web",
            "invitation:" + secrets.digest(secret_of(invitation)),
        ),
        (
            "account.activate",
            P + "office1",
            "web",
            "invitation:" + secrets.digest(secret_of(office)),
        ),
        ("session.start", P + "office1", "web", "session:" + secrets.digest(signed.session)),
    ]
    assert "detail" not in events["account.invite"]["data"]  # an administrator's invite
    assert log.entries(prod, action="account.invite")[0]["data"]["detail"] == "bootstrap-admin"
    text = stored_text(prod.engine)
    for secret in (
        token.secret,
        secret_of(invitation),
        secret_of(office),
        signed.session,
        signed.csrf,
        STRONG,
        OTHER,
    ):
        assert secret not in text
    assert log.chain_ok(prod).ok


def test_every_account_event_is_an_entry_and_the_chain_verifies(
    ctx: Context, org: OrganisationSpec
) -> None:
    from workflow.services import audit_log

    signed_up(ctx, P + "lan")
    signed = sessions.sign_in(ctx, P + "lan", STRONG, None, "10.0.0.1")
    me = acting(ctx, sessions.authenticate_session(ctx, signed.session).principal)
    key, _uri = accounts.start_second_factor(me, P + "lan")
    from workflow.security import totp

    accounts.confirm_second_factor(me, P + "lan", totp.code_at(key, ctx.clock.now()))
    accounts.revoke_sessions(ctx, P + "lan", "kiểm tra")
    accounts.disable(ctx, P + "lan", "nghỉ phép")
    accounts.enable(ctx, P + "lan")
    made = tokens.create(ctx, P + "lan", ["tasks:read"], 7, "đọc")
    tokens.revoke(ctx, made.id)
    actions = [e["action"] for e in account_events(ctx)]
    assert actions == [
        "account.invite",
        "account.activate",
        "session.start",
        "account.second_factor",
        "account.revoke_sessions",
        "account.disable",
        "account.enable",
        "token.create",
        "token.revoke",
    ]
    second = log.entries(ctx, action="account.second_factor")[0]
    assert (second["actor"], second["channel"], second["credential"]) == (
        P + "lan",
        "web",
        "session:" + secrets.digest(signed.session),
    )
    assert key not in str(log.entries(ctx))
    assert audit_log.verify(ctx).ok


def test_in_production_a_typed_name_reaches_nothing(prod: Context) -> None:
    _invitation, token = accounts.bootstrap_admin(prod, P + "admin", "root", BASE)
    admin = tokens.authenticate_token(prod, token.secret, Channel.CLI).principal
    assert access.access_of(prod, admin).actor.id == P + "admin"
    with pytest.raises(NotAuthenticated, match="never a typed name"):
        access.access_of(prod, Principal(P + "admin", Channel.CLI))
    with pytest.raises(PermissionDenied, match="production database"):
        accounts.list_accounts(prod, "SO-TEST")
    assert {a["person"] for a in accounts.list_accounts(acting(prod, admin), None)} >= {
        P + "admin",
        P + "lan",
    }
