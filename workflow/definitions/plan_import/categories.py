"""The index category of an imported task, guessed from the headings above it and its own
words; every guess says what it was taken from, in Vietnamese.

Pure. The headings come first: a table's group rows are usually the index's own fields
("Công tác lãnh đạo, chỉ đạo", "Chỉ số hài lòng về “Tiếp cận dịch vụ”", PAPI's eight
contents). Which index (PAR INDEX, SIPAS, PAPI) is taken from the headings, else the plan's
title.
"""

from __future__ import annotations

from dataclasses import dataclass

from workflow.definitions.plan_import.schedules import plain
from workflow.definitions.vocabulary import CATEGORIES, Category

# Words (without diacritics) that point at a category besides its own name.
KEYWORDS: dict[str, tuple[str, ...]] = {
    "par.leadership": ("lanh dao", "chi dao", "kiem tra cong tac", "thi dua", "bao cao ket qua"),
    "par.communication": ("tuyen truyen", "truyen thong", "pho bien"),
    "par.institutions": ("the che", "quy pham phap luat", "phap che", "moi truong kinh doanh"),
    "par.procedures": ("thu tuc hanh chinh", "tthc", "mot cua", "giai quyet ho so"),
    "par.organisation": ("bo may", "sap xep", "chuc nang, nhiem vu", "tinh gon"),
    "par.civil_service": ("cong chuc", "vien chuc", "cong vu", "vi tri viec lam", "dao tao"),
    "par.public_finance": ("tai chinh", "ngan sach", "tai san cong", "kinh phi", "tu chu"),
    "par.digital_government": (
        "chinh quyen dien tu",
        "chinh quyen so",
        "chuyen doi so",
        "cong nghe thong tin",
        "truc tuyen",
        "so hoa",
        "phan mem",
    ),
    "papi.participation": ("tham gia", "dan chu o co so", "gop y"),
    "papi.transparency": ("cong khai", "minh bach"),
    "papi.accountability": ("giai trinh", "tiep cong dan", "khieu nai", "to cao", "doi thoai"),
    "papi.anti_corruption": ("tham nhung", "tieu cuc", "nhung nhieu"),
    "papi.procedures": ("thu tuc hanh chinh", "chung thuc", "giay phep", "mot cua"),
    "papi.public_services": ("dich vu cong", "y te", "giao duc", "ha tang"),
    "papi.environment": ("moi truong", "o nhiem", "rac thai", "chat thai"),
    "papi.e_governance": ("dien tu", "cong thong tin", "truc tuyen", "internet"),
    "sipas.access": ("tiep can dich vu", "cung cap thong tin"),
    "sipas.procedure_handling": ("to chuc giai quyet", "quy trinh giai quyet", "don gian hoa"),
    "sipas.civil_servants": ("cong chuc giai quyet", "thai do"),
    "sipas.results": ("ket qua giai quyet", "dung han"),
    "sipas.feedback": ("phan anh", "kien nghi", "pakn"),
}


@dataclass(frozen=True)
class CategoryGuess:
    code: str
    comment: str  # Vietnamese: what it was taken from


def index_of(text: str) -> str | None:
    """The index a heading or title names: "SIPAS", "PAPI", "PAR INDEX" or None."""
    words = plain(text)
    named = []
    if "hai long" in words or "sipas" in words:
        named.append("SIPAS")
    if "papi" in words or "quan tri va hanh chinh cong" in words:
        named.append("PAPI")
    if "par index" in words or "chi so cai cach hanh chinh" in words:
        named.append("PAR INDEX")
    return named[0] if len(named) == 1 else None


def _score(words: str, category: Category) -> tuple[int, str]:
    """How strongly `words` point at `category`: its whole name scores above any keyword."""
    name = plain(category.name)
    if name in words:
        return 100 + len(name), category.name
    hits = [k for k in KEYWORDS.get(category.code, ()) if k in words]
    return (sum(len(k) for k in hits), hits[0]) if hits else (0, "")


def _best(text: str, index: str | None) -> tuple[Category, str] | None:
    """The category `text` points at most strongly, and the words it was taken from, as
    `text` writes them (with their diacritics)."""
    words = plain(text)
    choices = [c for c in CATEGORIES if index is None or c.index == index]
    scored = [(_score(words, c), c) for c in choices]
    (points, word), found = max(scored, key=lambda s: s[0][0])
    return (found, _as_written(text, word)) if points else None


def _as_written(text: str, word: str) -> str:
    """`cong khai` as `text` writes it (`công khai`), when it can be found there."""
    written = " ".join(text.split())
    letters = [plain(c) or " " for c in written]
    if all(len(c) == 1 for c in letters):
        at = "".join(letters).find(plain(word))
        if at >= 0:
            return written[at : at + len(plain(word))]
    return word


def guess(title: str, headings: list[tuple[str, str]], plan_title: str | None) -> CategoryGuess:
    """`headings`: (code, title) of the sections above the task, innermost first."""
    index = next((i for _, t in headings if (i := index_of(t))), None)
    if index is None and plan_title:
        index = index_of(plan_title)
    for code, heading in headings:
        found = _best(heading, index)
        if found:
            category, word = found
            said = "" if plain(word) == plain(category.name) else f" (từ «{word}»)"
            return CategoryGuess(
                category.code,
                f"ĐOÁN: nhóm theo mục {code} «{_short(heading)}»{said}: "
                f"{category.index} · {category.name}",
            )
    found = _best(title, index)
    if found:
        category, word = found
        return CategoryGuess(
            category.code,
            f"ĐOÁN: nhóm theo nội dung nhiệm vụ (từ «{word}»): {category.index} · {category.name}",
        )
    fallback = next(c for c in CATEGORIES if index is None or c.index == index)
    return CategoryGuess(
        fallback.code,
        f"ĐOÁN (không rõ): không đoán được nhóm; tạm ghi {fallback.index} · {fallback.name}. "
        "Chọn lại: danh sách trong planflow plans schema",
    )


def _short(text: str, limit: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
