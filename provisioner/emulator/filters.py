"""List queries: ``property`` filters, ``orderby`` and continuation tokens.

Grammar (Adobe's "sort and filter" page): ``property=<path><op><values>`` with ops ``==``,
``>``, ``<``, ``>=``, ``<=``; a comma list of values means OR; repeated ``property`` parameters
mean AND; values may be double-quoted (commas inside quotes do not split). ``orderby`` is a
comma list of paths, each optionally prefixed by ``+`` or ``-``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from typing import Any

from provisioner.emulator.errors import JsonObject, flow_error

# A path segment may end in "[]": the field is a list and any of its elements may match
# (Adobe's "sort and filter" page: ``sourceConnectionIds[]==a,b``).
_FILTER = re.compile(r"^([A-Za-z_][A-Za-z0-9_.\[\]]*)(==|>=|<=|>|<)(.*)$", re.DOTALL)
_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
DEFAULT_ORDER: tuple[tuple[str, bool], ...] = (("createdAt", False),)


# (path, op, [(value, was_quoted), ...])
Filter = tuple[str, str, list[tuple[str, bool]]]


def _split_values(raw: str) -> list[tuple[str, bool]]:
    """Split on commas outside double quotes; returns (value, was_quoted) pairs."""
    values: list[tuple[str, bool]] = []
    buf: list[str] = []
    quoted = in_quotes = False
    i = 0
    while i < len(raw):
        ch = raw[i]
        if in_quotes:
            if ch == "\\" and i + 1 < len(raw):
                buf.append(raw[i + 1])
                i += 1
            elif ch == '"':
                in_quotes = False
            else:
                buf.append(ch)
        elif ch == '"':
            if buf:
                raise ValueError("a quote may only start a value")
            in_quotes = quoted = True
        elif ch == ",":
            values.append(("".join(buf), quoted))
            buf, quoted = [], False
        else:
            if quoted:
                raise ValueError("text after a closing quote")
            buf.append(ch)
        i += 1
    if in_quotes:
        raise ValueError("unterminated quote")
    values.append(("".join(buf), quoted))
    return values


def parse_filter(raw: str) -> Filter:
    match = _FILTER.match(raw)
    if not match:
        raise flow_error(
            "1100-400",
            f"Invalid property filter '{_bounded(raw)}': expected <field><op><value> with op "
            "one of ==, >, <, >=, <=.",
        )
    path, op, rest = match.groups()
    try:
        values = _split_values(rest)
    except ValueError as exc:
        raise flow_error("1100-400", f"Invalid property filter '{_bounded(raw)}': {exc}.") from None
    if any(not v and not q for v, q in values):
        raise flow_error("1100-400", f"Invalid property filter '{_bounded(raw)}': empty value.")
    if op != "==" and len(values) > 1:
        raise flow_error(
            "1100-400", f"Invalid property filter '{_bounded(raw)}': only == takes a list."
        )
    return path, op, values


def lookup(record: JsonObject, path: str) -> Any:
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def values_at(record: JsonObject, path: str) -> list[Any]:
    """Every scalar at ``path``; a ``name[]`` segment fans out over the list's elements."""
    found: list[Any] = [record]
    for part in path.split("."):
        fan_out = part.endswith("[]")
        key = part[:-2] if fan_out else part
        step: list[Any] = []
        for value in found:
            if not isinstance(value, dict) or key not in value:
                continue
            child = value[key]
            if fan_out:
                step.extend(child if isinstance(child, list) else [])
            else:
                step.append(child)
        found = step
    return [v for v in found if v is not None and not isinstance(v, dict | list)]


def _coerce(raw: str, quoted: bool, actual: Any) -> Any:
    """The filter value in the type of the field it is compared with."""
    if quoted or isinstance(actual, str) or actual is None:
        return raw
    if isinstance(actual, bool):
        return {"true": True, "false": False}.get(raw.lower(), raw)
    if isinstance(actual, int | float):
        try:
            return float(raw) if "." in raw else int(raw)
        except ValueError:
            return raw
    return raw


_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "==": lambda a, b: bool(a == b),
    ">": lambda a, b: bool(a > b),
    "<": lambda a, b: bool(a < b),
    ">=": lambda a, b: bool(a >= b),
    "<=": lambda a, b: bool(a <= b),
}


def compile_filters(
    raws: Sequence[str], check_path: Callable[[str], None] = lambda path: None
) -> Callable[[JsonObject], bool]:
    parsed = [parse_filter(raw) for raw in raws]
    for path, _, _ in parsed:
        check_path(path)

    def matches(record: JsonObject) -> bool:
        return all(_hit(values_at(record, path), op, values) for path, op, values in parsed)

    return matches


def _hit(actuals: list[Any], op: str, values: list[tuple[str, bool]]) -> bool:
    for actual in actuals:
        for raw, quoted in values:
            expected = _coerce(raw, quoted, actual)
            if type(expected) is not type(actual) and not (
                isinstance(expected, int | float) and isinstance(actual, int | float)
            ):
                continue
            if _OPS[op](actual, expected):
                return True
    return False


def parse_orderby(
    raw: str | None, check_path: Callable[[str], None] = lambda path: None
) -> tuple[tuple[str, bool], ...]:
    """``-name,createdAt`` → ``(("name", True), ("createdAt", False))`` (True: descending)."""
    if raw is None or raw == "":
        return DEFAULT_ORDER
    order: list[tuple[str, bool]] = []
    for part in raw.split(","):
        desc = part.startswith("-")
        path = part[1:] if part[:1] in "+-" and part else part
        if not _PATH.match(path):
            raise flow_error("1100-400", f"Invalid orderby '{_bounded(raw)}'.")
        check_path(path)
        order.append((path, desc))
    return tuple(order)


def _bounded(text: str, limit: int = 80) -> str:
    # Error messages quote request data; a long value is cut, never echoed whole.
    return text if len(text) <= limit else text[:limit] + "..."


def _rank(value: Any) -> tuple[int, Any]:
    # Missing values sort first; mixed types sort by type, never raise.
    if value is None or isinstance(value, dict | list):
        return (0, 0)
    if isinstance(value, bool):
        return (1, int(value))
    if isinstance(value, int | float):
        return (2, value)
    return (3, str(value))


def sort_key(record: JsonObject, order: tuple[tuple[str, bool], ...]) -> list[Any]:
    """The JSON-safe key a continuation token stores; the id breaks ties."""
    return [lookup(record, path) for path, _ in order] + [record["id"]]


def compare_keys(a: list[Any], b: list[Any], order: tuple[tuple[str, bool], ...]) -> int:
    directions = [desc for _, desc in order] + [False]
    for x, y, desc in zip(a, b, directions, strict=True):
        rx, ry = _rank(x), _rank(y)
        if rx != ry:
            result = -1 if rx < ry else 1
            return -result if desc else result
    return 0


def sort_records(
    records: list[JsonObject], order: tuple[tuple[str, bool], ...]
) -> list[JsonObject]:
    def compare(a: JsonObject, b: JsonObject) -> int:
        return compare_keys(sort_key(a, order), sort_key(b, order), order)

    return sorted(records, key=functools.cmp_to_key(compare))
