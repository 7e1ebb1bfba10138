"""List queries: ``property`` filters, ``orderby`` and continuation tokens.

Grammar (Adobe's "sort and filter" page): ``property=<path><op><values>`` with ops ``==``,
``>``, ``<``, ``>=``, ``<=``; a comma list of values means OR; repeated ``property`` parameters
mean AND; values may be double-quoted (commas inside quotes do not split). ``orderby`` is a
comma list of paths, each optionally prefixed by ``+`` or ``-``.
"""

from __future__ import annotations

import base64
import functools
import json
import re
from collections.abc import Callable, Sequence
from typing import Any

from provisioner.emulator.errors import JsonObject, flow_error

_FILTER = re.compile(r"^([A-Za-z_][A-Za-z0-9_.]*)(==|>=|<=|>|<)(.*)$", re.DOTALL)
_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
# Bytes whose base64 is "++//": every token then carries URL-significant characters, so a
# client that mangles them (splits on '=', forgets to encode '+') fails loudly, as on Adobe.
_TOKEN_MAGIC = b"\xfb\xef\xff"
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
            f"Invalid property filter '{raw}': expected <field><op><value> with op one of "
            "==, >, <, >=, <=.",
        )
    path, op, rest = match.groups()
    try:
        values = _split_values(rest)
    except ValueError as exc:
        raise flow_error("1100-400", f"Invalid property filter '{raw}': {exc}.") from None
    if any(not v and not q for v, q in values):
        raise flow_error("1100-400", f"Invalid property filter '{raw}': empty value.")
    if op != "==" and len(values) > 1:
        raise flow_error("1100-400", f"Invalid property filter '{raw}': only == takes a list.")
    return path, op, values


def lookup(record: JsonObject, path: str) -> Any:
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


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


def compile_filters(raws: Sequence[str]) -> Callable[[JsonObject], bool]:
    parsed = [parse_filter(raw) for raw in raws]

    def matches(record: JsonObject) -> bool:
        for path, op, values in parsed:
            actual = lookup(record, path)
            if actual is None or isinstance(actual, dict | list):
                return False
            hit = False
            for raw, quoted in values:
                expected = _coerce(raw, quoted, actual)
                if type(expected) is not type(actual) and not (
                    isinstance(expected, int | float) and isinstance(actual, int | float)
                ):
                    continue
                if _OPS[op](actual, expected):
                    hit = True
                    break
            if not hit:
                return False
        return True

    return matches


def parse_orderby(raw: str | None) -> tuple[tuple[str, bool], ...]:
    """``-name,createdAt`` → ``(("name", True), ("createdAt", False))`` (True: descending)."""
    if raw is None or raw == "":
        return DEFAULT_ORDER
    order: list[tuple[str, bool]] = []
    for part in raw.split(","):
        desc = part.startswith("-")
        path = part[1:] if part[:1] in "+-" and part else part
        if not _PATH.match(path):
            raise flow_error("1100-400", f"Invalid orderby '{raw}'.")
        order.append((path, desc))
    return tuple(order)


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


def encode_token(last_key: list[Any]) -> str:
    payload = json.dumps({"after": last_key}, separators=(",", ":")).encode()
    # Pad so the base64 always ends in "==" (length ≡ 1 mod 3).
    payload += b" " * ((1 - len(_TOKEN_MAGIC + payload)) % 3)
    return base64.b64encode(_TOKEN_MAGIC + payload).decode("ascii")


def decode_token(token: str) -> list[Any]:
    try:
        raw = base64.b64decode(token.encode("ascii"), validate=True)
        if not raw.startswith(_TOKEN_MAGIC):
            raise ValueError("bad magic")
        data = json.loads(raw[len(_TOKEN_MAGIC) :])
        after = data["after"]
        if not isinstance(after, list):
            raise ValueError("bad shape")
        return after
    except (ValueError, KeyError, TypeError, UnicodeEncodeError):
        raise flow_error(
            "1100-400",
            "Invalid continuationToken: pass the token from _links.next.href unchanged.",
        ) from None
