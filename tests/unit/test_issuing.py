"""What an organisation's documents carry (`domain.issuing`), the `documents:` block of its
file as validated, and the apology letter's versioned form: pure, no database."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import zipfile
from pathlib import Path
from typing import Any

import docx
import pytest

from workflow.definitions.checks import validate
from workflow.definitions.models import OrganisationSpec
from workflow.documents.letters import FORM_2018, FORM_2025, LetterFields, form_for, render_docx
from workflow.documents.letters import render_html as render_letter
from workflow.domain.issuing import (
    DocumentKind,
    applicant_is_organisation,
    document_number,
    letterhead,
    recipients,
    signature,
)

DEFINITIONS = Path(__file__).resolve().parents[2] / "definitions"

ORG: dict[str, Any] = {
    "kind": "organisation",
    "code": "KHA-SCT",
    "name": "Sở Công Thương tỉnh Khánh Hòa",
    "province": "Khánh Hòa",
    "office_unit": "VP",
    "units": [
        {"code": "VP", "name": "Văn phòng Sở"},
        {"code": "TTR", "name": "Thanh tra Sở"},
        {"code": "BGD", "name": "Ban Giám đốc Sở"},
    ],
    "people": [
        {"id": "kha.gd", "name": "Trần Văn Dũng", "unit": "BGD", "roles": ["leader"]},
        {"id": "kha.pgd", "name": "Lê Thị Hoa", "unit": "BGD", "roles": ["leader"]},
        {"id": "kha.tt", "name": "Phạm Văn Kiên", "unit": "TTR", "roles": ["inspector"]},
    ],
}
BLOCK: dict[str, Any] = {
    "governing_body": "UBND tỉnh Khánh Hòa",
    "abbreviation": "SCT",
    "place": "Nha Trang",
    "signers": {
        "apology_letter": {"person": "kha.pgd", "title": "Phó Giám đốc", "authority": "KT. Giám đốc"},
        "report": {"person": "kha.gd", "title": "GIÁM ĐỐC"},
    },
    "recipients": {"inspection_notice": ["Giám đốc Sở (để b/c);", "Thanh tra  Sở", "Lưu: VT, TTR."]},
}  # fmt: skip


def spec(**extra: Any) -> OrganisationSpec:
    return OrganisationSpec.model_validate(ORG | extra)


# ----------------------------------------------------------------------------- numbers


def test_numbers_have_two_digits_at_least_the_kind_and_the_abbreviation() -> None:
    assert document_number(1, DocumentKind.INSPECTION_NOTICE, "SCT") == "01/TB-SCT"
    assert document_number(15, DocumentKind.INSPECTION_NOTICE, "SCT") == "15/TB-SCT"
    assert document_number(9, DocumentKind.REPORT, "SKHĐT") == "09/BC-SKHĐT"
    assert document_number(120, DocumentKind.APOLOGY_LETTER, "KKTCN") == "120/PXL-KKTCN"
    with pytest.raises(ValueError, match="start at 1"):
        document_number(0, DocumentKind.REPORT, "SCT")


# ----------------------------------------------------------------------------- the block


def test_the_block_sets_the_header_and_without_it_the_code_and_province_stand_in() -> None:
    head = letterhead(spec(documents=BLOCK))
    assert head.lines() == ("UBND TỈNH KHÁNH HÒA", "SỞ CÔNG THƯƠNG TỈNH KHÁNH HÒA")
    assert (head.abbreviation, head.place) == ("SCT", "Nha Trang")
    bare = letterhead(spec())
    assert bare.lines() == ("SỞ CÔNG THƯƠNG TỈNH KHÁNH HÒA",)
    assert (bare.abbreviation, bare.place, bare.governing_body) == ("KHA-SCT", "Khánh Hòa", None)
    partial = letterhead(spec(documents={"governing_body": "UBND TỈNH KHÁNH HÒA"}))
    assert (partial.abbreviation, partial.place) == ("KHA-SCT", "Khánh Hòa")


def test_signers_per_kind_and_their_fallbacks() -> None:
    named = spec(documents=BLOCK)
    letter = signature(named, DocumentKind.APOLOGY_LETTER)
    assert letter is not None
    assert (letter.lines(), letter.name) == (("KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC"), "Lê Thị Hoa")
    report = signature(named, DocumentKind.REPORT)
    assert report is not None and (report.lines(), report.name) == (("GIÁM ĐỐC",), "Trần Văn Dũng")
    # No signer for letters: the leader whose name sorts first, as head of the agency.
    fallback = signature(spec(), DocumentKind.APOLOGY_LETTER)
    assert fallback is not None
    assert (fallback.lines(), fallback.name) == (("THỦ TRƯỞNG CƠ QUAN",), "Lê Thị Hoa")
    assert signature(spec(), DocumentKind.REPORT) is None
    # No signer for notices: the inspection: section's signer and its title lines.
    inspecting = spec(
        inspection={
            "unit": "TTR",
            "signer": "kha.gd",
            "signer_title": "KT. GIÁM ĐỐC\nPHÓ GIÁM ĐỐC",
        }
    )
    notice = signature(inspecting, DocumentKind.INSPECTION_NOTICE)
    assert notice is not None
    assert (notice.authority, notice.title, notice.name) == (
        "KT. GIÁM ĐỐC",
        "PHÓ GIÁM ĐỐC",
        "Trần Văn Dũng",
    )


def test_recipients_are_listed_once_never_the_excluded_and_the_file_copy_last() -> None:
    named = spec(documents=BLOCK)
    got = recipients(
        named,
        DocumentKind.INSPECTION_NOTICE,
        ["Văn phòng Sở", "Thanh tra Sở", "Văn phòng Sở"],
        "TTR",
    )
    assert got == ("Văn phòng Sở", "Thanh tra Sở", "Giám đốc Sở (để b/c)", "Lưu: VT, TTR")
    assert recipients(spec(), DocumentKind.APOLOGY_LETTER, ["Như trên"], "DKKD") == (
        "Như trên",
        "Lưu: VT, DKKD",
    )
    assert recipients(
        named, DocumentKind.INSPECTION_NOTICE, ["Văn phòng Sở"], "TTR", never=["Giám đốc Sở (để b/c)"]
    ) == ("Văn phòng Sở", "Thanh tra Sở", "Lưu: VT, TTR")  # fmt: skip
    # The same recipient with a note in brackets is the same recipient: the first is kept.
    noted = spec(documents={"recipients": {"report": ["Văn phòng Sở (để theo dõi)", "Sở Nội vụ"]}})
    assert recipients(noted, DocumentKind.REPORT, ["Văn phòng Sở"], "VP") == (
        "Văn phòng Sở",
        "Sở Nội vụ",
        "Lưu: VT, VP",
    )


@pytest.mark.parametrize(
    ("name", "organisation"),
    [
        ("Công ty TNHH Hoa Sen", True),
        ("CÔNG TY CỔ PHẦN ĐẦU TƯ XỨ LẠNG", True),
        ("Hộ kinh doanh Nguyễn Thị Hồng", True),
        ("Doanh nghiệp tư nhân Vạn Phúc", True),
        ("Hợp tác xã Nông nghiệp Tân Lập", True),
        ("Hoa Sen Co., Ltd", True),
        ("Nguyễn Văn An", False),
        ("Bàn Văn Sáng", False),  # a Dao family name, not "Ban"
        ("Trương Thị Hội", False),
    ],
)
def test_an_applicant_is_an_organisation_by_its_name(name: str, organisation: bool) -> None:
    assert applicant_is_organisation(name) is organisation


# ----------------------------------------------------------------------------- validation


def write_org(folder: Path, documents: str) -> Path:
    text = (DEFINITIONS / "lang-son-skhdt" / "organisation.yaml").read_text(encoding="utf-8")
    start = text.index("documents:")
    end = text.index("\n\n", start)
    path = folder / "organisation.yaml"
    path.write_text(text[:start] + documents.rstrip("\n") + text[end:], encoding="utf-8")
    return path


def messages(folder: Path, documents: str) -> list[str]:
    _, problems = validate([write_org(folder, documents)])
    return [p.message for p in problems]


def test_the_seed_organisations_fill_the_block_from_their_seeds() -> None:
    found, problems = validate([DEFINITIONS])
    assert problems == []
    lsn, _ = found.organisations["LSN-SKHDT"]
    qna, _ = found.organisations["QNA-BQLKKT"]
    assert letterhead(lsn).lines() == ("UBND TỈNH LẠNG SƠN", "SỞ KẾ HOẠCH VÀ ĐẦU TƯ TỈNH LẠNG SƠN")
    assert (letterhead(lsn).abbreviation, letterhead(qna).abbreviation) == ("SKHĐT", "KKTCN")
    assert letterhead(qna).governing_body == "UBND TỈNH QUẢNG NAM"
    notice = signature(qna, DocumentKind.INSPECTION_NOTICE)
    assert notice is not None and notice.lines() == ("KT. TRƯỞNG BAN", "PHÓ TRƯỞNG BAN")
    assert notice.name == "Thiều Viết Dũng"


def test_each_mistake_in_the_block_is_one_line_with_the_value_and_what_is_allowed(
    tmp_path: Path,
) -> None:
    found = messages(
        tmp_path,
        """documents:
  abbreviation: "skhdt"
  place: ""
  signer: {}
  signers:
    apology_letter: {person: lsn.bgd.hoang-thi-la, title: "PHÓ GIÁM ĐỐC", authority: "KT GIÁM ĐỐC"}
    notice: {person: lsn.bgd.nong-van-hung, title: "GIÁM ĐỐC"}
    report: {person: lsn.bgd.nong-van-hung}
  recipients:
    inspection_notice: ["Lưu: VT, TTR", "Lãnh đạo Sở (để b/c)", "Lãnh đạo  sở (để b/c);"]
""",
    )
    assert found == [
        "documents.abbreviation: 'skhdt' is not valid: an abbreviation (ký hiệu) is capital "
        "letters (Đ too), digits, '&' or '-', starting with a letter (e.g. SCT, SKHĐT)",
        "documents.place: String should have at least 1 character (got '')",
        "unknown field 'signer'; did you mean 'signers'?",
        "documents.signers.apology_letter.authority: 'KT GIÁM ĐỐC' is not valid: a signing "
        "authority is KT., TL., TUQ. or Q. followed by a space and the head's title "
        "(e.g. 'KT. GIÁM ĐỐC')",
        "unknown kind of document 'notice'; one of: apology_letter, inspection_notice, report",
        "documents.signers.report: missing required field 'title'",
    ]
    found = messages(
        tmp_path,
        """documents:
  signers:
    apology_letter: {person: lsn.bgd.hoang-thi-la, title: "PHÓ GIÁM ĐỐC", authority: "KT. GIÁM ĐỐC"}
  recipients:
    inspection_notice: ["Lưu: VT, TTR", "Lãnh đạo Sở (để b/c)", "Lãnh đạo  sở (để b/c);"]
""",
    )
    assert found == [
        "unknown person 'lsn.bgd.hoang-thi-la' in LSN-SKHDT: a signer is one of its people; "
        "did you mean 'lsn.bgd.hoang-thi-lan'?",
        "'Lưu: VT, TTR' is the file copy; it comes last among the recipients",
        "recipient 'Lãnh đạo  sở (để b/c);' is listed twice (first on line 163)",
    ]


# ----------------------------------------------------------------------------- the letter

LETTER = LetterFields(
    agency="Sở Công Thương tỉnh Khánh Hòa",
    governing_body="UBND TỈNH KHÁNH HÒA",
    place="Nha Trang",
    number="01/PXL-SCT",
    issued_on=dt.date(2025, 6, 30),
    form_code="Mẫu số 04",
    form_title="Phiếu xin lỗi và hẹn lại ngày trả kết quả",
    form_source="Thông tư số 01/2018/TT-VPCP",
    applicant_name="Công ty TNHH Biển Xanh",
    applicant_is_organisation=True,
    applicant_address=None,
    applicant_contact=None,
    dossier_code="KHA-SCT-250625-0001",
    procedure_name="Cấp giấy phép kinh doanh",
    received_at=dt.datetime(2025, 6, 25, 9, 0),
    original_due=dt.date(2025, 6, 30),
    missed_due=dt.date(2025, 6, 30),
    reason="Chờ ý kiến của Sở Xây dựng",
    apology_text="Cơ quan chúng tôi thành thật xin lỗi Ông/Bà. Mong Ông/Bà thông cảm.",
    new_due=dt.date(2025, 7, 3),
    signer_name="Lê Thị Hoa",
    signer_title="Phó Giám đốc",
    signer_authority="KT. Giám đốc",
    recipients=("Như trên", "Lưu: VT, QLTM"),
    legal_basis=("Nghị định số 61/2018/NĐ-CP",),
)


def test_the_form_in_force_on_the_letter_s_date_gives_its_labels() -> None:
    assert form_for(dt.date(2025, 6, 30)) is FORM_2018
    assert form_for(dt.date(2025, 7, 1)) is FORM_2025
    assert form_for(dt.date(2010, 1, 1)) is FORM_2018
    older = dict(LETTER.lines())
    assert older["Lý do chậm trễ"] == "Chờ ý kiến của Sở Xây dựng"
    assert older["Thời gian hẹn lại trả kết quả"] == "03/07/2025"
    newer = dict(dataclasses.replace(LETTER, issued_on=dt.date(2025, 7, 1)).lines())
    assert newer["Lý do chưa giải quyết đúng hạn"] == "Chờ ý kiến của Sở Xây dựng"
    assert newer["Đề nghị gia hạn thời gian giải quyết đến"] == "03/07/2025"
    assert newer["Thời hạn giải quyết theo quy định"] == "30/06/2025"


def test_a_company_is_addressed_by_its_name_and_a_person_as_ong_ba() -> None:
    assert LETTER.addressee() == "Công ty TNHH Biển Xanh"
    assert LETTER.apology() == (
        "Cơ quan chúng tôi thành thật xin lỗi Quý cơ quan, tổ chức. "
        "Mong Quý cơ quan, tổ chức thông cảm."
    )
    person = dataclasses.replace(
        LETTER, applicant_name="Nguyễn Văn An", applicant_is_organisation=False
    )
    assert person.addressee() == "Ông/Bà Nguyễn Văn An"
    assert person.apology() == LETTER.apology_text


def test_the_letter_is_a5_in_times_new_roman_and_the_same_fields_give_the_same_bytes() -> None:
    raw = render_docx(LETTER)
    assert raw == render_docx(dataclasses.replace(LETTER))
    assert render_letter(LETTER) == render_letter(dataclasses.replace(LETTER))
    assert raw != render_docx(dataclasses.replace(LETTER, number="02/PXL-SCT"))
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        xml = archive.read("word/document.xml").decode("utf-8")
    assert '<w:pgSz w:w="8391" w:h="11906"/>' in xml  # A5
    assert 'w:top="1134" w:right="850" w:bottom="1134" w:left="1701"' in xml  # 20/15/20/30 mm
    document = docx.Document(io.BytesIO(raw))
    fonts = {r.font.name for p in document.paragraphs for r in p.runs}
    assert fonts == {"Times New Roman"}
    html = render_letter(LETTER)
    assert html.count("03/07/2025") == 1  # the new date once
    assert "<strong>KT. GIÁM ĐỐC<br>PHÓ GIÁM ĐỐC</strong>" in html
    assert "<p>- Như trên;</p><p>- Lưu: VT, QLTM.</p>" in html


def test_the_schema_for_editors_describes_the_block() -> None:
    schema = OrganisationSpec.model_json_schema()
    block = schema["$defs"]["DocumentsSpec"]["properties"]
    assert set(block) == {"governing_body", "abbreviation", "place", "signers", "recipients"}
    signer = schema["$defs"]["SignerSpec"]
    assert signer["required"] == ["person", "title"]
    assert set(schema["$defs"]["SignersSpec"]["properties"]) == {
        "apology_letter",
        "inspection_notice",
        "report",
    }
