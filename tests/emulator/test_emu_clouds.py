"""Sandboxes with a cloud take that cloud's payloads only; manifests name orgs and sandboxes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from provisioner.commands.emulator import scopes
from provisioner.emulator import Emulator, EmulatorConfig
from provisioner.emulator.cli import build_parser, config_from_args

from .emu_helpers import FLOW, cs_payload, make_client, pg_payload

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def clouds_api() -> Iterator[httpx.Client]:
    config = EmulatorConfig(
        sandboxes=("prod", "prod-aws", "dev"), clouds=(("prod", "azure"), ("prod-aws", "aws"))
    )
    emulator = Emulator(config)
    with make_client(emulator) as client:
        yield client
    emulator.close()


def post(client: httpx.Client, sandbox: str, payload: dict[str, object]) -> httpx.Response:
    return client.post(f"{FLOW}/connections", json=payload, headers={"x-sandbox-name": sandbox})


def detail(response: httpx.Response) -> str:
    return str(response.json()["report"]["detailed-message"])


def test_aws_takes_basic_auth_with_a_boolean_ssl_mode(clouds_api: httpx.Client) -> None:
    assert post(clouds_api, "prod-aws", pg_payload("a", sslMode="true")).status_code == 201

    refused = post(clouds_api, "prod-aws", cs_payload("b"))
    assert refused.status_code == 400
    assert refused.json()["type"].endswith("FLOW-1415-400")
    assert "(AWS takes Basic Authentication)" in detail(refused)

    enum = post(clouds_api, "prod-aws", pg_payload("c", sslMode="Verify Full"))
    assert enum.status_code == 400
    assert (
        detail(enum) == "auth.params.sslMode must be 'true' or 'false' in sandbox 'prod-aws' (AWS)."
    )


def test_azure_refuses_the_aws_ssl_form(clouds_api: httpx.Client) -> None:
    assert post(clouds_api, "prod", cs_payload("b")).status_code == 201
    refused = post(clouds_api, "prod", pg_payload("a", sslMode="false"))
    assert refused.status_code == 400
    assert "is the AWS form; sandbox 'prod' is on Azure" in detail(refused)


def test_a_sandbox_without_a_cloud_is_pinned_by_its_first_connection(
    clouds_api: httpx.Client,
) -> None:
    # A real sandbox is on one cloud: once a connection shows which, the other's form is out.
    assert post(clouds_api, "dev", pg_payload("a", sslMode="true")).status_code == 201
    refused = post(clouds_api, "dev", cs_payload("b"))
    assert refused.status_code == 400
    assert detail(refused) == (
        "Auth spec 'Connection String Based Authentication' is not available for connection "
        "spec id 74a1c565-4e59-48d7-9d67-7c03b8a13137 in sandbox 'dev' (AWS takes Basic "
        "Authentication). (pinned by the sandbox's existing connections; name its cloud to "
        "choose)"
    )
    assert post(clouds_api, "dev", pg_payload("c", sslMode="false")).status_code == 201


def test_unnamed_cloud_azure_puts_every_unnamed_sandbox_on_azure() -> None:
    emulator = Emulator(EmulatorConfig(sandboxes=("dev",), unnamed_cloud="azure"))
    with make_client(emulator, sandbox="dev") as client:
        refused = post(client, "dev", pg_payload("a", sslMode="true"))
        assert "is the AWS form; sandbox 'dev' is on Azure" in detail(refused)
    emulator.close()


def test_lenient_lets_a_sandbox_without_a_cloud_take_both() -> None:
    emulator = Emulator(EmulatorConfig(sandboxes=("dev",), lenient=True))
    with make_client(emulator, sandbox="dev") as client:
        assert post(client, "dev", pg_payload("a", sslMode="true")).status_code == 201
        assert post(client, "dev", cs_payload("b")).status_code == 201  # never pinned
    emulator.close()


def test_a_patch_cannot_bring_the_other_cloud_in(clouds_api: httpx.Client) -> None:
    created = post(clouds_api, "prod-aws", pg_payload("a", sslMode="true")).json()
    patched = clouds_api.patch(
        f"{FLOW}/connections/{created['id']}",
        json=[{"op": "replace", "path": "/auth/params/sslMode", "value": "Require"}],
        headers={"x-sandbox-name": "prod-aws", "If-Match": created["etag"]},
    )
    assert patched.status_code == 400
    assert "must be 'true' or 'false'" in detail(patched)


def test_the_example_manifests_name_their_orgs_sandboxes_and_clouds() -> None:
    found = scopes([str(ROOT / "configs")])
    org = "0123456789ABCDEF01234567@AdobeOrg"
    assert sorted(found) == sorted(
        [
            (org, "prod", "azure"),
            (org, "stage", "azure"),
            (org, "dev", "azure"),
            (org, "prod-aws", "aws"),
        ]
    )


def test_a_sandbox_only_a_prune_claim_names_is_served(tmp_path: Path) -> None:
    # `plan --prune` lists a claimed sandbox even when no connection is declared there any
    # more, so the rehearsal must serve it.
    (tmp_path / "retired.yaml").write_text(
        "version: 1\n"
        "org: 0123456789ABCDEF01234567@AdobeOrg\n"
        "sandboxes:\n"
        "  - {name: legacy, cloud: aws}\n"
        "prune: {owner: team-a, names: ['orders-*']}\n"
        "connections: []\n",
        encoding="utf-8",
    )
    (tmp_path / "live.yaml").write_text(
        (ROOT / "configs" / "finance.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    found = scopes([str(tmp_path)])
    org = "0123456789ABCDEF01234567@AdobeOrg"
    assert (org, "legacy", "aws") in found
    assert (org, "prod", "azure") in found


def test_manifest_scopes_and_flags_combine() -> None:
    parser = build_parser("p")
    org = "A@AdobeOrg"
    from_manifests = [(org, "prod", "azure"), (org, "prod-aws", "aws")]
    config = config_from_args(parser.parse_args([]), from_manifests)
    assert (config.orgs, config.sandboxes) == ((org,), ("prod", "prod-aws"))
    assert config.clouds == (("prod", "azure"), ("prod-aws", "aws"))

    more = parser.parse_args(["--sandboxes", "qa,prod-aws", "--org", "B@AdobeOrg"])
    config = config_from_args(more, from_manifests)
    assert config.orgs == (org, "B@AdobeOrg")
    assert config.sandboxes == ("prod", "prod-aws", "qa")
    assert config.cloud_of("prod-aws") == "aws"
    assert config.cloud_of("qa") is None  # pinned by its first connection instead


def test_without_manifests_the_defaults_stay() -> None:
    config = config_from_args(build_parser("p").parse_args([]))
    assert config.sandboxes == ("prod", "dev", "stage")
    assert config.clouds == ()
    pinned = config_from_args(build_parser("p").parse_args(["--sandboxes", "prod,x:aws"]))
    assert (pinned.sandboxes, pinned.clouds) == (("prod", "x"), (("x", "aws"),))


def test_a_bad_cloud_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser("p").parse_args(["--sandboxes", "prod:gcp"])
    assert "'prod:gcp': the cloud after ':' is one of azure, aws" in capsys.readouterr().err
