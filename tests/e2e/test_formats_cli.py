"""The formats and signatures on the command line: `documents sign` and `documents
verify-signature` (exit 0 valid, 6 tampered or untrusted, 2 bad input; one line, never a
traceback), `audit export --format xlsx` and a listing's `--format xlsx`, read back with
openpyxl, on SQLite and PostgreSQL where a database is involved."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import stat
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.e2e.conftest import DEFINITIONS, Cli
from tests.support.signing_keys import Keys, make_keys
from workflow.cli.main import run
from workflow.documents.pdf import render_pdf

LETTER = """<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8"></head><body>
<p>CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM</p><p>Phiếu xin lỗi và hẹn lại ngày trả kết quả</p>
</body></html>"""


@dataclass
class Done:
    code: int
    out: str
    err: str


Call = Callable[..., "Done"]


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    return make_keys(tmp_path_factory.mktemp("keys"))


@pytest.fixture
def planflow(capsys: pytest.CaptureFixture[str]) -> Call:
    def call(*args: str) -> Done:
        capsys.readouterr()
        code = run(list(args))
        captured = capsys.readouterr()
        assert "Traceback" not in captured.err, captured.err
        return Done(code, captured.out, captured.err)

    return call


def test_sign_and_verify_a_pdf_on_the_command_line(
    planflow: Call, tmp_path: Path, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    pdf = tmp_path / "letter.pdf"
    pdf.write_bytes(render_pdf(LETTER, paper="A5", dated=dt.date(2024, 6, 5)))
    original = pdf.read_bytes()
    key = ["--key", str(keys.pkcs12), "--passphrase-file", str(keys.passphrase_file)]
    done = planflow("documents", "sign", str(pdf), *key)
    signed = tmp_path / "letter.signed.pdf"
    assert (done.code, done.out) == (0, f"signed {pdf}: {signed}\n"), done.err
    assert pdf.read_bytes() == original  # the recorded file is left as it was
    again = planflow("documents", "sign", str(pdf), *key)
    assert again.code == 2 and "exists already" in again.err

    trust = ["--trust", str(keys.ca_cert)]
    ok = planflow("documents", "verify-signature", str(signed), *trust)
    assert ok.code == 0 and ok.out.startswith("valid pades signature by "), ok
    assert "chains to a trust root given" in ok.out
    as_json = planflow("documents", "verify-signature", str(signed), *trust, "--format", "json")
    [found] = json.loads(as_json.out)
    assert (found["ok"], found["kind"], found["trusted"]) == (True, "pades", True)
    monkeypatch.setenv("PLANFLOW_SIGNING_TRUST", str(keys.other_ca))
    untrusted = planflow("documents", "verify-signature", str(signed))
    assert untrusted.code == 6 and untrusted.err.startswith("planflow: error: ")
    assert "does not chain to a trust root" in untrusted.err
    monkeypatch.delenv("PLANFLOW_SIGNING_TRUST")

    tampered = bytearray(signed.read_bytes())
    at = tampered.index(b"CreationDate")  # a signed byte, inside the document
    tampered[at] = ord("c")
    signed.write_bytes(bytes(tampered))
    refused = planflow("documents", "verify-signature", str(signed), *trust)
    assert refused.code == 6 and len(refused.err.splitlines()) == 1, refused
    assert "does not hold" in refused.err

    # Bad input: exit 2, one line.
    for args in (
        ["documents", "verify-signature", str(tmp_path / "none.pdf")],
        ["documents", "verify-signature", str(pdf)],  # a PDF without a signature
        ["documents", "sign", str(pdf)],  # no key
        ["documents", "verify-signature", str(signed), "--format", "xml"],
    ):
        bad = planflow(*args)
        assert bad.code == 2 and len(bad.err.splitlines()) == 1, (args, bad)


def test_sign_any_file_detached_with_a_pem_key_from_the_environment(
    planflow: Call, tmp_path: Path, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLANFLOW_SIGNING_KEY", str(keys.key))
    monkeypatch.setenv("PLANFLOW_SIGNING_CERT", str(keys.cert))
    monkeypatch.setenv("PLANFLOW_SIGNING_PASSPHRASE_FILE", str(keys.passphrase_file))
    sheet = tmp_path / "bao-cao.xlsx"
    sheet.write_bytes(b"PK\x03\x04 not really a workbook, bytes all the same")
    pdf = tmp_path / "thong-bao.pdf"
    pdf.write_bytes(render_pdf(LETTER, dated=dt.date(2024, 6, 5)))
    done = planflow("documents", "sign", str(sheet), str(pdf), "--detached")
    assert done.code == 0, done.err
    assert (tmp_path / "bao-cao.xlsx.p7s").is_file() and (tmp_path / "thong-bao.pdf.p7s").is_file()
    trust = ["--trust", str(keys.ca_cert)]
    for path in (sheet, pdf):  # the .p7s beside it is found
        ok = planflow("documents", "verify-signature", str(path), *trust)
        assert ok.code == 0 and ok.out.startswith("valid cms signature by "), ok
    sheet.write_bytes(sheet.read_bytes() + b"!")
    refused = planflow("documents", "verify-signature", str(sheet), *trust)
    assert refused.code == 6 and "changed after it was signed" in refused.err
    other = tmp_path / "khac.txt"
    other.write_text("không có chữ ký")
    bad = planflow("documents", "verify-signature", str(other))
    assert bad.code == 2 and "--signature" in bad.err
    given = planflow("documents", "verify-signature", str(other), "--signature", str(pdf) + ".p7s")
    assert given.code == 6  # a signature of another file


def test_the_audit_export_as_xlsx(cli: Cli, tmp_path: Path) -> None:
    assert cli("plans", "load", str(DEFINITIONS)).code == 0
    target = tmp_path / "audit.xlsx"
    done = cli("audit", "export", "--format", "xlsx", "--output", str(target))
    assert done.code == 0, done.err
    assert stat.S_IMODE(target.stat().st_mode) == 0o600  # it names people
    as_csv = tmp_path / "audit.csv"
    assert cli("audit", "export", "--format", "csv", "--output", str(as_csv)).code == 0
    table = list(csv.reader(io.StringIO(as_csv.read_text("utf-8-sig"))))
    sheet = load_workbook(target).active
    assert sheet is not None
    cells = [
        ["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)
    ]
    assert cells == table  # the CSV's rows, cell for cell
    first = target.read_bytes()
    target.unlink()
    assert cli("audit", "export", "--format", "xlsx", "--output", str(target)).code == 0
    assert target.read_bytes() == first  # the same log, the same bytes
    assert cli("audit", "export", "--format", "xlsx").code == 2  # a workbook needs a file


def test_a_listing_as_xlsx_to_a_file(db_url: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PLANFLOW_DB"}
    base = [sys.executable, "-m", "workflow.cli", "--db", db_url]
    subprocess.run(
        [*base, "plans", "load", str(DEFINITIONS)], check=True, env=env, capture_output=True
    )
    target = tmp_path / "tasks.xlsx"
    with target.open("wb") as out:
        done = subprocess.run(
            [*base, "tasks", "list", "--org", "LSN-SKHDT", "--format", "xlsx"],
            stdout=out, stderr=subprocess.PIPE, env=env, timeout=120,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    as_csv = subprocess.run(
        [*base, "tasks", "list", "--org", "LSN-SKHDT", "--format", "csv"],
        capture_output=True, text=True, env=env, timeout=120, check=True,
    ).stdout  # fmt: skip
    table = list(csv.reader(io.StringIO(as_csv.removeprefix("\ufeff"))))
    sheet = load_workbook(target).active
    assert sheet is not None
    rows = [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == table[0] and len(rows) == len(table) == 10  # the plan's 9 tasks
    assert [r[0] for r in rows[1:]] == [r[0] for r in table[1:]]


def test_letters_pdfs_on_the_command_line(cli: Cli, db_url: str, tmp_path: Path) -> None:
    from tests.integration.test_document_formats import letters
    from tests.integration.test_dossiers import at
    from workflow.clock import FixedClock
    from workflow.services import Context
    from workflow.store.engine import open_engine

    engine = open_engine(db_url)
    try:
        ctx = Context(engine, clock=FixedClock(at(3, 8)), operator="operator:test")
        pdfs = [p for p in letters(ctx, tmp_path / "output", count=2) if p.suffix == ".pdf"]
    finally:
        engine.dispose()
    for p in pdfs:
        p.unlink()
    done = cli("documents", "pdf", "--org", "LSN-SKHDT")
    assert done.code == 0, done.err
    assert done.out.splitlines() == [
        *(f"wrote {p}" for p in pdfs),
        "2 letter PDF(s) written, 0 already there",
    ]
    again = cli("documents", "pdf", "--format", "json")
    assert (again.code, json.loads(again.out)) == (
        0,
        {"written": [], "current": 2, "unrenderable": []},
    )
    assert cli("documents", "pdf", "--org", "SO-KHAC").code == 2
