"""`--secret-file`: a token's secret written to a new file only its owner can read, instead of
the terminal. The file exists before the token does, so a secret that could not be written is
never issued; an existing file is never overwritten. Each test runs on SQLite and on
PostgreSQL."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from tests.e2e.conftest import Cli
from tests.e2e.test_production_cli import ADMIN, THU, with_an_administrator


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PLANFLOW_NOW", "PLANFLOW_OPERATOR", "PLANFLOW_TOKEN", "PLANFLOW_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


def _tokens(cli: Cli, admin: str) -> list[dict[str, object]]:
    listed = cli("tokens", "list", "--token", admin, "--format", "json")
    assert listed.code == 0, listed.err
    rows = json.loads(listed.out)
    assert isinstance(rows, list)
    return rows


def test_secrets_go_to_new_private_files_and_work_from_there(cli: Cli, tmp_path: Path) -> None:
    definitions = with_an_administrator(tmp_path)
    assert cli("init").code == 0
    assert cli("plans", "load", str(definitions / "lang-son-skhdt")).code == 0

    # A person who does not exist: nothing issued, and no empty file left behind.
    missing = tmp_path / "nobody.token"
    refused = cli("accounts", "bootstrap-admin", "lsn.vp.khong-co", "--secret-file", str(missing))
    assert refused.code == 2 and refused.err.count("\n") == 1
    assert not missing.exists()

    admin_file = tmp_path / "admin.token"
    boot = cli("accounts", "bootstrap-admin", ADMIN, "--secret-file", str(admin_file))
    assert boot.code == 0, boot.err
    admin = admin_file.read_text(encoding="ascii").strip()
    assert admin.startswith("pft_1_")
    assert admin not in boot.out and admin not in boot.err  # not on the terminal
    assert f"export PLANFLOW_TOKEN=$(cat {admin_file})" in boot.out
    assert stat.S_IMODE(admin_file.stat().st_mode) == 0o600
    # The secret read back from the file acts as the administrator.
    assert cli("accounts", "invite", THU, "--token", admin).code == 0

    thu_file = tmp_path / "thu.token"
    made = cli("tokens", "create", "--person", THU, "--permission", "tasks:read",
               "--label", "máy của chị Thu", "--token", admin, "--secret-file", str(thu_file),
               "--format", "json")  # fmt: skip
    assert made.code == 0, made.err
    shown = json.loads(made.out)
    assert "secret" not in shown and shown["secret_file"] == str(thu_file)
    thu = thu_file.read_text(encoding="ascii").strip()
    assert thu.startswith(f"pft_{shown['id']}_") and thu not in made.out
    assert cli("tasks", "list", "--token", thu, "--format", "json").code == 0

    # An existing file is never overwritten, and no token is issued for it.
    before = _tokens(cli, admin)
    again = cli("tokens", "create", "--person", THU, "--permission", "tasks:read",
                "--label", "lần hai", "--token", admin, "--secret-file", str(thu_file))  # fmt: skip
    assert again.code == 2 and "already exists" in again.err and again.err.count("\n") == 1
    assert thu_file.read_text(encoding="ascii").strip() == thu
    assert _tokens(cli, admin) == before
