"""Unit names as plans write them, as the organisation's unit and group codes (`plans import`,
issue 18): exact, normalised (abbreviations, prefixes, diacritics), plural words as groups,
close matches shown, several units in a cell, names that match nothing kept for a problem."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from workflow.definitions.models import OrganisationSpec
from workflow.definitions.plan_import.units import Units, without_lead

DEFINITIONS = Path(__file__).resolve().parents[2] / "definitions"


def _units(folder: str) -> Units:
    text = (DEFINITIONS / folder / "organisation.yaml").read_text(encoding="utf-8")
    return Units(OrganisationSpec.model_validate(yaml.safe_load(text)))


QNA = _units("quang-nam-bqlkkt")
LSN = _units("lang-son-skhdt")


@pytest.mark.parametrize(
    ("units", "text", "codes"),
    [
        (QNA, "Phòng Hành chính và Tổng hợp", ["HCTH"]),
        (QNA, "HCTH", ["HCTH"]),
        (LSN, "Thanh tra Sở", ["TTR"]),
        (LSN, "Phòng Tổng hợp, Quy hoạch", ["THQH"]),  # a comma inside a name
        (LSN, "Các phòng, đơn vị thuộc Sở", ["CPDV"]),
    ],
)
def test_an_exact_name_or_code_needs_no_comment(units: Units, text: str, codes: list[str]) -> None:
    found = units.read(text)
    assert (found.codes, found.comments, found.unknown) == (codes, [], [])


@pytest.mark.parametrize(
    ("units", "text", "code", "said"),
    [
        (QNA, "Phòng HC&TH", "HCTH", "«Phòng HC&TH»: viết tắt của «Phòng Hành chính và Tổng hợp»"),
        (QNA, "HC&TH", "HCTH", "viết tắt của"),
        (QNA, "phòng hành chính & tổng hợp", "HCTH", "là «Phòng Hành chính và Tổng hợp» (HCTH)"),
        (QNA, "Phong Hanh chinh va Tong hop", "HCTH", "là «Phòng Hành chính và Tổng hợp»"),
        (QNA, "Quản lý Đầu tư", "QLDT", "là «Phòng Quản lý Đầu tư» (QLDT)"),
        (LSN, "Văn phòng", "VP", "là «Văn phòng Sở» (VP)"),
        (QNA, "Các phòng, đơn vị", "CPDV", "là «Các phòng, đơn vị trực thuộc» (CPDV)"),
        (QNA, "Các phòng ban", "CP", "nhóm «Các phòng» (CP)"),
        (LSN, "Các phòng", "CP", "«Các phòng thuộc Sở» (CP)"),
        (LSN, "Các đơn vị", "ALL", "nhóm «Tất cả đơn vị thuộc Sở» (ALL)"),
    ],
)
def test_a_normalised_match_says_what_it_matched(
    units: Units, text: str, code: str, said: str
) -> None:
    found = units.read(text)
    assert found.codes == [code] and found.unknown == []
    assert len(found.comments) == 1 and said in found.comments[0]


def test_a_close_match_is_shown_for_checking() -> None:
    found = QNA.read("Phòng Hành chánh và Tổng hợp")
    assert found.codes == ["HCTH"]
    assert found.comments == [
        "GẦN ĐÚNG: «Phòng Hành chánh và Tổng hợp» không có trong tệp cơ quan; gần giống "
        "«Phòng Hành chính và Tổng hợp» (HCTH): kiểm tra lại"
    ]


@pytest.mark.parametrize(
    "text",
    [
        "Phòng Đăng ký kinh doanh, Phòng Quản lý đầu tư công, Thanh tra Sở",
        "Phòng Đăng ký kinh doanh; Phòng Quản lý đầu tư công; Thanh tra Sở",
        "Phòng Đăng ký kinh doanh\nPhòng Quản lý đầu tư công\n- Thanh tra Sở",
    ],
)
def test_several_units_in_one_cell(text: str) -> None:
    assert LSN.read(text).codes == ["DKKD", "QLDTC", "TTR"]


def test_a_lead_in_and_a_final_and_as_the_lang_son_plan_writes_them() -> None:
    found = LSN.read(
        "Các phòng: Đăng ký kinh doanh, Quản lý đầu tư công, Quản lý đầu tư ngoài ngân sách "
        "và Thanh tra Sở"
    )
    assert (found.codes, found.unknown) == (["DKKD", "QLDTC", "QLDTNNS", "TTR"], [])
    # "và" inside a name keeps the name whole.
    assert QNA.read("Phòng Hành chính và Tổng hợp và Phòng Quản lý Đầu tư").codes == [
        "HCTH",
        "QLDT",
    ]


def test_a_name_that_matches_nothing_is_kept_apart() -> None:
    found = LSN.read("Văn phòng Sở, Sở Tài chính")
    assert found.codes == ["VP"] and found.unknown == ["Sở Tài chính"]
    assert LSN.listing().startswith("VP (Văn phòng Sở), TTR (Thanh tra Sở), DKKD (")


def test_the_lead_unit_named_again_as_cooperating_is_dropped_with_a_comment() -> None:
    cooperating = QNA.read("Phòng HC&TH, Phòng Quản lý Đầu tư")
    assert without_lead(["HCTH"], cooperating) == ["QLDT"]
    assert cooperating.comments[-1] == (
        "đơn vị chủ trì cũng ghi ở cột phối hợp: bỏ khỏi danh sách phối hợp"
    )
