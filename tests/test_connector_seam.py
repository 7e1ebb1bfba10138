"""Each connector's facts live in its package under provisioner/connectors/: no other module
names one or branches on its auth kinds (the emulator aside: it is independent on purpose
and imports nothing from the rest). The forbidden list is built from the connector's own
constants, so it grows with them. What a connector may import is tests/test_layering.py's."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest

import provisioner
from provisioner import connectors
from provisioner.connectors.postgres import auth, spec

PACKAGE = Path(provisioner.__file__).parent
OUTSIDE = sorted(
    path
    for path in PACKAGE.rglob("*.py")
    if path.relative_to(PACKAGE).parts[0] not in ("connectors", "emulator")
)


def _constants() -> set[str]:
    """Every text PostgreSQL's spec defines: its id, auth kinds and their spec names,
    payload schemas, readable and secret params, and the ssl values per cloud."""
    found: set[str] = set()

    def walk(value: object) -> None:
        if isinstance(value, str):
            found.add(value)
        elif isinstance(value, dict):
            for key, item in value.items():
                walk(key)
                walk(item)
        elif isinstance(value, tuple | set | frozenset):
            for item in value:
                walk(item)

    for name in dir(spec):
        if name.isupper():
            walk(getattr(spec, name))
    # The libpq ssl words ("require", ...) and port/server/database/username are ordinary
    # words elsewhere, and "1.0" is the version of every spec the Flow Service has (the
    # dataflow's flow and data lake specs too); what is PostgreSQL's is the rest.
    generic = set(spec.AWS_SSL) | set(spec.AZURE_SSL_MODE) | {"server", "port", "database"}
    return found - generic - {"username", "true", "false", "1.0", spec.NAME}


CONSTANTS = _constants()
# Names of the spec's constants (as they were in model.py too), the auth records, and the
# driver and connection-string modules only a connector may touch.
NAMES = (
    {name for name in dir(spec) if name.isupper()}
    | {"POSTGRES_SPEC_ID", "POSTGRES_SPEC_VERSION", "PostgresAuth"}
    | {
        name
        for name, value in vars(auth).items()
        if dataclasses.is_dataclass(value) and value.__module__ == auth.__name__
    }
    | {"psycopg", "odbc", "postgres"}
)


def test_the_forbidden_lists_hold_what_matters() -> None:
    assert {spec.SPEC_ID, "basic", "connection-string", "Basic Authentication"} <= CONSTANTS
    assert {"payload-basic.schema.json", "connectionString", "Verify Full", "sslMode"} <= CONSTANTS
    assert {"BasicAuth", "ConnectionStringSecret", "ConnectionStringParts"} <= NAMES
    assert {"SPEC_NAMES", "AZURE_SSL_MODE", "AWS_SSL_ENABLED", "SECRET_PARAMS"} <= NAMES


def _offences(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    found = [f"the spec id {spec.SPEC_ID}"] if spec.SPEC_ID in text else []
    for node in ast.walk(ast.parse(text)):
        where = f"line {getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Constant) and node.value in CONSTANTS:
            found.append(f"{where}: the string {node.value!r}")
        elif isinstance(node, ast.Name) and node.id in NAMES:
            found.append(f"{where}: the name {node.id}")
        elif isinstance(node, ast.Attribute) and node.attr in NAMES:
            found.append(f"{where}: the attribute .{node.attr}")
        elif isinstance(node, ast.ImportFrom | ast.Import):
            modules = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            modules += [alias.name for alias in node.names]
            for module in modules:
                if module.startswith("provisioner.connectors.") or set(module.split(".")) & NAMES:
                    found.append(f"{where}: an import of {module}")
    return found


@pytest.mark.parametrize("path", OUTSIDE, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_outside_connectors_names_a_postgresql_fact(path: Path) -> None:
    assert _offences(path) == []


def test_the_check_finds_what_it_is_for(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from provisioner.connectors.postgres.auth import BasicAuth\n"
        "import psycopg\n"
        "def kind(auth):\n"
        "    return 'basic' if isinstance(auth, BasicAuth) else 'connection-string'\n"
        f"SPEC = {spec.SPEC_ID!r}\n"
    )
    assert sorted(_offences(sample)) == [
        "line 1: an import of BasicAuth",
        "line 1: an import of provisioner.connectors.postgres.auth",
        "line 2: an import of psycopg",
        "line 4: the name BasicAuth",
        "line 4: the string 'basic'",
        "line 4: the string 'connection-string'",
        f"line 5: the string {spec.SPEC_ID!r}",
        f"the spec id {spec.SPEC_ID}",
    ]


def test_the_registry_lists_each_connector_once_and_finds_it() -> None:
    assert len({c.name for c in connectors.ALL}) == len(connectors.ALL)
    assert len({c.spec_id for c in connectors.ALL}) == len(connectors.ALL)
    auth_types = [t for c in connectors.ALL for t in c.auth_types]
    assert len(set(auth_types)) == len(auth_types)  # a manifest entry names its connector so
    for connector in connectors.ALL:
        assert connectors.by_name(connector.name) is connector
        assert connectors.by_spec_id(connector.spec_id) is connector
        for auth_type in connector.auth_types:
            assert connectors.of_entry({"auth": {"type": auth_type}}) is connector
    assert connectors.by_spec_id("no such spec") is None
