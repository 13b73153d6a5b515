"""Reading a definition file: YAML to plain data, remembering where every value stood.

Problems are reported as `file:line:column: message`, all of them in one run, so each value
and each key keeps its position. Duplicate keys (which YAML loaders silently accept, the last
one winning) are problems here: a plan must never lose a field without anyone noticing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_DEPTH = 50

Loc = tuple[str | int, ...]


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    line: int
    column: int
    message: str

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
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


def read_source(path: Path, display: str | None = None) -> SourceFile:
    """Read and parse one YAML file; raise SourceError with every problem found."""
    name = display or str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SourceError([Problem(name, 1, 1, f"cannot read the file: {exc.strerror}")]) from exc
    if len(raw) > MAX_FILE_BYTES:
        raise SourceError(
            [
                Problem(
                    name,
                    1,
                    1,
                    f"file is {len(raw):,} bytes; a definition file is at most "
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


def parse_text(text: str, name: str, sha256: str | None = None) -> SourceFile:
    digest = sha256 or hashlib.sha256(text.encode("utf-8")).hexdigest()
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = (exc.problem or "invalid YAML").strip()
        if "expected a single document" in str(exc):
            what = "the file holds several YAML documents (---); put one definition per file"
        raise SourceError([Problem(name, line, column, f"YAML syntax error: {what}")]) from None
    except yaml.YAMLError as exc:
        raise SourceError([Problem(name, 1, 1, f"YAML error: {exc}")]) from None
    finally:
        loader.dispose()
    source = SourceFile(name, None, digest)
    if node is None:
        raise SourceError(
            [Problem(name, 1, 1, "the file is empty; expected a mapping with `kind:`")]
        )
    problems: list[Problem] = []
    try:
        source.data = _build(loader, node, (), source, problems, 0)
    except RecursionError:
        problems.append(Problem(name, 1, 1, "the file is nested too deeply"))
    if problems:
        raise SourceError(problems)
    return source


def _build(
    loader: yaml.SafeLoader,
    node: Node,
    loc: Loc,
    source: SourceFile,
    problems: list[Problem],
    depth: int,
) -> Any:
    source.values[loc] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if depth > MAX_DEPTH:
        problems.append(source.problem(loc, f"nested more than {MAX_DEPTH} levels deep"))
        return None
    if isinstance(node, MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key_pos = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if not isinstance(key_node, ScalarNode) or key_node.tag.endswith(":merge"):
                problems.append(Problem(source.path, *key_pos, "keys must be plain words"))
                continue
            key = str(key_node.value)
            if key in result:
                first = source.keys[(*loc, key)]
                problems.append(
                    Problem(
                        source.path,
                        *key_pos,
                        f"duplicate key '{key}' (first given on line {first[0]}); keep one",
                    )
                )
                continue
            source.keys[(*loc, key)] = key_pos
            result[key] = _build(loader, value_node, (*loc, key), source, problems, depth + 1)
        return result
    if isinstance(node, SequenceNode):
        return [
            _build(loader, item, (*loc, i), source, problems, depth + 1)
            for i, item in enumerate(node.value)
        ]
    try:
        return loader.construct_object(node, deep=True)
    except yaml.YAMLError as exc:
        problems.append(source.problem(loc, f"cannot read this value: {exc}"))
        return None
    except ValueError as exc:  # e.g. a timestamp with an impossible date: 2023-02-30
        problems.append(source.problem(loc, f"not a valid value: {exc}"))
        return None
