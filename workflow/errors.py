"""Errors a user can cause, each with the documented exit code the CLI returns for it.

Exit codes: 0 done; 1 a bug (never a user's mistake); 2 invalid input; 3 move not allowed
in the current state; 4 not permitted for this person; 5 conflict; 6 audit verification
failed; 7 the database cannot be reached or opened; 143 stopped by SIGTERM while a flow ran.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class PlanflowError(Exception):
    """Base of every error meant for a user: one clear line, one exit code."""

    exit_code = 1


class InvalidInput(PlanflowError):
    exit_code = 2


class NotFound(InvalidInput):
    """An unknown task, person, unit, plan or organisation id."""


class NotAuthenticated(PlanflowError):
    """Nobody (or nobody valid) signed in: no session, an ended one, a wrong password, an
    unknown, expired or revoked token (HTTP 401)."""

    exit_code = 4


class TooManyAttempts(PlanflowError):
    """Sign-ins refused for a while: too many failures for the account or the address
    (HTTP 429)."""

    exit_code = 4


class MoveNotAllowed(PlanflowError):
    exit_code = 3


class PermissionDenied(PlanflowError):
    exit_code = 4


class OtherAgency(PermissionDenied):
    """A person acting on another agency's object: an adapter may answer as if it did not
    exist (HTTP 404) to whoever may not even read that agency's records."""

    def __init__(self, message: str, organisation: str) -> None:
        super().__init__(message)
        self.organisation = organisation


class Conflict(PlanflowError):
    exit_code = 5


class AuditVerificationFailed(PlanflowError):
    exit_code = 6


class SignatureInvalid(AuditVerificationFailed):
    """A signature that does not hold (`planflow documents verify-signature`): the file was
    changed after it was signed, the signature is not the certificate's, it covers part of
    the file, or the certificate does not chain to a trust root given. Exit 6, as every
    failed verification."""


class StoreUnavailable(PlanflowError):
    exit_code = 7


class ServiceUnavailable(PlanflowError):
    """A service planflow needs besides the database is not there (the Prefect server)."""

    exit_code = 7


class Stopped(PlanflowError):
    """The command was asked to stop (SIGTERM) while a flow ran: what the flow committed
    stays, the batch it was in is rolled back, and running it again finishes the work.
    128 + SIGTERM, as a shell reports a process SIGTERM ended."""

    exit_code = 143


class ManyProblems(InvalidInput):
    """Bad input with several problems, each reported on its own line (to stderr, or in the
    JSON) before the one closing line this error's message is."""

    def __init__(self, problems: Sequence[Any], summary: str) -> None:
        super().__init__(summary)
        self.problems = list(problems)


class ImportProblems(ManyProblems):
    """Rows of an imported file that cannot be taken: nothing of the file is stored."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(problems, f"{len(problems)} bad row(s); nothing was imported")


class DefinitionProblems(ManyProblems):
    """Definition files with problems (`file:line:column: message` each): nothing loaded."""

    def __init__(self, problems: Sequence[Any], *, loading: bool = True) -> None:
        plural = "s" if len(problems) != 1 else ""
        # `plans validate` loads nothing in any case: its closing line is the count alone.
        tail = " in the definitions; nothing was loaded" if loading else ""
        super().__init__(problems, f"{len(problems)} problem{plural}{tail}")


class RecordInvalid(InvalidInput):
    """An inspection record that cannot be accepted: every problem, each with where it is
    in the record (`workflow.domain.inspection` words the places)."""

    def __init__(self, problems: Sequence[tuple[Any, str]], message: str) -> None:
        super().__init__(message)
        self.problems = list(problems)
