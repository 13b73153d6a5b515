#!/usr/bin/env python3
"""Verify a planflow audit log export without planflow: Python's standard library only.

    python3 verify_audit_export.py audit.jsonl [--anchor SEQ:HASH] [--partial]

The export is `planflow audit export --format jsonl` (or GET /api/v1/audit/export): one JSON
object per line, each entry exactly as hashed. The check, as docs/audit-log-encoding.md
specifies it:

1. An entry's hash is the SHA-256 (lowercase hex) of the UTF-8 bytes of the RFC 8785 (JCS)
   canonical JSON of the entry's object without its `hash` member. An entry's values are
   text, integers or null (`data` is a string: the JSON text planflow hashed), so JCS comes
   down to: members sorted by name, no whitespace, strings escaped as below, integers as
   decimal digits.
2. The entries are numbered 1, 2, 3, ... with no gap; the first one's `prev_hash` is 64
   zeros, every other one's is the hash of the entry before it.
3. An entry is not dated before the one before it (`at` is UTC text of fixed width, so text
   order is time order).
4. With --anchor SEQ:HASH (a head published earlier): entry SEQ is in the export and has
   that hash. An owner who rewrote or shortened the log up to SEQ cannot pass this.

--partial: an export of one agency's entries (an auditor sees their own): entries need not be
contiguous; links are checked where two entries are consecutive.

Exit 0 and "ok: ..." when every check passes; exit 6 and one line naming the first entry
that fails; exit 2 when the file cannot be read as an export.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys

GENESIS = "0" * 64
REQUIRED = ("seq", "at", "actor", "role", "unit", "organisation", "action", "subject",
            "task_id", "plan_id", "from_state", "to_state", "data", "prev_hash",
            "hash")  # fmt: skip
OPTIONAL = ("channel", "credential")  # present only when set
INTEGERS = ("seq", "task_id")
NOT_NULL = ("seq", "at", "actor", "action", "subject", "data", "prev_hash", "hash")
SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n",
                 "\f": "\\f", "\r": "\\r"}  # fmt: skip


def jcs_string(text: str) -> str:
    """RFC 8785 3.2.2.2: quote; escape the quote, the backslash and U+0000-U+001F (by the
    short forms where JSON has one, else \\u00XX in lowercase hex); every other character,
    non-ASCII included, as itself."""
    out = []
    for char in text:
        if char in SHORT_ESCAPES:
            out.append(SHORT_ESCAPES[char])
        elif char < " ":
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def jcs_value(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):  # never in an entry; refused below, kept out of int's branch
        raise ValueError("a boolean")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return jcs_string(value)
    raise ValueError(f"a {type(value).__name__}")


def jcs_object(entry: dict[str, object]) -> str:
    # Names are ASCII, so sorting by UTF-16 code units (RFC 8785 3.2.3) is sorting by text.
    members = (f"{jcs_string(name)}:{jcs_value(entry[name])}" for name in sorted(entry))
    return "{" + ",".join(members) + "}"


def entry_hash(entry: dict[str, object]) -> str:
    hashed = {name: value for name, value in entry.items() if name != "hash"}
    return hashlib.sha256(jcs_object(hashed).encode("utf-8")).hexdigest()


class Failed(Exception):
    """The export does not verify: the message names the entry."""


class Unreadable(Exception):
    """The file is not an export."""


def read_entry(line: str, number: int) -> dict[str, object]:
    try:
        entry = json.loads(line)
    except json.JSONDecodeError as error:
        raise Unreadable(f"line {number}: not JSON ({error.msg})") from None
    if not isinstance(entry, dict):
        raise Unreadable(f"line {number}: not a JSON object")
    missing = [name for name in REQUIRED if name not in entry]
    unknown = [name for name in entry if name not in REQUIRED and name not in OPTIONAL]
    if missing or unknown:
        raise Unreadable(f"line {number}: missing {missing} / unknown {unknown} members")
    for name, value in entry.items():
        wanted = int if name in INTEGERS else str
        if value is None and name not in NOT_NULL:
            continue
        if not isinstance(value, wanted) or isinstance(value, bool):
            raise Unreadable(f"line {number}: {name} is not {wanted.__name__}")
    return entry


def verify(lines: list[str], anchor: tuple[int, str] | None, partial: bool) -> str:
    previous: dict[str, object] | None = None
    anchored = anchor is None
    for number, line in enumerate(lines, start=1):
        entry = read_entry(line, number)
        seq = entry["seq"]
        assert isinstance(seq, int)
        if entry_hash(entry) != entry["hash"]:
            raise Failed(f"entry {seq}: its hash does not match its content (edited)")
        expected_seq = 1 if previous is None else int(str(previous["seq"])) + 1
        if seq != expected_seq and not (partial and seq > expected_seq):
            raise Failed(f"entry {seq}: expected entry {expected_seq} here (missing or moved)")
        if seq == expected_seq:
            link = GENESIS if previous is None else previous["hash"]
            if entry["prev_hash"] != link:
                raise Failed(f"entry {seq}: prev_hash is not the hash of the entry before it")
        if previous is not None and str(entry["at"]) < str(previous["at"]):
            raise Failed(f"entry {seq}: dated {entry['at']}, before the entry before it")
        if anchor is not None and seq == anchor[0]:
            if entry["hash"] != anchor[1]:
                raise Failed(f"entry {seq}: its hash differs from the anchor's (rewritten)")
            anchored = True
        previous = entry
    if anchor is not None and not anchored:
        raise Failed(f"entry {anchor[0]} of the anchor is not in the export (shortened)")
    if previous is None:
        return "ok: the export is empty"
    return f"ok: {len(lines)} entries checked, head {previous['seq']}:{previous['hash']}"


def parse_anchor(raw: str) -> tuple[int, str]:
    seq, _, digest = raw.partition(":")
    if not seq.isdigit() or len(digest) != 64 or digest.strip("0123456789abcdef"):
        raise argparse.ArgumentTypeError("an anchor is SEQ:HASH, e.g. 945:3f0c... (64 hex)")
    return int(seq), digest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Verify a planflow audit export (JSON lines).")
    parser.add_argument("export", help="the file `planflow audit export --format jsonl` wrote")
    parser.add_argument("--anchor", type=parse_anchor, help="a published head, SEQ:HASH")
    parser.add_argument("--partial", action="store_true", help="entries may have gaps")
    args = parser.parse_args(argv)
    try:
        with open(args.export, encoding="utf-8") as export:
            lines = [line for line in export.read().split("\n") if line]
        print(verify(lines, args.anchor, args.partial))
        return 0
    except Failed as failure:
        print(f"verify_audit_export: failed: {failure}", file=sys.stderr)
        return 6
    except (Unreadable, OSError, UnicodeError) as error:  # a lone surrogate cannot be UTF-8
        print(f"verify_audit_export: error: {args.export}: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
