"""A compiled fast path for the JSON Schema subset our own schemas use.

jsonschema interprets a schema afresh for every instance; validating 10,000 rendered
payloads and manifest entries that way costs more than parsing the YAML. ``compile``
turns a schema into nested closures once. It answers only "valid?" and is at least as
strict as jsonschema: when it says no, the caller runs jsonschema for the real verdict and
its diagnostics, so a disagreement can cost time but never accept a bad document (a test
checks both on generated instances). Unknown keywords are refused at compile time, so a
schema edit cannot silently bypass a check.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

Check = Callable[[Any], bool]

_ANNOTATIONS = frozenset(
    {"$schema", "$id", "$comment", "$defs", "title", "description", "default", "examples"}
)
_TYPES: dict[str, Check] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


class UnsupportedSchema(ValueError):
    pass


def _same(a: Any, b: Any) -> bool:
    # Stricter than JSON equality: 1 and True, or 1 and 1.0, are never the same here.
    return type(a) is type(b) and a == b


def compile_schema(root: Mapping[str, Any]) -> Check:
    refs: dict[str, Check] = {}

    def ref(pointer: str) -> Check:
        if not pointer.startswith("#/$defs/"):
            raise UnsupportedSchema(f"only local $defs references are supported: {pointer}")
        name = pointer.removeprefix("#/$defs/")
        if name not in refs:
            refs[name] = lambda v: refs[name](v)  # placeholder for recursive schemas
            refs[name] = build(root["$defs"][name])
        return lambda v: refs[name](v)

    def build(schema: Any) -> Check:
        if schema is True:
            return lambda v: True
        if schema is False:
            return lambda v: False
        compiled = [
            _keyword(key, value, schema, build, ref)
            for key, value in schema.items()
            if key not in _ANNOTATIONS
        ]
        checks = [check for check in compiled if check is not None]
        return lambda v: all(check(v) for check in checks)

    return build(root)


def _keyword(
    key: str,
    value: Any,
    schema: Mapping[str, Any],
    build: Callable[[Any], Check],
    ref: Callable[[str], Check],
) -> Check | None:
    if key == "type":
        names = [value] if isinstance(value, str) else value
        tests = [_TYPES[n] for n in names]
        return lambda v: any(t(v) for t in tests)
    if key == "const":
        return lambda v: _same(v, value)
    if key == "enum":
        return lambda v: any(_same(v, option) for option in value)
    if key == "$ref":
        return ref(value)
    if key == "properties":
        children = {name: build(sub) for name, sub in value.items()}
        return lambda v: (
            not isinstance(v, dict) or all(children[k](v[k]) for k in children if k in v)
        )
    if key == "additionalProperties":
        known = frozenset(schema.get("properties", {}))
        if "patternProperties" in schema:
            raise UnsupportedSchema("patternProperties")
        extra = build(value)
        return lambda v: (
            not isinstance(v, dict) or all(extra(item) for k, item in v.items() if k not in known)
        )
    if key == "required":
        return lambda v: not isinstance(v, dict) or all(k in v for k in value)
    if key == "propertyNames":
        names = build(value)
        return lambda v: not isinstance(v, dict) or all(names(k) for k in v)
    if key == "items":
        item = build(value)
        return lambda v: not isinstance(v, list) or all(item(i) for i in v)
    if key == "uniqueItems":
        return None if not value else lambda v: not isinstance(v, list) or _unique(v)
    if key in ("minItems", "maxItems", "minProperties", "maxProperties", "minLength", "maxLength"):
        return _size(key, value)
    if key in ("minimum", "maximum"):
        compare: Callable[[Any], bool] = (
            (lambda n: n >= value) if key == "minimum" else (lambda n: n <= value)
        )
        return lambda v: not _TYPES["number"](v) or compare(v)
    if key == "pattern":
        pattern = re.compile(value)
        return lambda v: not isinstance(v, str) or pattern.search(v) is not None
    if key in ("allOf", "anyOf", "oneOf"):
        subs = [build(s) for s in value]
        if key == "allOf":
            return lambda v: all(s(v) for s in subs)
        if key == "anyOf":
            return lambda v: any(s(v) for s in subs)
        return lambda v: sum(1 for s in subs if s(v)) == 1
    if key == "if":
        condition = build(value)
        then = build(schema.get("then", True))
        otherwise = build(schema.get("else", True))
        return lambda v: then(v) if condition(v) else otherwise(v)
    if key in ("then", "else"):
        return None  # evaluated by "if"
    raise UnsupportedSchema(f"keyword {key!r} has no fast path; add it to fastschema")


def _size(key: str, limit: int) -> Check:
    kind = {"Items": list, "Properties": dict, "Length": str}[key[3:]]
    if key.startswith("min"):
        return lambda v: not isinstance(v, kind) or len(v) >= limit
    return lambda v: not isinstance(v, kind) or len(v) <= limit


def _unique(values: list[Any]) -> bool:
    # Any two equal-looking items count as duplicates (stricter than JSON equality).
    seen: list[Any] = []
    for value in values:
        if any(value == other for other in seen):
            return False
        seen.append(value)
    return True
