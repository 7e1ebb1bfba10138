"""No diagnostic echoes an unbounded value taken from input.

A credential file that ends up read as a manifest (`.netrc`, `.pgpass`, `.npmrc`, a
multi-line `.env`), or a secret pasted into the wrong field, once came back whole in
`$: expected a mapping, got "machine github.com login ... password ghp_..."`; in CI that line
lands in a pull-request comment. A message names the value's type and length, or at most a
short, escaped excerpt of a field that is never secret."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from .hostile import FUZZ, MANIFEST, MANIFEST_WITH_DATAFLOWS, check, located, run_cli

CANARY = "ghp_CANARYbounded0123456789abcdefABCDEF"
CREDENTIAL_FILES = {
    ".netrc": f"machine github.com login x-access-token password {CANARY}\n",
    ".pgpass": f"db.example.test:5432:orders:aep:{CANARY}\n",
    ".npmrc": f"//registry.npmjs.org/:_authToken={CANARY}\n",
    ".env": f"DEBUG=1\nGITHUB_TOKEN={CANARY}\nREGION=eu\n",
    ".git-credentials": f"https://x-access-token:{CANARY}@github.com\n",
}


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "crm.txt").write_text("x\n", encoding="utf-8")
    for name in ("ORDERS_PG_PASSWORD", "BILLING_PG_DSN", "INVENTORY_PG_PASSWORD"):
        monkeypatch.setenv(name, "x")
    return tmp_path


@pytest.mark.parametrize("name", sorted(CREDENTIAL_FILES))
def test_a_credential_file_read_as_a_manifest_is_described_not_quoted(
    folder: Path, name: str
) -> None:
    content = CREDENTIAL_FILES[name]
    (folder / "m.yaml").write_text(content, encoding="utf-8")
    run = run_cli(["validate", "m.yaml"])
    value = yaml.safe_load(content)
    assert (run.code, run.out) == (1, "")
    assert run.err == (
        f"m.yaml:1:1: $: expected a mapping, got a string ({len(value)} characters)\n"
        "1 problem found; nothing was done.\n"
    )


def _replace(old: str, new: str) -> str:
    assert old in MANIFEST
    return MANIFEST.replace(old, new, 1)


def _with_dataflow(old: str, new: str) -> str:
    assert old in MANIFEST_WITH_DATAFLOWS
    return MANIFEST_WITH_DATAFLOWS.replace(old, new, 1)


# A secret in the wrong place, and the one line each must produce.
PLACED = {
    "document-list": (f"- {CANARY}\n", "m.yaml:1:1: $: expected a mapping, got a list (1 item)"),
    "version": (
        _replace("version: 1", f"version: {CANARY}"),
        "m.yaml:1:10: $.version: must be 1, got a string (39 characters)",
    ),
    "org": (
        _replace("org: 0123456789ABCDEF01234567@AdobeOrg", f"org: {CANARY}"),
        "m.yaml:2:6: $.org: a string (39 characters) is not valid: IMS organization id, 24 "
        "hexadecimal characters followed by @AdobeOrg.",
    ),
    "cloud": (
        _replace("cloud: aws", f"cloud: {CANARY}"),
        "m.yaml:12:12: $.sandboxes[2].cloud: a string (39 characters) is not one of: azure, aws",
    ),
    "port": (
        _replace("port: 5432", f"port: [{CANARY}]"),
        "m.yaml:20:13: $.connections[0].auth.port: expected an integer or a string, got a "
        "list (1 item)",
    ),
    "unknown-key": (
        _replace("      ssl: require", f"      ssl: require\n      {CANARY}: x"),
        'm.yaml:50:7: $.connections[3].auth["ghp_CANARYbounded0123456789abcde... (39 '
        'characters)"]: unknown '
        "key 'ghp_CANARYbounded0123456789abcde'... (39 characters); expected one of: database, "
        "password, port, server, ssl, type, username",
    ),
    "tag": (
        _replace("database: orders", f"database: !{CANARY} orders"),
        "m.yaml:21:17: $.connections[0].auth.database: unsupported YAML tag "
        "'!ghp_CANARYbounded0123456789abcd'... (40 characters); remove the tag",
    ),
    "template": (
        _replace("database: orders", f'database: "{{{{ x {CANARY} }}}}"'),
        "m.yaml:21:17: $.connections[0].auth.database: template syntax error: expected token "
        "'end of print statement', got 'ghp_CANARYbounded0123456789abcde'... (39 characters) "
        "(sandboxes 'prod', 'dev')",
    ),
    "dataflow-table": (
        _with_dataflow("table: public.stock", f"table: {CANARY}"),
        "m.yaml:51:16: $.connections[3].dataflows[0].table: table "
        "'ghp_CANARYbounded0123456789abcde'... (39 characters) is not schema.table (one dot, "
        "both parts non-empty), e.g. public.orders (sandbox 'prod-aws')",
    ),
    "dataflow-start": (
        _with_dataflow('start: "2027-01-01T00:00:00Z"', f"start: {CANARY}"),
        "m.yaml:57:60: $.connections[3].dataflows[0].schedule.start: start "
        "'ghp_CANARYbounded0123456789abcde'... (39 characters) is not an RFC 3339 time with "
        "an offset, e.g. 2027-01-01T00:00:00Z (sandbox 'prod-aws')",
    ),
    "dataflow-incremental": (
        _with_dataflow("{column: changed_at,", f"{{column: {CANARY},"),
        "m.yaml:56:31: $.connections[3].dataflows[0].incremental.column: the incremental "
        "column 'ghp_CANARYbounded0123456789abcde'... (39 characters) is not among columns; "
        "add it there (the flow reads new rows by it) (sandbox 'prod-aws')",
    ),
    "dataflow-frequency": (
        _with_dataflow("frequency: minute", f"frequency: {CANARY}"),
        "m.yaml:57:31: $.connections[3].dataflows[0].schedule.frequency: a string (39 "
        "characters) is not one of: once, minute, hour, day, week",
    ),
    "dataflow-template": (
        _with_dataflow('"Stock ({{ vars.domain }})"', f'"{{{{ x {CANARY} }}}}"'),
        "m.yaml:54:18: $.connections[3].dataflows[0].dataset: template syntax error: expected "
        "token 'end of print statement', got 'ghp_CANARYbounded0123456789abcde'... (39 "
        "characters) (sandbox 'prod-aws')",
    ),
    "name-too-long": (
        _replace('name: "orders-{{ sandbox.name }}"', f"name: {CANARY * 7}"),
        "m.yaml:14:11: $.connections[0].name: longer than 256 characters (a string (273 "
        "characters)); shorten it",
    ),
}


@pytest.mark.parametrize("case", sorted(PLACED))
def test_a_secret_in_the_wrong_field_is_never_echoed(folder: Path, case: str) -> None:
    content, expected = PLACED[case]
    (folder / "m.yaml").write_text(content, encoding="utf-8")
    run = run_cli(["validate", "m.yaml"])
    check(run)
    assert CANARY not in run.out + run.err
    assert (run.code, located(run)) == (1, [expected])


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(data, dict):
        for key, value in data.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            found += _paths(value, (*prefix, i))
    return found


BASE = yaml.safe_load(MANIFEST_WITH_DATAFLOWS)  # every field, a dataflow's included
# Names and descriptions may hold anything a user likes (they are echoed as names, and a
# duplicate is reported by name); every other place must never carry the value back.
PLACES = [p for p in _paths(BASE) if p[-1:] not in (("name",), ("description",))]
SHAPES = st.sampled_from(
    [
        CANARY,
        f"{CANARY}\n{CANARY}",
        [CANARY],
        {CANARY: 1},
        {"env": CANARY},
        {"file": CANARY},
        {"x": CANARY},
        f"{{{{ {CANARY} }}}}",
        f"{{{{ x.{CANARY} }}}}",
        f"{{% {CANARY} %}}",
    ]
)


@FUZZ
@given(place=st.sampled_from(PLACES), value=SHAPES)
def test_no_placement_of_a_secret_comes_back_in_a_diagnostic(
    place: tuple[Any, ...], value: Any
) -> None:
    data = yaml.safe_load(MANIFEST_WITH_DATAFLOWS)
    if not place:
        data = value
    else:
        parent = data
        for part in place[:-1]:
            parent = parent[part]
        parent[place[-1]] = value
    run = _validate(yaml.safe_dump(data))
    check(run)
    # At most a short prefix of a name may show; never what lies beyond it.
    assert CANARY[-8:] not in run.out + run.err


def _validate(text: str) -> Any:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "m.yaml"
        path.write_text(text, encoding="utf-8")
        return run_cli(["validate", str(path)])
