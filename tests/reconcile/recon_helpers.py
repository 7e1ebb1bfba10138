"""Shared pieces of the reconciler suite: the manifest, its secrets, and running the CLI."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

from provisioner.cli import main as cli
from provisioner.emulator import POSTGRES_SPEC_ID, Emulator, RunningServer
from provisioner.remote.client import Credentials, Endpoints, FlowServiceClient

ORG = "0123456789ABCDEF01234567@AdobeOrg"
SANDBOXES = ("prod", "dev", "prod-aws")
FLOW_POSTS = "POST /data/foundation/flowservice/connections"
FLOW_GETS = "GET /data/foundation/flowservice/connections"

# One manifest exercising every payload shape: Azure basic with and without description,
# AWS basic (sslMode "true"/"false"), a whole connection string from a secret, and one
# built from parts. Line numbers matter: the plan names each entry's `file:line`.
MANIFEST = """\
version: 1
org: 0123456789ABCDEF01234567@AdobeOrg
vars:
  domain: db.example.test
sandboxes:
  - name: prod
    cloud: azure
  - name: dev
    cloud: azure
  - name: prod-aws
    cloud: aws
connections:
  - name: "orders-{{ sandbox.name }}"
    description: "Orders ({{ sandbox.name }})"
    auth:
      type: basic
      server: "pg-orders.{{ vars.domain }}"
      port: 5432
      database: orders
      username: aep_reader
      password: {env: RECON_ORDERS_PASSWORD}
      ssl: verify-full
  - name: inventory
    sandboxes: [prod, prod-aws]
    auth:
      type: basic
      server: pg-inventory.db.example.test
      port: 6432
      database: inventory
      username: aep_inventory
      password: {env: RECON_INVENTORY_PASSWORD}
      ssl: disable
  - name: billing
    sandboxes: [prod]
    auth:
      type: connection-string
      connection_string: {env: RECON_BILLING_DSN}
  - name: payments
    sandboxes: [dev]
    auth:
      type: connection-string
      server: pg-payments.db.example.test
      port: 5432
      database: payments
      username: aep_payments
      password: {env: RECON_PAYMENTS_PASSWORD}
      encryption: ssl
      validate_server_certificate: true
"""
LINE = {"orders": 13, "inventory": 23, "billing": 33, "payments": 38}

SECRETS = {
    "RECON_ORDERS_PASSWORD": "orders-pw-7f3a",
    "RECON_INVENTORY_PASSWORD": "inventory-pw-91c2",
    "RECON_BILLING_DSN": "Server=pg-billing.db.example.test;Port=5432;Password=billing-pw-55e1",
    "RECON_PAYMENTS_PASSWORD": "payments-pw-c4d8",
}

SPEC = {"id": POSTGRES_SPEC_ID, "version": "1.0"}
# apply's last line when the plan changes nothing because something failed (never
# "Nothing to change.", which would read as success).
NOTHING_APPLIED = "Nothing was applied: fix the problems above, then re-run apply.\n"


def basic(
    name: str,
    *,
    server: str,
    port: str,
    database: str,
    username: str,
    password: str,
    ssl: str,
    description: str | None = None,
) -> dict[str, Any]:
    payload: dict[str, Any] = {"name": name}
    if description is not None:
        payload["description"] = description
    payload["auth"] = {
        "specName": "Basic Authentication",
        "params": {
            "server": server,
            "port": port,
            "database": database,
            "username": username,
            "password": password,
            "sslMode": ssl,
        },
    }
    payload["connectionSpec"] = SPEC
    return payload


def connection_string(name: str, value: str) -> dict[str, Any]:
    return {
        "name": name,
        "auth": {
            "specName": "Connection String Based Authentication",
            "params": {"connectionString": value},
        },
        "connectionSpec": SPEC,
    }


def orders(sandbox: str, ssl: str) -> dict[str, Any]:
    return basic(
        f"orders-{sandbox}",
        description=f"Orders ({sandbox})",
        server="pg-orders.db.example.test",
        port="5432",
        database="orders",
        username="aep_reader",
        password=SECRETS["RECON_ORDERS_PASSWORD"],
        ssl=ssl,
    )


def inventory(ssl: str) -> dict[str, Any]:
    return basic(
        "inventory",
        server="pg-inventory.db.example.test",
        port="6432",
        database="inventory",
        username="aep_inventory",
        password=SECRETS["RECON_INVENTORY_PASSWORD"],
        ssl=ssl,
    )


# SPEC section 3, written out by hand: what each sandbox must hold after one apply.
EXPECTED = {
    "prod": [
        orders("prod", "Verify Full"),
        inventory("Disable"),
        connection_string("billing", SECRETS["RECON_BILLING_DSN"]),
    ],
    "dev": [
        orders("dev", "Verify Full"),
        connection_string(
            "payments",
            "Server=pg-payments.db.example.test;Database=payments;Port=5432;UID=aep_payments;"
            "Password=payments-pw-c4d8;EncryptionMethod=1;ValidateServerCertificate=1",
        ),
    ],
    "prod-aws": [orders("prod-aws", "true"), inventory("false")],
}
TOTAL = sum(len(v) for v in EXPECTED.values())


def write_manifest(folder: Path, text: str = MANIFEST, name: str = "connections.yaml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def sent_payload(record: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a stored record that came from the POST body, in payload order."""
    keys = ("name", "description", "auth", "connectionSpec")
    return {key: record[key] for key in keys if key in record}


def stored(emulator: Emulator, sandbox: str | None = None) -> list[dict[str, Any]]:
    return [dict(r) for r in emulator.connections(ORG, sandbox)]


def names(emulator: Emulator, sandbox: str) -> list[str]:
    return sorted(r["name"] for r in emulator.connections(ORG, sandbox))


def direct_client(emulator: Emulator) -> FlowServiceClient:
    """A client on the emulator's in-process transport, to arrange remote state."""
    config = emulator.config
    base = "http://emulator.test"
    return FlowServiceClient(
        httpx.Client(transport=emulator.transport()),
        Credentials(config.client_id, config.client_secret),
        Endpoints(ims_url=base, platform_url=base),
    )


def create_remote(emulator: Emulator, sandbox: str, payload: Mapping[str, Any]) -> str:
    client = direct_client(emulator)
    return client.create_connection(ORG, sandbox, payload, name=str(payload["name"])).id


class Clock:
    """The emulator's wall clock, which a test can turn back to make connections old."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@dataclasses.dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


def run_cli(capsys: pytest.CaptureFixture[str], argv: Sequence[str]) -> Run:
    capsys.readouterr()  # drop anything printed before
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return Run(code, captured.out, captured.err)


def point_at(
    monkeypatch: pytest.MonkeyPatch,
    server: RunningServer,
    emulator: Emulator,
    secrets: Mapping[str, str] = SECRETS,
) -> None:
    """Export what a pipeline would: the API credentials and the database secrets."""
    for name in ("CI", "NO_COLOR", "AEP_SCOPES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AEP_IMS_URL", server.url)
    monkeypatch.setenv("AEP_PLATFORM_URL", server.url)
    monkeypatch.setenv("AEP_CLIENT_ID", emulator.config.client_id)
    monkeypatch.setenv("AEP_CLIENT_SECRET", emulator.config.client_secret)
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
