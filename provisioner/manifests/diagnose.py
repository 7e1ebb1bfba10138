"""A manifest's schema errors as located diagnostics: file:line:column, the JSON path, and
a message that says what to write instead ("did you mean" for an unknown key)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from provisioner import schemas
from provisioner.errors import Diagnostic
from provisioner.manifests.excerpt import describe, excerpt, name

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

    from provisioner.manifests.load import Document


def manifest_diagnostics(document: Document) -> Iterator[Diagnostic]:
    for error in schemas.errors(schemas.MANIFEST, document.data):
        yield from _diagnose(document, error)


def _diagnose(document: Document, error: ValidationError) -> Iterator[Diagnostic]:
    import difflib

    import jsonschema

    from provisioner.manifests.load import format_path

    path = tuple(error.absolute_path)
    schema: dict[str, Any] = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = sorted(schema.get("properties", {}))
        for key in sorted(set(error.instance) - set(known)):
            if _matches_pattern_properties(schema, key):
                continue
            hint = difflib.get_close_matches(key, known, n=1)
            advice = (
                f"did you mean {hint[0]!r}?" if hint else f"expected one of: {', '.join(known)}"
            )
            yield Diagnostic(
                document.locate((*path, key), key=True),
                format_path((*path, key)),
                f"unknown key {name(key)}; {advice}",
            )
        return
    if error.validator in ("oneOf", "anyOf", "allOf"):
        best = jsonschema.exceptions.best_match(error.context or [], key=_relevance)
        if best is not None and error.validator != "oneOf":
            yield from _diagnose(document, best)
            return
    yield Diagnostic(document.locate(path), format_path(path), schema_message(error))


def _one_of_hint(auth_type: Any) -> str | None:
    """What to write instead, for an `auth:` block of `auth_type` that matches none or
    several of its shapes; its connector knows (only on this slow path is it imported)."""
    from provisioner import connectors

    if not isinstance(auth_type, str):
        return None
    return next(
        (c.one_of_hints[auth_type] for c in connectors.ALL if auth_type in c.one_of_hints), None
    )


def _relevance(error: ValidationError) -> Any:
    import jsonschema

    return jsonschema.exceptions.relevance(error)


def _matches_pattern_properties(schema: dict[str, Any], key: str) -> bool:
    import re

    return any(re.search(pattern, key) for pattern in schema.get("patternProperties", {}))


_TYPE_NAMES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "object": "a mapping",
    "array": "a list",
}


def schema_message(error: ValidationError, *, from_yaml: bool = True) -> str:
    """One schema error in words, never quoting more than a short excerpt of the value
    (`from_yaml`: the document was YAML, so YAML's pitfalls are worth a hint)."""
    schema = error.schema if isinstance(error.schema, dict) else {}
    value: Any = error.instance
    kind = error.validator
    expected: Any = error.validator_value
    if schema.get("title") == "secret reference":
        if kind == "type":
            return (
                "a literal secret is not allowed in a manifest; reference it with "
                "{env: VARIABLE} or {file: PATH}"
            )
        return "a secret reference is either {env: VARIABLE} or {file: PATH}, exactly one of them"
    if kind == "required":
        missing = [k for k in expected if k not in value]
        return f"missing required key {missing[0]!r}" if missing else _GENERIC
    if kind == "type":
        names = [expected] if isinstance(expected, str) else list(expected or [])
        wanted = " or ".join(_TYPE_NAMES.get(n, n) for n in names)
        if value is None:
            return f"expected {wanted}, but the value is empty"
        yaml_word = isinstance(value, str) and value.lower() in _YAML_WORDS
        if from_yaml and "boolean" in names and yaml_word:
            return (
                f"expected {wanted}, got {excerpt(value)} (YAML words like yes/no/on/off are "
                "not booleans here; write true or false)"
            )
        # Never the content: at `$` the value is a whole file, and whatever a string holds
        # in the wrong place may be a secret pasted there.
        got = describe(value) if isinstance(value, (str, list, dict)) else excerpt(value)
        return f"expected {wanted}, got {got}"
    # Enum, const and pattern fields (cloud, ssl, type, org, names) are never secret: a short
    # value is shown, escaped; a long one only described.
    if kind == "enum":
        options = ", ".join(str(v) for v in expected)
        return f"{excerpt(value)} is not one of: {options}"
    if kind == "const":
        return f"must be {excerpt(expected)}, got {excerpt(value)}"
    if kind == "pattern":
        return (
            f"{excerpt(value)} is not valid: {schema.get('description', 'see `provision schema`')}"
        )
    if kind == "oneOf":
        advice = _one_of_hint(schema.get("properties", {}).get("type", {}).get("const"))
        if advice:
            return advice
        # Alternatives with titles (a mapping rule's) say what to write instead.
        titles = [str(s.get("title")) for s in expected if isinstance(s, dict) and "title" in s]
        if titles and len(titles) == len(expected):
            return f"write exactly one of: {' or '.join(titles)}"
    if kind in ("minItems", "minLength") and not value:
        return "must not be empty"
    if kind == "maxLength":
        return f"longer than {expected} characters ({describe(value)}); shorten it"
    if kind == "uniqueItems":
        return "lists a value twice; list each once"
    if kind in ("minimum", "maximum"):
        return (
            f"{excerpt(value)} is out of range ({schema.get('minimum')}..{schema.get('maximum')})"
        )
    # jsonschema's own messages quote the whole instance.
    return _GENERIC


_YAML_WORDS = frozenset({"yes", "no", "on", "off", "y", "n", "true", "false"})
_GENERIC = "does not have the form the schema allows here; run `provision schema` for the format"
