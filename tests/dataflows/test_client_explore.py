"""`explore_columns`: a table's columns as explore lists them (the items a source
connection's params.columns takes), from a real PostgreSQL server through the emulator's
connect mode; a table the connection cannot see is a 404 naming the request."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from provisioner.emulator import Emulator, EmulatorConfig
from provisioner.errors import ApiError
from tests.emulator.emu_helpers import pg_payload
from tests.verify.pgserver import PgServer

from .client_helpers import ORG, Handler, base_connection, connect


@pytest.fixture
def connected(pg_plain: PgServer) -> Iterator[Emulator]:
    emu = Emulator(EmulatorConfig(seed=7, databases="connect", database_timeout_s=5.0))
    yield emu
    emu.close()


def test_columns_of_a_real_table_and_a_missing_one(connected: Emulator, pg_plain: PgServer) -> None:
    client = connect(connected)
    payload = pg_payload(
        server=pg_plain.host,
        port=str(pg_plain.port),
        database=pg_plain.database,
        username=pg_plain.user,
        password=pg_plain.password,
        sslMode="Disable",
    )
    base = client.create_connection(ORG, "prod", payload, name="orders-prod").id

    columns = client.explore_columns(ORG, "prod", base, "public.customers", name="orders-prod")
    assert [(c["name"], c["type"], c["xdm"]) for c in columns] == [
        ("id", "integer", {"type": "integer"}),
        ("email", "string", {"type": "string"}),
        ("created_at", "string", {"type": "string", "format": "date-time"}),
    ]
    with pytest.raises(ApiError) as missing:
        client.explore_columns(ORG, "prod", base, "public.nothing", name="orders-prod")
    assert missing.value.status == 404
    assert str(missing.value).startswith(
        "explore table 'public.nothing' of connection 'orders-prod' in sandbox 'prod' failed: "
        f"GET http://emulator.test/data/foundation/flowservice/connections/{base}/explore"
        "?objectType=table&object=public.nothing returned 404"
    )


def test_offline_explore_has_no_tables(emulator: Emulator) -> None:
    client = connect(emulator)
    base = base_connection(client)
    with pytest.raises(ApiError, match="FLOW-1101-404") as missing:
        client.explore_columns(ORG, "prod", base, "public.orders", name="orders-prod")
    assert missing.value.status == 404


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"format": "flat"}, "response has no 'schema.columns' list"),
        ({"schema": {"columns": [{"type": "integer"}]}}, "schema.columns[0] has no string 'name'"),
        ([], "response has no 'schema.columns' list"),
    ],
)
def test_an_unreadable_explore_answer_names_the_request(
    emulator: Emulator, body: object, problem: str
) -> None:
    def wrap(emulated: Handler) -> Handler:
        def handler(request: httpx.Request) -> httpx.Response:
            if request.url.path.endswith("/explore"):
                return httpx.Response(200, json=body)
            return emulated(request)

        return handler

    client = connect(emulator, wrap=wrap)
    base = base_connection(client)
    with pytest.raises(ApiError) as error:
        client.explore_columns(ORG, "prod", base, "public.orders", name="orders-prod")
    assert str(error.value).startswith("explore table 'public.orders' of connection")
    assert str(error.value).endswith(f": {problem}")


def test_explore_columns_are_given_as_explore_gives_them(emulator: Emulator) -> None:
    column = {"name": "id", "type": "integer", "xdm": {"type": "integer"}, "meta:xdmType": "int"}

    def wrap(emulated: Handler) -> Handler:
        def handler(request: httpx.Request) -> httpx.Response:
            if request.url.path.endswith("/explore"):
                assert request.url.params["objectType"] == "table"
                assert request.url.params["object"] == 'public."Odd name"'
                return httpx.Response(200, json={"format": "flat", "schema": {"columns": [column]}})
            return emulated(request)

        return handler

    client = connect(emulator, wrap=wrap)
    base = base_connection(client)
    found = client.explore_columns(ORG, "prod", base, 'public."Odd name"', name="orders-prod")
    assert found == [column]
