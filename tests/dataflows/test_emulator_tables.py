"""Offline explore lists preloaded tables, and `provision emulator PATH...` preloads what the
manifests' dataflows name: a rehearsal can make a source connection's columns."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from provisioner.commands.emulator import rehearsal
from provisioner.emulator import Emulator, EmulatorConfig
from provisioner.emulator.rehearsal import preload, schema_id
from tests.emulator.emu_helpers import FLOW, ORG, create, flow_code, make_client, pg_payload

CATALOG = "/data/foundation/catalog"


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    emu = Emulator()
    yield emu
    emu.close()


@pytest.fixture
def api(emulator: Emulator) -> Iterator[httpx.Client]:
    with make_client(emulator) as client:
        yield client


def _explore(api: httpx.Client, connection_id: str, **params: str) -> httpx.Response:
    return api.get(f"{FLOW}/connections/{connection_id}/explore", params=params)


ORDERS = {
    "path": "public.orders",
    "columns": [
        {"name": "id", "type": "bigint"},
        {"name": "amount", "type": "numeric"},
        {"name": "email"},
        {"name": "updated_at", "type": "timestamp"},
    ],
}
# As explore answers them, types mapped like a real server's (postgres.py).
ORDERS_COLUMNS = [
    {"name": "id", "type": "long", "xdm": {"type": "long"}},
    {"name": "amount", "type": "double", "xdm": {"type": "double"}},
    {"name": "email", "type": "string", "xdm": {"type": "string"}},
    {
        "name": "updated_at",
        "type": "string",
        "xdm": {"type": "string", "format": "date-time"},
        "meta:xdmType": "date-time",
    },
]
ROOT_ENTRY = {
    "type": "table",
    "name": "public.orders",
    "path": "public.orders",
    "canPreview": True,
    "canFetchSchema": True,
}


def test_offline_explore_lists_nothing_until_a_table_is_preloaded(api: httpx.Client) -> None:
    connection = create(api)
    assert _explore(api, connection["id"], objectType="root").json() == []
    preloaded = api.post(
        "/__emulator/tables",
        json={"host": "PG-prod.db.acme.internal", "database": "orders"} | ORDERS,
    )
    assert preloaded.status_code == 201, preloaded.text
    assert _explore(api, connection["id"], objectType="root").json() == [ROOT_ENTRY]
    table = _explore(api, connection["id"], objectType="table", object="public.orders")
    assert table.json() == {"format": "flat", "schema": {"columns": ORDERS_COLUMNS}}
    # Another database on the same server sees none of it.
    other = create(api, pg_payload("crm-prod", database="crm"))
    assert _explore(api, other["id"], objectType="root").json() == []
    missing = _explore(api, other["id"], objectType="table", object="public.orders")
    assert (missing.status_code, flow_code(missing)) == (404, "1101-404")


def test_a_table_is_preloaded_for_one_connection_by_id_or_by_name(api: httpx.Client) -> None:
    first = create(api, pg_payload("orders-prod"))
    second = create(api, pg_payload("orders-copy"))
    by_id = {"connectionId": first["id"], "path": "sales.refunds", "columns": [{"name": "id"}]}
    assert api.post("/__emulator/tables", json=by_id).status_code == 201
    by_name = {"org": ORG, "sandbox": "prod", "connectionName": "orders-copy"} | ORDERS
    assert api.post("/__emulator/tables", json=by_name).status_code == 201
    assert [t["path"] for t in _explore(api, first["id"]).json()] == ["sales.refunds"]
    assert _explore(api, second["id"]).json() == [ROOT_ENTRY]
    # Preloading the same table again replaces it.
    again = by_id | {"columns": [{"name": "id", "type": "integer"}]}
    assert api.post("/__emulator/tables", json=again).status_code == 201
    refunds = _explore(api, first["id"], objectType="table", object="sales.refunds").json()
    assert refunds["schema"]["columns"] == [
        {"name": "id", "type": "integer", "xdm": {"type": "integer"}}
    ]


def test_an_unreachable_host_still_fails_offline(api: httpx.Client) -> None:
    connection = create(api, pg_payload(server="db.nowhere.invalid"))
    body = {"connectionId": connection["id"]} | ORDERS
    assert api.post("/__emulator/tables", json=body).status_code == 201
    refused = _explore(api, connection["id"], objectType="root")
    assert (refused.status_code, flow_code(refused)) == (400, "1100-400")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"path": "public.orders", "columns": [{"name": "id"}]},
            "a table names its connections by connectionId, by host and database, or by org, "
            "sandbox and connectionName (non-empty strings, one way only)",
        ),
        (
            {"host": "h", "connectionId": "x", "path": "public.orders", "columns": [{"name": "a"}]},
            "a table names its connections by connectionId, by host and database, or by org, "
            "sandbox and connectionName (non-empty strings, one way only)",
        ),
        (
            {"connectionId": "x", "path": "public.orders", "columns": []},
            "columns must be a list of 1 to 1000 {name, type} objects",
        ),
        (
            {"connectionId": "x", "path": "p.t", "columns": [{"name": "a"}, {"name": "a"}]},
            "column 'a' is listed twice",
        ),
        (
            {"connectionId": "x", "columns": [{"name": "a"}]},
            "path must be the table's explore path, 'schema.table'",
        ),
        (
            {"connectionId": "x", "path": "p.t", "columns": [{"name": "a"}], "colums": 1},
            "unknown field 'colums'",
        ),
    ],
)
def test_a_wrong_table_body_is_a_400_saying_why(
    api: httpx.Client, body: dict[str, Any], message: str
) -> None:
    answer = api.post("/__emulator/tables", json=body)
    assert (answer.status_code, answer.json()) == (
        400,
        {"error": "bad_request", "message": message},
    )


MANIFEST = """\
version: 1
org: 0123456789ABCDEF01234567@AdobeOrg
sandboxes:
  - {name: prod, cloud: azure}
connections:
  - name: "orders-{{ sandbox.name }}"
    auth:
      type: connection-string
      connection_string: {env: ORDERS_DSN}
    dataflows:
      - table: public.orders
        dataset: Orders
        columns: [id, email, updated_at]
        incremental: updated_at
        schedule: {frequency: hour, interval: 1}
        mapping: [{source: id, destination: _id}]
      - table: public.refunds
        dataset: Refunds
        incremental: {column: changed_at}
        schedule: {frequency: once}
        mapping:
          - {source: refund_id, destination: _id}
          - {expression: "upper(reason)", destination: _acme.reason}
"""


def test_the_manifests_datasets_and_tables_are_served_for_a_rehearsal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("m.yaml").write_text(MANIFEST, encoding="utf-8")
    state = str(tmp_path / "emu.db")
    for _restart in range(2):  # a --state file: the second start doubles nothing
        emulator = Emulator(EmulatorConfig(state_file=state))
        assert preload(emulator, rehearsal(["m.yaml"])) == (2, 2)
        emulator.close()
    emulator = Emulator(EmulatorConfig(state_file=state))
    with make_client(emulator) as api:
        datasets = api.get(f"{CATALOG}/dataSets", params={"properties": "name,schemaRef"})
        assert sorted((d["name"], d["schemaRef"]["id"]) for d in datasets.json().values()) == [
            ("Orders", schema_id(ORG, "Orders")),
            ("Refunds", schema_id(ORG, "Refunds")),
        ]
        # The connection is created later, by apply; its tables are listed from then on.
        dsn = "Server=pg.example.test;Database=orders;UID=aep;Password=x"
        payload = pg_payload("orders-prod") | {
            "auth": {
                "specName": "Connection String Based Authentication",
                "params": {"connectionString": dsn},
            }
        }
        connection = create(api, payload)
        paths = [t["path"] for t in _explore(api, connection["id"]).json()]
        assert paths == ["public.orders", "public.refunds"]
        orders = _explore(api, connection["id"], objectType="table", object="public.orders")
        assert [(c["name"], c["type"]) for c in orders.json()["schema"]["columns"]] == [
            ("id", "string"),
            ("email", "string"),
            ("updated_at", "string"),
        ]
        assert orders.json()["schema"]["columns"][2]["meta:xdmType"] == "date-time"
        # No columns declared: those the mapping reads, and the incremental column.
        refunds = _explore(api, connection["id"], objectType="table", object="public.refunds")
        assert [c["name"] for c in refunds.json()["schema"]["columns"]] == [
            "refund_id",
            "changed_at",
        ]
    emulator.close()


def test_provision_emulator_paths_says_what_it_preloaded(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text(MANIFEST, encoding="utf-8")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "provisioner",
            "emulator",
            "m.yaml",
            "--port",
            "0",
            "--databases",
            "offline",
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    lines: list[str] = []
    try:
        while not lines or "Ctrl-C" not in lines[-1]:
            line = proc.stdout.readline()
            assert line, proc.communicate()[1]
            lines.append(line.rstrip("\n"))
        assert (
            "# from the manifests' dataflows: 2 dataset(s) in Catalog, 2 table(s) explore "
            "answers without a database"
        ) in lines
        url = next(x for x in lines if x.startswith("export AEP_PLATFORM_URL=")).split("=", 1)[1]
        state = httpx.get(f"{url}/__emulator/state").json()
        assert sorted((t["connectionName"], t["path"]) for t in state["tables"]) == [
            ("orders-prod", "public.orders"),
            ("orders-prod", "public.refunds"),
        ]
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
    assert (proc.returncode, err) == (0, "")


def test_preloaded_tables_answer_without_connecting_even_in_connect_mode() -> None:
    """psycopg installed makes connect mode the default; a rehearsal's preloaded tables
    still answer explore (no server named by the connection exists)."""
    emu = Emulator(EmulatorConfig(databases="connect", database_timeout_s=1.0))
    try:
        with make_client(emu) as api:
            connection = create(api, pg_payload("orders-prod"))
            by_id = {"connectionId": connection["id"]} | ORDERS
            assert api.post("/__emulator/tables", json=by_id).status_code == 201
            assert _explore(api, connection["id"], objectType="root").json() == [ROOT_ENTRY]
            table = _explore(api, connection["id"], objectType="table", object="public.orders")
            assert table.json() == {"format": "flat", "schema": {"columns": ORDERS_COLUMNS}}
    finally:
        emu.close()
