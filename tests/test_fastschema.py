"""The compiled fast path never accepts what jsonschema rejects."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from provisioner import schemas
from provisioner.connectors.postgres.spec import PAYLOAD_BASIC
from provisioner.schemas import fastschema

VALID_MANIFEST: dict[str, Any] = {
    "version": 1,
    "org": "0123456789ABCDEF01234567@AdobeOrg",
    "vars": {"domain": "example.com"},
    "sandboxes": [{"name": "prod", "cloud": "azure"}, {"name": "dev", "cloud": "aws"}],
    "connections": [
        {
            "name": "orders",
            "sandboxes": ["prod"],
            "auth": {
                "type": "basic",
                "server": "s",
                "port": 5432,
                "database": "d",
                "username": "u",
                "password": {"env": "PW"},
                "ssl": "require",
            },
        },
        {
            "name": "billing",
            "auth": {"type": "connection-string", "connection_string": {"file": "x.txt"}},
        },
    ],
}
VALID_PAYLOAD: dict[str, Any] = {
    "name": "n",
    "description": "d",
    "auth": {
        "specName": "Basic Authentication",
        "params": {
            "server": "s",
            "port": "5432",
            "database": "d",
            "username": "u",
            "password": "p",
            "sslMode": "Require",
        },
    },
    "connectionSpec": {"id": "74a1c565-4e59-48d7-9d67-7c03b8a13137", "version": "1.0"},
}
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 70000)
    | st.floats(allow_nan=False)
    | st.text(max_size=8)
    | st.sampled_from(["basic", "connection-string", "azure", "aws", "1.0"]),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(["env", "file", "type", "name", "x"]), children, max_size=3
        )
    ),
    max_leaves=8,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            found += _paths(child, (*prefix, i))
    return found


@st.composite
def mutated(draw: st.DrawFn, base: dict[str, Any]) -> Any:
    document = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(document)))
        if not path:
            continue
        parent = document
        for part in path[:-1]:
            parent = parent[part]
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "replace":
            parent[path[-1]] = draw(json_values)
        elif action == "delete" and isinstance(parent, dict):
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.sampled_from(["extra", "ssl", "port", "type"]))] = draw(json_values)
    return document


@pytest.mark.parametrize(
    ("name", "base"),
    [(schemas.MANIFEST, VALID_MANIFEST), (PAYLOAD_BASIC, VALID_PAYLOAD)],
)
def test_valid_examples_pass_both(name: str, base: dict[str, Any]) -> None:
    assert schemas.fast_check(name)(base)
    assert schemas.validator(name).is_valid(base)


@settings(max_examples=400, deadline=None)
@given(mutated(VALID_MANIFEST))
def test_manifest_fast_path_is_never_laxer(document: Any) -> None:
    if schemas.fast_check(schemas.MANIFEST)(document):
        assert schemas.validator(schemas.MANIFEST).is_valid(document)


@settings(max_examples=400, deadline=None)
@given(mutated(VALID_PAYLOAD))
def test_payload_fast_path_is_never_laxer(payload: Any) -> None:
    if schemas.fast_check(PAYLOAD_BASIC)(payload):
        assert schemas.validator(PAYLOAD_BASIC).is_valid(payload)


def test_unknown_keywords_are_refused_at_compile_time() -> None:
    with pytest.raises(fastschema.UnsupportedSchema, match="'format'"):
        fastschema.compile_schema({"type": "string", "format": "email"})
