"""The words of the audit log's notes, indexed for the auditor's search, folded so that
Vietnamese typed with or without diacritics finds the same entries ("bo sung" and "Bổ sung"
find "Bổ sung hồ sơ"; đ/Đ as d).

`audit_text` holds, per entry with free text (its data's `note`, `reason`, its findings'
notes), those words folded; it is written by a trigger after each INSERT into audit_log, so
every append path (the recorder's INSERTs, PostgreSQL's `planflow_append`) fills it in the
same transaction, and nothing else writes it. Entries appended before this migration are
indexed here (backfill). It is no part of the chain: verify and replay never read it.

- SQLite: an FTS5 table without content (only the seq, as rowid, and the index), tokenized by
  unicode61 with its diacritics removed; unicode61 does not fold đ, so the trigger does.
- PostgreSQL: a tsvector (the 'simple' configuration: no stemming, no stop words) of the
  text folded by the trigger (every Vietnamese letter to its base letter, combining marks
  dropped: no normalize(), which a database not in UTF8 refuses), under a GIN index. The
  JSON is read as jsonb with its `\\u0000` escapes (valid JSON, which jsonb refuses) made
  U+FFFD first: an append must never fail for its index.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import unicodedata

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# Every letter with a Vietnamese diacritic, both cases, and its base letter (lower case).
_VIETNAMESE = "ăâđêôơư" + "àáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ"
_LETTERS = _VIETNAMESE + _VIETNAMESE.upper()


def _base(letter: str) -> str:
    bare = unicodedata.normalize("NFD", letter.lower().replace("đ", "d"))
    return "".join(c for c in bare if not unicodedata.combining(c))


# The combining marks of a decomposed (NFD) text come last, with no letter to become:
# translate() drops them, so "hồ" typed decomposed folds as "ho" too.
_MARKS = "\u0300\u0301\u0302\u0303\u0306\u0309\u031b\u0323"
FOLD_FROM = _LETTERS + "ABCDEFGHIJKLMNOPQRSTUVWXYZ" + _MARKS
FOLD_TO = "".join(_base(c) for c in _LETTERS) + "abcdefghijklmnopqrstuvwxyz"


def _sqlite_notes(data: str) -> str:
    """The free text of an entry's data (SQLite's JSON functions), đ/Đ folded; a `\\u0000`
    escape read as U+FFFD (SQLite's functions would end the text at a NUL)."""
    data = f"replace({data}, '\\u0000', '\\ufffd')"
    notes = (
        f"coalesce(json_extract({data}, '$.note'), '') || ' ' || "
        f"coalesce(json_extract({data}, '$.reason'), '') || ' ' || "
        f"coalesce((SELECT group_concat(json_extract(f.value, '$.note'), ' ') "
        f"FROM json_each({data}, '$.findings') AS f), '')"
    )
    return f"replace(replace({notes}, 'đ', 'd'), 'Đ', 'd')"


def _sqlite_has_notes(data: str) -> str:
    return (
        f"json_valid({data}) AND json_type({data}) = 'object' AND ("
        f"json_type({data}, '$.note') = 'text' OR json_type({data}, '$.reason') = 'text' OR "
        f"json_type({data}, '$.findings') = 'array')"
    )


SQLITE = [
    """CREATE VIRTUAL TABLE audit_text USING fts5(
       body, content='', tokenize="unicode61 remove_diacritics 2")""",
    f"""CREATE TRIGGER audit_text_add AFTER INSERT ON audit_log
       WHEN {_sqlite_has_notes("NEW.data")}
       BEGIN INSERT INTO audit_text(rowid, body) VALUES (NEW.seq, {_sqlite_notes("NEW.data")});
       END""",
    f"""INSERT INTO audit_text(rowid, body)
       SELECT seq, {_sqlite_notes("data")} FROM audit_log WHERE {_sqlite_has_notes("data")}""",
]

# The folded words of one entry's data (PostgreSQL), NULL when it has no free text.
_PG_WORDS = f"""to_tsvector('simple', translate(concat_ws(' ',
           CASE WHEN jsonb_typeof(d->'note') = 'string' THEN d->>'note' END,
           CASE WHEN jsonb_typeof(d->'reason') = 'string' THEN d->>'reason' END,
           (SELECT string_agg(f->>'note', ' ') FROM jsonb_array_elements(
              CASE WHEN jsonb_typeof(d->'findings') = 'array' THEN d->'findings'
              ELSE '[]'::jsonb END) AS f
            WHERE jsonb_typeof(f->'note') = 'string')),
         '{FOLD_FROM}', '{FOLD_TO}'))"""

POSTGRES = [
    "CREATE TABLE audit_text (seq BIGINT PRIMARY KEY, body tsvector NOT NULL)",
    "CREATE INDEX ix_audit_text_body ON audit_text USING gin (body)",
    f"""CREATE FUNCTION audit_text_add() RETURNS trigger LANGUAGE plpgsql AS $$
       DECLARE d jsonb;
       BEGIN
         d := replace(NEW.data, '\\u0000', '\\ufffd')::jsonb;
         IF jsonb_typeof(d) = 'object' THEN
           INSERT INTO audit_text (seq, body)
           SELECT NEW.seq, w FROM (SELECT {_PG_WORDS} AS w) AS words WHERE w <> ''::tsvector;
         END IF;
         RETURN NULL;
       END $$""",
    """CREATE TRIGGER audit_text_add AFTER INSERT ON audit_log
       FOR EACH ROW EXECUTE FUNCTION audit_text_add()""",
    f"""INSERT INTO audit_text (seq, body)
       SELECT seq, w FROM (
         SELECT a.seq, {_PG_WORDS} AS w FROM audit_log AS a,
           LATERAL (SELECT replace(a.data, '\\u0000', '\\ufffd')::jsonb AS d) AS j
         WHERE jsonb_typeof(j.d) = 'object'
       ) AS words WHERE w <> ''::tsvector""",
]


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in SQLITE if dialect == "sqlite" else POSTGRES:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER audit_text_add")
        op.execute("DROP TABLE audit_text")
        return
    op.execute("DROP TRIGGER audit_text_add ON audit_log")
    op.execute("DROP FUNCTION audit_text_add()")
    op.execute("DROP TABLE audit_text")
