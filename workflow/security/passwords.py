"""Passwords: hashed with Argon2id (argon2-cffi's PasswordHasher with its defaults, which
follow RFC 9106's recommendations and move with the library), and the policy a new one
must meet.

The policy follows NIST SP 800-63B: a minimum length (12), no composition rules, refused
when on a list of common passwords or when it contains the person's id.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 12
# Far beyond any real password; a bound keeps a megabyte "password" from being hashed.
MAX_LENGTH = 256

_HASHER = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Verified when the login is unknown or has no password yet, so that a wrong login
    takes as long to refuse as a wrong password (timing does not tell which logins exist).
    Made on first use: hashing costs tens of milliseconds, which no other command pays."""
    return _HASHER.hash("planflow: no such account, a password nobody has")


@cache
def common_passwords() -> frozenset[str]:
    """The list shipped with the package (see the file's header), lower-cased."""
    text = resources.files(__package__).joinpath("common_passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line and not line.startswith("#")
    )


def weakness(password: str, person_id: str) -> str | None:
    """Why `password` may not be used by `person_id`, in one line; None when it may."""
    if len(password) < MIN_LENGTH:
        return f"the password is too short: at least {MIN_LENGTH} characters are needed"
    if len(password) > MAX_LENGTH:
        return f"the password is too long: at most {MAX_LENGTH} characters"
    lowered = password.lower()
    if lowered in common_passwords():
        return "the password is on the list of common passwords; choose another"
    if person_id and person_id.lower() in lowered:
        return "the password contains your login; choose one that does not"
    return None


def hash_password(password: str) -> str:
    """The Argon2id hash to store (it carries its own salt and parameters)."""
    return _HASHER.hash(password)


def verify(stored_hash: str | None, password: str) -> bool:
    """Whether `password` is the one `stored_hash` was made from. With no hash (no such
    account, or not signed up yet) it still spends the time of a verification."""
    if len(password) > MAX_LENGTH:
        return False
    try:
        return _HASHER.verify(stored_hash or _dummy_hash(), password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """Whether the hash was made with other parameters than the library's current ones
    (it is then replaced at the next successful sign-in, when the password is at hand)."""
    try:
        return _HASHER.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True
