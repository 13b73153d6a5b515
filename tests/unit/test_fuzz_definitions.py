"""Bad input for the definition loader (hypothesis): bytes, YAML noise, random documents,
mutated plans, odd Unicode, huge and self-expanding files.

Whatever the file holds, `validate` returns: either the definitions, or problems each of one
line `file:line:column: message`; never an exception, never a hang. `--long` runs many more
examples.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from workflow.definitions.checks import Definitions, validate
from workflow.definitions.source import MAX_FILE_BYTES, Problem

LINE = re.compile(r"^[^\n\r]+:\d+:\d+: \S[^\n\r]*$")

ORGANISATION: dict[str, Any] = {
    "kind": "organisation",
    "code": "QNI-STP",
    "name": "Sở Tư pháp tỉnh Quảng Ngãi",
    "province": "Quảng Ngãi",
    "office_unit": "VP",
    "units": [
        {"code": "VP", "name": "Văn phòng Sở"},
        {"code": "HCTP", "name": "Phòng Hành chính tư pháp"},
        {"code": "BGD", "name": "Ban Giám đốc Sở"},
    ],
    "groups": [{"code": "CPDV", "name": "Các phòng, đơn vị thuộc Sở", "units": "all"}],
    "people": [
        {"id": "qni.vp.an", "name": "Nguyễn Văn An", "unit": "VP", "roles": ["office"]},
        {"id": "qni.hctp.cuong", "name": "Lê Văn Cường", "unit": "HCTP", "roles": ["staff"]},
    ],
}
PLAN: dict[str, Any] = {
    "kind": "plan",
    "id": "qni-stp-papi-2025",
    "organisation": "QNI-STP",
    "title": "Kế hoạch nâng cao Chỉ số PAPI năm 2025",
    "issuer": "Sở Tư pháp tỉnh Quảng Ngãi",
    "period": {"start": dt.date(2025, 1, 1), "end": dt.date(2025, 12, 31)},
    "tasks": [
        {
            "code": "1.1",
            "title": "Niêm yết công khai thủ tục hành chính",
            "category": "papi.transparency",
            "lead_unit": "HCTP",
            "cooperating_units": ["VP"],
            "schedule": "continuous",
        },
        {
            "code": "1.2",
            "title": "Báo cáo kết quả thực hiện Kế hoạch",
            "category": "par.leadership",
            "lead_unit": "VP",
            "cooperating_units": ["CPDV"],
            "schedule": {"periodic": "half_yearly"},
        },
    ],
}
ODD = [
    "\u200f",  # right-to-left mark
    "\u202e",  # right-to-left override
    "\u200b",  # zero-width space
    "\u200d",  # zero-width joiner
    "\ufeff",  # byte order mark inside text
    "👩‍👩‍👧",
    "🇻🇳",
    unicodedata.normalize("NFD", "Nguyễn Thị Hồng Nhung"),
    unicodedata.normalize("NFC", "Nguyễn Thị Hồng Nhung"),
    "\u0301\u0323",  # combining marks with nothing to combine with
    "\x00",
    "\x85",
    "\u2028",
    "𝕏",
    "ﷺ",
]


@pytest.fixture
def examples(request: pytest.FixtureRequest) -> Callable[[int], settings]:
    long = bool(request.config.getoption("--long"))

    def make(n: int) -> settings:
        return settings(
            max_examples=n * 20 if long else n,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
            database=None,
        )

    return make


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "plans").mkdir()
    return tmp_path


def clean(problems: list[Problem]) -> list[Problem]:
    for problem in problems:
        assert isinstance(problem, Problem)
        assert problem.line >= 1 and problem.column >= 1
        assert LINE.match(str(problem)), repr(str(problem))
    return problems


def check_file(path: Path, content: bytes) -> tuple[Definitions, list[Problem]]:
    path.write_bytes(content)
    started = time.monotonic()
    found, problems = validate([path])
    assert time.monotonic() - started < 10, "validation must not hang"
    return found, clean(problems)


def dump(data: Any) -> bytes:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False).encode("utf-8")


def test_the_base_documents_are_valid(folder: Path) -> None:
    (folder / "organisation.yaml").write_bytes(dump(ORGANISATION))
    found, problems = check_file(folder / "plans" / "p.yaml", dump(PLAN))
    assert problems == [] and len(found.plans) == 1


# ------------------------------------------------------------------ bytes and text


def test_any_bytes(folder: Path, examples: Callable[[int], settings]) -> None:
    @examples(150)
    @given(st.binary(max_size=3000))
    @example(b"kind: plan\ntitle: \x80\x81 lone continuation bytes\n")
    @example(b"\xef\xbb\xbfkind: plan\n")
    @example(b"\xff\xfe" + "kind: plan".encode("utf-16-le"))
    @example(b"kind: plan\x00\n")
    def run(content: bytes) -> None:
        _, problems = check_file(folder / "x.yaml", content)
        assert problems, "random bytes are not a valid definition"

    run()


def test_any_text(folder: Path, examples: Callable[[int], settings]) -> None:
    @examples(150)
    @given(st.text(max_size=2000))
    def run(text: str) -> None:
        check_file(folder / "x.yaml", text.encode("utf-8", "surrogatepass"))

    run()


YAML_BITS = st.sampled_from(
    ["-", ":", " ", "  ", "\n", "\t", "[", "]", "{", "}", ",", "&a", "*a", "!", "!!", "|", ">",
     "'", '"', "#", "%", "@", "`", "?", "<<", "---", "...", "kind", "plan", "organisation",
     "tasks", "code", "1.2", "~", "null", "yes", "2025-02-30", "0x1F", ".inf", "\\", "\u202e"]
)  # fmt: skip


def test_yaml_shaped_noise(folder: Path, examples: Callable[[int], settings]) -> None:
    @examples(200)
    @given(st.lists(YAML_BITS, max_size=80).map("".join))
    def run(text: str) -> None:
        check_file(folder / "x.yaml", text.encode("utf-8"))

    run()


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.dates(),
    st.sampled_from(["plan", "organisation", "QNI-STP", "VP", "papi.transparency", "1.1"]),
)
DOCUMENTS = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.dictionaries(
            st.one_of(st.text(max_size=12), st.sampled_from(sorted(PLAN) + sorted(ORGANISATION))),
            inner,
            max_size=6,
        ),
    ),
    max_leaves=40,
)


def test_random_documents(folder: Path, examples: Callable[[int], settings]) -> None:
    @examples(150)
    @given(DOCUMENTS, st.sampled_from(["plan", "organisation", None]))
    def run(data: Any, kind: str | None) -> None:
        if kind and isinstance(data, dict):
            data["kind"] = kind
        check_file(folder / "x.yaml", dump(data))

    run()


# ------------------------------------------------------------------ mutated valid files


def paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(data, dict):
        for key, value in data.items():
            out += paths(value, (*prefix, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            out += paths(value, (*prefix, i))
    return out


def mutate(data: Any, path: tuple[Any, ...], action: str, value: Any) -> Any:
    data = copy.deepcopy(data)
    if not path:
        return value if action == "replace" else data
    parent = data
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if action == "replace":
        parent[last] = value
    elif action == "delete":
        del parent[last]
    elif action == "unknown_key" and isinstance(parent, dict):
        parent[f"{last}_x"] = value
    elif action == "duplicate" and isinstance(parent, list):
        parent.append(copy.deepcopy(parent[last]))
    return data


MUTATION = st.tuples(
    st.sampled_from(["plan", "organisation"]),
    st.integers(min_value=0, max_value=10**6),
    st.sampled_from(["replace", "replace", "delete", "unknown_key", "duplicate"]),
    st.one_of(SCALARS, DOCUMENTS, st.sampled_from(ODD)),
)


def test_mutated_definitions(folder: Path, examples: Callable[[int], settings]) -> None:
    @examples(250)
    @given(st.lists(MUTATION, min_size=1, max_size=3))
    def run(mutations: list[tuple[str, int, str, Any]]) -> None:
        docs = {"plan": PLAN, "organisation": ORGANISATION}
        for which, pick, action, value in mutations:
            options = paths(docs[which])
            docs[which] = mutate(docs[which], options[pick % len(options)], action, value)
        (folder / "organisation.yaml").write_bytes(dump(docs["organisation"]))
        found, problems = check_file(folder / "plans" / "p.yaml", dump(docs["plan"]))
        if not problems:  # then it is a whole, loadable set of definitions
            assert len(found.plans) == 1 and len(found.organisations) == 1

    run()


# ------------------------------------------------------------------ odd Unicode in text


def test_odd_unicode_in_text_is_kept_exactly_or_refused_cleanly(
    folder: Path, examples: Callable[[int], settings]
) -> None:
    @examples(150)
    @given(st.lists(st.one_of(st.sampled_from(ODD), st.text(max_size=5)), min_size=1, max_size=6))
    @example([unicodedata.normalize("NFD", "Báo cáo kết quả")])
    @example(["\u202eBáo cáo", "\u200b"])
    @example(["\x00"])
    def run(parts: list[str]) -> None:
        title = "".join(parts)
        plan = copy.deepcopy(PLAN)
        plan["title"] = plan["tasks"][0]["title"] = title
        (folder / "organisation.yaml").write_bytes(dump(ORGANISATION))
        found, problems = check_file(folder / "plans" / "p.yaml", dump(plan))
        if not problems:  # kept exactly as YAML reads it: never normalised (NFC, NFD stay apart)
            written = yaml.safe_load(dump(plan))["title"].strip()  # YAML folds \x85, \u2028
            [(spec, _)] = found.plans
            assert spec.title == spec.tasks[0].title == written

    run()


def test_nfc_and_nfd_codes_are_not_confused(folder: Path) -> None:
    """A unit code written with a Vietnamese letter is refused, in either normal form."""
    for form in ("NFC", "NFD"):
        org = copy.deepcopy(ORGANISATION)
        org["units"].append({"code": unicodedata.normalize(form, "QLĐT"), "name": "Phòng"})
        _, problems = check_file(folder / "organisation.yaml", dump(org))
        assert len(problems) == 1 and "is not valid: a code is upper-case ASCII" in str(problems[0])


# ------------------------------------------------------------------ huge and hostile files


def test_a_file_over_the_limit_is_refused_without_reading_it(folder: Path) -> None:
    path = folder / "huge.yaml"
    with path.open("wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)  # sparse: no need to write 5 MB
    started = time.monotonic()
    _, problems = validate([path])
    assert time.monotonic() - started < 1
    assert [p.message for p in clean(problems)] == [
        f"file is {MAX_FILE_BYTES + 1:,} bytes; a definition file is at most "
        f"{MAX_FILE_BYTES:,} bytes (split a large plan into several plans)"
    ]


def billion_laughs(levels: int, width: int) -> str:
    lines = ["a0: &a0 [" + ", ".join(['"lol"'] * width) + "]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    return "kind: plan\n" + "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (billion_laughs(9, 9), "aliases (*name) repeat more than 10,000 values"),
        (billion_laughs(30, 2), "aliases (*name) repeat more than 10,000 values"),
        ("kind: plan\ntasks: &t [*t, *t]\n", "an alias (*name) refers to a value that contains it"),
        ("kind: plan\nx: &m {a: *m}\n", "an alias (*name) refers to a value that contains it"),
        ("[" * 2_000_000, "nested more than 50 levels deep"),
        ("a:\n" + "".join(" " * i + "- \n" for i in range(1, 400)), "nested more than 50 levels"),
        ("kind: plan\nid: !!python/object:os.system echo\n", "cannot read this value"),
        ("kind: plan\nid: *nowhere\n", "found undefined alias 'nowhere'"),
        ("kind: plan\nid: !!int 12x\n", "not a valid value"),
        ("kind: plan\nid: " + "9" * 6000 + "\n", "not a valid value: Exceeds the limit"),
    ],
    ids=[
        "billion-laughs",
        "deep-doubling",
        "self-containing-list",
        "self-containing-map",
        "deep-flow",
        "deep-block",
        "python-tag",
        "undefined-alias",
        "bad-int",
        "huge-int",
    ],
)
def test_hostile_yaml_is_refused_quickly(folder: Path, text: str, message: str) -> None:
    started = time.monotonic()
    _, problems = check_file(folder / "x.yaml", text.encode("utf-8"))
    assert time.monotonic() - started < 3
    assert any(message in p.message for p in problems), problems


def test_random_alias_graphs_are_bounded(folder: Path, examples: Callable[[int], settings]) -> None:
    @examples(60)
    @given(st.integers(1, 12), st.integers(1, 12), st.booleans())
    def run(levels: int, width: int, as_map: bool) -> None:
        text = billion_laughs(levels, width)
        if as_map:
            text = text.replace("[", "{").replace("]", "}")
            text = re.sub(r"(\*a\d+|\"lol\")", lambda m: f"k{time.monotonic_ns()}: {m[1]}", text)
        started = time.monotonic()
        check_file(folder / "x.yaml", text.encode("utf-8"))
        assert time.monotonic() - started < 3

    run()


def test_the_long_run_reads_a_file_just_under_the_limit(
    folder: Path, request: pytest.FixtureRequest
) -> None:
    if not request.config.getoption("--long"):
        pytest.skip("--long: parses a ~5 MB file")
    row = '  - {code: "T.%d", title: "Nhiệm vụ", category: papi.transparency, lead_unit: VP}\n'
    body, i = [], 0
    size = 0
    while size < MAX_FILE_BYTES - 200:
        line = row % i
        body.append(line)
        size += len(line.encode("utf-8"))
        i += 1
    path = folder / "x.yaml"
    path.write_text("kind: plan\nid: big\ntasks:\n" + "".join(body[:-1]), encoding="utf-8")
    started = time.monotonic()
    _, problems = validate([path])  # pure-Python YAML: about 30 s for 5 MB
    assert time.monotonic() - started < 120
    assert clean(problems)  # no organisation, no title...: refused, cleanly
