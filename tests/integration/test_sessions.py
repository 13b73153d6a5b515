"""Signing in and sessions on both backends: one generic line for a wrong login or password,
throttling per account (5 failures in 15 minutes lock it for 15, an audit entry) and per
client address (20), the second factor an organisation file requires (a code good once),
sessions ending when idle (30 minutes) or old (12 hours), signing out, CSRF tokens, and one
log event per attempt that never holds the password."""

from __future__ import annotations

import datetime as dt

import pytest
import structlog
from argon2 import PasswordHasher
from sqlalchemy import select, update

from tests.integration.test_accounts import (
    OTHER,
    STRONG,
    acting,
    agency_with_admin,
    signed_up,
    stored_text,
)
from tests.support import log
from workflow.clock import FixedClock
from workflow.definitions.models import OrganisationSpec
from workflow.domain.principals import Channel
from workflow.errors import InvalidInput, NotAuthenticated, TooManyAttempts
from workflow.security import passwords, totp
from workflow.security import secret as secrets
from workflow.services import Context, accounts, sessions
from workflow.services import organisations as org_service
from workflow.store.tables import accounts as accounts_table

P = "so-test."
WRONG = "the login or the password is wrong"


def clock_of(ctx: Context) -> FixedClock:
    assert isinstance(ctx.clock, FixedClock)
    return ctx.clock


@pytest.fixture
def org(ctx: Context) -> OrganisationSpec:
    spec = agency_with_admin()
    org_service.upsert_organisation(ctx, spec)
    for person in ("lan", "mai", "office1"):
        signed_up(ctx, P + person)
    return spec


def second_factor_for_office(ctx: Context) -> None:
    spec = agency_with_admin().model_dump()
    spec["security"] = {"second_factor": ["office"]}
    org_service.upsert_organisation(ctx, OrganisationSpec.model_validate(spec))


# ----------------------------------------------------------------------------- signing in


def test_a_sign_in_opens_a_session_kept_only_as_hashes(ctx: Context, org: OrganisationSpec) -> None:
    with structlog.testing.capture_logs() as logged:
        signed = sessions.sign_in(ctx, P + "lan", STRONG, None, "10.0.0.1")
    assert signed.person == P + "lan"
    assert len(signed.session) == 43 and len(signed.csrf) == 43
    assert signed.expires_at == clock_of(ctx).now() + dt.timedelta(hours=12)
    text = stored_text(ctx.engine)
    assert signed.session not in text and signed.csrf not in text
    assert secrets.digest(signed.session) in text
    found = sessions.authenticate_session(ctx, signed.session)
    assert found.principal.id == P + "lan"
    assert found.principal.channel is Channel.WEB
    assert found.principal.credential == "session:" + secrets.digest(signed.session)
    assert "tasks:move" in found.access.permissions
    assert not found.needs_second_factor
    assert sessions.csrf_matches(found, signed.csrf)
    assert not sessions.csrf_matches(found, signed.session)
    assert not sessions.csrf_matches(found, None)
    assert [e for e in logged if e["event"] == "sign_in"] == [
        {
            "event": "sign_in",
            "login": P + "lan",
            "address": "10.0.0.1",
            "outcome": "success",
            "log_level": "info",
        }
    ]
    [entry] = log.entries(ctx, action="session.start")
    assert entry["actor"] == P + "lan"
    assert entry["credential"] == "session:" + secrets.digest(signed.session)
    assert entry["data"]["detail"] == "from 10.0.0.1"


def test_a_wrong_login_password_or_disabled_account_get_the_same_line(
    ctx: Context, org: OrganisationSpec
) -> None:
    accounts.disable(ctx, P + "mai", "nghỉ việc")
    with structlog.testing.capture_logs() as logged:
        for login, password in [
            (P + "lan", OTHER),  # wrong password
            (P + "nobody", STRONG),  # no such person
            (P + "hung", STRONG),  # a person without an account
            (P + "mai", STRONG),  # disabled
        ]:
            with pytest.raises(NotAuthenticated) as refused:
                sessions.sign_in(ctx, login, password, None, "10.0.0.1")
            assert str(refused.value) == WRONG
    outcomes = [(e["login"], e["outcome"]) for e in logged if e["event"] == "sign_in"]
    assert outcomes == [
        (P + "lan", "failure"),
        (P + "nobody", "failure"),
        (P + "hung", "failure"),
        (P + "mai", "disabled"),
    ]
    assert all(STRONG not in str(e) and OTHER not in str(e) for e in logged)


# ----------------------------------------------------------------------------- throttling


def test_five_failures_lock_the_account_for_fifteen_minutes_with_an_entry(
    ctx: Context, org: OrganisationSpec
) -> None:
    clock = clock_of(ctx)
    for n in range(5):
        clock.advance(dt.timedelta(minutes=2))
        with pytest.raises(NotAuthenticated, match=WRONG):
            sessions.sign_in(ctx, P + "lan", f"sai mật khẩu {n}", None, f"10.0.0.{n}")
    locked_at = clock.now()
    [entry] = log.entries(ctx, action="account.lockout")
    assert (entry["actor"], entry["channel"], entry["organisation"], entry["subject"]) == (
        "client:10.0.0.4",
        "web",
        "SO-TEST",
        f"account:{P}lan",
    )
    assert entry["data"]["detail"] == "5 failed sign-ins within 15 minutes, the last from 10.0.0.4"
    assert entry["data"]["expires_at"] == (locked_at + dt.timedelta(minutes=15)).isoformat()
    # Locked: even the right password is refused, from any address.
    clock.advance(dt.timedelta(minutes=14))
    with pytest.raises(TooManyAttempts, match="locked for 15 minutes"):
        sessions.sign_in(ctx, P + "lan", STRONG, None, "10.9.9.9")
    listed = {a["person"]: a["state"] for a in accounts.list_accounts(ctx, "SO-TEST")}
    assert listed[P + "lan"] == "locked"
    clock.advance(dt.timedelta(minutes=1, seconds=1))
    assert sessions.sign_in(ctx, P + "lan", STRONG, None, "10.9.9.9").person == P + "lan"
    # The failures before the lockout count no more: four new ones do not lock it.
    for n in range(4):
        with pytest.raises(NotAuthenticated):
            sessions.sign_in(ctx, P + "lan", f"sai {n}", None, "10.0.1.1")
    assert sessions.sign_in(ctx, P + "lan", STRONG, None, "10.0.1.1").person == P + "lan"
    assert len(log.entries(ctx, action="account.lockout")) == 1
    assert log.chain_ok(ctx).ok


def test_failures_spread_over_more_than_fifteen_minutes_do_not_lock(
    ctx: Context, org: OrganisationSpec
) -> None:
    clock = clock_of(ctx)
    for n in range(8):
        with pytest.raises(NotAuthenticated, match=WRONG):
            sessions.sign_in(ctx, P + "lan", f"sai {n}", None, "10.0.0.1")
        clock.advance(dt.timedelta(minutes=4))
    assert log.entries(ctx, action="account.lockout") == []
    assert sessions.sign_in(ctx, P + "lan", STRONG, None, "10.0.0.1").person == P + "lan"


def test_an_administrator_unlocks_a_locked_account(ctx: Context, org: OrganisationSpec) -> None:
    for n in range(5):
        with pytest.raises(NotAuthenticated):
            sessions.sign_in(ctx, P + "lan", f"sai {n}", None, "10.0.0.1")
    with pytest.raises(TooManyAttempts):
        sessions.sign_in(ctx, P + "lan", STRONG, None, "10.0.0.2")
    accounts.enable(ctx, P + "lan")
    assert log.entries(ctx, action="account.enable")[-1]["data"]["detail"] == "unlocked"
    clock_of(ctx).advance(dt.timedelta(seconds=1))
    assert sessions.sign_in(ctx, P + "lan", STRONG, None, "10.0.0.2").person == P + "lan"


def test_a_login_without_an_account_is_throttled_as_one_would_be(
    ctx: Context, org: OrganisationSpec
) -> None:
    for n in range(5):
        with pytest.raises(NotAuthenticated, match=WRONG):
            sessions.sign_in(ctx, P + "nobody", f"đoán {n}", None, f"10.0.2.{n}")
    with pytest.raises(TooManyAttempts, match="locked for 15 minutes"):
        sessions.sign_in(ctx, P + "nobody", "đoán nữa", None, "10.0.3.1")


def test_twenty_failures_from_one_address_refuse_it_for_the_window(
    ctx: Context, org: OrganisationSpec
) -> None:
    clock = clock_of(ctx)
    for n in range(20):  # four for each of five logins: no account locks
        login = P + ("lan", "mai", "office1", "hung", "leader")[n % 5]
        with pytest.raises(NotAuthenticated):
            sessions.sign_in(ctx, login, f"đoán {n}", None, "203.0.113.7")
        clock.advance(dt.timedelta(seconds=40))
    with pytest.raises(TooManyAttempts, match="from this address"):
        sessions.sign_in(ctx, P + "lan", STRONG, None, "203.0.113.7")
    # Another address is not concerned; the throttle lifts as the failures age.
    assert sessions.sign_in(ctx, P + "lan", STRONG, None, "198.51.100.1").person == P + "lan"
    clock.advance(dt.timedelta(minutes=15))
    assert sessions.sign_in(ctx, P + "lan", STRONG, None, "203.0.113.7").person == P + "lan"


# ----------------------------------------------------------------------------- second factor


def test_an_organisation_file_can_require_a_second_factor_of_a_role(
    ctx: Context, org: OrganisationSpec
) -> None:
    clock = clock_of(ctx)
    second_factor_for_office(ctx)
    # Not set up yet: the session may set it up, and nothing else.
    first = sessions.sign_in(ctx, P + "office1", STRONG, None, "10.0.0.1")
    found = sessions.authenticate_session(ctx, first.session)
    assert found.needs_second_factor
    assert found.access.permissions == frozenset()
    me = acting(ctx, found.principal)
    key, uri = accounts.start_second_factor(me, P + "office1")
    assert uri.startswith("otpauth://totp/planflow:so-test.office1?")
    with pytest.raises(InvalidInput, match="the second factor code is wrong"):
        accounts.confirm_second_factor(me, P + "office1", "000000")
    accounts.confirm_second_factor(me, P + "office1", totp.code_at(key, clock.now()))
    after = sessions.authenticate_session(ctx, first.session)
    assert not after.needs_second_factor and "tasks:move" in after.access.permissions
    # From now on a code is needed, each good once.
    clock.advance(dt.timedelta(seconds=30))
    with pytest.raises(NotAuthenticated, match="a second factor code is required"):
        sessions.sign_in(ctx, P + "office1", STRONG, None, "10.0.0.1")
    with pytest.raises(NotAuthenticated, match="the second factor code is wrong"):
        sessions.sign_in(ctx, P + "office1", STRONG, "123456", "10.0.0.1")
    code = totp.code_at(key, clock.now())
    assert sessions.sign_in(ctx, P + "office1", STRONG, code, "10.0.0.1").person == P + "office1"
    clock.advance(dt.timedelta(seconds=5))
    with pytest.raises(NotAuthenticated, match="the second factor code is wrong"):
        sessions.sign_in(ctx, P + "office1", STRONG, code, "10.0.0.1")  # used already
    # The code of the step before is still good (a phone's clock drifts), once.
    clock.advance(dt.timedelta(seconds=30))
    late = totp.code_at(key, clock.now() - dt.timedelta(seconds=30))
    with pytest.raises(NotAuthenticated):  # that step's code is the one used above
        sessions.sign_in(ctx, P + "office1", STRONG, late, "10.0.0.1")
    now_code = totp.code_at(key, clock.now())
    assert sessions.sign_in(ctx, P + "office1", STRONG, now_code, "10.0.0.1").person
    # Staff are not concerned.
    assert not sessions.authenticate_session(
        ctx, sessions.sign_in(ctx, P + "lan", STRONG, None, "10.0.0.1").session
    ).needs_second_factor
    [entry] = log.entries(ctx, action="account.second_factor")
    assert entry["actor"] == P + "office1"
    assert key not in str(log.entries(ctx))


def test_wrong_codes_count_towards_the_lockout(ctx: Context, org: OrganisationSpec) -> None:
    clock = clock_of(ctx)
    signed = sessions.sign_in(ctx, P + "lan", STRONG, None, "10.0.0.1")
    me = acting(ctx, sessions.authenticate_session(ctx, signed.session).principal)
    key, _ = accounts.start_second_factor(me, P + "lan")
    accounts.confirm_second_factor(me, P + "lan", totp.code_at(key, clock.now()))
    with pytest.raises(InvalidInput, match="has a second factor already"):
        accounts.start_second_factor(me, P + "lan")
    for _ in range(5):
        clock.advance(dt.timedelta(seconds=31))
        with pytest.raises(NotAuthenticated, match="code is wrong"):
            sessions.sign_in(ctx, P + "lan", STRONG, "999999", "10.0.0.1")
    with pytest.raises(TooManyAttempts):
        sessions.sign_in(ctx, P + "lan", STRONG, totp.code_at(key, clock.now()), "10.0.0.1")


# ----------------------------------------------------------------------------- sessions


def test_a_session_ends_after_thirty_idle_minutes(ctx: Context, org: OrganisationSpec) -> None:
    clock = clock_of(ctx)
    signed = sessions.sign_in(ctx, P + "lan", STRONG, None, "10.0.0.1")
    for _ in range(4):  # activity keeps it open
        clock.advance(dt.timedelta(minutes=29))
        sessions.authenticate_session(ctx, signed.session)
    clock.advance(dt.timedelta(minutes=30, seconds=1))
    with pytest.raises(NotAuthenticated, match="more than 30 minutes without activity"):
        sessions.authenticate_session(ctx, signed.session)


def test_the_idle_timeout_is_configurable(
    ctx: Context, org: OrganisationSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLANFLOW_SESSION_IDLE_MINUTES", "5")
    signed = sessions.sign_in(ctx, P + "lan", STRONG, None, "10.0.0.1")
    clock_of(ctx).advance(dt.timedelta(minutes=6))
    with pytest.raises(NotAuthenticated, match="more than 5 minutes without activity"):
        sessions.authenticate_session(ctx, signed.session)
    monkeypatch.setenv("PLANFLOW_SESSION_IDLE_MINUTES", "zero")
    with pytest.raises(InvalidInput, match="PLANFLOW_SESSION_IDLE_MINUTES='zero'"):
        sessions.authenticate_session(ctx, signed.session)


def test_a_session_ends_after_twelve_hours_whatever_its_activity(
    ctx: Context, org: OrganisationSpec
) -> None:
    clock = clock_of(ctx)
    signed = sessions.sign_in(ctx, P + "lan", STRONG, None, "10.0.0.1")
    for _ in range(47):  # every quarter of an hour for 11 h 45 min
        clock.advance(dt.timedelta(minutes=15))
        sessions.authenticate_session(ctx, signed.session)
    clock.advance(dt.timedelta(minutes=15))
    with pytest.raises(NotAuthenticated, match="sessions last 12 hours"):
        sessions.authenticate_session(ctx, signed.session)


def test_signing_out_ends_the_session(ctx: Context, org: OrganisationSpec) -> None:
    signed = sessions.sign_in(ctx, P + "lan", STRONG, None, "10.0.0.1")
    other = sessions.sign_in(ctx, P + "lan", STRONG, None, "10.0.0.2")
    sessions.sign_out(ctx, signed.session)
    sessions.sign_out(ctx, signed.session)  # again: nothing to do
    sessions.sign_out(ctx, "never-was-a-session")
    with pytest.raises(NotAuthenticated, match="unknown or has ended"):
        sessions.authenticate_session(ctx, signed.session)
    assert sessions.authenticate_session(ctx, other.session).principal.id == P + "lan"
    [entry] = log.entries(ctx, action="session.end")
    assert entry["actor"] == P + "lan"
    assert entry["credential"] == "session:" + secrets.digest(signed.session)
    with pytest.raises(NotAuthenticated):
        sessions.authenticate_session(ctx, "never-was-a-session")


def test_a_hash_of_older_parameters_is_replaced_at_the_next_sign_in(
    ctx: Context, org: OrganisationSpec
) -> None:
    older = PasswordHasher(time_cost=1, memory_cost=8192).hash(STRONG)
    with ctx.engine.begin() as conn:  # as a planflow of older parameters left it
        conn.execute(
            update(accounts_table)
            .where(accounts_table.c.person_id == P + "lan")
            .values(password_hash=older)
        )
    assert sessions.sign_in(ctx, P + "lan", STRONG, None, "10.0.0.1").person == P + "lan"
    with ctx.engine.connect() as conn:
        now_stored = conn.execute(
            select(accounts_table.c.password_hash).where(accounts_table.c.person_id == P + "lan")
        ).scalar_one()
    assert now_stored != older and now_stored.startswith("$argon2id$")
    assert not passwords.needs_rehash(now_stored)
    assert sessions.sign_in(ctx, P + "lan", STRONG, None, "10.0.0.1").person == P + "lan"
