"""The JSON Schemas shipped in the package (manifest, payloads, saved plan), and checking them.

jsonschema is imported only when the compiled fast path (fastschema) says an instance is
invalid: a valid manifest, `provision schema` and `--help` never pay for importing it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from provisioner.schemas import fastschema

if TYPE_CHECKING:
    import jsonschema
    from jsonschema.exceptions import ValidationError

MANIFEST = "manifest.schema.json"
# The JSON plan's shape (report/jsonplan.py writes it): for its readers, and checked by
# `apply --plan` before it reads a saved plan (plan/planfile.py).
PLAN = "plan.schema.json"
# Every schema in this folder: these two and each connector's payload schemas
# (connectors/<name>/spec.py names them).
ALL = tuple(
    sorted(
        entry.name
        for entry in resources.files("provisioner").joinpath("schemas").iterdir()
        if entry.name.endswith(".schema.json")
    )
)


def schema_text(name: str) -> str:
    return resources.files("provisioner").joinpath("schemas", name).read_text(encoding="utf-8")


@cache
def load(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(schema_text(name))
    return schema


@cache
def validator(name: str) -> jsonschema.protocols.Validator:
    import jsonschema  # the slow path: only for an instance the fast path refused

    schema = load(name)
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


@cache
def fast_check(name: str) -> fastschema.Check:
    return fastschema.compile_schema(load(name))


def errors(name: str, instance: Any) -> Iterator[ValidationError]:
    """jsonschema's errors for `instance`, after a compiled fast path for valid ones."""
    if fast_check(name)(instance):
        return iter(())
    return validator(name).iter_errors(instance)
