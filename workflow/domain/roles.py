"""Roles people hold, and the actor a move is checked against."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    STAFF = "staff"
    UNIT_HEAD = "unit_head"
    OFFICE = "office"  # the coordinating office: follows up, approves, reports
    LEADER = "leader"  # the agency's leadership
    INSPECTOR = "inspector"
    AUDITOR = "auditor"  # reads and verifies the log; never acts on tasks


@dataclass(frozen=True, slots=True)
class Actor:
    """A person as the rules see them: who, where, and what they may do."""

    id: str
    organisation: str
    unit: str
    roles: frozenset[Role]

    def has(self, role: Role) -> bool:
        return role in self.roles
