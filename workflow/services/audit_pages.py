"""Reads for the auditor's pages: the audit log searched by every filter of `audit query`
and by the words of its notes, a page at a time (keyset: after a seq, never an offset).

The words are compared folded: lower case, without diacritics, đ/Đ as d, so "bo sung" and
"Bổ sung" both find a note "Bổ sung hồ sơ". The notes are folded and indexed as they are
appended (migration 0011: SQLite's FTS5, PostgreSQL's full text); the words typed are folded
here the same way, and each finds a word of a note or a word's beginning ("hồ" finds "hồ
sơ", "bổ su" finds "bổ sung"), never a piece from inside a word.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from workflow.context import Context
from workflow.domain.filters import AuditFilter
from workflow.services import audit_log

PAGE_SIZE = 50
EXPORT_BATCH = 2000
NOTE_KEYS = ("note", "reason")  # the free text people write into an entry's data
MAX_WORDS = 16
_WORD = re.compile(r"[^\W_]+")


def fold(text: str) -> str:
    """`text` as searched: lower case, no diacritics (NFD, combining marks dropped), đ as d,
    runs of white space as one space."""
    lowered = text.casefold().replace("đ", "d")
    bare = "".join(c for c in unicodedata.normalize("NFD", lowered) if not unicodedata.combining(c))
    return " ".join(bare.split())


def words_of(text: str | None) -> tuple[str, ...]:
    """The folded words of what was typed (letters and digits; punctuation separates)."""
    return tuple(_WORD.findall(fold(text or "")))[:MAX_WORDS]


def notes_of(entry: dict[str, Any]) -> str:
    """The free text of an entry, as shown (its data's note, reason, its findings' notes):
    what migration 0011 indexes."""
    data = entry.get("data")
    if not isinstance(data, dict):
        return ""
    found = [data[key] for key in NOTE_KEYS if isinstance(data.get(key), str)]
    findings = data.get("findings")
    for finding in findings if isinstance(findings, list) else ():
        if isinstance(finding, dict) and isinstance(finding.get("note"), str):
            found.append(finding["note"])
    return "\n".join(found)


@dataclass(frozen=True, slots=True)
class SearchPage:
    entries: list[dict[str, Any]]
    next_after: int | None  # the seq the next page starts after; None: nothing more


def search(
    ctx: Context, where: AuditFilter, text: str | None, limit: int = PAGE_SIZE
) -> SearchPage:
    """One page of the entries `where` selects (its fence, filters and `after_seq`), and when
    `text` has words, only those whose notes hold every one of them."""
    chosen = dataclasses.replace(where, note_words=words_of(text), limit=limit + 1)
    rows = audit_log.query(ctx, chosen)
    more = len(rows) > limit
    return SearchPage(rows[:limit], rows[limit - 1]["seq"] if more else None)


def every_match(
    ctx: Context, where: AuditFilter, text: str | None
) -> Iterator[list[dict[str, Any]]]:
    """Every entry of the search, a batch at a time (each batch its own short read, as the
    API's export does: no transaction held open for the whole download)."""
    cursor = where.after_seq or 0
    words = words_of(text)
    while True:
        batch = audit_log.query(
            ctx,
            dataclasses.replace(where, note_words=words, after_seq=cursor, limit=EXPORT_BATCH),
        )
        if batch:
            yield batch
        if len(batch) < EXPORT_BATCH:
            return
        cursor = batch[-1]["seq"]
