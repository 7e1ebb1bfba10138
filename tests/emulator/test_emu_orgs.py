"""Several orgs, each with its own client credential, like Developer Console projects (one
org each): a client's token works in its own org only, and the command line gives every
org named by the manifests after the first a client of its own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from provisioner.emulator import Emulator, EmulatorConfig
from provisioner.emulator.cli import banner, build_parser, config_from_args, org_suffix
from provisioner.remote.orgs import org_suffix as provision_org_suffix

from .emu_helpers import BASE, FLOW

A = "0123456789ABCDEF01234567@AdobeOrg"
B = "FEDCBA9876543210FEDCBA98@AdobeOrg"
CONFIG = EmulatorConfig(
    orgs=(A, B), sandboxes=("prod",), org_clients=((B, "b-client", "b-secret"),)
)


def token(client: httpx.Client, client_id: str, secret: str) -> httpx.Response:
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    return client.post("/ims/token/v3", data=form)


def listing(client: httpx.Client, access: str, api_key: str, org: str) -> httpx.Response:
    headers = {
        "Authorization": f"Bearer {access}",
        "x-api-key": api_key,
        "x-gw-ims-org-id": org,
        "x-sandbox-name": "prod",
    }
    return client.get(f"{FLOW}/connections", headers=headers)


def test_each_client_reaches_its_own_org_only() -> None:
    emulator = Emulator(CONFIG)
    with httpx.Client(transport=emulator.transport(), base_url=BASE) as client:
        a = token(client, "emulator-client", "emulator-secret").json()["access_token"]
        b = token(client, "b-client", "b-secret").json()["access_token"]
        assert listing(client, a, "emulator-client", A).status_code == 200
        assert listing(client, b, "b-client", B).status_code == 200
        for refused in (
            listing(client, a, "emulator-client", B),
            listing(client, b, "b-client", A),
        ):
            assert refused.status_code == 403
            assert refused.json()["error_code"] == "403025"
        # A token is only good with the API key of the client it was issued to.
        mixed = listing(client, a, "b-client", B)
        assert (mixed.status_code, mixed.json()["error_code"]) == (401, "401013")
        wrong = token(client, "b-client", "emulator-secret")
        assert (wrong.status_code, wrong.json()["error"]) == (401, "invalid_client")
    emulator.close()


@pytest.mark.parametrize(
    ("org_clients", "message"),
    [
        (((B, "emulator-client", "x"),), "every org's client id must differ from the others"),
        ((("C@AdobeOrg", "c", "x"),), "org C@AdobeOrg has a client but is not one of the orgs"),
        (((B, "b", ""),), f"org {B}: client id and client secret must not be empty"),
    ],
)
def test_org_clients_are_checked(
    org_clients: tuple[tuple[str, str, str], ...], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        EmulatorConfig(orgs=(A, B), org_clients=org_clients).validate()


def test_the_variable_names_follow_provisions_rule() -> None:
    for org in (A, B, "abcdef0123456789abcdef01@AdobeOrg"):
        assert org_suffix(org) == provision_org_suffix(org)


def test_manifests_with_two_orgs_give_the_second_its_own_client() -> None:
    scopes = [(A, "dev", "azure"), (B, "prod", "azure")]
    config = config_from_args(build_parser("p").parse_args([]), scopes)
    assert config.org_clients == ((B, "emulator-client-2", "emulator-secret-2"),)
    text = banner("http://127.0.0.1:9", config)
    assert (
        "export AEP_CLIENT_ID=emulator-client\n"
        "export AEP_CLIENT_SECRET=emulator-secret\n"
        "export AEP_CLIENT_ID__FEDCBA9876543210FEDCBA98=emulator-client-2\n"
        "export AEP_CLIENT_SECRET__FEDCBA9876543210FEDCBA98=emulator-secret-2\n"
        f"# org: {A}, {B}\n"
    ) in text


def test_a_two_org_rehearsal_runs_as_printed(tmp_path: Path) -> None:
    """`provision emulator aep/`, its exports, then `provision plan aep/`: real processes."""
    folder = tmp_path / "aep"
    folder.mkdir()
    for name, org, sandbox in (("nonprod", A, "dev"), ("prod", B, "prod")):
        (folder / f"{name}.yaml").write_text(
            f"version: 1\norg: {org}\nsandboxes: [{{name: {sandbox}, cloud: azure}}]\n"
            "connections:\n  - name: orders\n    auth: {type: basic, server: pg.example.test, "
            "database: o, username: u, password: {env: PW}, ssl: require}\n"
        )
    env = {k: v for k, v in os.environ.items() if not k.startswith("AEP_")}
    command = [sys.executable, "-m", "provisioner", "emulator", "aep/", "--port", "0"]
    with subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, text=True
    ) as emulator:
        try:
            assert emulator.stdout is not None
            lines = [emulator.stdout.readline() for _ in range(8)]
            exports = dict(
                line.removeprefix("export ").strip().split("=", 1)
                for line in lines
                if line.startswith("export ")
            )
            assert set(exports) == {
                "AEP_IMS_URL",
                "AEP_PLATFORM_URL",
                "AEP_CLIENT_ID",
                "AEP_CLIENT_SECRET",
                "AEP_CLIENT_ID__FEDCBA9876543210FEDCBA98",
                "AEP_CLIENT_SECRET__FEDCBA9876543210FEDCBA98",
            }
            plan = subprocess.run(
                [sys.executable, "-m", "provisioner", "plan", "aep/"],
                cwd=tmp_path,
                env={**env, **exports},
                capture_output=True,
                text=True,
                timeout=60,
            )
        finally:
            emulator.terminate()
            emulator.wait(timeout=10)
    assert plan.returncode == 0, plan.stderr
    assert plan.stdout.splitlines()[-3:] == [
        f"org {A}: Plan: 1 to add, 0 unchanged, 0 drifted.",
        f"org {B}: Plan: 1 to add, 0 unchanged, 0 drifted.",
        "Plan: 2 to add, 0 unchanged, 0 drifted.",
    ]
