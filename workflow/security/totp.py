"""Second factor: time-based one-time codes (RFC 6238, through pyotp): 6 digits, 30-second
steps, a code of the step before or after accepted (a phone's clock drifts), each step's code
accepted once (the caller keeps the last step accepted and passes it back)."""

from __future__ import annotations

import datetime as dt
import hmac

import pyotp

STEP_SECONDS = 30
DRIFT_STEPS = 1
ISSUER = "planflow"


def new_secret() -> str:
    """A fresh shared secret (base32, 160 bits: RFC 4226's recommended length)."""
    return pyotp.random_base32()


def provisioning_uri(secret: str, person_id: str) -> str:
    """The otpauth:// URI an authenticator app reads (as a QR code or typed)."""
    return pyotp.TOTP(secret, interval=STEP_SECONDS).provisioning_uri(
        name=person_id, issuer_name=ISSUER
    )


def step_at(at: dt.datetime) -> int:
    """The 30-second step an instant falls in."""
    return int(at.timestamp()) // STEP_SECONDS


def code_at(secret: str, at: dt.datetime) -> str:
    """The code of the step `at` falls in (what an authenticator app shows then)."""
    return pyotp.TOTP(secret, interval=STEP_SECONDS).generate_otp(step_at(at))


def matching_step(secret: str, code: str, at: dt.datetime, last_step: int | None) -> int | None:
    """The step whose code `code` is, within one step of `at`, and later than `last_step`
    (a code already accepted is not accepted again); None when there is none."""
    code = code.replace(" ", "").strip()
    if not (code.isascii() and code.isdigit()) or len(code) != 6:
        return None
    totp = pyotp.TOTP(secret, interval=STEP_SECONDS)
    now = step_at(at)
    found = None
    # Every candidate is compared (no early exit), each in constant time.
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code) and (
            last_step is None or step > last_step
        ):
            found = step
    return found
