"""`planflow plans import` (issue 18, item 1): Word and Excel plans, built here with python-docx
and openpyxl in the shapes of the four seed plans (shared/seeds) FROM the hand-made plan files
in definitions/, imported back through the CLI: the import equals the hand-made plan for the
rows they share (code, title, lead unit, cooperating units with groups expanded, schedule),
and `plans validate` accepts the file written.

The shapes differ as agencies' tables do: column order, heading spellings, a heading over two
header rows (merged cells), group rows merged across the row or written in the TT column,
unit names spelt out, abbreviated (HC&TH) or shortened, schedules typed or OCR'd without
diacritics, one table continued as a second table.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docx
import openpyxl
import pytest
import yaml

from tests.e2e.conftest import DEFINITIONS, Result
from workflow.cli.main import run
from workflow.definitions.models import OrganisationSpec
from workflow.services.plans import expand_units

HEADS = ("number", "title", "lead", "cooperating", "schedule", "deliverable")


@dataclass(frozen=True)
class Shape:
    """How one agency writes its plan's table."""

    plan: str  # definitions/<org folder>/plans/<file>
    suffix: str  # .docx or .xlsx
    headings: dict[str, str]  # column -> heading, in the table's column order
    two_row_unit_heading: str | None = None  # "Đơn vị" over "Chủ trì | Phối hợp"
    merged_groups: bool = False  # group rows as one cell across the row: "A. TITLE"
    short_names: bool = False  # "Phòng HC&TH", "Các phòng, đơn vị" as plans write them
    unaccented_schedules: bool = False  # OCR'd: "Trong nam 2023", "Thuong xuyen"
    separator: str = ", "  # between the cooperating units of a cell
    split_after: int | None = None  # Word: the table continues as a second table here
    merge_leads: bool = False  # one lead unit's cell merged down over the rows it leads
    # The group rows are the index's own fields: each task's category follows from them.
    sections_name_categories: bool = True


SHAPES = {
    # Quảng Nam PAR INDEX/SIPAS 2023: the appendix table, group rows A / I. / II.
    "par-sipas": Shape(
        "quang-nam-bqlkkt/plans/par-sipas-2023.yaml",
        ".docx",
        {
            "number": "TT",
            "title": "Nhiệm vụ cụ thể",
            "schedule": "Tiến độ",
            "lead": "Phòng, đơn vị chủ trì",
            "cooperating": "Phòng, đơn vị phối hợp",
            "deliverable": "Kết quả/sản phẩm",
        },
        merged_groups=True,
        short_names=True,
        split_after=20,
    ),
    # Quảng Nam NQ16 programme: the appendix with "Đơn vị" over two columns.
    "nq16": Shape(
        "quang-nam-bqlkkt/plans/nq16-2021-2025.yaml",
        ".docx",
        {
            "number": "STT",
            "title": "Nội dung, nhiệm vụ",
            "lead": "Chủ trì",
            "cooperating": "Phối hợp",
            "schedule": "Thời gian hoàn thành",
            "deliverable": "Sản phẩm",
        },
        two_row_unit_heading="Đơn vị",
        merge_leads=True,
    ),
    # Quảng Nam PAPI 2023 as an Excel sheet, typed from a scan without diacritics.
    "papi-2023": Shape(
        "quang-nam-bqlkkt/plans/papi-2023.yaml",
        ".xlsx",
        {
            "number": "TT",
            "title": "Nội dung",
            "lead": "Đơn vị chủ trì",
            "cooperating": "Đơn vị phối hợp",
            "schedule": "Thời gian thực hiện",
            "deliverable": "Sản phẩm",
        },
        merged_groups=True,
        unaccented_schedules=True,
        separator="\n",
        merge_leads=True,
    ),
    # Lạng Sơn PAPI 2024: Excel, "Cơ quan" over two header rows, schedule column first.
    "papi-2024": Shape(
        "lang-son-skhdt/plans/papi-2024.yaml",
        ".xlsx",
        {
            "number": "STT",
            "schedule": "Thời hạn",
            "title": "Nhiệm vụ, giải pháp",
            "lead": "Chủ trì",
            "cooperating": "Phối hợp",
            "deliverable": "Kết quả, sản phẩm",
        },
        two_row_unit_heading="Cơ quan",
        sections_name_categories=False,  # "II. NỘI DUNG": guessed from each task's words
        separator="; ",
    ),
}


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _unaccented(text: str) -> str:
    text = text.replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")


def _number(code: str) -> str:
    """What the TT column says for a code: `A.IV.2.1` -> `2.1`, `A.IV` -> `IV`, `B.1` -> `1`."""
    parts = code.split(".")
    digits = [p for p in parts if p.isdigit()]
    return ".".join(digits) if digits else parts[-1]


def _schedule_words(task: dict[str, Any], plan: dict[str, Any]) -> str:
    """The schedule as the plan's table writes it."""
    schedule = task["schedule"]
    text = task.get("schedule_text")
    if text and schedule in ("continuous", "within_year"):
        return str(text)
    if schedule == "continuous":
        return "Thường xuyên"
    if schedule == "within_year":
        return f"Trong năm {plan['period']['start'].year}"
    key, value = next(iter(schedule.items()))
    if key == "by":
        return f"Trước ngày {value.day}/{value.month}/{value.year}"
    if key == "within_year":
        return f"Năm {value}"
    if key == "periodic":
        return {"quarterly": "Hằng quý", "half_yearly": "6 tháng/lần", "yearly": "Hằng năm"}[value]
    return "Theo kế hoạch"


def _unit_words(codes: list[str], org: dict[str, Any], shape: Shape) -> str:
    names = {u["code"]: u["name"] for u in org["units"]}
    names |= {g["code"]: g["name"] for g in org["groups"]}
    if shape.short_names:
        names["HCTH"] = "Phòng HC&TH"
        names["CPDV"] = "Các phòng, đơn vị"
    return shape.separator.join(names[c] for c in codes)


Row = tuple[str, ...] | str  # a task row, or a group row's "A. TITLE" across the row


def _rows(plan: dict[str, Any], org: dict[str, Any], shape: Shape) -> list[Row]:
    """The table's rows, from the hand-made plan: each section above a task as a group row
    (once), each task as a row."""
    titles = {s["code"]: s["title"] for s in plan.get("sections", [])}
    shown: set[str] = set()
    out: list[Row] = []
    for task in plan["tasks"]:
        parts = task["code"].split(".")
        for k in range(1, len(parts)):
            code = ".".join(parts[:k])
            if code in titles and code not in shown:
                shown.add(code)
                number = _number(code)
                if shape.merged_groups:
                    out.append(f"{number}. {titles[code]}")
                else:
                    out.append(_ordered(shape, {"number": number, "title": titles[code]}))
        words = _schedule_words(task, plan)
        values = {
            "number": _number(task["code"]) + ("." if shape.suffix == ".docx" else ""),
            "title": task["title"],
            "lead": _unit_words([task["lead_unit"]], org, shape),
            "cooperating": _unit_words(task.get("cooperating_units", []), org, shape),
            "schedule": _unaccented(words) if shape.unaccented_schedules else words,
            "deliverable": task.get("deliverable") or "",
        }
        out.append(_ordered(shape, values))
    return out


def _ordered(shape: Shape, values: dict[str, str]) -> tuple[str, ...]:
    return tuple(values.get(column, "") for column in shape.headings)


def _header_rows(shape: Shape) -> list[tuple[str, ...]]:
    if shape.two_row_unit_heading is None:
        return [tuple(shape.headings.values())]
    top = tuple(
        shape.two_row_unit_heading if c in ("lead", "cooperating") else h
        for c, h in shape.headings.items()
    )
    under = tuple(h if c in ("lead", "cooperating") else "" for c, h in shape.headings.items())
    return [top, under]


def _write_docx(path: Path, title: str, shape: Shape, rows: list[Row]) -> None:
    document = docx.Document()
    document.add_paragraph("Số: 105/KH-KKTCN")
    document.add_paragraph("KẾ HOẠCH")
    document.add_paragraph(title)
    width = len(shape.headings)
    header = _header_rows(shape)
    chunks = (
        [rows]
        if shape.split_after is None
        else [rows[: shape.split_after], rows[shape.split_after :]]
    )
    for n, chunk in enumerate(chunks):
        table = document.add_table(rows=len(header) if n == 0 else 0, cols=width)
        if n == 0:
            for r, texts in enumerate(header):
                for c, text in enumerate(texts):
                    table.cell(r, c).text = text
            if len(header) == 2:
                columns = list(shape.headings)
                lead = columns.index("lead")
                table.cell(0, lead).merge(table.cell(0, lead + 1)).text = header[0][lead]
                for c, column in enumerate(columns):
                    if column not in ("lead", "cooperating"):
                        table.cell(0, c).merge(table.cell(1, c)).text = header[0][c]
        for row in chunk:
            cells = table.add_row().cells
            if isinstance(row, str):
                cells[0].merge(cells[-1]).text = row
            else:
                for c, text in enumerate(row):
                    cells[c].text = text
        if shape.merge_leads:
            lead = list(shape.headings).index("lead")
            for start, end in _runs(chunk, lead, len(header) if n == 0 else 0):
                text = table.cell(start, lead).text
                table.cell(start, lead).merge(table.cell(end, lead)).text = text
        document.add_paragraph("")
    document.save(str(path))


def _write_xlsx(path: Path, title: str, shape: Shape, rows: list[Row]) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Phụ lục"
    sheet.append(["KẾ HOẠCH"])
    sheet.append([title])
    sheet.append(["Kèm theo Kế hoạch số 105/KH"])
    header = _header_rows(shape)
    for texts in header:
        sheet.append(list(texts))
    first = sheet.max_row - len(header) + 1
    if len(header) == 2:
        columns = list(shape.headings)
        lead = columns.index("lead") + 1
        sheet.merge_cells(start_row=first, end_row=first, start_column=lead, end_column=lead + 1)
        for c, column in enumerate(columns, start=1):
            if column not in ("lead", "cooperating"):
                sheet.merge_cells(start_row=first, end_row=first + 1, start_column=c, end_column=c)
    for row in rows:
        if isinstance(row, str):
            sheet.append([row])
            at = sheet.max_row
            sheet.merge_cells(
                start_row=at, end_row=at, start_column=1, end_column=len(shape.headings)
            )
        else:
            sheet.append(list(row))
    if shape.merge_leads:
        lead = list(shape.headings).index("lead")
        for start, end in _runs(rows, lead, first + len(header)):
            sheet.merge_cells(
                start_row=start, end_row=end, start_column=lead + 1, end_column=lead + 1
            )
    book.save(str(path))


def _runs(rows: list[Row], column: int, offset: int) -> list[tuple[int, int]]:
    """(first, last) row numbers (from `offset`) of task rows in a row with the same text in
    `column`: what a person merges into one cell."""
    runs: list[tuple[int, int]] = []
    k = 0
    while k < len(rows):
        row = rows[k]
        end = k
        while (
            not isinstance(row, str)
            and end + 1 < len(rows)
            and not isinstance(rows[end + 1], str)
            and rows[end + 1][column] == row[column]
        ):
            end += 1
        if end > k:
            runs.append((offset + k, offset + end))
        k = end + 1
    return runs


@dataclass
class Imported:
    result: Result
    plan: dict[str, Any]
    text: str


Cli = Callable[..., Result]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Cli:
    """The CLI in-process, in a folder of its own, without a database (none is needed)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PLANFLOW_DB", raising=False)

    def call(*args: str) -> Result:
        capsys.readouterr()
        code = run(list(args))
        captured = capsys.readouterr()
        assert "Traceback" not in captured.err, captured.err
        return Result(code, captured.out, captured.err)

    return call


def _organisation(plan_path: Path) -> Path:
    return plan_path.parents[1] / "organisation.yaml"


def _import(cli: Cli, tmp_path: Path, name: str, shape: Shape) -> tuple[Imported, dict[str, Any]]:
    source = DEFINITIONS / shape.plan
    hand = _load(source)
    org = _load(_organisation(source))
    folder = tmp_path / name
    folder.mkdir()
    (folder / "organisation.yaml").write_bytes(_organisation(source).read_bytes())
    document = folder / f"{name}{shape.suffix}"
    write = _write_docx if shape.suffix == ".docx" else _write_xlsx
    write(document, hand["title"], shape, _rows(hand, org, shape))
    out = folder / "plan.yaml"
    result = cli("plans", "import", str(document), "--org", org["code"], "--out", str(out))
    assert out.exists(), result.err
    text = out.read_text(encoding="utf-8")
    return Imported(result, yaml.safe_load(text), text), hand


def _same_schedule(imported: Any, hand: Any, year: int) -> bool:
    def canonical(value: Any) -> Any:
        return {"within_year": year} if value == "within_year" else value

    return bool(canonical(imported) == canonical(hand))


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_an_imported_plan_equals_the_hand_made_one(cli: Cli, tmp_path: Path, name: str) -> None:
    shape = SHAPES[name]
    imported, hand = _import(cli, tmp_path, name, shape)
    assert imported.result.code == 0, imported.result.err
    assert imported.text.startswith("# yaml-language-server: $schema=planflow-schema.json\n")
    org = OrganisationSpec.model_validate(_load(_organisation(DEFINITIONS / shape.plan)))
    got = {t["code"]: t for t in imported.plan["tasks"]}
    assert list(got) == [t["code"] for t in hand["tasks"]]  # every row, in order, no other
    year = hand["period"]["start"].year
    for task in hand["tasks"]:
        mine = got[task["code"]]
        where = f"{name} {task['code']}"
        assert mine["title"] == " ".join(task["title"].split()), where
        assert mine["lead_unit"] == task["lead_unit"], where
        if shape.sections_name_categories:
            assert mine["category"] == task["category"], where
        assert set(expand_units(mine["cooperating_units"], org, mine["lead_unit"])) == set(
            expand_units(task.get("cooperating_units", []), org, task["lead_unit"])
        ), where
        if "per" not in task["schedule"]:  # a named schedule is declared by hand
            assert _same_schedule(mine["schedule"], task["schedule"], year), (
                where,
                mine["schedule"],
                task["schedule"],
            )
    hand_sections = {s["code"]: s["title"] for s in hand.get("sections", [])}
    for section in imported.plan.get("sections", []):
        assert hand_sections[section["code"]] == section["title"]
    assert imported.plan["period"]["start"].year <= year
    # What the command says: tasks, guesses commented, problems.
    tasks = len(hand["tasks"])
    assert f"imported {tasks} tasks from {name}{shape.suffix}" in imported.result.err
    assert ", 0 problems;" in imported.result.err
    checked = cli(
        "plans",
        "validate",
        str(tmp_path / name / "organisation.yaml"),
        str(tmp_path / name / "plan.yaml"),
    )
    assert checked.code == 0, checked.err
    assert checked.out.startswith("valid: 1 organisation(s), 1 plan(s)")


def test_every_guess_is_commented_where_a_reviewer_reads_it(cli: Cli, tmp_path: Path) -> None:
    imported, _ = _import(cli, tmp_path, "par-sipas", SHAPES["par-sipas"])
    lines = imported.text.splitlines()
    # The abbreviation HC&TH and the shortened group are matched, each with its comment just
    # above the value it explains.
    at = lines.index("    lead_unit: HCTH")
    assert lines[at - 1] == (
        "    # ĐOÁN: «Phòng HC&TH»: viết tắt của «Phòng Hành chính và Tổng hợp» (HCTH)"
    )
    assert "# ĐOÁN: «Các phòng, đơn vị» là «Các phòng, đơn vị trực thuộc» (CPDV)" in imported.text
    assert "# ĐOÁN: thời gian thực hiện theo năm ghi trong tiêu đề" in imported.text
    assert "category: par.leadership" in imported.text and "nhóm theo mục A.I" in imported.text
    guesses = sum(imported.text.count(f"# {m}") for m in ("ĐOÁN", "GẦN ĐÚNG", "KHÔNG HIỂU"))
    assert f": {guesses} guesses commented, 0 problems" in imported.result.err


def _small_plan(path: Path, rows: list[tuple[str, ...]]) -> None:
    headings = ("TT", "Nội dung", "Đơn vị chủ trì", "Đơn vị phối hợp", "Thời gian thực hiện")
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Kế hoạch cải thiện Chỉ số PAPI năm 2024"])
    sheet.append(list(headings))
    for row in rows:
        sheet.append(list(row))
    book.save(str(path))


def test_a_misspelt_unit_is_matched_closely_and_shown(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "organisation.yaml").write_bytes(
        (DEFINITIONS / "lang-son-skhdt" / "organisation.yaml").read_bytes()
    )
    _small_plan(
        tmp_path / "plan.xlsx",
        [("1", "Công khai kế hoạch", "Phòng Đăng ký kinh danh", "Văn phòng Sở", "Quý II/2024")],
    )
    done = cli("plans", "import", "plan.xlsx", "--org", "LSN-SKHDT", "--out", "plan.yaml")
    assert done.code == 0, done.err
    text = (tmp_path / "plan.yaml").read_text(encoding="utf-8")
    task = yaml.safe_load(text)["tasks"][0]
    assert task["lead_unit"] == "DKKD" and task["cooperating_units"] == ["VP"]
    assert task["schedule"] == {"by": dt.date(2024, 6, 30)}
    assert "# GẦN ĐÚNG: «Phòng Đăng ký kinh danh» không có trong tệp cơ quan; gần giống" in text
    assert "# ĐOÁN: «Quý II/2024»: hạn là ngày cuối quý 2" in text


def test_an_unknown_unit_is_one_problem_naming_row_and_column(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "organisation.yaml").write_bytes(
        (DEFINITIONS / "lang-son-skhdt" / "organisation.yaml").read_bytes()
    )
    _small_plan(
        tmp_path / "plan.xlsx",
        [
            ("1", "Công khai kế hoạch", "Văn phòng Sở", "Phòng Kế toán", "Thường xuyên"),
            ("2", "Tiếp công dân", "Thanh tra Sở", "", "Hằng tháng"),
        ],
    )
    done = cli("plans", "import", "plan.xlsx", "--org", "LSN-SKHDT", "--out", "plan.yaml")
    assert done.code == 2
    lines = done.err.splitlines()
    assert lines[0].startswith(
        'sheet "Sheet", row 3, column "Đơn vị phối hợp": unknown unit "Phòng Kế toán"; '
        "the units of LSN-SKHDT: VP (Văn phòng Sở), TTR (Thanh tra Sở)"
    )
    assert lines[-1].startswith("planflow: error: imported 2 tasks from plan.xlsx to plan.yaml")
    assert "1 problem;" in lines[-1] and len(lines) == 2
    text = (tmp_path / "plan.yaml").read_text(encoding="utf-8")  # written, to be fixed
    assert "# VẤN ĐỀ: «Phòng Kế toán»" in text
    # Monthly: a named schedule of the month ends, declared in the file, one task a month.
    assert "schedule: {per: hang-thang}" in text and "mỗi tháng một nhiệm vụ" in text
    declared = yaml.safe_load(text)["schedules"]
    assert [s["id"] for s in declared] == ["hang-thang"] and len(declared[0]["dates"]) == 12
    assert cli("plans", "validate", "plan.yaml").code == 0  # the rest of the file is sound


@pytest.mark.parametrize(
    ("name", "content", "said"),
    [
        ("plan.docx", b"PK\x03\x04 this is not a Word file", "not a readable Word file"),
        ("plan.pdf", b"%PDF-1.4", "cannot read a .pdf file; give a Word .docx or an Excel .xlsx"),
    ],
)
def test_a_file_that_cannot_be_read_is_one_line(
    cli: Cli, tmp_path: Path, name: str, content: bytes, said: str
) -> None:
    (tmp_path / "organisation.yaml").write_bytes(
        (DEFINITIONS / "lang-son-skhdt" / "organisation.yaml").read_bytes()
    )
    (tmp_path / name).write_bytes(content)
    done = cli("plans", "import", name, "--org", "LSN-SKHDT", "--out", "plan.yaml")
    assert done.code == 2
    assert done.err.count("\n") == 1 and said in done.err
    assert not (tmp_path / "plan.yaml").exists()


def test_a_document_without_a_task_table_is_one_line(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "organisation.yaml").write_bytes(
        (DEFINITIONS / "lang-son-skhdt" / "organisation.yaml").read_bytes()
    )
    document = docx.Document()
    document.add_paragraph("KẾ HOẠCH")
    document.add_table(rows=2, cols=2).cell(0, 0).text = "Họ và tên"
    document.save(str(tmp_path / "plan.docx"))
    done = cli("plans", "import", "plan.docx", "--org", "LSN-SKHDT")
    assert done.code == 2 and done.out == ""
    assert done.err.count("\n") == 1 and "no task table found" in done.err


def test_without_the_organisation_it_says_how_to_give_it(cli: Cli, tmp_path: Path) -> None:
    _small_plan(tmp_path / "plan.xlsx", [("1", "Công khai", "Văn phòng Sở", "", "Năm 2024")])
    done = cli("plans", "import", "plan.xlsx", "--org", "LSN-SKHDT")
    assert done.code == 2
    assert done.err == (
        "planflow: error: organisation LSN-SKHDT not found: put its organisation file (kind: "
        "organisation, code: LSN-SKHDT) in the --out folder or a folder above it, or load it "
        "first with planflow plans load\n"
    )


def test_to_stdout_and_from_the_definitions_folder(cli: Cli, tmp_path: Path) -> None:
    target = tmp_path / "definitions" / "lang-son-skhdt"
    target.mkdir(parents=True)
    (target / "organisation.yaml").write_bytes(
        (DEFINITIONS / "lang-son-skhdt" / "organisation.yaml").read_bytes()
    )
    _small_plan(tmp_path / "plan.xlsx", [("1", "Công khai", "Văn phòng Sở", "", "Năm 2024")])
    done = cli("plans", "import", "plan.xlsx", "--org", "LSN-SKHDT", "--id", "lsn-papi")
    assert done.code == 0, done.err
    plan = yaml.safe_load(done.out)
    assert plan["id"] == "lsn-papi" and plan["tasks"][0]["schedule"] == {"within_year": 2024}
    assert "to stdout: " in done.err


def test_the_organisation_loaded_in_the_database_serves_too(
    cli: Cli, tmp_path: Path, sqlite_url: str
) -> None:
    organisation = DEFINITIONS / "lang-son-skhdt" / "organisation.yaml"
    assert cli("--db", sqlite_url, "plans", "load", str(organisation)).code == 0
    _small_plan(tmp_path / "plan.xlsx", [("1", "Công khai", "Văn phòng Sở", "", "Năm 2024")])
    done = cli("--db", sqlite_url, "plans", "import", "plan.xlsx", "--org", "LSN-SKHDT")
    assert done.code == 0, done.err
    assert yaml.safe_load(done.out)["tasks"][0]["lead_unit"] == "VP"


def test_a_plan_as_text_goes_the_same_way(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "organisation.yaml").write_bytes(
        (DEFINITIONS / "lang-son-skhdt" / "organisation.yaml").read_bytes()
    )
    (tmp_path / "plan.txt").write_text(
        "KẾ HOẠCH\nCải thiện Chỉ số PAPI năm 2024\n\nII. NỘI DUNG\n"
        "1. Công khai kế hoạch sử dụng đất.\n2. Tiếp công dân định kỳ.\n",
        encoding="utf-8",
    )
    done = cli("plans", "import", "--from-text", "plan.txt", "--org", "LSN-SKHDT")
    assert done.code == 0, done.err
    tasks = yaml.safe_load(done.out)["tasks"]
    assert [t["code"] for t in tasks] == ["II.1", "II.2"]
    assert "# ĐOÁN: văn bản không ghi đơn vị chủ trì; tạm ghi đơn vị đầu mối VP" in done.out
    both = cli("plans", "import", "plan.txt", "--from-text", "plan.txt", "--org", "LSN-SKHDT")
    assert both.code == 2 and both.err == (
        "planflow: error: give the plan's file (FILE.docx or FILE.xlsx) or --from-text "
        "FILE.txt, one of the two\n"
    )


SEED_TEXTS = Path(__file__).resolve().parents[1] / "fixtures" / "seeds"


@pytest.mark.parametrize(
    ("seed", "org", "folder"),
    [
        ("lang-son-skhdt-papi-2024", "LSN-SKHDT", "lang-son-skhdt"),
        ("quang-nam-bqlkkt-papi-2023", "QNA-BQLKKT", "quang-nam-bqlkkt"),
        ("quang-nam-bqlkkt-nq16-2021-2025", "QNA-BQLKKT", "quang-nam-bqlkkt"),
        ("quang-nam-bqlkkt-par-sipas-2023", "QNA-BQLKKT", "quang-nam-bqlkkt"),
    ],
)
def test_each_seed_as_text_keeps_every_numbered_item(
    cli: Cli, tmp_path: Path, seed: str, org: str, folder: str
) -> None:
    """The scans' text through the command: every item the reader found is a task of the
    written file, every other numbered line is listed in its CHƯA NHẬP block; the file is
    written even when a unit of an OCR'd line matches nothing (exit 2, each problem a line)."""
    from workflow.definitions.plan_import.text import read_text

    (tmp_path / "organisation.yaml").write_bytes(
        (DEFINITIONS / folder / "organisation.yaml").read_bytes()
    )
    source = SEED_TEXTS / f"{seed}.txt"
    done = cli("plans", "import", "--from-text", str(source), "--org", org, "--out", "plan.yaml")
    assert done.code in (0, 2), done.err
    assert done.err.splitlines()[-1].startswith(("imported ", "planflow: error: imported "))
    raw = read_text(source)
    text = (tmp_path / "plan.yaml").read_text(encoding="utf-8")
    written = yaml.safe_load(text)
    assert [t["code"] for t in written["tasks"]] == [i.code for i in raw.items]
    assert len(raw.items) >= 7
    if raw.skipped:
        assert f"CHƯA NHẬP: {len(raw.skipped)} hàng" in text
        for place, _ in raw.skipped:
            assert f"dòng {place.line}:" in text


def test_a_title_in_capitals_is_written_in_sentence_case_and_said(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "organisation.yaml").write_bytes(
        (DEFINITIONS / "lang-son-skhdt" / "organisation.yaml").read_bytes()
    )
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["KẾ HOẠCH NÂNG CAO CHỈ SỐ PAPI NĂM 2024"])
    sheet.append(["TT", "Nội dung", "Đơn vị chủ trì", "Đơn vị phối hợp", "Thời gian thực hiện"])
    sheet.append(["1", "Công khai", "Văn phòng Sở", "", "Năm 2024"])
    book.save(str(tmp_path / "plan.xlsx"))
    done = cli("plans", "import", "plan.xlsx", "--org", "LSN-SKHDT")
    assert done.code == 0, done.err
    assert yaml.safe_load(done.out)["title"] == "Kế hoạch nâng cao chỉ số PAPI năm 2024"
    assert "# ĐOÁN: văn bản viết hoa cả trích yếu; ghi lại bằng chữ thường" in done.out
