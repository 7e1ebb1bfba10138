"""Rendered payloads match SPEC §3 field for field, whatever the values contain."""

from __future__ import annotations

from pathlib import Path

import pytest

from provisioner.connectors.postgres import odbc
from provisioner.connectors.postgres.auth import (
    BasicAuth,
    ConnectionStringParts,
    ConnectionStringSecret,
)
from provisioner.connectors.postgres.payload import render_payload
from provisioner.errors import Location, ProvisionError
from provisioner.model import DesiredConnection, SecretRef

SPEC = {"id": "74a1c565-4e59-48d7-9d67-7c03b8a13137", "version": "1.0"}
HERE = Location("m.yaml", 3, 5)
PASSWORD = SecretRef("env", "PG_PASSWORD", Path("."), HERE)
SECRETS = {PASSWORD: "s3cr3t;{pass}=word"}


def connection(
    auth: object, cloud: str = "azure", description: str | None = None, name: str = "orders"
) -> DesiredConnection:
    return DesiredConnection("ORG@AdobeOrg", "prod", cloud, name, description, auth, HERE)  # type: ignore[arg-type]


def basic(ssl: str = "verify-full", server: str = "pg.example.com") -> BasicAuth:
    return BasicAuth(server, 5432, "orders", "aep_reader", PASSWORD, ssl)


def test_azure_basic_payload_exactly() -> None:
    payload = render_payload(connection(basic(), description="Orders DB"), SECRETS.__getitem__)
    assert payload == {
        "name": "orders",
        "description": "Orders DB",
        "auth": {
            "specName": "Basic Authentication",
            "params": {
                "server": "pg.example.com",
                "port": "5432",
                "database": "orders",
                "username": "aep_reader",
                "password": "s3cr3t;{pass}=word",
                "sslMode": "Verify Full",
            },
        },
        "connectionSpec": SPEC,
    }


@pytest.mark.parametrize(
    ("ssl", "azure", "aws"),
    [
        ("disable", "Disable", "false"),
        ("allow", "Allow", None),
        ("prefer", "Prefer", None),
        ("require", "Require", "true"),
        ("verify-ca", "Verify Ca", "true"),
        ("verify-full", "Verify Full", "true"),
    ],
)
def test_ssl_mode_per_cloud(ssl: str, azure: str, aws: str | None) -> None:
    rendered = render_payload(connection(basic(ssl)), SECRETS.__getitem__)
    assert rendered["auth"]["params"]["sslMode"] == azure
    if aws is not None:
        rendered = render_payload(connection(basic(ssl), cloud="aws"), SECRETS.__getitem__)
        assert rendered["auth"]["params"]["sslMode"] == aws


def test_description_omitted_when_absent() -> None:
    assert "description" not in render_payload(connection(basic()), SECRETS.__getitem__)


def test_connection_string_from_secret() -> None:
    dsn = SecretRef("env", "DSN", Path("."), HERE)
    payload = render_payload(
        connection(ConnectionStringSecret(dsn)), {dsn: "Server=a;Password=b"}.__getitem__
    )
    assert payload == {
        "name": "orders",
        "auth": {
            "specName": "Connection String Based Authentication",
            "params": {"connectionString": "Server=a;Password=b"},
        },
        "connectionSpec": SPEC,
    }


def test_connection_string_from_parts_quotes_odbc_values() -> None:
    parts = ConnectionStringParts(
        "pg.example.com", 6432, "db;x", " user ", PASSWORD, "request-ssl", False
    )
    payload = render_payload(connection(parts), SECRETS.__getitem__)
    assert payload["auth"]["params"]["connectionString"] == (
        "Server=pg.example.com;Database={db;x};Port=6432;UID={ user };"
        "Password={s3cr3t;{pass}}=word};EncryptionMethod=6;ValidateServerCertificate=0"
    )


@pytest.mark.parametrize(
    ("value", "quoted"),
    [
        ("plain", "plain"),
        ("a;b", "{a;b}"),
        ("a=b", "{a=b}"),
        ("{a}", "{{a}}}"),
        ("}", "{}}}"),
        (" lead", "{ lead}"),
        ("trail ", "{trail }"),
        ("ünïcødé", "ünïcødé"),
        ('say "hi"', 'say "hi"'),
    ],
)
def test_odbc_quoting(value: str, quoted: str) -> None:
    assert odbc.quote(value) == quoted


@pytest.mark.parametrize("value", ["a\nb", "a\x00b", "tab\there", "del\x7f"])
def test_odbc_rejects_control_characters(value: str) -> None:
    with pytest.raises(odbc.ConnectionStringError):
        odbc.quote(value)


def test_password_with_control_character_is_reported_without_the_secret() -> None:
    parts = ConnectionStringParts("h", 5432, "d", "u", PASSWORD, "ssl", True)
    with pytest.raises(ProvisionError) as caught:
        render_payload(connection(parts), {PASSWORD: "bad\nsecret"}.__getitem__)
    assert "bad\nsecret" not in str(caught.value) and "secret" in str(caught.value)
    assert str(caught.value).startswith("m.yaml:3:5: the password of connection 'orders'")


@pytest.mark.parametrize(
    "text",
    ['quote " and \\ backslash', "brace {x} ; semi", "new\nline", "ünïcødé ✓ 漢字", "</script>'&"],
)
def test_awkward_values_survive_json_escaping(text: str) -> None:
    payload = render_payload(
        connection(basic(server=text), description=text, name=text), {PASSWORD: text}.__getitem__
    )
    assert payload["name"] == payload["description"] == text
    assert payload["auth"]["params"]["server"] == text
    assert payload["auth"]["params"]["password"] == text
