"""What a late (or soon late) dossier needs on a given day: an apology, an escalation, nothing.

Decree 61/2018/NĐ-CP Art. 19(9): when a dossier will be late, the agency apologises in
writing no later than `notice_working_days` before the due date and sets a new return date;
the date may be re-set only `max_extensions` times. A dossier that then misses its extended
date is escalated to leadership, never re-set again. The rules are data (a rule set per legal
regime, chosen by effective date); this module only applies them. Pure: no I/O.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from workflow.domain.calendar import WorkingCalendar
from workflow.domain.lifecycle import NOT_DONE, State


@dataclass(frozen=True, slots=True)
class ApologyRules:
    id: str
    effective_from: dt.date
    notice_working_days: int
    max_extensions: int
    default_extension_working_days: int
    form_code: str
    form_title: str
    form_source: str
    apology_text: str
    legal_basis: tuple[str, ...]
    verified: bool


def rules_in_force(rule_sets: Sequence[ApologyRules], on: dt.date) -> ApologyRules | None:
    """The rule set of the regime in force on a day: the latest that took effect by then."""
    eligible = [r for r in rule_sets if r.effective_from <= on]
    return max(eligible, key=lambda r: r.effective_from) if eligible else None


@dataclass(frozen=True, slots=True)
class DossierFacts:
    task_id: int
    state: State
    current_due: dt.date
    extension_count: int
    delay_days: int | None
    escalated: bool


@dataclass(frozen=True, slots=True)
class Apology:
    kind: Literal["apology"]
    missed_due: dt.date  # the due date the letter apologises for (missed, or about to be)
    new_due: dt.date
    extension_working_days: int
    late: bool  # already past the due date (the letter is late too)


@dataclass(frozen=True, slots=True)
class Escalation:
    kind: Literal["escalation"]
    missed_due: dt.date


def notice_window_end(as_of: dt.date, calendar: WorkingCalendar, rules: ApologyRules) -> dt.date:
    """Dossiers due on or before this day must have their apology by `as_of`."""
    if rules.notice_working_days == 0:
        return as_of
    return calendar.add_working_days(as_of, rules.notice_working_days).due


def decide(
    dossier: DossierFacts, as_of: dt.date, calendar: WorkingCalendar, rules: ApologyRules
) -> Apology | Escalation | None:
    if dossier.state not in NOT_DONE:
        return None  # approved (verified) or returned: nothing to apologise for
    if dossier.current_due > notice_window_end(as_of, calendar, rules):
        return None
    if dossier.extension_count < rules.max_extensions:
        days = dossier.delay_days or rules.default_extension_working_days
        late = dossier.current_due < as_of
        # Counting restarts from the due date, or from today when it has already passed:
        # a new return date is never in the past.
        base = as_of if late else dossier.current_due
        new_due = calendar.add_working_days(base, days).due
        return Apology("apology", dossier.current_due, new_due, days, late)
    if dossier.current_due < as_of and not dossier.escalated:
        return Escalation("escalation", dossier.current_due)
    return None
