"""Unit names as a plan writes them ("Phòng HC&TH", "Các phòng, đơn vị") as the unit and
group codes of the organisation file, with a Vietnamese comment on every match that was
not word for word.

Pure. Matching goes from the surest to the loosest: the exact name or code; the name
normalised (case, diacritics, the "Phòng"/"Ban"/"Văn phòng" prefix, "&" for "và", an
abbreviation such as HC&TH or HCTH); a group for the plural words ("Các phòng, đơn vị");
then a close match (difflib), always shown.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from workflow.definitions.models import OrganisationSpec
from workflow.definitions.plan_import.schedules import plain

# "p" and "tt": "P. KHTC", "TT. Xúc tiến" as plans abbreviate "Phòng", "Trung tâm".
PREFIXES = ("van phong", "phong", "ban", "trung tam", "doan", "thanh tra", "so", "p", "tt")
# Endings a plan leaves out ("Các phòng, đơn vị" for "Các phòng, đơn vị trực thuộc").
SUFFIXES = ("truc thuoc", "thuoc so", "thuoc ban", "thuoc ban quan ly", "cua ban quan ly", "so")
# The words of "các phòng, đơn vị trực thuộc" and the like: a cell of only these is a group.
PLURAL = frozenset(
    {"cac", "toan", "the", "tat", "ca", "phong", "ban", "don", "vi", "truc", "thuoc", "so"}
    | {"co", "quan", "chuyen", "mon"}
    # "Các phòng, đơn vị liên quan", "... có liên quan", "... khác": still the group (a guess,
    # commented: which of them is for the lead unit to say).
    | {"lien", "khac"}
)
# How a plan names a body outside the organisation ("Sở Nội vụ", "UBND các huyện", "Công an
# tỉnh", "các doanh nghiệp"): matched on the plain words, only for a name that matched no unit.
OUTSIDE = re.compile(
    r"^(so|ubnd|uy ban|hdnd|hoi dong nhan dan|bo|cuc|chi cuc|tong cuc|tinh uy|huyen uy|thanh uy"
    r"|cong an|kho bac|ngan hang|mat tran|ubmttq|lien doan|hoi|dai|bao|vien|truong|benh vien"
    r"|doanh nghiep|to chuc|ca nhan|nguoi dan|nhan dan|huyen|thi xa|thanh pho|xa|phuong"
    r"|van phong (ubnd|uy ban|tinh uy|doan)|trung tam phuc vu hanh chinh cong"
    r"|cac (so|ban nganh|co quan|dia phuong|huyen|xa|doanh nghiep|to chuc|hoi|bo|nganh))\b"
)
# A cell written as a sentence: "Văn phòng Sở chủ trì, phối hợp với các phòng": the role
# words part the names (the first leads: build.py).
_ROLE_WORDS = re.compile(
    r"\s*\b(?:ch[ủu]\s+tr[ìi]|ph[ốo]i\s+h[ợo]p(?:\s+(?:v[ớo]i|c[ùu]ng))?)\b\s*:?\s*", re.I
)
# What a cell adds after a name to say its role: "Văn phòng Sở (chủ trì)".
ROLES = ("chu tri", "phoi hop", "dau moi", "thuc hien", "tham muu")


def _without_role(text: str) -> str:
    """`Văn phòng Sở (chủ trì)` -> `Văn phòng Sở`: the brackets say the column again."""
    head, bracket, inside = text.rstrip().rpartition("(")
    if bracket and head.strip() and inside.endswith(")") and plain(inside[:-1]) in ROLES:
        return head.strip()
    return text


def outside(name: str) -> bool:
    """Whether a name that matched no unit names a body outside the organisation."""
    return OUTSIDE.match(_words(name)) is not None


CLOSE = 0.82  # difflib ratio: one or two letters wrong in a name of twenty


@dataclass
class UnitMatch:
    codes: list[str] = field(default_factory=list)  # unit or group codes, in cell order
    comments: list[str] = field(default_factory=list)  # Vietnamese, one per guess
    unknown: list[str] = field(default_factory=list)  # names that matched nothing


def _words(text: str) -> str:
    """Plain words: no diacritics, '&' as 'và', punctuation as spaces."""
    text = plain(text).replace("&", " va ")
    return " ".join(re.sub(r"[^a-z0-9 ]+", " ", text).split())


def _unprefixed(words: str) -> str:
    for prefix in PREFIXES:
        if words.startswith(prefix + " ") and len(words) > len(prefix) + 1:
            return words[len(prefix) + 1 :]
    return words


def _unsuffixed(words: str) -> str:
    for suffix in SUFFIXES:
        if words.endswith(" " + suffix):
            return words[: -len(suffix) - 1]
    return words


def _compact(words: str) -> str:
    """`hc va th` -> `hcth`: an abbreviation as typed, without 'và' and spaces."""
    return "".join(w for w in words.split() if w != "va")


def _initials(words: str) -> str:
    """`hanh chinh va tong hop` -> `hcth`: the abbreviation agencies make of a name."""
    return "".join(w[0] for w in words.split() if w != "va")


class Units:
    """The organisation's units and groups, indexed for matching."""

    def __init__(self, org: OrganisationSpec) -> None:
        self.org = org
        self.names: dict[str, str] = {u.code: u.name for u in org.units}
        self.names.update({g.code: g.name for g in org.groups})
        self.groups = {g.code for g in org.groups}
        self.exact: dict[str, str] = {}
        self.normal: dict[str, str] = {}
        for code, name in self.names.items():
            self.exact[" ".join(name.split()).lower()] = code
            self.exact[code.lower()] = code
            words = _words(name)
            core = _unsuffixed(_unprefixed(words))
            for key in (words, _unprefixed(words), _unsuffixed(words), core):
                if len(key) >= 4:  # never "so" for "Thanh tra Sở": too short to tell
                    self.normal.setdefault(key, code)
            if code not in self.groups:
                for key in (_compact(core), _initials(core), _initials(_unprefixed(words))):
                    if len(key) >= 2:
                        self.normal.setdefault("#" + key, code)
                self.normal.setdefault("#" + code.lower().replace("-", "").replace("_", ""), code)

    def listing(self) -> str:
        """`HCTH (Phòng Hành chính và Tổng hợp), ...`: for a problem line."""
        return ", ".join(f"{u.code} ({u.name})" for u in self.org.units)

    def one(self, text: str, *, close: bool = True) -> tuple[str | None, str | None]:
        """One name: its code and the comment on the guess (None: exact or not found).
        `close`: a close match (a misspelt name) counts too."""
        shown = f"«{text}»"
        text = _without_role(text)
        exact = self.exact.get(" ".join(text.split()).lower())
        if exact is not None:
            return exact, None
        words = _words(text)
        if not words:
            return None, None
        core = _unsuffixed(_unprefixed(words))
        for key in (words, _unprefixed(words), _unsuffixed(words), core):
            if key in self.normal:
                code = self.normal[key]
                return code, f"{shown} là {self._named(code)}"
        for key in (_compact(core), _compact(_unprefixed(words))):
            if "#" + key in self.normal:
                code = self.normal["#" + key]
                return code, f"{shown}: viết tắt của {self._named(code)}"
        group = self._plural(words)
        if group is not None:
            return group, f"{shown}: nhóm {self._named(group)}"
        return self._close(text, words) if close else (None, None)

    def _named(self, code: str) -> str:
        return f"«{self.names[code]}» ({code})"

    def _plural(self, words: str) -> str | None:
        """`các phòng, đơn vị`, `các đơn vị`, `các phòng`: the group that says so, else the
        group of every unit."""
        if not re.match(r"^(cac|toan the|tat ca)\b", words) or set(words.split()) - PLURAL:
            return None
        every = [g.code for g in self.org.groups if g.units == "all"]
        for group in self.org.groups:
            named = _words(group.name)
            if named.startswith(words) and (
                words.endswith("don vi") or "don vi" not in _unsuffixed(named)
            ):
                return group.code
        if words in ("cac phong", "cac phong ban"):
            rooms = [
                g.code
                for g in self.org.groups
                if _words(g.name).startswith("cac phong") and "don vi" not in _words(g.name)
            ]
            if rooms:
                return rooms[0]
        return every[0] if every else None

    def _close(self, text: str, words: str) -> tuple[str | None, str | None]:
        keys = {k: c for k, c in self.normal.items() if not k.startswith("#") and len(k) > 3}
        for candidate in (words, _unsuffixed(_unprefixed(words))):
            found = difflib.get_close_matches(candidate, list(keys), n=1, cutoff=CLOSE)
            if found:
                code = keys[found[0]]
                return code, (
                    f"GẦN ĐÚNG: «{text}» không có trong tệp cơ quan; gần giống "
                    f"{self._named(code)}: kiểm tra lại"
                )
        return None, None

    def read(self, text: str | None) -> UnitMatch:
        """A cell: one or several names ("Phòng A, Phòng B"; "A; B"; one per line)."""
        match = UnitMatch()
        if text is None or not text.strip():
            return match
        whole, note = self.one(text, close=False)
        if whole is None and "(" not in text:
            text = _ROLE_WORDS.sub("; ", text).strip(" ;,")
        parts = [text] if whole is not None else _split(_without_lead_in(self._unwrapped(text)))
        for part in parts:
            for name in self._names_in(part):
                code, note = self.one(name)
                if code is None:
                    match.unknown.append(name)
                    continue
                if note:
                    match.comments.append(note)
                if code not in match.codes:
                    match.codes.append(code)
        return match

    def _unwrapped(self, text: str) -> str:
        """A name the cell broke over two lines ("Phòng" / "Pháp chế", "Phòng Quản lý" /
        "thương mại", "Phòng Kế hoạch -" / "Tài chính") made one line again; a line that
        begins a name ("- Phòng A", "Phòng B", a lower-case name after a whole one) stays
        apart."""
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        out: list[str] = []
        for line in lines:
            joins = out and (
                _words(out[-1]) in PREFIXES
                or out[-1].endswith(("-", "–", "&", ","))
                or _words(out[-1]).endswith(" va")
                or (line[:1].islower() and self.one(out[-1], close=False)[0] is None)
            )
            if joins:
                out[-1] = f"{out[-1]} {line}"
            else:
                out.append(line)
        return "\n".join(out)

    def _names_in(self, part: str) -> list[str]:
        """Names in a part split at commas, a comma kept where the words on both sides make
        one name ("Phòng Tổng hợp, Quy hoạch"; "Các phòng, đơn vị")."""
        pieces = [p.strip() for p in part.split(",") if p.strip()]
        names: list[str] = []
        i = 0
        while i < len(pieces):
            for j in range(len(pieces), i, -1):
                joined = ", ".join(pieces[i:j])
                if j == i + 1 or self.one(joined, close=False)[0] is not None:
                    names += [joined] if j > i + 1 else self._and(joined)
                    i = j
                    break
        return names

    def _and(self, piece: str) -> list[str]:
        """`A và B`: two names when each is one (a name may hold "và" itself: "Phòng Hành
        chính và Tổng hợp", tried whole first)."""
        if self.one(piece, close=False)[0] is not None:
            return [piece]
        segments = [h.strip() for h in re.split(r"\s+(?:và|va)\s+", piece) if h.strip()]
        return self._partition(segments) or [piece]

    def _partition(self, segments: list[str]) -> list[str] | None:
        """The segments joined back with "và" into names that each match, longest first."""
        if not segments:
            return []
        for k in range(len(segments), 0, -1):
            name = " và ".join(segments[:k])
            if self.one(name, close=False)[0] is not None:
                rest = self._partition(segments[k:])
                if rest is not None:
                    return [name, *rest]
        return None


def _without_lead_in(text: str) -> str:
    """`Các phòng: Đăng ký kinh doanh, Quản lý đầu tư công`: the names after the colon."""
    head, colon, rest = text.partition(":")
    if colon and rest.strip() and set(_words(head).split()) <= PLURAL:
        return rest
    return text


def _split(text: str) -> list[str]:
    # Lines, ";", "+", " - " and bullets ("- Phòng A", "• Phòng B") part names.
    parts = re.split(r"[;\n+•]|\s[-–]\s|^\s*[-–]\s*", text)
    return [" ".join(p.split()).strip(" .-–•") for p in parts if p.strip(" .-–•")]


def without_lead(lead: list[str], cooperating: UnitMatch) -> list[str]:
    """The lead unit named again among the cooperating ones is dropped: a comment says so."""
    kept = [c for c in cooperating.codes if c not in lead]
    if len(kept) != len(cooperating.codes):
        cooperating.comments.append(
            "đơn vị chủ trì cũng ghi ở cột phối hợp: bỏ khỏi danh sách phối hợp"
        )
    return kept
