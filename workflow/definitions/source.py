"""Reading a definition file: YAML to plain data, remembering where every value stood.

Problems are reported as `file:line:column: message`, all of them in one run, so each value
and each key keeps its position. Duplicate keys (which YAML loaders silently accept, the last
one winning) are problems here: a plan must never lose a field without anyone noticing.

Hostile input is refused quickly with one problem, never a traceback: characters YAML does
not allow (NUL, ...), nesting deeper than MAX_DEPTH (checked while composing, so the parser's
work stays linear), and aliases (`*name`) that expand to more than MAX_ALIAS_VALUES values or
contain themselves (a "billion laughs").
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.nodes import CollectionNode, MappingNode, Node, ScalarNode

from workflow.reading import TooLarge, read_at_most

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_DEPTH = 50
MAX_ALIAS_VALUES = 10_000  # values that aliases may add, all together, beyond those written
# Written with escapes ("\0", "\x1f", "\ud800") YAML text can hold what no database column
# or terminal should: control characters (tab and line breaks aside) and lone surrogates.
FORBIDDEN_IN_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")

Loc = tuple[str | int, ...]


def one_line(text: str) -> str:
    """Escape what would break a one-line message or disguise it: line breaks, control and
    format characters (NUL, bidi overrides, zero-width marks)."""
    return "".join(
        ch
        if unicodedata.category(ch) not in ("Cc", "Cf", "Zl", "Zp", "Cs")
        else ch.encode("unicode_escape").decode("ascii")
        for ch in text
    )


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    line: int
    column: int
    message: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "file", one_line(self.file))
        object.__setattr__(self, "message", one_line(self.message))

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}"

    def as_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "message": self.message,
        }


@dataclass
class SourceFile:
    """A parsed file: its data, its raw bytes' hash, and positions of values and keys."""

    path: str
    data: Any
    sha256: str
    values: dict[Loc, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Loc, tuple[int, int]] = field(default_factory=dict)
    # Values that could not be read (read as None): already reported, not to be again.
    unreadable: set[Loc] = field(default_factory=set)

    def where(self, loc: Loc, *, key: bool = False) -> tuple[int, int]:
        """The position of `loc`, or of its nearest enclosing value that has one."""
        if key and loc in self.keys:
            return self.keys[loc]
        probe = tuple(loc)
        while probe:
            if probe in self.values:
                return self.values[probe]
            probe = probe[:-1]
        return self.values.get((), (1, 1))

    def problem(self, loc: Loc, message: str, *, key: bool = False) -> Problem:
        line, column = self.where(loc, key=key)
        return Problem(self.path, line, column, message)


class SourceError(Exception):
    """A file that cannot be taken as it is. `source`: what could be read of it still (a
    duplicate key, a value that is not valid), for its other checks to run in the same run;
    None when nothing could."""

    def __init__(self, problems: list[Problem], source: SourceFile | None = None) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems
        self.source = source


def read_source(path: Path, display: str | None = None) -> SourceFile:
    """Read and parse one YAML file; raise SourceError with every problem found."""
    name = display or str(path)
    size = 0
    try:
        raw = read_at_most(path, MAX_FILE_BYTES)
    except TooLarge as big:
        raw, size = b"", big.size
    except OSError as exc:
        raise SourceError([Problem(name, 1, 1, f"cannot read the file: {exc.strerror}")]) from exc
    if size > MAX_FILE_BYTES:
        raise SourceError(
            [
                Problem(
                    name,
                    1,
                    1,
                    f"file is {size:,} bytes; a definition file is at most "
                    f"{MAX_FILE_BYTES:,} bytes (split a large plan into several plans)",
                )
            ]
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise SourceError(
            [
                Problem(
                    name,
                    line,
                    1,
                    "the file is not UTF-8 text; save it as UTF-8 (Vietnamese text needs it)",
                )
            ]
        ) from None
    return parse_text(text, name, hashlib.sha256(raw).hexdigest())


class _Loader(yaml.SafeLoader):
    """The safe loader, refusing nesting deeper than MAX_DEPTH as it composes."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH + 1:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise ComposerError(None, None, f"nested more than {MAX_DEPTH} levels deep", mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _position(text: str, index: int) -> tuple[int, int]:
    index = max(0, min(index, len(text)))
    line_start = text.rfind("\n", 0, index) + 1
    return text.count("\n", 0, index) + 1, index - line_start + 1


def _reader_problem(name: str, text: str, exc: yaml.reader.ReaderError) -> Problem:
    line, column = _position(text, exc.position)
    char = exc.character
    code = char if isinstance(char, int) else ord(str(char)[:1] or "\0")
    return Problem(
        name,
        line,
        column,
        f"YAML does not allow the character U+{code:04X} ({exc.reason}); remove it",
    )


def parse_text(text: str, name: str, sha256: str | None = None) -> SourceFile:
    digest = sha256 or hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    try:
        loader = _Loader(text)
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow (NUL, ...)
        raise SourceError([_reader_problem(name, text, exc)]) from None
    try:
        node = loader.get_single_node()
    except yaml.reader.ReaderError as exc:
        raise SourceError([_reader_problem(name, text, exc)]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = (exc.problem or "invalid YAML").strip()
        if "expected a single document" in str(exc):
            what = "the file holds several YAML documents (---); put one definition per file"
        raise SourceError([Problem(name, line, column, f"YAML syntax error: {what}")]) from None
    except yaml.YAMLError as exc:
        raise SourceError([Problem(name, 1, 1, f"YAML error: {_first_line(exc)}")]) from None
    except RecursionError:
        raise SourceError([Problem(name, 1, 1, "the file is nested too deeply")]) from None
    finally:
        loader.dispose()
    source = SourceFile(name, None, digest)
    if node is None:
        raise SourceError(
            [Problem(name, 1, 1, "the file is empty; expected a mapping with `kind:`")]
        )
    problems: list[Problem] = []
    walk = _Walk(loader, source, problems)
    partial: SourceFile | None = source
    try:
        source.data = walk.build(node, (), 0)
    except _AliasBomb as exc:
        problems.append(exc.problem)
        partial = None
    except RecursionError:
        problems.append(Problem(name, 1, 1, "the file is nested too deeply"))
        partial = None
    if problems:
        raise SourceError(problems, partial)
    return source


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class _AliasBomb(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


@dataclass
class _Walk:
    """Turns composed nodes into plain data, recording every value's and key's position."""

    loader: yaml.SafeLoader
    source: SourceFile
    problems: list[Problem]
    seen: set[int] = field(default_factory=set)  # collections built once already
    open: set[int] = field(default_factory=set)  # collections being built right now
    aliased: int = 0  # values built again because an alias repeats them
    repeating: int = 0  # > 0 while building a collection an alias repeats

    def build(self, node: Node, loc: Loc, depth: int) -> Any:
        source = self.source
        source.values[loc] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if self.repeating:
            self.aliased += 1
            if self.aliased > MAX_ALIAS_VALUES:
                raise _AliasBomb(
                    source.problem(
                        loc,
                        f"aliases (*name) repeat more than {MAX_ALIAS_VALUES:,} values; write the "
                        "values out instead (a file that expands itself is refused)",
                    )
                )
        if depth > MAX_DEPTH:
            self.problems.append(source.problem(loc, f"nested more than {MAX_DEPTH} levels deep"))
            source.unreadable.add(loc)
            return None
        if not isinstance(node, CollectionNode):
            return self._scalar(node, loc)
        key = id(node)
        if key in self.open:
            raise _AliasBomb(
                source.problem(loc, "an alias (*name) refers to a value that contains it")
            )
        repeat = key in self.seen
        self.seen.add(key)
        self.open.add(key)
        self.repeating += repeat
        try:
            if isinstance(node, MappingNode):
                return self._mapping(node, loc, depth)
            return [self.build(item, (*loc, i), depth + 1) for i, item in enumerate(node.value)]
        finally:
            self.repeating -= repeat
            self.open.discard(key)

    def _mapping(self, node: MappingNode, loc: Loc, depth: int) -> dict[str, Any]:
        source, result = self.source, {}
        for key_node, value_node in node.value:
            key_pos = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if not isinstance(key_node, ScalarNode) or key_node.tag.endswith(":merge"):
                self.problems.append(Problem(source.path, *key_pos, "keys must be plain words"))
                continue
            key = str(key_node.value)
            if key in result:
                first = source.keys[(*loc, key)]
                self.problems.append(
                    Problem(
                        source.path,
                        *key_pos,
                        f"duplicate key '{key}' (first given on line {first[0]}); keep one",
                    )
                )
                continue
            source.keys[(*loc, key)] = key_pos
            result[key] = self.build(value_node, (*loc, key), depth + 1)
        return result

    def _scalar(self, node: Node, loc: Loc) -> Any:
        try:
            value = self.loader.construct_object(node, deep=True)
            bad = FORBIDDEN_IN_TEXT.search(value) if isinstance(value, str) else None
            if bad is None:
                return value
            self.problems.append(
                self.source.problem(
                    loc,
                    f"the text holds the character U+{ord(bad.group()):04X} (a control "
                    "character or a lone surrogate); remove it",
                )
            )
        except yaml.MarkedYAMLError as exc:  # an unknown tag (!foo, !!python/...), ...
            what = (exc.problem or _first_line(exc)).strip()
            self.problems.append(self.source.problem(loc, f"cannot read this value: {what}"))
        except yaml.YAMLError as exc:
            self.problems.append(
                self.source.problem(loc, f"cannot read this value: {_first_line(exc)}")
            )
        except (ValueError, OverflowError) as exc:  # e.g. an impossible date: 2023-02-30
            self.problems.append(self.source.problem(loc, f"not a valid value: {exc}"))
        self.source.unreadable.add(loc)
        return None
