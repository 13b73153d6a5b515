"""What accounts stand on: the password policy and Argon2id hashes, second-factor codes
(drift, single use), and random secrets kept as digests."""

from __future__ import annotations

import datetime as dt
import hashlib

import pyotp
import pytest
from argon2 import PasswordHasher

from workflow.security import passwords, secret, totp

AT = dt.datetime(2024, 3, 1, 2, 0, 15, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("ngắn-quá", "too short: at least 12 characters"),
        ("a" * 11, "too short"),
        ("x" * 257, "too long: at most 256"),
        ("qwerty123456", "on the list of common passwords"),
        ("QWERTY123456", "on the list of common passwords"),  # compared case-insensitively
        ("1qaz2wsx3edc", "on the list of common passwords"),
        ("AnhYeuEm123456", "on the list of common passwords"),  # Vietnamese ones
        ("matkhau123456", "on the list of common passwords"),
        ("dichvucong@123", "on the list of common passwords"),
        ("tôi-là-SO-TEST.LAN-đây", "contains your login"),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(password: str, why: str) -> None:
    found = passwords.weakness(password, "so-test.lan")
    assert found is not None and why in found


def test_a_long_uncommon_password_is_accepted() -> None:
    assert passwords.weakness("Ba con mèo trèo cây cau", "so-test.lan") is None
    assert passwords.weakness("a" * 12 + "b", "so-test.lan") is None


def test_the_list_holds_zxcvbns_thirty_thousand_and_the_vietnamese_ones() -> None:
    common = passwords.common_passwords()
    assert len(common) >= 30_000 + 100
    for word in ("123456", "password", "trustno1", "matkhau", "anhyeuem", "123456a@"):
        assert word in common


def test_a_password_is_stored_as_an_argon2id_hash_that_verifies_it() -> None:
    stored = passwords.hash_password("Ba con mèo trèo cây cau")
    assert stored.startswith("$argon2id$")
    assert "mèo" not in stored
    assert passwords.verify(stored, "Ba con mèo trèo cây cau")
    assert not passwords.verify(stored, "Ba con mèo trèo cây cao")
    assert passwords.hash_password("Ba con mèo trèo cây cau") != stored  # salted
    assert not passwords.needs_rehash(stored)


def test_no_hash_never_verifies_and_a_hash_of_other_parameters_needs_rehashing() -> None:
    assert not passwords.verify(None, "anything at all here")
    assert not passwords.verify("not a hash", "anything at all here")
    weaker = PasswordHasher(time_cost=1, memory_cost=8192).hash("Ba con mèo trèo cây cau")
    assert passwords.verify(weaker, "Ba con mèo trèo cây cau")
    assert passwords.needs_rehash(weaker)


def test_a_code_is_accepted_within_one_step_of_drift_either_way() -> None:
    key = totp.new_secret()
    step = totp.step_at(AT)
    for drift in (-1, 0, 1):
        code = totp.code_at(key, AT + dt.timedelta(seconds=30 * drift))
        assert totp.matching_step(key, code, AT, None) == step + drift
    for drift in (-2, 2):
        code = totp.code_at(key, AT + dt.timedelta(seconds=30 * drift))
        assert totp.matching_step(key, code, AT, None) is None


def test_a_code_already_used_is_refused() -> None:
    key = totp.new_secret()
    code = totp.code_at(key, AT)
    used = totp.matching_step(key, code, AT, None)
    assert used is not None
    assert totp.matching_step(key, code, AT, used) is None
    assert totp.matching_step(key, code, AT + dt.timedelta(seconds=20), used) is None
    later = totp.code_at(key, AT + dt.timedelta(seconds=30))
    assert totp.matching_step(key, later, AT + dt.timedelta(seconds=30), used) == used + 1


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "１２３４５６"])
def test_a_malformed_code_matches_nothing(code: str) -> None:
    assert totp.matching_step(totp.new_secret(), code, AT, None) is None


def test_codes_are_what_an_authenticator_app_computes() -> None:
    key = totp.new_secret()
    assert totp.code_at(key, AT) == pyotp.TOTP(key).at(AT)
    uri = totp.provisioning_uri(key, "so-test.lan")
    assert uri.startswith("otpauth://totp/planflow:so-test.lan?")
    assert f"secret={key}" in uri


def test_secrets_are_256_bits_and_kept_as_their_sha256() -> None:
    made = {secret.new_secret() for _ in range(100)}
    assert len(made) == 100
    one = made.pop()
    assert len(one) == 43
    assert secret.digest(one) == hashlib.sha256(one.encode()).hexdigest()
    assert secret.matches(one, secret.digest(one))
    assert not secret.matches(one[:-1] + ("A" if one[-1] != "A" else "B"), secret.digest(one))
