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
    ADMIN = "admin"  # the system administrator: manages accounts; makes no business move


# Roles that make no business move (a task's move, a dossier, a draw, a record): a person
# holding only these reads (auditor) or administers (admin).
NO_BUSINESS = frozenset({Role.AUDITOR, Role.ADMIN})


@dataclass(frozen=True, slots=True)
class Actor:
    """A person as the rules see them: who, where, and what they may do."""

    id: str
    organisation: str
    unit: str
    roles: frozenset[Role]

    def has(self, role: Role) -> bool:
        return role in self.roles

    def makes_no_business_move(self) -> bool:
        return self.roles <= NO_BUSINESS

    def refusal(self) -> str:
        """Why a person who makes no business move is refused one, in words."""
        if Role.AUDITOR in self.roles and Role.ADMIN not in self.roles:
            return f"{self.id} is an auditor: auditors read and verify, never act"
        return (
            f"{self.id} is an administrator: administrators manage accounts and make no "
            "business move"
        )
