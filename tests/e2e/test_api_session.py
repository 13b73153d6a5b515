"""Signing in and out through the API: the cookie, the session's end (sign-out, idle,
absolute lifetime, revocation, a disabled account, a changed password), CSRF, throttling and
lockout, sign-up, the second factor; and what the log records of each."""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Iterator

import pyotp
import pytest
from fastapi.testclient import TestClient

from tests.e2e.test_api_support import (
    API,
    PASSWORD,
    SESSION_COOKIE,
    Bearer,
    Browser,
    World,
    build_world,
    error,
    secret_of,
    session_credential,
    travelling,
    worlds,
)
from workflow.clock import FixedClock


@pytest.fixture
def world(db_url: str) -> Iterator[World]:
    yield from worlds(db_url)


WRONG = "the login or the password is wrong"


def cookie_header(answer: object) -> str:
    found = [v for k, v in answer.headers.multi_items() if k.lower() == "set-cookie"]  # type: ignore[attr-defined]
    assert len(found) == 1, found
    return str(found[0])


def test_sign_in_sets_a_safe_cookie_and_sign_out_ends_the_session(world: World) -> None:
    world.account("so-a.office1")
    app = world.app()
    browser = Browser(app)
    answer = browser.http.post(
        API + "/session", json={"login": "so-a.office1", "password": PASSWORD}
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["person"] == "so-a.office1" and len(body["csrf_token"]) >= 43
    cookie = cookie_header(answer)
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"httponly", "path", "samesite"} <= attributes and "secure" not in attributes
    assert "samesite=lax" in cookie.lower() and "path=/" in cookie.lower()
    session = browser.http.cookies[SESSION_COOKIE]
    assert len(session) >= 43 and session not in answer.text  # the secret only in the cookie
    browser.csrf = body["csrf_token"]

    me = browser.get("/me").json()
    assert me["person"] == "so-a.office1" and me["organisation"] == "SO-A"
    assert me["roles"] == ["office", "staff"] and me["channel"] == "web"
    assert "tasks:move" in me["permissions"] and "audit:read" in me["permissions"]
    assert me["readable_organisations"] == ["SO-A"]

    gone = browser.delete("/session")
    assert gone.status_code == 204
    assert 'planflow_session=""' in cookie_header(gone) or "Max-Age=0" in cookie_header(gone)
    error(browser.get("/me"), 401, "not_authenticated")
    replayed = TestClient(app, cookies={SESSION_COOKIE: session}).get(API + "/me")
    error(replayed, 401, "not_authenticated")

    started, ended = world.entries(action="session.start"), world.entries(action="session.end")
    assert [e["actor"] for e in started] == ["so-a.office1"]
    assert [e["actor"] for e in ended] == ["so-a.office1"]
    assert ended[0]["channel"] == "web"
    assert ended[0]["credential"] == session_credential(session)
    every = world.entries()
    hashed_csrf = hashlib.sha256(body["csrf_token"].encode()).hexdigest()
    for entry in every:
        assert session not in str(entry) and body["csrf_token"] not in str(entry)
        assert hashed_csrf not in str(entry)


def test_the_cookie_is_secure_over_https_and_from_a_trusted_proxy_only(world: World) -> None:
    world.account("so-a.lan")
    direct = Browser(world.app(), base_url="https://testserver")
    answer = direct.http.post(API + "/session", json={"login": "so-a.lan", "password": PASSWORD})
    assert "secure" in cookie_header(answer).lower()
    assert "strict-transport-security" in {k.lower() for k in answer.headers}

    proxied = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
    trusted = TestClient(world.app(forwarded_allow_ips=("testclient",)))
    signed = trusted.post(
        API + "/session", json={"login": "so-a.lan", "password": PASSWORD}, headers=proxied
    )
    assert "secure" in cookie_header(signed).lower()
    untrusted = TestClient(world.app())
    plain = untrusted.post(
        API + "/session", json={"login": "so-a.lan", "password": PASSWORD}, headers=proxied
    )
    assert "secure" not in cookie_header(plain).lower()


def test_a_wrong_login_and_a_wrong_password_read_the_same(world: World) -> None:
    world.account("so-a.lan")
    http = TestClient(world.app())
    wrong_password = http.post(API + "/session", json={"login": "so-a.lan", "password": "x" * 14})
    unknown = http.post(API + "/session", json={"login": "so-z.nobody", "password": "x" * 14})
    no_account = http.post(API + "/session", json={"login": "so-a.hung", "password": "x" * 14})
    for answer in (wrong_password, unknown, no_account):
        assert WRONG in error(answer, 401, "not_authenticated")
    assert SESSION_COOKIE not in http.cookies


def test_a_session_ends_after_30_idle_minutes_and_after_12_hours(db_url: str) -> None:
    world = travelling(db_url)
    try:
        clock = world.setup.clock
        assert isinstance(clock, FixedClock)
        world.account("so-a.lan")
        app = world.app()
        idle = Browser(app).sign_in("so-a.lan")
        clock.advance(dt.timedelta(minutes=29))
        assert idle.get("/me").status_code == 200  # activity: the idle time starts again
        clock.advance(dt.timedelta(minutes=29))
        assert idle.get("/me").status_code == 200
        clock.advance(dt.timedelta(minutes=31))
        error(idle.get("/me"), 401, "not_authenticated")

        busy = Browser(app).sign_in("so-a.lan")
        for _ in range(11 * 60 // 25 + 2):  # active every 25 minutes, for over 11 hours
            clock.advance(dt.timedelta(minutes=25))
            assert busy.get("/me").status_code == 200
        clock.advance(dt.timedelta(minutes=25))  # past 12 hours since the sign-in
        error(busy.get("/me"), 401, "not_authenticated")
        assert Browser(app).sign_in("so-a.lan").get("/me").status_code == 200
    finally:
        world.close()


def test_revoking_sessions_disabling_and_a_new_password_end_them(world: World) -> None:
    for person in ("so-a.lan", "so-a.hung", "so-a.admin", "so-a.office1"):
        world.account(person)
    app = world.app()
    admin = Browser(app).sign_in("so-a.admin")
    lan, lan_too = Browser(app).sign_in("so-a.lan"), Browser(app).sign_in("so-a.lan")
    revoked = admin.post("/accounts/so-a.lan/revoke-sessions", json={"reason": "máy bị mất"})
    assert revoked.status_code == 200 and revoked.json()["sessions_revoked"] == 2
    error(lan.get("/me"), 401, "not_authenticated")
    error(lan_too.get("/me"), 401, "not_authenticated")

    hung = Browser(app).sign_in("so-a.hung")
    token = world.token("so-a.hung", ["tasks:read"])
    disabled = admin.post("/accounts/so-a.hung/disable", json={"reason": "nghỉ việc"})
    assert disabled.status_code == 200
    error(hung.get("/me"), 401, "not_authenticated")
    error(Bearer(app, token.secret).get("/tasks"), 401, "not_authenticated")
    refused = TestClient(app).post(
        API + "/session", json={"login": "so-a.hung", "password": PASSWORD}
    )
    assert WRONG in error(refused, 401, "not_authenticated")
    assert admin.post("/accounts/so-a.hung/enable").status_code == 200
    assert Browser(app).sign_in("so-a.hung").get("/me").status_code == 200

    office, other = Browser(app).sign_in("so-a.office1"), Browser(app).sign_in("so-a.office1")
    new = "một-mật-khẩu-mới-dài-hơn"
    changed = office.post("/me/password", json={"current": PASSWORD, "new": new})
    assert changed.status_code == 200, changed.text
    error(office.get("/me"), 401, "not_authenticated")
    error(other.get("/me"), 401, "not_authenticated")
    assert Browser(app).sign_in("so-a.office1", new).get("/me").status_code == 200
    wrong = TestClient(app).post(
        API + "/session", json={"login": "so-a.office1", "password": PASSWORD}
    )
    error(wrong, 401, "not_authenticated")
    actions = [e["action"] for e in world.entries(actor="so-a.admin")]
    assert {"account.revoke_sessions", "account.disable", "account.enable"} <= set(actions)


def test_a_cookie_write_without_its_csrf_token_is_refused_and_writes_nothing(
    world: World,
) -> None:
    world.account("so-a.lan")
    app = world.app()
    lan = Browser(app).sign_in("so-a.lan")
    task = world.tasks["SO-A"][0]
    before = len(world.entries())
    missing = lan.write("POST", f"/tasks/{task}/moves/start", csrf=False, headers={"If-Match": "1"})
    assert "X-CSRF-Token" in error(missing, 403, "csrf_failed")
    forged = lan.write(
        "POST",
        f"/tasks/{task}/moves/start",
        csrf=False,
        headers={"If-Match": "1", "X-CSRF-Token": "A" * 43},
    )
    error(forged, 403, "csrf_failed")
    other = Browser(app).sign_in("so-a.lan")  # another session's token is not this one's
    crossed = lan.write(
        "POST",
        f"/tasks/{task}/moves/start",
        csrf=False,
        headers={"If-Match": "1", "X-CSRF-Token": other.csrf or ""},
    )
    error(crossed, 403, "csrf_failed")
    error(lan.write("DELETE", "/session", csrf=False), 403, "csrf_failed")
    assert len(world.entries()) == before + 1  # the second sign-in only
    assert lan.get(f"/tasks/{task}").json()["version"] == 1
    assert lan.move(task, "start", 1).status_code == 200
    # A bearer token needs no CSRF token: a browser never sends one by itself.
    token = world.token("so-a.lan", ["tasks:read", "tasks:move"])
    assert (
        Bearer(app, token.secret).move(task, "submit", 2, {"note": "Báo cáo số 1"}).status_code
        == 200
    )


def test_failed_sign_ins_are_throttled_per_account_then_per_address(world: World) -> None:
    world.account("so-a.lan")
    world.account("so-a.hung")
    app = world.app(forwarded_allow_ips=("testclient",))
    http = TestClient(app)

    def sign_in(login: str, password: str, address: str | None = None) -> object:
        headers = {"X-Forwarded-For": address} if address else {}
        return http.post(
            API + "/session", json={"login": login, "password": password}, headers=headers
        )

    for _ in range(5):
        error(sign_in("so-a.lan", "sai-mật-khẩu-rồi", "198.51.100.1"), 401, "not_authenticated")
    locked = sign_in("so-a.lan", PASSWORD, "198.51.100.2")  # the right password, too late
    error(locked, 429, "too_many_attempts")
    lockouts = world.entries(action="account.lockout")
    assert [e["data"]["person"] for e in lockouts] == ["so-a.lan"]
    assert sign_in("so-a.hung", PASSWORD, "198.51.100.1").status_code == 200  # others unaffected

    # One address trying many logins: 20 failures in 15 minutes, then refused from it.
    for n in range(20):
        sign_in(f"so-z.khong-co-{n}", "sai-mật-khẩu-rồi", "198.51.100.9")
    error(sign_in("so-a.hung", PASSWORD, "198.51.100.9"), 429, "too_many_attempts")
    assert sign_in("so-a.hung", PASSWORD, "198.51.100.10").status_code == 200


def test_a_forwarded_address_is_believed_from_a_configured_proxy_only(world: World) -> None:
    world.account("so-a.hung")
    http = TestClient(world.app())  # no proxy configured: X-Forwarded-For is the client's say
    for n in range(20):
        http.post(
            API + "/session",
            json={"login": f"so-z.khong-co-{n}", "password": "sai-mật-khẩu-rồi"},
            headers={"X-Forwarded-For": f"192.0.2.{n}"},
        )
    spoofed = http.post(
        API + "/session",
        json={"login": "so-a.hung", "password": PASSWORD},
        headers={"X-Forwarded-For": "192.0.2.200"},
    )
    error(spoofed, 429, "too_many_attempts")  # counted by the connection's own address


def test_sign_up_with_an_invitation_through_the_api(world: World) -> None:
    world.account("so-a.admin")
    app = world.app(base_url="https://planflow.example.gov.vn/")
    admin = Browser(app).sign_in("so-a.admin")
    invited = admin.post("/accounts/so-a.leader/invite")
    assert invited.status_code == 201, invited.text
    link = invited.json()["link"]
    assert link.startswith("https://planflow.example.gov.vn/signup?token=")
    secret = secret_of(link)
    http = TestClient(app)
    weak = http.post(API + "/signup", json={"token": secret, "password": "1qaz2wsx3edc"})
    assert "common" in error(weak, 400, "invalid_input")
    short = http.post(API + "/signup", json={"token": secret, "password": "ngắn"})
    assert "short" in error(short, 400, "invalid_input")
    done = http.post(API + "/signup", json={"token": secret, "password": PASSWORD})
    assert done.status_code == 200 and done.json()["person"] == "so-a.leader"
    again = http.post(API + "/signup", json={"token": secret, "password": PASSWORD + "!"})
    error(again, 401, "not_authenticated")
    error(
        http.post(API + "/signup", json={"token": "A" * 43, "password": PASSWORD}),
        401,
        "not_authenticated",
    )
    assert Browser(app).sign_in("so-a.leader").get("/me").json()["roles"] == ["leader"]
    for entry in world.entries():
        assert secret not in str(entry)


def test_a_second_factor_is_set_up_then_required(db_url: str) -> None:
    world = build_world(db_url, second_factor=["office"])
    try:
        world.account("so-a.office2")
        app = world.app()
        office = Browser(app).sign_in("so-a.office2")
        # Until the factor is set up, the session may do that and nothing else.
        error(office.get("/tasks"), 403, "permission_denied")
        started = office.post("/me/second-factor")
        assert started.status_code == 200, started.text
        secret = started.json()["secret"]
        assert started.json()["otpauth_uri"].startswith("otpauth://totp/")
        not_now = "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"
        error(
            office.post("/me/second-factor/confirm", json={"code": not_now}), 400, "invalid_input"
        )
        confirmed_code = pyotp.TOTP(secret).now()
        confirmed = office.post("/me/second-factor/confirm", json={"code": confirmed_code})
        assert confirmed.status_code == 200, confirmed.text

        http = TestClient(app)
        bare = http.post(API + "/session", json={"login": "so-a.office2", "password": PASSWORD})
        assert "second factor code is required" in error(bare, 401, "not_authenticated")
        wrong_code = "111111" if pyotp.TOTP(secret).now() != "111111" else "222222"
        wrong = http.post(
            API + "/session",
            json={"login": "so-a.office2", "password": PASSWORD, "code": wrong_code},
        )
        assert "second factor code is wrong" in error(wrong, 401, "not_authenticated")
        # A code is taken once: the one confirmed is spent; the next step's is good.
        spent = http.post(
            API + "/session",
            json={"login": "so-a.office2", "password": PASSWORD, "code": confirmed_code},
        )
        error(spent, 401, "not_authenticated")
        next_code = pyotp.TOTP(secret).at(time.time() + 30)
        good = Browser(app).sign_in("so-a.office2", code=next_code)
        assert good.get("/tasks").status_code == 200
        # An API token may not change how its owner signs in.
        token = world.token("so-a.office2", ["tasks:read"])
        error(Bearer(app, token.secret).post("/me/second-factor"), 403, "permission_denied")
        error(
            Bearer(app, token.secret).post(
                "/me/password", json={"current": PASSWORD, "new": PASSWORD + "-mới"}
            ),
            403,
            "permission_denied",
        )
    finally:
        world.close()
