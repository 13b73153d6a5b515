"""Loading an organisation file records one entry per role granted or revoked (person, role,
unit, before, after), in the order the file lists people, roles sorted: who held which role
at any moment can be rebuilt from the log alone, on both backends."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.conftest import small_agency
from tests.support import log
from workflow.clock import FixedClock
from workflow.definitions.models import OrganisationSpec
from workflow.services import Context
from workflow.services import organisations as org_service

P = "so-test."


def roles_in_log(ctx: Context, until_seq: int | None = None) -> dict[str, set[str]]:
    """Who holds which role, as the log's role entries alone say (up to `until_seq`)."""
    held: dict[str, set[str]] = {}
    for entry in log.entries(ctx, action="role.change"):
        if until_seq is not None and entry["seq"] > until_seq:
            break
        data = entry["data"]
        roles = held.setdefault(data["person"], set())
        if data["granted"]:
            roles.add(data["role_name"])
        else:
            roles.discard(data["role_name"])
    return {person: roles for person, roles in held.items() if roles}


def roles_stored(ctx: Context) -> dict[str, set[str]]:
    return {
        p["id"]: set(p["roles"])
        for p in org_service.show_organisation(ctx, "SO-TEST")["people"]
        if p["roles"]
    }


def changed(spec: OrganisationSpec, people: dict[str, dict[str, Any]]) -> OrganisationSpec:
    """`spec` with these people's entries replaced (or added, at the end)."""
    raw = spec.model_dump()
    listed = {p["id"]: p for p in raw["people"]}
    for person_id, values in people.items():
        if person_id in listed:
            listed[person_id].update(values)
        else:
            raw["people"].append({"id": person_id, **values})
    return OrganisationSpec.model_validate(raw)


def test_the_first_load_grants_every_role_in_the_files_order(ctx: Context) -> None:
    spec = small_agency()
    org_service.upsert_organisation(ctx, spec)
    entries = log.entries(ctx, action="role.change")
    expected = [(p.id, r) for p in spec.people for r in sorted({r.value for r in p.roles})]
    assert [(e["data"]["person"], e["data"]["role_name"]) for e in entries] == expected
    office1 = [e for e in entries if e["data"]["person"] == P + "office1"]
    assert [e["data"] for e in office1] == [
        {
            "person": P + "office1",
            "role_name": role,
            "granted": True,
            "person_unit": "VP",
            "before": [],
            "after": ["office", "staff"],
        }
        for role in ("office", "staff")
    ]
    first = entries[0]
    assert (first["actor"], first["role"], first["organisation"], first["subject"]) == (
        "operator:test",
        "admin",
        "SO-TEST",
        f"person:{P}lan",
    )
    # The organisation's own entry is as it was, before the grants.
    [loaded] = log.entries(ctx, action="organisation.load")
    assert loaded["seq"] < first["seq"]
    assert loaded["data"]["people"] == len(spec.people)
    assert roles_in_log(ctx) == roles_stored(ctx)


def test_a_reload_records_what_it_grants_and_revokes_and_the_log_rebuilds_it(
    ctx: Context,
) -> None:
    clock = ctx.clock
    assert isinstance(clock, FixedClock)
    spec = small_agency()
    org_service.upsert_organisation(ctx, spec)
    before_reload = roles_in_log(ctx)
    head_before = log.chain_ok(ctx).head_seq
    clock.advance(dt.timedelta(days=30))
    reloaded = changed(
        spec,
        {
            P + "lan": {"roles": ["office", "leader", "staff"]},  # two roles given
            P + "hung": {"roles": ["staff"]},  # unit_head taken, staff given
            P + "auditor": {"unit": "VP", "roles": ["auditor"]},  # unchanged: no entry
            P + "tuan": {"name": "Đỗ Minh Tuấn", "unit": "DKKD", "roles": ["inspector"]},
        },
    )
    org_service.upsert_organisation(ctx, reloaded)
    new = [e for e in log.entries(ctx, action="role.change") if e["seq"] > (head_before or 0)]
    assert [(e["data"]["person"], e["data"]["role_name"], e["data"]["granted"]) for e in new] == [
        (P + "lan", "leader", True),
        (P + "lan", "office", True),
        (P + "hung", "staff", True),
        (P + "hung", "unit_head", False),
        (P + "tuan", "inspector", True),
    ]
    lan = new[0]["data"]
    assert (lan["before"], lan["after"], lan["person_unit"]) == (
        ["staff"],
        ["leader", "office", "staff"],
        "QLDT",
    )
    assert new[3]["data"]["before"] == ["unit_head"] and new[3]["data"]["after"] == ["staff"]
    assert all(e["at"] > log.entries(ctx, action="organisation.load")[0]["at"] for e in new)
    # The log alone says who held which role, then and now.
    assert roles_in_log(ctx, head_before) == before_reload
    assert roles_in_log(ctx) == roles_stored(ctx)
    assert roles_in_log(ctx)[P + "lan"] == {"leader", "office", "staff"}
    assert roles_in_log(ctx)[P + "hung"] == {"staff"}
    # The same file again changes nothing, and records nothing.
    count = len(log.entries(ctx))
    org_service.upsert_organisation(ctx, reloaded)
    assert len(log.entries(ctx)) == count
    assert log.chain_ok(ctx).ok
