"""Errors a user can cause, each with the documented exit code the CLI returns for it.

Exit codes: 0 done; 1 a bug (never a user's mistake); 2 invalid input; 3 move not allowed
in the current state; 4 not permitted for this person; 5 conflict; 6 audit verification
failed; 7 the database cannot be reached or opened.
"""

from __future__ import annotations


class PlanflowError(Exception):
    """Base of every error meant for a user: one clear line, one exit code."""

    exit_code = 1


class InvalidInput(PlanflowError):
    exit_code = 2


class NotFound(InvalidInput):
    """An unknown task, person, unit, plan or organisation id."""


class MoveNotAllowed(PlanflowError):
    exit_code = 3


class PermissionDenied(PlanflowError):
    exit_code = 4


class Conflict(PlanflowError):
    exit_code = 5


class AuditVerificationFailed(PlanflowError):
    exit_code = 6


class StoreUnavailable(PlanflowError):
    exit_code = 7
