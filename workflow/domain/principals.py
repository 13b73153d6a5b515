"""Who is acting, and through what: established by the adapter from something the request
cannot choose (a signed-in session, an API token, the schedule that started a flow), never
from a name it typed. Every audit entry records it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Channel(StrEnum):
    WEB = "web"  # a signed-in person's browser
    API = "api"  # another system, with an API token
    CLI = "cli"  # the command line
    FLOW = "flow"  # a Prefect flow run (started by a person, or by its schedule)


@dataclass(frozen=True, slots=True)
class Principal:
    """`id` is a person's id, `schedule:<flow>` for a scheduled run, or `operator:<user>`
    for what the database's own host does (its first administrator, a simulation).
    `credential` names the session or token it came with, hashed (never the secret).
    `permissions` is a token's scope (None: whatever the person's roles allow)."""

    id: str
    channel: Channel
    credential: str | None = None
    person: bool = True
    permissions: frozenset[str] | None = None

    def through(self, channel: Channel) -> Principal:
        """The same principal acting through another channel (a flow a person started)."""
        return Principal(self.id, channel, self.credential, self.person, self.permissions)


def schedule(flow: str) -> Principal:
    """A run started by its schedule: the schedule is who acts."""
    return Principal(f"schedule:{flow}", Channel.FLOW, person=False)


def operator(user: str, channel: Channel = Channel.CLI) -> Principal:
    """The operating-system user on the database's host (bootstrap, simulations)."""
    return Principal(f"operator:{user}", channel, person=False)
