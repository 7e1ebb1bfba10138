"""The emulator's /test and /explore against real PostgreSQL servers (plain and TLS-only)."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from provisioner.emulator import Emulator, EmulatorConfig
from provisioner.emulator.postgres import odbc_attributes
from tests.emulator.emu_helpers import FLOW, create, flow_code, make_client, pg_payload

from . import pgserver
from .pgserver import PgServer


def emulator_for(ca_file: object = None, timeout: float = 5.0) -> Emulator:
    return Emulator(
        EmulatorConfig(
            seed=3,
            # Azure and AWS sslMode forms side by side in one sandbox: the lenient reading.
            lenient=True,
            databases="connect",
            database_timeout_s=timeout,
            database_ca_file=str(ca_file) if ca_file else None,
        )
    )


@pytest.fixture
def emulator(pg_tls: PgServer) -> Iterator[Emulator]:
    emu = emulator_for(pg_tls.ca_file)
    yield emu
    emu.close()


@pytest.fixture
def api(emulator: Emulator) -> Iterator[httpx.Client]:
    with make_client(emulator) as client:
        yield client


def basic_to(pg: PgServer, **params: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "server": pg.host,
        "port": str(pg.port),
        "database": pg.database,
        "username": pg.user,
        "password": pg.password,
        "sslMode": "Verify Full" if pg.tls else "Disable",
    }
    values.update(params)
    return pg_payload(**values)


def string_to(server: PgServer, text: str) -> dict[str, Any]:
    return {
        "name": "billing",
        "auth": {
            "specName": "Connection String Based Authentication",
            "params": {"connectionString": text},
        },
        "connectionSpec": pg_payload()["connectionSpec"],
    }


def result_of(api: httpx.Client, payload: dict[str, Any]) -> dict[str, Any]:
    created = create(api, payload)
    response = api.get(f"{FLOW}/connections/{created['id']}/test")
    assert response.status_code == 200
    body = response.json()
    assert isinstance(body, dict)
    return body


def test_correct_credentials_pass_over_tls_and_plain(
    api: httpx.Client, pg_tls: PgServer, pg_plain: PgServer
) -> None:
    assert result_of(api, basic_to(pg_tls)) == {"result": True}
    assert result_of(api, basic_to(pg_tls, sslMode="Require")) == {"result": True}
    assert result_of(api, basic_to(pg_tls, sslMode="true")) == {"result": True}  # AWS boolean
    assert result_of(api, basic_to(pg_plain)) == {"result": True}
    assert result_of(api, basic_to(pg_plain, sslMode="false")) == {"result": True}


def test_failures_say_why_in_words(
    api: httpx.Client, pg_tls: PgServer, pg_plain: PgServer, refused_port: int
) -> None:
    cases = {
        'authentication failed for user "aep_reader"': basic_to(pg_tls, password="wrong-pw"),
        'unknown database "nope"': basic_to(pg_tls, database="nope"),
        "TLS: the server does not offer TLS but sslMode verify-full requires it": basic_to(
            pg_plain, sslMode="Verify Full"
        ),
        "TLS: the server refuses connections without TLS": basic_to(pg_tls, sslMode="Disable"),
        "DNS: host 'pg.nowhere.invalid' not found": basic_to(pg_tls, server="pg.nowhere.invalid"),
        f"connection refused by 127.0.0.1:{refused_port}": basic_to(pg_tls, port=str(refused_port)),
    }
    for reason, payload in cases.items():
        assert result_of(api, payload) == {"result": False, "errorMessage": reason}


def test_an_untrusted_certificate_is_a_certificate_reason(pg_tls: PgServer) -> None:
    emu = emulator_for(None)  # trusts only the system's CAs, not the self-signed certificate
    with make_client(emu) as api:
        body = result_of(api, basic_to(pg_tls))
    assert body["result"] is False
    assert body["errorMessage"].startswith("TLS certificate: SSL error: certificate verify failed")


def test_a_port_that_never_answers_times_out_within_the_limit(
    pg_tls: PgServer, blackhole: tuple[str, int]
) -> None:
    emu = emulator_for(pg_tls.ca_file, timeout=1.0)
    with make_client(emu) as api:
        body = result_of(api, basic_to(pg_tls, server=blackhole[0], port=str(blackhole[1])))
    # "within 1 s" comes only from the emulator's own deadline (libpq's would say 2 s).
    assert body == {
        "result": False,
        "errorMessage": f"timeout: 127.0.0.1:{blackhole[1]} did not answer within 1 s",
    }


def test_a_resolver_that_hangs_does_not_hold_the_answer(
    pg_tls: PgServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    release, finished = threading.Event(), threading.Event()
    real = socket.getaddrinfo

    def hanging(host: str, *args: Any, **kwargs: Any) -> Any:
        if host != "slow.example.test":
            return real(host, *args, **kwargs)
        release.wait(30)
        finished.set()
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", hanging)  # the OS edge: DNS
    emu = emulator_for(pg_tls.ca_file, timeout=1.0)
    with make_client(emu) as api:
        body = result_of(api, basic_to(pg_tls, server="slow.example.test"))
    assert not finished.is_set()  # answered while the lookup still hung
    release.set()
    assert body == {
        "result": False,
        "errorMessage": f"timeout: slow.example.test:{pg_tls.port} did not answer within 1 s",
    }


def test_connection_strings_map_encryption_to_sslmode(
    api: httpx.Client, pg_tls: PgServer, pg_plain: PgServer
) -> None:
    def dsn(server: PgServer, tail: str, password: str | None = None) -> str:
        secret = password or server.password
        return (
            f"Server={server.host};Database={server.database};Port={server.port};"
            f"UID={server.user};Password={{{secret}}};{tail}"
        )

    tls = "EncryptionMethod=1;ValidateServerCertificate=1"
    assert result_of(api, string_to(pg_tls, dsn(pg_tls, tls))) == {"result": True}
    assert result_of(api, string_to(pg_plain, dsn(pg_plain, "EncryptionMethod=0"))) == {
        "result": True
    }
    # request-ssl (6) falls back to plain text, as DataDirect documents.
    assert result_of(api, string_to(pg_plain, dsn(pg_plain, "EncryptionMethod=6"))) == {
        "result": True
    }
    refused = result_of(api, string_to(pg_plain, dsn(pg_plain, tls)))
    assert refused["errorMessage"].startswith("TLS: the server does not offer TLS")
    wrong = result_of(api, string_to(pg_tls, dsn(pg_tls, tls, password="x;y}}z")))
    # The user came out of the connection string, a secret: named by its field (issue 17).
    assert wrong == {
        "result": False,
        "errorMessage": "authentication failed for the connection string's UID=",
    }


def test_odbc_attributes_read_brace_quoting() -> None:
    assert odbc_attributes("Server=h;Password={a;b}}c=};UID = u ;port=1") == {
        "server": "h",
        "password": "a;b}c=",
        "uid": "u",
        "port": "1",
    }


def test_hosts_and_databases_are_data_not_options(api: httpx.Client, pg_tls: PgServer) -> None:
    assert result_of(api, basic_to(pg_tls, server="/tmp"))["errorMessage"] == (
        "server '/tmp' is not a host name or address"
    )
    assert result_of(api, basic_to(pg_tls, server="a,b"))["result"] is False
    assert result_of(api, basic_to(pg_tls, database="host=evil"))["errorMessage"] == (
        "database 'host=evil' is not a database name"
    )


def test_explore_root_lists_exactly_the_visible_tables(api: httpx.Client, pg_tls: PgServer) -> None:
    created = create(api, basic_to(pg_tls))
    response = api.get(f"{FLOW}/connections/{created['id']}/explore", params={"objectType": "root"})
    assert response.status_code == 200
    assert response.json() == [
        {"type": "table", "name": path, "path": path, "canPreview": True, "canFetchSchema": True}
        for path in pgserver.TABLES
    ]


def test_explore_a_table_gives_its_columns_and_types(api: httpx.Client, pg_tls: PgServer) -> None:
    created = create(api, basic_to(pg_tls))
    response = api.get(
        f"{FLOW}/connections/{created['id']}/explore",
        params={"objectType": "table", "object": "public.orders"},
    )
    assert response.status_code == 200
    columns = response.json()["schema"]["columns"]
    assert response.json()["format"] == "flat"
    assert [(c["name"], c["type"]) for c in columns] == [
        ("id", "long"),
        ("customer_id", "integer"),
        ("total", "double"),
        ("paid", "boolean"),
        ("placed_on", "string"),
        ("weight", "double"),
    ]
    assert columns[4] == {
        "name": "placed_on",
        "type": "string",
        "meta:xdmType": "date",
        "xdm": {"type": "string", "format": "date"},
    }
    regions = api.get(
        f"{FLOW}/connections/{created['id']}/explore",
        params={"objectType": "table", "object": "sales.regions"},
    ).json()["schema"]["columns"]
    assert [c["xdm"] for c in regions] == [
        {"type": "string"},
        {"type": "string"},
        {"type": "string", "format": "date-time"},
    ]


def test_explore_errors(api: httpx.Client, pg_tls: PgServer) -> None:
    good = create(api, basic_to(pg_tls))["id"]
    bad = create(api, basic_to(pg_tls, password="wrong-pw"))["id"]
    hidden = api.get(
        f"{FLOW}/connections/{good}/explore",
        params={"objectType": "table", "object": "private.payroll"},
    )
    assert (hidden.status_code, flow_code(hidden)) == (404, "1101-404")
    refused = api.get(f"{FLOW}/connections/{bad}/explore", params={"objectType": "root"})
    assert (refused.status_code, flow_code(refused)) == (400, "1100-400")
    assert refused.json()["errorMessage"] == (
        'Cannot explore the connection: authentication failed for user "aep_reader".'
    )
    folder = api.get(f"{FLOW}/connections/{good}/explore", params={"objectType": "folder"})
    assert flow_code(folder) == "1100-400"


def test_no_password_in_any_response_or_log(
    api: httpx.Client, pg_tls: PgServer, caplog: pytest.LogCaptureFixture
) -> None:
    canary = "CANARY-emulator-pg-7d1e"
    caplog.set_level(logging.DEBUG)
    bodies = []
    for payload in (
        basic_to(pg_tls, password=canary),
        basic_to(pg_tls, password=canary, server="pg.nowhere.invalid"),
        basic_to(pg_tls, password=canary, database="nope"),
        basic_to(pg_tls, password=canary, sslMode="Disable"),
        string_to(pg_tls, f"Server={pg_tls.host};Port={pg_tls.port};Password={canary};UID=x"),
    ):
        created = create(api, payload)
        for path in ("test", "explore"):
            bodies.append(api.get(f"{FLOW}/connections/{created['id']}/{path}").text)
    assert len(bodies) == 10
    assert [body for body in bodies if canary in body] == []
    assert canary not in caplog.text


def test_offline_mode_keeps_the_old_behaviour() -> None:
    emu = Emulator(EmulatorConfig(seed=3))
    with make_client(emu) as api:
        assert result_of(api, pg_payload()) == {"result": True}
        down = result_of(api, pg_payload(server="pg.down.invalid"))
        assert down == {"result": False, "errorMessage": "DNS: host 'pg.down.invalid' not found"}
        created = create(api, pg_payload())
        assert api.get(f"{FLOW}/connections/{created['id']}/explore").json() == []


def test_require_encrypts_without_verifying(pg_tls: PgServer) -> None:
    # libpq verifies `require` too when given a root file; the platform's Require does not.
    emu = emulator_for(None)
    with make_client(emu) as api:
        assert result_of(api, basic_to(pg_tls, sslMode="Require")) == {"result": True}
        assert result_of(api, basic_to(pg_tls, sslMode="Verify Ca"))["result"] is False


def test_command_line_connects_when_psycopg_is_installed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from provisioner.emulator import cli, databases

    args = cli.build_parser("p").parse_args(["--database-timeout", "2.5"])
    config = cli.config_from_args(args)
    assert (config.databases, config.database_timeout_s) == ("connect", 2.5)
    assert "# /test and /explore: connect to each connection's PostgreSQL server" in cli.banner(
        "http://x", config
    )
    offline = cli.config_from_args(cli.build_parser("p").parse_args(["--databases", "offline"]))
    assert "offline (hosts under .invalid fail, the rest pass)" in cli.banner("http://x", offline)
    # Without the driver the default falls back to offline; asking for connect is an error.
    monkeypatch.setattr(databases, "psycopg_available", lambda: False)
    monkeypatch.setattr(cli, "psycopg_available", lambda: False)
    assert cli.build_parser("p").parse_args([]).databases == "offline"
    assert cli.main(["--databases", "connect", "--port", "0"]) == 1
    assert capsys.readouterr().err == (
        "provision emulator: error: connecting to databases needs psycopg: pip install "
        "'aep-provision[postgres]' (or run with --databases offline)\n"
    )
    assert cli.main(["--database-timeout", "0", "--port", "0"]) == 1
    assert capsys.readouterr().err == (
        "provision emulator: error: the database timeout must be more than 0 and at most 300 "
        "seconds, got 0\n"
    )


@pytest.mark.parametrize("ssl", ["Disable", "Require"])
def test_a_server_speaking_another_protocol_fails_fast(
    pg_tls: PgServer, junk_server: tuple[str, int], ssl: str
) -> None:
    emu = emulator_for(pg_tls.ca_file, timeout=2.0)
    with make_client(emu) as api:
        payload = basic_to(pg_tls, server=junk_server[0], port=str(junk_server[1]), sslMode=ssl)
        body = result_of(api, payload)
    assert body == {
        "result": False,
        "errorMessage": f"127.0.0.1:{junk_server[1]} answered, but not as PostgreSQL",
    }


def test_answers_match_the_openapi_shapes(api: httpx.Client, pg_tls: PgServer) -> None:
    # Imported here: that module skips itself when Adobe's OpenAPI file is absent, and only
    # this test should go with it.
    from tests.emulator.test_emu_conformance import check, response_schema

    good = create(api, basic_to(pg_tls))["id"]
    bad = create(api, basic_to(pg_tls, password="wrong-pw"))["id"]
    test_schema = response_schema("/connections/{BASE_CONNECTION_ID}/test", "get", "200")
    check(api.get(f"{FLOW}/connections/{good}/test").json(), test_schema)
    check(api.get(f"{FLOW}/connections/{bad}/test").json(), test_schema)
    explore_schema = response_schema("/connections/{BASE_CONNECTION_ID}/explore", "get", "200")
    explore_schema["items"]["additionalProperties"] = False  # no invented fields
    root = api.get(f"{FLOW}/connections/{good}/explore", params={"objectType": "root"}).json()
    check(root, explore_schema)
    assert len(root) == len(pgserver.TABLES)


def test_explore_reads_a_quoted_path_as_postgresql_does(
    api: httpx.Client, pg_tls: PgServer
) -> None:
    # `"x.y".z` and `x."y.z"` are two tables; each path finds its own.
    created = create(api, basic_to(pg_tls))
    for path in ('"x.y".z', 'x."y.z"'):
        response = api.get(
            f"{FLOW}/connections/{created['id']}/explore",
            params={"objectType": "table", "object": path},
        )
        assert response.status_code == 200, response.text
        assert [c["name"] for c in response.json()["schema"]["columns"]] == ["id"]
    # INSERT-only: not listed, and its columns are not shown either.
    refused = api.get(
        f"{FLOW}/connections/{created['id']}/explore",
        params={"objectType": "table", "object": "public.audit_log"},
    )
    assert (refused.status_code, flow_code(refused)) == (404, "1101-404")


def test_the_emulators_test_holds_its_deadline_on_a_server_that_stalls(
    pg_plain: PgServer, capsys: pytest.CaptureFixture[str]
) -> None:
    from .fakes import StallingProxy

    emulator = emulator_for(timeout=1.0)
    try:
        with make_client(emulator) as client, StallingProxy(pg_plain.port) as proxy:
            payload = basic_to(pg_plain, port=str(proxy.port), sslMode="Disable")
            created = create(client, payload)
            answer = client.get(f"{FLOW}/connections/{created['id']}/test").json()
            assert proxy.connections == 1  # closed at the deadline: no cancel request
    finally:
        emulator.close()
    assert answer == {
        "result": False,
        "errorMessage": f"timeout: 127.0.0.1:{proxy.port} did not answer within 1 s",
    }
    assert capsys.readouterr().err == ""  # psycopg's own warnings stay out
