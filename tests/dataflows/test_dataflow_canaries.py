"""Canary secrets with dataflows declared: every command that reads, plans, applies, verifies
or imports them prints, saves and logs no secret, at every verbosity.

The database secrets and the API client secret are canaries; the manifest declares a dataflow
on a connection whose password is one, so every dataflow line, body and summary is written
next to a secret the run holds. The Flow Service is the emulator over its in-process transport.
"""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest

from provisioner.commands import session as remote
from provisioner.emulator import Emulator, EmulatorConfig
from tests.reconcile.recon_helpers import MANIFEST, ORG, SANDBOXES, run_cli, write_manifest

CANARIES = {
    "RECON_ORDERS_PASSWORD": 'CANARY-"orders\\-\u00e9-5e0c9a',
    "RECON_INVENTORY_PASSWORD": "CANARY-inventory-77d41b",
    "RECON_BILLING_DSN": "Server=pg-billing;Port=5432;Password=CANARY-billing-a93f00",
    "RECON_PAYMENTS_PASSWORD": "CANARY-payments-0b6e2d",
}
CLIENT_SECRET = "CANARY-client-secret-c1d2e3"
BASE = "http://emulator.test"
DATAFLOWS = """\
    dataflows:
      - table: public.orders
        dataset: "Orders ({{ sandbox.name }})"
        columns: [id, amount, updated_at]
        incremental: updated_at
        schedule: {frequency: minute, interval: 15}
        mapping:
          - {source: id, destination: _id}
          - {expression: "amount * 100", destination: _acme.cents}
"""


def _manifest() -> str:
    marker = "      ssl: verify-full\n"
    return MANIFEST.replace(marker, marker + DATAFLOWS, 1)


def test_no_canary_reaches_any_dataflow_output_file_or_log(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.chdir(tmp_path)
    manifest = write_manifest(Path("manifests"), _manifest())
    emulator = Emulator(EmulatorConfig(sandboxes=SANDBOXES, client_secret=CLIENT_SECRET))
    admin = httpx.Client(transport=emulator.transport(), base_url=BASE)
    for sandbox in SANDBOXES:
        emulator.add_dataset(
            ORG, sandbox, f"Orders ({sandbox})", f"https://ns.adobe.com/acme/{sandbox}"
        )
        table = {
            "org": ORG,
            "sandbox": sandbox,
            "connectionName": f"orders-{sandbox}",
            "path": "public.orders",
            "columns": [
                {"name": "id"},
                {"name": "amount"},
                {"name": "updated_at", "type": "timestamp"},
            ],
        }
        assert admin.post("/__emulator/tables", json=table).status_code == 201
    monkeypatch.setattr(
        remote,
        "build_http_client",
        lambda timeout, parallelism: httpx.Client(transport=emulator.transport()),
    )
    for name in ("CI", "NO_COLOR", "AEP_SCOPES"):
        monkeypatch.delenv(name, raising=False)
    for name, value in {
        "AEP_IMS_URL": BASE,
        "AEP_PLATFORM_URL": BASE,
        "AEP_CLIENT_ID": emulator.config.client_id,
        "AEP_CLIENT_SECRET": CLIENT_SECRET,
        **CANARIES,
    }.items():
        monkeypatch.setenv(name, value)
    caplog.set_level(logging.DEBUG)

    m = str(manifest)
    texts: list[str] = []
    codes: list[int] = []
    for verbosity in ("-v", "-vv"):
        runs = [
            ["validate", m, verbosity],
            ["render", m, verbosity],
            *(
                ["plan", m, "--format", fmt, "--out", f"plan-{fmt}{verbosity}.json", verbosity]
                for fmt in ("text", "json", "markdown")
            ),
            ["apply", "--plan", f"plan-json{verbosity}.json", verbosity],
            ["apply", m, "--auto-approve", "--format", "json", verbosity],
            ["plan", m, "--detailed-exitcode", verbosity],
            ["verify", m, "--format", "json", verbosity],
            ["verify", m, "--format", "markdown", verbosity],
            [
                "import",
                "--org",
                ORG,
                "--sandbox",
                "prod",
                "--out",
                f"imported{verbosity}",
                verbosity,
            ],
        ]
        for argv in runs:
            result = run_cli(capsys, argv)
            codes.append(result.code)
            texts += [result.out, result.err]
    texts += [p.read_text(encoding="utf-8") for p in sorted(Path().glob("plan-*.json"))]
    texts += [p.read_text(encoding="utf-8") for p in sorted(Path().glob("imported*/**/*.yaml"))]
    logs = [f"{r.name} {r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records]

    assert codes == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] * 2, codes
    everything = "\n".join(texts + logs)
    assert "Dataflows: 3 created." in everything
    assert "Dataflows: 0 to add, 3 unchanged." in everything
    assert "orders-prod/public.orders" in everything
    assert "CANARY" not in everything
    assert everything.count("Dataflows: 3 created.") == 1  # the second apply: nothing to do
