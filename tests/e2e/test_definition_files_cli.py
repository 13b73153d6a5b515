"""Writing definition files: the scaffolds of `orgs new` and `plans new`, `plans validate`'s
one-pass report and closing line, and `plans schema` for all four kinds of file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tests.e2e.conftest import DEFINITIONS, Cli
from tests.unit.test_validate_one_pass import ORGANISATION, PLAN, PROCEDURES

NAME = "Sở Công Thương tỉnh Khánh Hòa"


def test_new_organisation_and_plan_validate_as_written(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    made = cli("orgs", "new", "KHA-SCT", "--name", NAME, "--out", "organisation.yaml")
    assert made.code == 0, made.err
    plan = cli("plans", "new", "--org", "KHA-SCT", "--out", "plan.yaml")
    assert plan.code == 0, plan.err
    org_text = (tmp_path / "organisation.yaml").read_text(encoding="utf-8")
    assert org_text.startswith("# yaml-language-server: $schema=")
    assert f'name: "{NAME}"' in org_text and "THAY" in org_text  # what to fill is marked
    assert "Các đơn vị trực thuộc" in org_text  # the comments speak to the civil servant
    checked = cli("plans", "validate", "organisation.yaml", "plan.yaml")
    assert checked.code == 0, checked.err
    assert checked.out.startswith("valid: 1 organisation(s), 1 plan(s)")


def test_scaffolds_make_their_folders_and_point_at_the_nearest_schema(
    cli: Cli, tmp_path: Path
) -> None:
    agency = tmp_path / "definitions" / "kha-sct"  # nothing of it exists yet
    org = agency / "organisation.yaml"
    assert cli("orgs", "new", "KHA-SCT", "--name", NAME, "--out", str(org)).code == 0
    assert org.read_text(encoding="utf-8").startswith(
        "# yaml-language-server: $schema=planflow-schema.json\n"
    )
    (agency / "planflow-schema.json").write_text(cli("plans", "schema").out, encoding="utf-8")
    plan = agency / "plans" / "cchc-2026.yaml"
    assert cli("plans", "new", "--org", "KHA-SCT", "--out", str(plan)).code == 0
    # The plan, one folder down, points at the schema its editor can open.
    assert plan.read_text(encoding="utf-8").startswith(
        "# yaml-language-server: $schema=../planflow-schema.json\n"
    )
    assert "lead_unit: VP" in plan.read_text(encoding="utf-8")


def test_a_plan_skeleton_uses_the_office_of_the_organisation_beside_it(
    cli: Cli, tmp_path: Path
) -> None:
    plan = tmp_path / "plan.yaml"
    org = DEFINITIONS / "quang-nam-bqlkkt" / "organisation.yaml"
    (tmp_path / "organisation.yaml").write_bytes(org.read_bytes())
    assert cli("plans", "new", "--org", "QNA-BQLKKT", "--out", str(plan)).code == 0
    assert "lead_unit: HCTH" in plan.read_text(encoding="utf-8")  # not the scaffold's VP
    assert cli("plans", "validate", str(plan)).code == 0  # finds its organisation file


def test_scaffolds_go_to_stdout_and_never_overwrite(cli: Cli, tmp_path: Path) -> None:
    shown = cli("orgs", "new", "KHA-SCT", "--name", NAME)
    assert shown.code == 0 and yaml.safe_load(shown.out)["code"] == "KHA-SCT"
    existing = tmp_path / "organisation.yaml"
    existing.write_text("kind: organisation\n", encoding="utf-8")
    for args in (
        ["orgs", "new", "KHA-SCT", "--name", NAME, "--out", str(existing)],
        ["plans", "new", "--org", "KHA-SCT", "--out", str(existing)],
    ):
        refused = cli(*args)
        assert refused.code == 2
        assert (
            refused.err == f"planflow: error: {existing} already exists; choose another "
            "--out or move it\n"
        )
    assert existing.read_text(encoding="utf-8") == "kind: organisation\n"
    bad = cli("orgs", "new", "kha sct", "--name", NAME)
    assert bad.code == 2 and "organisation code 'kha sct' is not valid" in bad.err


def test_validate_reports_every_stage_then_counts_them(cli: Cli, tmp_path: Path) -> None:
    paths = []
    for name, text in (("organisation", ORGANISATION), ("plan", PLAN), ("procedures", PROCEDURES)):
        path = tmp_path / f"{name}.yaml"
        path.write_text(text, encoding="utf-8")
        paths.append(str(path))
    result = cli("plans", "validate", *paths)
    lines = result.err.splitlines()
    assert result.code == 2
    assert lines[-1] == "planflow: error: 9 problems"
    files = [line.split(":", 1)[0] for line in lines[:-1]]
    assert files == [paths[0]] * 3 + [paths[1]] * 4 + [paths[2]] * 2  # in file order


def _plain(value: Any) -> Any:
    """YAML's dates as the strings JSON Schema checks."""
    return json.loads(json.dumps(value, default=str))


def test_the_schema_checks_all_four_kinds_of_file(cli: Cli) -> None:
    schema = json.loads(cli("plans", "schema").out)
    kinds = set()
    for path in sorted(DEFINITIONS.rglob("*.yaml")):
        data = _plain(yaml.safe_load(path.read_text(encoding="utf-8")))
        jsonschema.validate(data, schema)  # every seed file, whatever its kind
        kinds.add(data["kind"])
    assert kinds == {"organisation", "plan", "procedures", "apology_rules"}
    for scaffold in (
        cli("orgs", "new", "KHA-SCT", "--name", NAME).out,
        cli("plans", "new", "--org", "KHA-SCT").out,
    ):
        jsonschema.validate(_plain(yaml.safe_load(scaffold)), schema)  # editors agree too
    procedures = _plain(yaml.safe_load(PROCEDURES.replace("mười", "10")))
    jsonschema.validate(procedures, schema)
    procedures["procedures"][0]["working_days"] = "mười"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(procedures, schema)
