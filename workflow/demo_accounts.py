"""Accounts for the demo's people, to try the web pages with (`planflow demo --web`).

Every person of every organisation loaded gets a generated password, made as an
administrator would make it (an invitation, or a reset for an account that exists, then the
sign-up with the link's secret: the same services, each act in the audit log). Only in a
simulation database: a production database's people choose their own passwords, and are
refused here before anything is written.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from workflow.context import Context
from workflow.errors import PermissionDenied, StoreUnavailable
from workflow.security import passwords
from workflow.services import accounts
from workflow.services import database as database_service

# Letters and digits that cannot be read for one another (no 0/o, 1/l/i): the passwords are
# read off a terminal and typed.
ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
GROUPS, GROUP_LENGTH = 4, 4


@dataclass(frozen=True)
class DemoAccount:
    person: str
    name: str
    organisation: str
    unit: str
    roles: tuple[str, ...]
    password: str


def new_password(person_id: str) -> str:
    """19 characters (4 groups of 4, ~79 bits), accepted by the password policy."""
    while True:
        made = "-".join(
            "".join(secrets.choice(ALPHABET) for _ in range(GROUP_LENGTH)) for _ in range(GROUPS)
        )
        if passwords.weakness(made, person_id) is None:
            return made


def is_demo_database(ctx: Context) -> bool:
    """Whether the database is a simulation one with organisations loaded (a demo's run
    made it): used as it is, not simulated again."""
    from workflow.services import organisations as org_service

    try:
        mode = database_service.mode(ctx)
    except StoreUnavailable:
        return False
    return mode == "simulation" and bool(org_service.list_organisations(ctx))


def give_accounts(ctx: Context, base_url: str) -> list[DemoAccount]:
    """A fresh password for every person loaded, by organisation and id. `ctx`: the
    simulation's operator, on the system's clock (the links are used at once)."""
    if database_service.mode(ctx) != "simulation":
        raise PermissionDenied(
            "demo accounts with printed passwords are made in a simulation database only; "
            "this one is a production database (or was never initialised): its people "
            "sign up with the links an administrator gives them"
        )
    made = []
    for row in accounts.list_accounts(ctx, None):
        person = row["person"]
        if row["state"] == "disabled":
            accounts.enable(ctx, person)
        if row["state"] == "none":
            link = accounts.invite(ctx, person, base_url).link
        else:
            link = accounts.reset(ctx, person, base_url).link
        password = new_password(person)
        accounts.activate(ctx, _secret(link), password)
        made.append(
            DemoAccount(
                person,
                row["name"],
                row["organisation"],
                row["unit"],
                tuple(row["roles"]),
                password,
            )
        )
    return made


def _secret(link: str) -> str:
    return parse_qs(urlsplit(link).query)["token"][0]
