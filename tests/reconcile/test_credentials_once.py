"""Credential problems are one line naming what to fix, found before any sandbox is listed;
problems that are truly per sandbox stay per sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from provisioner.connectors.postgres.auth import ConnectionStringSecret
from provisioner.emulator import Emulator, EmulatorConfig, serve
from provisioner.errors import ApiError, CredentialError, Location
from provisioner.model import DesiredConnection, SecretRef
from provisioner.remote.credentials import check_access

from .recon_helpers import FLOW_GETS, ORG, SANDBOXES, point_at, run_cli, stored

SPEC_GET = "GET /data/foundation/flowservice/connectionSpecs/{id}"


def listed(emulator: Emulator) -> int:
    return emulator.request_counts().get(FLOW_GETS, 0)


@pytest.mark.usefixtures("aep_env")
@pytest.mark.parametrize("command", [["plan"], ["apply", "--auto-approve"]])
def test_a_wrong_client_secret_is_one_line_naming_it(
    command: list[str],
    manifest: Path,
    emulator: Emulator,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AEP_CLIENT_SECRET", "wrong-secret-3d1f")
    run = run_cli(capsys, [*command, str(manifest)])
    assert run.code == 1
    assert run.out == ""
    url = emulator_url(monkeypatch)
    assert run.err == (
        f"error: IMS token request failed: POST {url}/ims/token/v3 returned 401 invalid_client: "
        "invalid client_secret parameter; check AEP_CLIENT_SECRET; nothing was listed\n"
    )
    assert "wrong-secret-3d1f" not in run.out + run.err
    assert listed(emulator) == 0
    assert emulator.request_counts().get("POST /ims/token/v3") == 1
    assert stored(emulator) == []


@pytest.mark.usefixtures("aep_env")
def test_a_wrong_client_id_names_aep_client_id(
    manifest: Path,
    emulator: Emulator,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AEP_CLIENT_ID", "someone-elses-client")
    run = run_cli(capsys, ["plan", str(manifest)])
    assert run.code == 1
    assert run.err.count("\n") == 1
    assert "invalid client_id parameter; check AEP_CLIENT_ID; nothing was listed" in run.err
    assert listed(emulator) == 0


@pytest.fixture
def other_org_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    """An emulator whose credential is valid but serves another org than the manifest's."""
    emulator = Emulator(
        EmulatorConfig(orgs=("FEDCBA9876543210FEDCBA98@AdobeOrg",), sandboxes=SANDBOXES)
    )
    with serve(emulator, port=0) as running:
        point_at(monkeypatch, running, emulator)
        yield emulator
    emulator.close()


def test_an_org_the_credential_cannot_use_is_one_line_naming_it(
    manifest: Path, other_org_server: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    run = run_cli(capsys, ["plan", str(manifest), "--format", "json"])
    assert run.code == 1
    assert run.out == ""
    assert run.err.count("\n") == 1
    assert run.err.startswith(
        "error: org 0123456789ABCDEF01234567@AdobeOrg (manifests/connections.yaml:13): "
        "get the PostgreSQL connection spec in sandbox 'prod' failed: GET "
    )
    assert run.err.endswith(
        "returned 403 403025: Profile is not valid; check the manifest's org, and that the "
        "project of AEP_CLIENT_ID has a product profile for it (nothing was listed)\n"
    )
    assert listed(other_org_server) == 0


def test_a_wrong_api_key_names_aep_client_id(
    manifest: Path,
    emulator: Emulator,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # IMS takes the credential, the gateway does not know it as an API key: the client id
    # belongs to another environment than AEP_PLATFORM_URL.
    gateway = Emulator(EmulatorConfig(client_id="another-client", sandboxes=SANDBOXES))
    ims = Emulator(EmulatorConfig(sandboxes=SANDBOXES))
    with serve(gateway, port=0) as platform, serve(ims, port=0) as token_server:
        point_at(monkeypatch, platform, ims)
        monkeypatch.setenv("AEP_IMS_URL", token_server.url)
        run = run_cli(capsys, ["plan", str(manifest)])
    gateway.close()
    ims.close()
    assert run.code == 1
    assert run.err.count("\n") == 1
    assert "returned 403 403003: Api Key is invalid; AEP_CLIENT_ID is sent as the API key" in (
        run.err
    )
    assert listed(gateway) == 0


def test_an_unknown_sandbox_stays_a_per_sandbox_error(
    manifest: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The emulator lacks 'prod': that is about one sandbox, not about the credential.
    emulator = Emulator(EmulatorConfig(sandboxes=("dev", "prod-aws")))
    with serve(emulator, port=0) as running:
        point_at(monkeypatch, running, emulator)
        run = run_cli(capsys, ["plan", str(manifest)])
    emulator.close()
    assert run.code == 1
    assert run.err == ""
    assert "sandbox prod (azure" in run.out
    assert "FLOW-2100-404" in run.out
    assert run.out.count("? cannot list connections") == 1
    assert run.out.endswith("Plan: 4 to add, 0 unchanged, 0 drifted. 3 in error.\n")


class Unreachable:
    """A client whose requests never got an answer (connection refused, after retries)."""

    def __init__(self, *, token: bool) -> None:
        self.token = token

    def fetch_token(self) -> None:
        if self.token:
            raise ApiError(
                "IMS token request failed: POST http://ims.test/ims/token/v3: ConnectError"
            )

    def get_connection_spec(self, org: str, sandbox: str, spec_id: str) -> None:
        raise ApiError(
            f"get the PostgreSQL connection spec in sandbox '{sandbox}' failed: ConnectError"
        )


def test_an_unreachable_ims_names_aep_ims_url() -> None:
    with pytest.raises(CredentialError) as caught:
        check_access(Unreachable(token=True), [desired("prod")])  # type: ignore[arg-type]
    assert str(caught.value) == (
        "IMS token request failed: POST http://ims.test/ims/token/v3: ConnectError; "
        "check AEP_IMS_URL (nothing was listed)"
    )


def test_an_unreachable_platform_names_aep_platform_url_once() -> None:
    with pytest.raises(CredentialError) as caught:
        check_access(Unreachable(token=False), [desired("prod"), desired("dev")])  # type: ignore[arg-type]
    assert str(caught.value) == (
        "get the PostgreSQL connection spec in sandbox 'prod' failed: ConnectError; "
        "check AEP_PLATFORM_URL (nothing was listed)"
    )


def desired(sandbox: str) -> DesiredConnection:
    return DesiredConnection(
        org=ORG,
        sandbox=sandbox,
        cloud="azure",
        name="orders",
        description=None,
        auth=ConnectionStringSecret(SecretRef("env", "DSN", Path("."), Location("m.yaml", 3, 5))),
        source=Location("m.yaml", 2, 5),
    )


def emulator_url(monkeypatch: pytest.MonkeyPatch) -> str:
    import os

    return os.environ["AEP_IMS_URL"]
