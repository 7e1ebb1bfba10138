"""Stage 1, load: manifest files to plain JSON-shaped data, with every value locatable.

PyYAML's C parser composes the node tree; we build the data from the nodes ourselves
instead of using PyYAML's constructor, because its YAML 1.1 rules silently change values
(``NO`` -> False, ``0755`` -> 493, ``2024-01-02`` -> a date) and it keeps the last of two
duplicate keys. The node tree is kept beside the data so a diagnostic can point at the
line and column of any JSON path.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from provisioner import escape
from provisioner.errors import Diagnostic, Location, ManifestError
from provisioner.manifests import excerpt

try:  # The C parser is ~10x faster; fall back to pure Python where libyaml is missing.
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on the PyYAML build
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

JsonPath = tuple[str | int, ...]

# Bounds that keep hostile input (alias bombs, absurd nesting) from exhausting memory.
# 250,000 values is ~50 MB of built data; a real manifest holds a few hundred.
MAX_NODES = 250_000
MAX_DEPTH = 64
# PyYAML's composed tree is built before any bound above applies: a normal manifest costs
# ~50 bytes of memory per byte, a pathological one (a flat list of `1,`) ~170. 4 MiB holds
# ~16,000 connections in one file and keeps the worst case near 700 MB.
MAX_FILE_BYTES = 4 * 1024 * 1024
STDIN, STDIN_DISPLAY = "-", "<stdin>"  # `provision validate -`: a manifest through a pipe

_STANDARD_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = {f"{_STANDARD_TAG}{t}" for t in ("str", "int", "float", "bool", "null")}
_SCALAR_TAGS |= {f"{_STANDARD_TAG}{t}" for t in ("timestamp", "binary", "value", "merge")}
_NULL = frozenset({"", "~", "null", "Null", "NULL"})
_TRUE = frozenset({"true", "True", "TRUE"})
_FALSE = frozenset({"false", "False", "FALSE"})
# YAML 1.2 core decimal integers and floats only; a leading zero keeps a value a string,
# so `0755` or `007` never becomes another number.
_INT = re.compile(r"[-+]?(0|[1-9][0-9]*)")
_MAX_INT_DIGITS = 1000
_FLOAT = re.compile(r"[-+]?(0|[1-9][0-9]*)(\.[0-9]*)?([eE][-+]?[0-9]+)?")


@dataclass(frozen=True)
class Document:
    """One manifest file: its data and the node tree that locates it."""

    path: Path
    display: str
    data: Any
    root: yaml.Node

    def locate(self, path: Sequence[str | int], *, key: bool = False) -> Location:
        """The position of the value at `path` (of its key when `key`), or the nearest parent."""
        node: yaml.Node = self.root
        key_node: yaml.Node | None = None
        for part in path:
            child = _child(node, part)
            if child is None:
                break
            key_node, node = child
        target = key_node if key and key_node is not None else node
        return Location(self.display, target.start_mark.line + 1, target.start_mark.column + 1)


def _child(node: yaml.Node, part: str | int) -> tuple[yaml.Node | None, yaml.Node] | None:
    if isinstance(node, yaml.MappingNode) and isinstance(part, str):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == part:
                return key_node, value_node
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        return None, node.value[part]
    return None


def format_path(path: Iterable[str | int]) -> str:
    text = "$"
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif len(part) > excerpt.SHORT:
            # A path names where, not what: a long key is cut, never echoed whole.
            text += "[" + _quote(f"{part[: excerpt.SHORT]}... ({len(part)} characters)") + "]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", part):
            text += f".{part}"
        else:
            text += "[" + _quote(part) + "]"
    return text


def _quote(text: str) -> str:
    return '"' + printable(text.replace("\\", "\\\\").replace('"', '\\"')) + '"'


def printable(text: str) -> str:
    """`text` with line breaks, control and format characters escaped (`\\n`, `\\u202e`):
    one diagnostic stays one line, and a manifest cannot write escape sequences or
    right-to-left overrides to a reviewer's terminal."""
    return escape.line(text)


def load_documents(paths: Sequence[str]) -> tuple[list[Document], list[Diagnostic]]:
    """Every manifest that loads, and the problems of those that do not. A path `-` is one
    manifest read from standard input, shown as <stdin>; its {file: ...} secrets are
    relative to the working directory."""
    documents: list[Document] = []
    diagnostics: list[Diagnostic] = []
    from provisioner.manifests.discovery import discover

    for path, display in discover([p for p in paths if p != STDIN]):
        try:
            documents.append(load_file(path, display))
        except ManifestError as error:
            diagnostics.extend(error.diagnostics)
    if STDIN in paths:
        try:
            documents.append(_load_stdin())
        except ManifestError as error:
            diagnostics.extend(error.diagnostics)
    return documents, diagnostics


def _load_stdin() -> Document:
    import sys  # only when a manifest comes through a pipe

    text = sys.stdin.read(MAX_FILE_BYTES + 1)
    if len(text) > MAX_FILE_BYTES:
        message = f"larger than {MAX_FILE_BYTES // 2**20} MiB; split it into several manifests"
        raise _error(STDIN_DISPLAY, 1, 1, "$", message)
    return load_text(text, STDIN_DISPLAY, Path(STDIN_DISPLAY))


def load_file(path: Path, display: str) -> Document:
    try:
        text = _read_regular_file(path, display)
    except UnicodeDecodeError as error:
        message = f"not UTF-8 text ({error.reason}); save it as UTF-8"
        raise _error(display, 1, 1, "$", message) from None
    except OSError as error:
        raise _error(display, 1, 1, "$", f"cannot read: {error.strerror}") from None
    return load_text(text, display, path)


def _read_regular_file(path: Path, display: str) -> str:
    # Discovery refused links out of the tree and special files; opening without following
    # a link and without blocking, then checking what was opened, keeps a file swapped in
    # meanwhile (a FIFO would hang the run) from being read.
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NOCTTY", 0)
    fd = os.open(path, flags)
    with os.fdopen(fd, "rb") as handle:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            raise _error(display, 1, 1, "$", "not a regular file; a manifest must be one")
        if status.st_size > MAX_FILE_BYTES:
            message = f"larger than {MAX_FILE_BYTES // 2**20} MiB; split it into several manifests"
            raise _error(display, 1, 1, "$", message)
        return handle.read(MAX_FILE_BYTES + 1).decode("utf-8")


def load_text(text: str, display: str, path: Path | None = None) -> Document:
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = error.problem or error.context or "invalid YAML"
        if "but found another document" in str(error):
            problem = "holds several YAML documents; keep one manifest per file"
        message = f"invalid YAML: {excerpt.bounded(problem)}"
        raise _error(display, line, column, "$", message) from None
    except yaml.reader.ReaderError as error:
        # A NUL, a BOM mid-file or another character YAML forbids; its str() spans lines.
        # libyaml counts the position in UTF-8 bytes.
        raw = text.encode("utf-8", "surrogatepass")[: error.position]
        before = raw.decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "\n")
        line, column = before.count("\n") + 1, len(before) - before.rfind("\n")
        message = f"invalid YAML: {error.reason} #x{error.character:04x}; remove that character"
        raise _error(display, line, column, "$", message) from None
    except yaml.YAMLError as error:
        message = excerpt.bounded(" ".join(str(error).split()))
        raise _error(display, 1, 1, "$", f"invalid YAML: {message}") from None
    finally:
        loader.dispose()
    if root is None:
        raise _error(
            display,
            1,
            1,
            "$",
            "the file is empty; a manifest needs version, org, sandboxes "
            "and connections (run `provision schema` for the format)",
        )
    builder = _Builder(display)
    data = builder.build(root, (), 0)
    if builder.diagnostics:
        raise ManifestError(builder.diagnostics)
    return Document(path or Path(display), display, data, root)


def _error(file: str, line: int, column: int, path: str, message: str) -> ManifestError:
    return ManifestError([Diagnostic(Location(file, line, column), path, message)])


class _Builder:
    """Turns a composed node tree into JSON-shaped data, collecting diagnostics."""

    def __init__(self, display: str) -> None:
        self.display = display
        self.diagnostics: list[Diagnostic] = []
        self.nodes = 0
        self._reported: set[tuple[int, str]] = set()

    def _report(self, node: yaml.Node, path: JsonPath, message: str) -> None:
        # An anchored node is built again at every alias of it; report its problem once,
        # or a bomb of aliases to one `!tag` value makes millions of diagnostics.
        if (id(node), message) in self._reported:
            return
        self._reported.add((id(node), message))
        mark = node.start_mark
        location = Location(self.display, mark.line + 1, mark.column + 1)
        self.diagnostics.append(Diagnostic(location, format_path(path), message))

    def build(self, node: yaml.Node, path: JsonPath, depth: int) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            if self.nodes == MAX_NODES + 1:
                self._report(
                    node,
                    path,
                    f"too large: more than {MAX_NODES} values, counting each use of a "
                    "YAML alias; split the manifest, or write the values out instead of "
                    "nesting anchors",
                )
            return None
        if depth > MAX_DEPTH:
            self._report(node, path, f"nested deeper than {MAX_DEPTH} levels")
            return None
        if not _standard_tag(node):
            self._report(
                node,
                path,
                f"unsupported YAML tag {_shown_tag(node.tag)}; remove the tag",
            )
            return None
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path, depth)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        assert isinstance(node, yaml.ScalarNode)
        return self._scalar(node, path)

    def _mapping(self, node: yaml.MappingNode, path: JsonPath, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self._report(key_node, path, "a key must be a plain string")
                continue
            key = key_node.value
            if key_node.tag == f"{_STANDARD_TAG}merge":
                self._report(
                    key_node, path, "YAML merge keys (<<) are not supported; write the keys out"
                )
                continue
            if key in result:
                first = next(k for k, _ in node.value if k.value == key)
                self._report(
                    key_node,
                    (*path, key),
                    f"duplicate key {excerpt.name(key)} (first defined "
                    f"at line {first.start_mark.line + 1}); keep only one",
                )
                continue
            result[key] = self.build(value_node, (*path, key), depth + 1)
        return result

    def _scalar(self, node: yaml.ScalarNode, path: JsonPath) -> Any:
        value: str = node.value
        # Quoted and block scalars are strings; so is a plain scalar that was tagged or
        # resolved as one (YAML 1.1 resolves `1e3` to a string, and `!!str 12` says so).
        if node.style or node.tag == f"{_STANDARD_TAG}str":
            return value
        if value in _NULL:
            return None
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        if _INT.fullmatch(value):
            # int() refuses more than sys.get_int_max_str_digits() (4300) digits.
            if len(value) > _MAX_INT_DIGITS:
                self._report(node, path, "the number is too long; quote it if it is text")
                return None
            return int(value)
        if _FLOAT.fullmatch(value):
            return float(value)
        return value


def _shown_tag(tag: str) -> str:
    # A tag is a name, cut like any other; the standard prefix does not count against it.
    standard = tag.startswith(_STANDARD_TAG)
    return excerpt.name(tag, excerpt.SHORT + (len(_STANDARD_TAG) if standard else 0))


def _standard_tag(node: yaml.Node) -> bool:
    if isinstance(node, yaml.MappingNode):
        return bool(node.tag == f"{_STANDARD_TAG}map")
    if isinstance(node, yaml.SequenceNode):
        return bool(node.tag == f"{_STANDARD_TAG}seq")
    return node.tag in _SCALAR_TAGS
