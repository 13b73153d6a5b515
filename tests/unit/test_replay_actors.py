"""Who could act when, as replay rebuilds it from `role.change` entries (pure, no database).

One organisation file grants Lan staff of QLDT and Bình office of VP; then entries follow,
each made by someone who could or could not have made it at that moment.
"""

from __future__ import annotations

from typing import Any

import pytest

from workflow.domain import replay
from workflow.domain.audit_chain import canonical_json

ORG = "SO-TEST"


def grant(seq: int, person: str, unit: str, after: list[str]) -> dict[str, Any]:
    return {
        "seq": seq, "action": "role.change", "actor": "operator:test", "role": "admin",
        "organisation": ORG, "subject": f"person:{person}",
        "data": canonical_json({"person": person, "role_name": after[0] if after else "staff",
                                "granted": bool(after), "person_unit": unit, "before": [],
                                "after": after}),
    }  # fmt: skip


GRANTS = [grant(1, "lan", "QLDT", ["staff"]), grant(2, "binh", "VP", ["office"])]


def entry(actor: str, role: str | None, unit: str | None, org: str = ORG) -> dict[str, Any]:
    """A draw-like act about no task: only who made it is judged."""
    return {
        "seq": 3, "action": "inspection.draw", "actor": actor, "role": role, "unit": unit,
        "organisation": org, "subject": "inspection:1", "data": "{}",
    }  # fmt: skip


def problems(*entries: dict[str, Any]) -> list[str]:
    return [p.problem for p in replay.check([*GRANTS, *entries], []).log_problems]


@pytest.mark.parametrize(
    ("made", "named"),
    [
        (entry("binh", "office", "VP"), None),
        (entry("lan", "staff", "QLDT"), None),
        (entry("lan", None, None), None),  # an account's event: existing is enough
        (entry("binh", "system", "QLDT"), None),  # a flow Bình started, for another unit
        (entry("operator:test", "admin", None), None),
        (entry("schedule:inspection/SO-TEST", "system", None), None),
        (entry("ghost", "office", "VP"), "inspection.draw by ghost, whom no earlier role.change"),
        (entry("lan", "office", "QLDT"), "inspection.draw by lan acting as office, a role they "
                                         "did not hold then (they held staff, as of entry 1)"),
        (entry("lan", "staff", "VP"), "inspection.draw by lan of unit VP, but lan was of unit "
                                      "QLDT"),
        (entry("lan", "staff", "QLDT", "SO-KHAC"), "inspection.draw by lan of SO-TEST, acting "
                                                   "as staff in SO-KHAC"),
        (entry("operator:test", "leader", None), "inspection.draw by operator:test, which is "
                                                 "not a person, acting as leader"),
    ],
)  # fmt: skip
def test_each_entry_s_actor_is_held_against_the_grants_before_it(
    made: dict[str, Any], named: str | None
) -> None:
    found = problems(made)
    if named is None:
        assert found == []
    else:
        assert len(found) == 1 and found[0].startswith(named), found


def test_a_revoked_role_no_longer_counts_and_a_later_grant_does_not_count_before() -> None:
    revoked = grant(4, "binh", "VP", [])
    later = {**entry("binh", "office", "VP"), "seq": 5}
    assert problems(revoked, later) == [
        "inspection.draw by binh acting as office, a role they did not hold then (they held "
        "no role, as of entry 4)"
    ]
    early = entry("an", "leader", "BGD")
    assert problems(early, grant(6, "an", "BGD", ["leader"])) == [
        "inspection.draw by an, whom no earlier role.change entry names: no such person was "
        "loaded in any organisation"
    ]
