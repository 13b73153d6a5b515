"""What every document an organisation issues carries, as Nghị định 30/2020/NĐ-CP (Phụ lục I)
lays it out: the issuing body under its governing body, the number and symbol from the
outgoing register (`15/TB-SCT`), the place before the date, the signature block, the
recipients ("Nơi nhận"). Read from the organisation file's `documents:` block, with the
fallbacks of an organisation that has none. Pure: no I/O.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from workflow.definitions.models import OrganisationSpec
from workflow.domain.roles import Role


class DocumentKind(StrEnum):
    """The kinds of document planflow issues; each has its own register."""

    APOLOGY_LETTER = "apology_letter"
    INSPECTION_NOTICE = "inspection_notice"
    REPORT = "report"


# The kind's abbreviation in the symbol (Nghị định 30/2020, Phụ lục III: TB thông báo, BC báo
# cáo); PXL (phiếu xin lỗi) is what the apology letters have always carried.
KIND_CODES: Mapping[DocumentKind, str] = {
    DocumentKind.APOLOGY_LETTER: "PXL",
    DocumentKind.INSPECTION_NOTICE: "TB",
    DocumentKind.REPORT: "BC",
}
# The title of whoever signs when the organisation file names nobody (the letters' old
# wording: the head of the agency).
HEAD_TITLE = "THỦ TRƯỞNG CƠ QUAN"


def document_number(number: int, kind: DocumentKind, abbreviation: str) -> str:
    """'Số' of a document: the register's number, two digits at least (01 to 09), the kind's
    code and the agency's abbreviation: 15/TB-SCT, 01/PXL-SKHĐT."""
    if number < 1:
        raise ValueError(f"a register's numbers start at 1, not {number}")
    return f"{number:02d}/{KIND_CODES[kind]}-{abbreviation}"


def register_year(issued_on: dt.date) -> int:
    """Numbers run from 01 each calendar year (1 January to 31 December), by the date issued."""
    return issued_on.year


@dataclass(frozen=True, slots=True)
class Letterhead:
    """The left block of the header and the place before the date."""

    governing_body: str | None  # "UBND TỈNH KHÁNH HÒA", printed over the agency
    agency: str  # "Sở Công Thương tỉnh Khánh Hòa", printed in capitals
    abbreviation: str  # the ký hiệu in numbers: SCT
    place: str  # "Khánh Hòa" in "Khánh Hòa, ngày 05 tháng 01 năm 2024"

    def lines(self) -> tuple[str, ...]:
        """The issuing body in capitals, under its governing body when it has one."""
        top = (self.governing_body.upper(),) if self.governing_body else ()
        return (*top, self.agency.upper())


def letterhead(spec: OrganisationSpec) -> Letterhead:
    """From the `documents:` block; without it the organisation's code is its abbreviation
    and its province the place."""
    documents = spec.documents
    return Letterhead(
        governing_body=documents.governing_body if documents else None,
        agency=spec.name,
        abbreviation=(documents.abbreviation if documents else None) or spec.code,
        place=(documents.place if documents else None) or spec.province,
    )


@dataclass(frozen=True, slots=True)
class Signature:
    """The signature block: the authority line ("KT. GIÁM ĐỐC") over the signer's title
    ("PHÓ GIÁM ĐỐC"), then, after room for the signature and the seal, the name."""

    title: str
    name: str | None
    authority: str | None = None

    def lines(self) -> tuple[str, ...]:
        top = (self.authority.upper(),) if self.authority else ()
        return (*top, self.title.upper())


def signature(spec: OrganisationSpec, kind: DocumentKind) -> Signature | None:
    """Who signs a document of `kind`: the signer the `documents:` block names for it; else,
    for a conclusion notice, the `inspection:` section's signer; for a letter, the leader
    whose name sorts first, as head of the agency; for a report, nobody (None)."""
    names = {p.id: p.name for p in spec.people}
    configured = getattr(spec.documents.signers, kind.value) if spec.documents else None
    if configured is not None:
        return Signature(
            configured.title, names.get(configured.person, configured.person), configured.authority
        )
    if kind is DocumentKind.INSPECTION_NOTICE and spec.inspection is not None:
        lines = [line.strip() for line in spec.inspection.signer_title.splitlines() if line.strip()]
        name = names.get(spec.inspection.signer) if spec.inspection.signer else None
        if len(lines) >= 2:
            return Signature(" ".join(lines[1:]), name, lines[0])
        return Signature(lines[0] if lines else HEAD_TITLE, name)
    if kind is DocumentKind.APOLOGY_LETTER:
        leaders = sorted(p.name for p in spec.people if Role.LEADER in p.roles)
        return Signature(HEAD_TITLE, leaders[0] if leaders else None)
    return None


def _tidy(line: str) -> str:
    """One space between words, no trailing ';' or '.' (the layout adds them)."""
    return " ".join(line.split()).rstrip(" ;.")


def recipient_key(line: str) -> str:
    """What two lines naming the same recipient share: the name, without case, spacing, or a
    note in brackets ('Văn phòng Sở (để theo dõi)' is 'văn phòng sở')."""
    text = _tidy(line).casefold()
    if text.endswith(")") and " (" in text:
        text = text[: text.rindex(" (")].rstrip()
    return text


def recipients(
    spec: OrganisationSpec,
    kind: DocumentKind,
    addressed: Sequence[str],
    drafting_unit: str,
    *,
    never: Sequence[str] = (),
) -> tuple[str, ...]:
    """'Nơi nhận': who the document is addressed to (`addressed`), then the `documents:`
    block's lines for its kind, each recipient once (compared without case, spacing, a
    trailing ';' or a note in brackets: the first line naming it is kept), none of those in
    `never`; last the file copy: the block's own 'Lưu: ...' line, or 'Lưu: VT, <drafting
    unit>'."""
    configured = list(getattr(spec.documents.recipients, kind.value)) if spec.documents else []
    filed = [line for line in configured if recipient_key(line).startswith("lưu")]
    excluded = {recipient_key(line) for line in never}
    seen: set[str] = set()
    out: list[str] = []
    for line in [*addressed, *configured]:
        key = recipient_key(line)
        if not key or key in seen or key in excluded or key.startswith("lưu"):
            continue
        seen.add(key)
        out.append(_tidy(line))
    out.append(_tidy(filed[-1]) if filed else f"Lưu: VT, {drafting_unit}")
    return tuple(out)


# How a dossier's applicant is addressed: an organisation by its name ("Kính gửi: Công ty TNHH
# Hoa Sen"), a person as "Ông/Bà". Told from the name the desk recorded: a name that starts
# with the word of a kind of organisation, or holds a company's legal form, is one.
_ORGANISATION_WORDS = (
    "công ty",
    "tổng công ty",
    "tập đoàn",
    "doanh nghiệp",
    "dntn",
    "hợp tác xã",
    "liên hiệp hợp tác xã",
    "htx",
    "chi nhánh",
    "văn phòng",
    "địa điểm kinh doanh",
    "hộ kinh doanh",
    "ngân hàng",
    "quỹ",
    "hội",
    "hiệp hội",
    "trường",
    "bệnh viện",
    "trung tâm",
    "viện",
    "ban",
    "sở",
    "ubnd",
    "ủy ban",
    "cơ quan",
    "tổ chức",
    "nhà máy",
    "xí nghiệp",
    "cửa hàng",
    "chủ đầu tư",
)
_LEGAL_FORMS = ("tnhh", "cổ phần", "cp ", "jsc", "co., ltd", "ltd", "company", "corporation")


def applicant_is_organisation(name: str) -> bool:
    """Whether a dossier's applicant is an organisation (a company, a cooperative, an office),
    told from its name; a person otherwise (the default)."""
    words = " ".join(name.split()).casefold()
    if any(words == w or words.startswith(w + " ") for w in _ORGANISATION_WORDS):
        return True
    return any(form in f"{words} " for form in _LEGAL_FORMS)
