"""Text from the database shown on a terminal, made visible instead of obeyed.

A name, a note or a title may hold control characters: an escape sequence (`ESC [ 2 J`
clears the screen, others retitle the window or fake a prompt), a newline that forges a row
of a table, or a bidirectional override (U+202E) that shows `exe.txt` as `txt.exe`. In
tables, `show`, histories and error lines each such character is written as its escape
(`\\x1b`, `\\n`, `\\u202e`), so what a person reads is what is stored. JSON keeps the value
and escapes them the JSON way (`\\u202e`): decoded, it is the same text.
"""

from __future__ import annotations

import re

# C0 controls (tab and newline too: inside a cell they would break its row), DEL, C1
# controls, and the bidirectional marks, embeddings, overrides and isolates.
_HIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]")
# What json.dumps(ensure_ascii=False) leaves raw: it escapes C0 controls itself.
_HIDDEN_IN_JSON = re.compile("[\x7f-\x9f\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]")


_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    named = _NAMED.get(char)
    if named is not None:
        return named
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def visible(text: str) -> str:
    """`text` with every control and bidirectional character shown as its escape."""
    return _HIDDEN.sub(_escape, text)


def visible_lines(text: str) -> str:
    """`visible`, keeping the line breaks between lines (a message of several lines)."""
    return "\n".join(visible(line) for line in text.split("\n"))


def json_visible(text: str) -> str:
    """JSON text with the characters json.dumps leaves raw written as `\\uXXXX` escapes:
    the same JSON value, nothing a terminal obeys. Safe on the whole text: they can only
    occur inside strings."""
    return _HIDDEN_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
