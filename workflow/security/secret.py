"""Random secrets (session ids, CSRF tokens, sign-up links, API tokens) and how they are
kept: only a SHA-256 digest is stored, and a presented secret is compared with it in
constant time.

SHA-256 (not a slow hash) is enough here: each secret is 256 random bits, so nobody can
guess one from its digest; passwords, which people choose, are the `passwords` module's.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SECRET_BYTES = 32  # 256 bits: `token_urlsafe` writes them as 43 characters


def new_secret() -> str:
    """A fresh 256-bit secret, URL-safe (it goes into links, cookies and headers)."""
    return secrets.token_urlsafe(SECRET_BYTES)


def digest(secret: str) -> str:
    """What is stored for a secret: its SHA-256, in hex."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def matches(secret: str, stored_digest: str) -> bool:
    """Whether `secret` is the one `stored_digest` was made from, in constant time (no
    early exit that would tell how much of a guess was right)."""
    return hmac.compare_digest(digest(secret), stored_digest)
