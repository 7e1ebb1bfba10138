"""`provision apply` on dataflow manifests against the emulator on a loopback socket."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from provisioner.emulator import Emulator, RunningServer
from tests.emulator.chain_helpers import SCHEMA
from tests.reconcile.recon_helpers import Run, run_cli

from .apply_helpers import census
from .helpers import ORG

SECRET = {"DF_PG_PASSWORD": "df-pw-3e1b"}
HOST = "pg-orders.db.example.test"
TABLES = {
    "public.orders": [
        {"name": "id", "type": "integer"},
        {"name": "email", "type": "text"},
        {"name": "amount", "type": "numeric"},
        {"name": "updated_at", "type": "timestamp"},
    ],
    "public.items": [
        {"name": "id", "type": "integer"},
        {"name": "sku", "type": "text"},
        {"name": "updated_at", "type": "timestamp"},
    ],
}


def dataflow(
    table: str = "public.orders",
    *,
    columns: str = "[id, email, updated_at]",
    description: str = "orders into AEP",
    frequency: str = "minute",
    interval: int = 15,
    enabled: bool = True,
    mapping: tuple[str, ...] = (
        "{source: id, destination: _id}",
        '{expression: "lower(email)", destination: personalEmail.address}',
    ),
) -> str:
    lines = [
        f"      - table: {table}",
        f"        description: {description}",
        "        dataset: Orders",
        f"        columns: {columns}",
        "        incremental: updated_at",
        f"        schedule: {{frequency: {frequency}, interval: {interval}}}",
        "        mapping:",
        *[f"          - {rule}" for rule in mapping],
        f"        enabled: {'true' if enabled else 'false'}",
    ]
    return "\n".join(lines)


def manifest(*dataflows: str, sandboxes: tuple[str, ...] = ("prod",)) -> str:
    lines = [
        "version: 1",
        f"org: {ORG}",
        'prune: {owner: team-orders, names: ["orders-*"]}',
        "sandboxes:",
        *[f"  - {{name: {s}, cloud: azure}}" for s in sandboxes],
        "connections:",
        '  - name: "orders-{{ sandbox.name }}"',
        "    auth:",
        "      type: basic",
        f"      server: {HOST}",
        "      database: orders",
        "      username: reader",
        "      password: {env: DF_PG_PASSWORD}",
    ]
    if dataflows:
        lines += ["    dataflows:", *dataflows]
    return "\n".join(lines) + "\n"


def prepare(emulator: Emulator, sandboxes: tuple[str, ...] = ("prod",)) -> None:
    """What AEP holds before provision runs: the datasets, and the tables explore lists."""
    for sandbox in sandboxes:
        emulator.add_dataset(ORG, sandbox, name="Orders", schemaId=SCHEMA)
    for path, columns in TABLES.items():
        emulator.databases.tables.preload(
            {"host": HOST, "database": "orders", "path": path, "columns": columns}
        )


def point_at(monkeypatch: pytest.MonkeyPatch, server: RunningServer, emulator: Emulator) -> None:
    for name in ("CI", "NO_COLOR", "AEP_SCOPES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AEP_IMS_URL", server.url)
    monkeypatch.setenv("AEP_PLATFORM_URL", server.url)
    monkeypatch.setenv("AEP_CLIENT_ID", emulator.config.client_id)
    monkeypatch.setenv("AEP_CLIENT_SECRET", emulator.config.client_secret)
    for name, value in SECRET.items():
        monkeypatch.setenv(name, value)


def cli_env(server: RunningServer, emulator: Emulator) -> dict[str, str]:
    """The environment of a `provision` subprocess pointed at the emulator."""
    return {
        **os.environ,
        "AEP_IMS_URL": server.url,
        "AEP_PLATFORM_URL": server.url,
        "AEP_CLIENT_ID": emulator.config.client_id,
        "AEP_CLIENT_SECRET": emulator.config.client_secret,
        **SECRET,
    }


def apply(capsys: pytest.CaptureFixture[str], path: Path, *flags: str) -> Run:
    return run_cli(capsys, ["apply", str(path), "--auto-approve", *flags])


def converged(emulator: Emulator) -> dict[str, Any]:
    """Flows by name, and the counts a converged sandbox must show."""
    now = census(emulator)
    return {
        "flows": dict(now.flows),
        "duplicates": now.duplicates,
        "orphans": now.orphans,
        "sources": now.sources,
        "targets": now.targets,
    }
