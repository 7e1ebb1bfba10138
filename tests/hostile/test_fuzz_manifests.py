"""Property tests: generated and mutated manifests through `provision validate` and
`render`. Whatever the input, the run ends in 0 or 1 with located messages only, never a
traceback or an internal error, within the deadline, and no sandbox escape leaks the
canary planted in the environment and beside the manifest."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from .hostile import FUZZ, MANIFEST_WITH_DATAFLOWS, Run, check, run_cli

CANARY = "canary-7d1f0e-do-not-print"
BASE: dict[str, Any] = yaml.safe_load(MANIFEST_WITH_DATAFLOWS)  # a dataflow's fields too

TEMPLATES = [
    "{{", "}}", "{%", "%}", "{#", "#}", "{{ vars.domain }}", "{{ sandbox.name }}", "{{ org }}",
    "{{ nope }}", "{% if true %}", "{% endif %}", "{% for x in vars %}", "{% endfor %}",
    "{% raw %}", "{% endraw %}", "{{ ''.__class__ }}", "{{ self }}", "{{ config }}",
    "{{ lipsum }}", "{{ range(9) }}", "{% include 'x' %}", "{% set x = 1 %}", "{{ x }}",
    "{{ 'a' * 99999 }}", "{{ 10 ** 99 }}", "|upper", "|attr('__class__')", "()", "[0]",
    "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}", "{{ 1/0 }}", "{{ 'x'|int }}",
    "{{ [1]|first|first }}", "{{ vars|length }}", "{{ ('x'*60000)|replace('', 'y'*9) }}",
    "{% for a in 'abcdefghijklmnopqrstuvwxyz' %}{% for b in 'abcdefghijklmnopqrstuvwxyz' %}",
    "{%- -%}", "{{- -}}", "{% filter upper %}", "{% endfilter %}", "{% with %}", "{% do x %}",
    "\\", "'", '"', "\n", "\x00", "\u202e",
]  # fmt: skip
HOSTILE_STRINGS = [
    "", " ", "\x00", "\t", "\r", "\r\n", "\u2028", "\u202e\u202d", "\ufeff", "\ufffe",
    "🐘👨‍👩‍👧", "שלום", "مرحبا", "'; DROP TABLE x; --", "${HOME}", "$(id)", "`id`", "%s%n",
    "../../../../etc/passwd", "/etc/passwd", "C:\\Windows", "a;b{c}d=e", " lead", "trail ",
    "AEP_CLIENT_SECRET", "aep_client_id", "HOSTILE_CANARY", "canary.txt", "*", "&a", "!!str",
    "<<", "---", "...", "#", "- x", "? x", ": x", "{a: 1}", "[1, 2]", "0755", "NO", "on",
    "1e3", ".inf", ".nan", "0x1F", "2024-01-02", "~", "null", "true", "12:30:00",
]  # fmt: skip

templates = st.lists(st.sampled_from(TEMPLATES) | st.text(max_size=6), max_size=6).map("".join)
strings = st.one_of(
    st.sampled_from(HOSTILE_STRINGS),
    st.text(max_size=40),
    templates,
    st.integers(1_000, 70_000).map(lambda n: "x" * n),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    strings,
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(strings, inner, max_size=4),
    max_leaves=12,
)


def _deep(depth: int, leaf: Any) -> Any:
    for _ in range(depth):
        leaf = [leaf]
    return leaf


hostile_values = st.one_of(
    values,
    st.builds(_deep, st.integers(1, 150), scalars),
    st.builds(lambda n: {f"k{i}": i for i in range(n)}, st.integers(0, 3000)),
)


def _paths(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, (*path, i))


PATHS = list(_paths(BASE))


def _get(node: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        node = node[part]
    return node


STRING_PATHS = [p for p in PATHS if p and isinstance(_get(BASE, p), str)]


def _copy() -> Any:
    return json.loads(json.dumps(BASE))


@st.composite
def mutated(draw: st.DrawFn) -> Any:
    data = _copy()
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(PATHS))
        if not path:
            if draw(st.booleans()):
                data = draw(hostile_values)
            continue
        try:
            parent = _get(data, path[:-1])
            key = path[-1]
            action = draw(st.sampled_from(["replace", "delete", "add", "rename"]))
            if action == "replace":
                parent[key] = draw(hostile_values)
            elif action == "delete":
                del parent[key]
            elif action == "add" and isinstance(parent, dict):
                parent[draw(strings)] = draw(hostile_values)
            elif action == "add" and isinstance(parent, list):
                parent.append(draw(hostile_values))
            elif action == "rename" and isinstance(parent, dict):
                parent[draw(strings)] = parent.pop(key)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed or replaced the parent
    return data


def _dump(data: Any, style: str) -> str:
    if style == "json":
        return json.dumps(data, ensure_ascii=False)
    return yaml.safe_dump(
        data, allow_unicode=style == "unicode", default_flow_style=style == "flow", width=10**9
    )


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A manifest folder with a secrets file, and a canary beside it and in the environment."""
    root = tmp_path_factory.mktemp("hostile")
    (root / "secrets").mkdir()
    (root / "secrets" / "crm.txt").write_text(CANARY)
    (root / "canary.txt").write_text(CANARY)
    previous = os.environ.get("HOSTILE_CANARY")
    os.environ["HOSTILE_CANARY"] = CANARY
    try:
        yield root
    finally:
        if previous is None:
            del os.environ["HOSTILE_CANARY"]
        else:
            os.environ["HOSTILE_CANARY"] = previous


def _run_all(workspace: Path, content: bytes) -> list[Run]:
    handle, name = tempfile.mkstemp(suffix=".yaml", dir=workspace)
    with os.fdopen(handle, "wb") as file:
        file.write(content)
    try:
        runs = [run_cli([command, name]) for command in ("validate", "render")]
    finally:
        os.unlink(name)
    for run in runs:
        check(run)
        assert CANARY not in run.out + run.err
        if run.code == 0 and run.out.startswith("["):
            json.loads(run.out)  # render printed whole JSON
    return runs


@FUZZ
@given(data=mutated(), style=st.sampled_from(["block", "flow", "unicode", "json"]))
def test_mutated_manifests(workspace: Path, data: Any, style: str) -> None:
    try:
        text = _dump(data, style)
    except (ValueError, yaml.YAMLError):
        return  # not representable (a NaN key, a surrogate): nothing to feed
    _run_all(workspace, text.encode("utf-8", "surrogatepass"))


@FUZZ
@given(
    path=st.sampled_from(STRING_PATHS),
    template=templates,
    quoted=st.booleans(),
)
def test_templates_in_every_field(
    workspace: Path, path: tuple[Any, ...], template: str, quoted: bool
) -> None:
    data = _copy()
    _get(data, path[:-1])[path[-1]] = template
    _run_all(
        workspace, _dump(data, "unicode" if quoted else "flow").encode("utf-8", "surrogatepass")
    )


SNIPPETS = [
    "&a ", "*a", "*b", "!!python/object:os.system ", "!!python/name:os.system ", "!vault ",
    "!!binary ", "!!set ", "!!omap ", "<<: *a\n", "<<: ", "{{", "{%", "{#", "}}", "---\n",
    "...\n", "%YAML 1.1\n", "%TAG ! tag:x,2000:\n", "\t", "\r", "\r\n", "\ufeff", "\x00",
    "\u2028", "\x85", "[", "]", "{", "}", ",", ":", "? ", "- ", "#", "'", '"', "|\n", ">\n",
    "  ", "\n", "9" * 5000, "[" * 200, "{a: " * 100, "é", "🐘", "\u202e",
]  # fmt: skip


@st.composite
def text_mutations(draw: st.DrawFn) -> bytes:
    text = MANIFEST_WITH_DATAFLOWS
    for _ in range(draw(st.integers(1, 5))):
        at = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "duplicate", "anchor-bomb"]))
        if action == "insert":
            text = text[:at] + draw(st.sampled_from(SNIPPETS) | st.text(max_size=8)) + text[at:]
        elif action == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 40)) :]
        elif action == "duplicate":
            lines = text.splitlines(keepends=True)
            i = draw(st.integers(0, len(lines) - 1))
            text = "".join(lines[: i + 1] + lines[i:])
        else:
            levels = draw(st.integers(1, 8))
            bomb = "".join(
                f"  b{i}: &b{i} [{', '.join([f'*b{i - 1}'] * 9)}]\n" for i in range(1, levels)
            )
            text = text.replace(
                "vars:\n", "vars:\n  b0: &b0 [x, x, x, x, x, x, x, x, x]\n" + bomb, 1
            )
    raw = text.encode("utf-8", "surrogatepass")
    if draw(st.booleans()):
        at = draw(st.integers(0, len(raw)))
        raw = raw[:at] + draw(st.binary(min_size=1, max_size=4)) + raw[at:]
    return raw


@FUZZ
@given(content=text_mutations())
def test_mutated_text_and_bytes(workspace: Path, content: bytes) -> None:
    _run_all(workspace, content)


@FUZZ
@given(
    content=st.binary(max_size=400)
    | st.text(max_size=400).map(lambda t: t.encode("utf-8", "surrogatepass"))
)
def test_arbitrary_bytes(workspace: Path, content: bytes) -> None:
    _run_all(workspace, content)
