"""Canary secrets: planted in every secret the tool can see, found in no output, file or log.

The Flow Service here answers some creates with a 400 that echoes the request body (in
each of Adobe's error shapes and as plain text), the worst case for a leak. The emulator
never echoes, so a transport in front of it does.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import httpx
import pytest

from provisioner.commands import session as remote
from provisioner.emulator import Emulator, EmulatorConfig, serve
from tests.verify import verify_helpers
from tests.verify.pgserver import PgServer

from .recon_helpers import SANDBOXES, point_at, run_cli, stored, write_manifest

CANARIES = {
    # Characters JSON escapes: an echoed body shows this secret as CANARY-\"orders\\-\u00e9.
    "RECON_ORDERS_PASSWORD": 'CANARY-"orders\\-\u00e9-5e0c9a',
    "RECON_INVENTORY_PASSWORD": "CANARY-inventory-77d41b",
    "RECON_BILLING_DSN": "Server=pg-billing;Port=5432;Password=CANARY-billing-a93f00",
    "RECON_PAYMENTS_PASSWORD": "CANARY-payments-0b6e2d",
}
CLIENT_SECRET = "CANARY-client-secret-c1d2e3"
BASE = "http://emulator.test"


class EchoingGateway(httpx.BaseTransport):
    """The emulator, except that some creates get a 400 quoting the whole request body."""

    def __init__(self, emulator: Emulator) -> None:
        self.inner = emulator.transport()
        self.tokens: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith("/flowservice/connections"):
            body = request.content.decode()
            name = json.loads(body)["name"]
            if name == "billing":
                return httpx.Response(
                    400,
                    json={
                        "type": "https://ns.adobe.com/aep/errors/FLOW-1100-400",
                        "title": "Invalid request",
                        "report": {"detailed-message": f"Cannot accept payload {body}"},
                    },
                )
            if name == "payments":
                return httpx.Response(
                    400, json={"error_code": "400000", "message": f"Bad body: {body}"}
                )
            if name == "orders-dev":
                return httpx.Response(400, text=f"rejected: {body}")
        response = self.inner.handle_request(request)
        if request.url.path.endswith("/ims/token/v3"):
            response.read()
            self.tokens.append(response.json()["access_token"])
        return response


def test_no_canary_reaches_any_output_file_or_log(
    tmp_path: Path,
    manifest: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    emulator = Emulator(EmulatorConfig(sandboxes=SANDBOXES, client_secret=CLIENT_SECRET))
    gateway = EchoingGateway(emulator)
    monkeypatch.setattr(
        remote,
        "build_http_client",
        lambda timeout, parallelism: httpx.Client(transport=gateway, follow_redirects=False),
    )
    for name in ("CI", "NO_COLOR", "AEP_SCOPES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AEP_IMS_URL", BASE)
    monkeypatch.setenv("AEP_PLATFORM_URL", BASE)
    monkeypatch.setenv("AEP_CLIENT_ID", emulator.config.client_id)
    monkeypatch.setenv("AEP_CLIENT_SECRET", CLIENT_SECRET)
    for name, value in CANARIES.items():
        monkeypatch.setenv(name, value)
    caplog.set_level(logging.DEBUG)  # every logger, httpx and httpcore included

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
            ["apply", m, "--auto-approve", verbosity],
        ]
        for argv in runs:
            result = run_cli(capsys, argv)
            codes.append(result.code)
            texts += [result.out, result.err]
    texts += [path.read_text(encoding="utf-8") for path in sorted(Path().glob("plan-*.json"))]
    logs = [f"{r.name} {r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records]

    # validate, render, 3 plans, then two applies with three echoed 400s each, per level.
    assert codes == [0, 0, 0, 0, 0, 1, 1] * 2
    assert len(stored(emulator)) == 4  # everything but the three refused
    everything = "\n".join(texts + logs)
    assert "CANARY" not in everything
    # The echoes did reach the user, with the secrets cut out of them.
    assert everything.count("returned 400 FLOW-1100-400: Cannot accept payload") == 4
    assert (
        "  ! billing (prod): create connection 'billing' in sandbox 'prod' failed: POST "
        "http://emulator.test/data/foundation/flowservice/connections returned 400 "
        'FLOW-1100-400: Cannot accept payload {"name": "billing", "auth": {"specName": '
        '"Connection String Based Authentication", "params": {"connectionString": '
        '"(sensitive)"}}, "connectionSpec": {"id": "74a1c565-4e59-48d7-9d67-7c03b8a13137", '
        '"version": "1.0"}}\n'
    ) in everything
    assert '"password": "(sensitive)"' in everything  # orders-dev, echoed as plain text
    assert any(
        r.levelno == logging.DEBUG and r.name == "provisioner.client" for r in caplog.records
    )
    # Tokens and Authorization headers never reach a log (or any other output).
    assert gateway.tokens
    for token in gateway.tokens:
        assert token not in everything
    assert "bearer" not in "\n".join(logs).lower()
    assert "authorization" not in "\n".join(logs).lower()


class EchoingPatches(httpx.BaseTransport):
    """The emulator, except that PATCHes of some connections get a 400 quoting the body."""

    def __init__(self, emulator: Emulator, refused: dict[str, str]) -> None:
        self.inner = emulator.transport()
        self.emulator = emulator
        self.refused = refused  # connection id -> how the refusal is shaped

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        shape = self.refused.get(request.url.path.rsplit("/", 1)[-1])
        if request.method == "PATCH" and shape is not None:
            body = request.content.decode()
            if shape == "flow":
                return httpx.Response(
                    400,
                    json={
                        "type": "https://ns.adobe.com/aep/errors/FLOW-1455-400",
                        "title": "Invalid request",
                        "report": {"detailed-message": f"The patch request is invalid: {body}"},
                    },
                )
            return httpx.Response(400, text=f"rejected: {body}")
        return self.inner.handle_request(request)


def test_rotation_never_shows_the_new_secrets_and_stores_them(
    manifest: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    emulator = Emulator(EmulatorConfig(sandboxes=SANDBOXES, client_secret=CLIENT_SECRET))
    for name in ("CI", "NO_COLOR", "AEP_SCOPES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AEP_IMS_URL", BASE)
    monkeypatch.setenv("AEP_PLATFORM_URL", BASE)
    monkeypatch.setenv("AEP_CLIENT_ID", emulator.config.client_id)
    monkeypatch.setenv("AEP_CLIENT_SECRET", CLIENT_SECRET)
    from .recon_helpers import SECRETS

    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    plain = httpx.Client(transport=emulator.transport(), follow_redirects=False)
    monkeypatch.setattr(remote, "build_http_client", lambda timeout, parallelism: plain)
    assert run_cli(capsys, ["apply", str(manifest), "--auto-approve"]).code == 0
    ids = {(r["sandboxName"], r["name"]): r["id"] for r in stored(emulator)}
    gateway = EchoingPatches(
        emulator, {ids[("prod", "billing")]: "flow", ids[("dev", "payments")]: "text"}
    )
    monkeypatch.setattr(
        remote,
        "build_http_client",
        lambda timeout, parallelism: httpx.Client(transport=gateway, follow_redirects=False),
    )
    for name, value in CANARIES.items():
        monkeypatch.setenv(name, value)
    caplog.set_level(logging.DEBUG)

    m = str(manifest)
    runs = [
        ["plan", m, "--rotate-secrets", "--format", "json", "--out", "rotate.json", "-vv"],
        ["plan", m, "--rotate-secrets", "--format", "markdown", "-vv"],
        ["apply", "--plan", "rotate.json", "-vv"],
    ]
    results = [run_cli(capsys, argv) for argv in runs]
    assert [r.code for r in results] == [0, 0, 1]
    texts = [t for r in results for t in (r.out, r.err)] + [Path("rotate.json").read_text()]
    logs = [f"{r.name} {r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records]
    everything = "\n".join(texts + logs)
    assert "CANARY" not in everything
    # The refusals reached the user with the secrets cut out of the echoed patch.
    assert '"value": "(sensitive)"' in everything
    assert "  ! billing (prod): update connection 'billing'" in results[2].out
    assert "  ! payments (dev): update connection 'payments'" in results[2].out
    # Every other rotation stored the new value.
    for record in stored(emulator):
        params = record["auth"]["params"]
        secret = params.get("password") or params["connectionString"]
        refused = (record["sandboxName"], record["name"]) in (
            ("prod", "billing"),
            ("dev", "payments"),
        )
        assert ("CANARY" in secret) is not refused, record["name"]


def test_no_database_secret_reaches_verify_outputs_or_logs(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    pg_tls: PgServer,
    pg_plain: PgServer,
) -> None:
    """verify, verify --direct and apply --verify against real servers, a wrong password
    among them: neither it nor the right ones appear anywhere, at any verbosity."""
    monkeypatch.chdir(tmp_path)
    wrong = "CANARY-verify-wrong-3b9f"
    secrets = verify_helpers.secrets_for(pg_tls, pg_plain, bad=wrong)
    path = str(write_manifest(tmp_path / "m", verify_helpers.manifest_text(pg_tls, pg_plain)))
    emulator = verify_helpers.connecting_emulator(pg_tls)
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    with serve(emulator, port=0) as server:
        point_at(monkeypatch, server, emulator, secrets)
        ca = ["--ca-file", str(pg_tls.ca_file)]
        for verbosity in ("-v", "-vv"):
            runs = [
                ["apply", path, "--auto-approve", "--verify", verbosity],
                *(
                    ["verify", path, "--explore", "--format", fmt, verbosity]
                    for fmt in ("text", "json", "markdown")
                ),
                *(
                    ["verify", path, "--direct", *ca, "--explore", "--format", fmt, verbosity]
                    for fmt in ("text", "json", "markdown")
                ),
            ]
            for argv in runs:
                result = run_cli(capsys, argv)
                # The wrong password, the plain server and the bad host fail every check; the
                # second apply has nothing to change and still tests what is declared (issue 21).
                assert result.code == 1
                texts += [result.out, result.err]
    emulator.close()
    logs = [f"{r.name} {r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records]
    everything = "\n".join(texts + logs)
    assert 'authentication failed for user "aep_reader"' in everything
    for secret in (wrong, pg_tls.password, pg_plain.password, secrets["VERIFY_DSN"]):
        assert secret not in everything
