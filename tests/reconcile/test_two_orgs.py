"""Several orgs in one run, over the emulator on a real loopback socket: each org with its
own credential (provisioner/remote/orgs.py), plans and summaries grouped by org, and an org whose
credential is wrong failing alone."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from provisioner.emulator import Emulator, EmulatorConfig, RunningServer

from .recon_helpers import FLOW_GETS, run_cli

NONPROD = "0123456789ABCDEF01234567@AdobeOrg"
PROD = "FEDCBA9876543210FEDCBA98@AdobeOrg"
PROD_ID, PROD_SECRET = (
    "AEP_CLIENT_ID__FEDCBA9876543210FEDCBA98",
    "AEP_CLIENT_SECRET__FEDCBA9876543210FEDCBA98",
)


def manifest(org: str, sandboxes: list[str]) -> str:
    lines = ["version: 1", f"org: {org}", "sandboxes:"]
    lines += [f"  - {{name: {s}, cloud: azure}}" for s in sandboxes]
    lines += [
        "connections:",
        '  - name: "orders-{{ sandbox.name }}"',
        "    auth:",
        "      type: basic",
        "      server: pg-orders.db.example.test",
        "      database: orders",
        "      username: aep_reader",
        "      password: {env: ORGS_ORDERS_PASSWORD}",
        "      ssl: require",
    ]
    return "\n".join(lines) + "\n"


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    config = EmulatorConfig(
        orgs=(NONPROD, PROD),
        sandboxes=("dev", "stage", "prod"),
        org_clients=((PROD, "prod-client", "prod-secret-4c1f"),),
        seed=5,
    )
    emu = Emulator(config)
    yield emu
    emu.close()


@pytest.fixture
def manifests(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server: RunningServer) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "aep").mkdir()
    (tmp_path / "aep" / "nonprod.yaml").write_text(manifest(NONPROD, ["dev", "stage"]))
    (tmp_path / "aep" / "prod.yaml").write_text(manifest(PROD, ["prod"]))
    for name in ("CI", "NO_COLOR", "AEP_SCOPES", PROD_ID, PROD_SECRET):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AEP_IMS_URL", server.url)
    monkeypatch.setenv("AEP_PLATFORM_URL", server.url)
    # The non-production org uses the plain pair, as a single-org run always did.
    monkeypatch.setenv("AEP_CLIENT_ID", "emulator-client")
    monkeypatch.setenv("AEP_CLIENT_SECRET", "emulator-secret")
    monkeypatch.setenv("ORGS_ORDERS_PASSWORD", "orders-pw-orgs-77aa")
    return Path("aep")


CREATES = f"""\
Read 2 manifest file(s) from aep.
sandbox dev (azure, {NONPROD})
  + orders-dev  aep_reader@pg-orders.db.example.test:5432/orders ssl=require  (aep/nonprod.yaml:7)
sandbox stage (azure, {NONPROD})
  + orders-stage  aep_reader@pg-orders.db.example.test:5432/orders ssl=require  (aep/nonprod.yaml:7)
"""


def names(emulator: Emulator, org: str) -> list[tuple[str, str]]:
    return sorted((r["sandboxName"], r["name"]) for r in emulator.connections(org))


def test_each_org_is_applied_with_its_own_credential(
    manifests: Path,
    emulator: Emulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(PROD_ID, "prod-client")
    monkeypatch.setenv(PROD_SECRET, "prod-secret-4c1f")
    plan = run_cli(capsys, ["plan", str(manifests), "--detailed-exitcode"])
    assert plan.code == 2, plan.err
    assert plan.out.splitlines()[-3:] == [
        f"org {NONPROD}: Plan: 2 to add, 0 unchanged, 0 drifted.",
        f"org {PROD}: Plan: 1 to add, 0 unchanged, 0 drifted.",
        "Plan: 3 to add, 0 unchanged, 0 drifted.",
    ]
    apply = run_cli(capsys, ["apply", str(manifests), "--auto-approve"])
    assert apply.code == 0, apply.out + apply.err
    assert apply.out.endswith(
        f"  org {NONPROD}:\n    dev: 1 created\n    stage: 1 created\n"
        f"  org {PROD}:\n    prod: 1 created\nApply complete: 3 created.\n"
    )
    assert names(emulator, NONPROD) == [("dev", "orders-dev"), ("stage", "orders-stage")]
    assert names(emulator, PROD) == [("prod", "orders-prod")]
    for text in (plan.out, plan.err, apply.out, apply.err):
        assert "prod-secret-4c1f" not in text and "orders-pw-orgs-77aa" not in text
    # Each org's connections were made by its own client.
    assert {r["createdClient"] for r in emulator.connections(PROD)} == {"prod-client@AdobeID"}
    assert {r["createdClient"] for r in emulator.connections(NONPROD)} == {
        "emulator-client@AdobeID"
    }


def test_a_wrong_credential_fails_its_org_alone(
    manifests: Path,
    server: RunningServer,
    emulator: Emulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(PROD_ID, "prod-client")
    monkeypatch.setenv(PROD_SECRET, "not-the-prod-secret")
    apply = run_cli(capsys, ["apply", str(manifests), "--auto-approve"])
    assert apply.code == 1
    # The other org fully applied; nothing in the refused one.
    assert names(emulator, NONPROD) == [("dev", "orders-dev"), ("stage", "orders-stage")]
    assert names(emulator, PROD) == []
    refused = (
        f"org {PROD} (aep/prod.yaml:6): IMS token request failed: POST {server.url}/ims/token/v3 "
        f"returned 401 invalid_client: invalid client_secret parameter; check {PROD_SECRET}; "
        "nothing was done in this org"
    )
    assert apply.out == (
        f"{CREATES}"
        f"sandbox prod (azure, {PROD})\n"
        f"  ? cannot list connections: not listed: the credential for org {PROD} was refused\n"
        f"org {NONPROD}: Plan: 2 to add, 0 unchanged, 0 drifted.\n"
        f"org {PROD}: Plan: 0 to add, 0 unchanged, 0 drifted. 1 in error.\n"
        "Plan: 2 to add, 0 unchanged, 0 drifted. 1 in error.\n"
        f"  ? {refused}\n"
        f"  org {NONPROD}:\n    dev: 1 created\n    stage: 1 created\n"
        f"  org {PROD}: credential refused, nothing done\n"
        "Apply complete: 2 created; 1 org(s) not applied: fix the credential named above, "
        "then re-run apply.\n"
    )
    assert "not-the-prod-secret" not in apply.out + apply.err

    # plan says the same on stderr, one line, beside a machine-readable stdout.
    plan = run_cli(capsys, ["plan", str(manifests), "--format", "json"])
    assert (plan.code, plan.err) == (1, f"error: {refused}\n")
    assert json.loads(plan.out)["orgs"] == [
        {"org": NONPROD, "add": 0, "text": "Plan: 0 to add, 2 unchanged, 0 drifted."},
        {"org": PROD, "add": 0, "text": "Plan: 0 to add, 0 unchanged, 0 drifted. 1 in error."},
    ]


def test_every_missing_credential_is_listed_before_any_request(
    manifests: Path,
    emulator: Emulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("AEP_CLIENT_SECRET")
    monkeypatch.setenv(PROD_ID, "prod-client")
    run = run_cli(capsys, ["plan", str(manifests)])
    assert (run.code, run.out) == (1, "")
    assert run.err == (
        f"error: org {NONPROD} (aep/nonprod.yaml:7): no credential: set "
        "AEP_CLIENT_ID__0123456789ABCDEF01234567 and AEP_CLIENT_SECRET__0123456789ABCDEF01234567 "
        "(or AEP_CLIENT_ID and AEP_CLIENT_SECRET, used by every org without its own)\n"
        f"error: org {PROD} (aep/prod.yaml:6): {PROD_ID} is set but {PROD_SECRET} is not; set "
        "both, or neither to use AEP_CLIENT_ID and AEP_CLIENT_SECRET\n"
    )
    assert emulator.request_count == 0


def test_the_selection_decides_which_orgs_need_a_credential(
    manifests: Path, emulator: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    # Only the non-production org is selected: the production credential is not needed.
    run = run_cli(capsys, ["plan", str(manifests), "--sandbox", "dev", "--sandbox", "stage"])
    assert run.code == 0, run.err
    assert run.out == CREATES + "Plan: 2 to add, 0 unchanged, 0 drifted.\n"
    assert FLOW_GETS in emulator.request_counts()


def test_the_markdown_plan_is_grouped_by_org(
    manifests: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(PROD_ID, "prod-client")
    monkeypatch.setenv(PROD_SECRET, "prod-secret-4c1f")
    run = run_cli(capsys, ["plan", str(manifests), "--format", "markdown"])
    assert run.code == 0, run.err
    head = run.out.split("\n<details>", 1)[0]
    assert head == (
        "### provision plan\n\n**Plan: 3 to add, 0 unchanged, 0 drifted.**\n\n"
        "Read 2 manifest file(s) from aep.\n\n"
        f"- org `{NONPROD}`: Plan: 2 to add, 0 unchanged, 0 drifted.\n"
        f"- org `{PROD}`: Plan: 1 to add, 0 unchanged, 0 drifted.\n\n"
        "| org | sandbox | cloud | to add | to change | to delete | unchanged | drifted | errors "
        "| unmanaged |\n"
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|\n"
        f"| `{NONPROD}` | dev | azure | 1 | 0 | 0 | 0 | 0 | 0 | 0 |\n"
        f"| `{NONPROD}` | stage | azure | 1 | 0 | 0 | 0 | 0 | 0 | 0 |\n"
        f"| `{PROD}` | prod | azure | 1 | 0 | 0 | 0 | 0 | 0 | 0 |\n"
    )


def test_when_every_org_is_refused_nothing_is_listed(
    manifests: Path,
    server: RunningServer,
    emulator: Emulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("AEP_CLIENT_SECRET", "wrong-nonprod-secret")
    monkeypatch.setenv(PROD_ID, "prod-client")
    monkeypatch.setenv(PROD_SECRET, "wrong-prod-secret")
    run = run_cli(capsys, ["plan", str(manifests)])
    assert (run.code, run.out) == (1, "")
    token = f"IMS token request failed: POST {server.url}/ims/token/v3 returned 401 invalid_client"
    assert run.err == (
        f"error: org {NONPROD} (aep/nonprod.yaml:7): {token}: invalid client_secret parameter; "
        "check AEP_CLIENT_SECRET; nothing was done in this org; this org uses AEP_CLIENT_ID and "
        "AEP_CLIENT_SECRET: to give it its own credential, set "
        "AEP_CLIENT_ID__0123456789ABCDEF01234567 and AEP_CLIENT_SECRET__0123456789ABCDEF01234567\n"
        f"error: org {PROD} (aep/prod.yaml:6): {token}: invalid client_secret parameter; "
        f"check {PROD_SECRET}; nothing was done in this org\n"
    )
    assert FLOW_GETS not in emulator.request_counts()


def test_one_org_on_its_own_pair_is_named_by_its_own_variables(
    manifests: Path,
    server: RunningServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(PROD_ID, "not-the-prod-client")
    monkeypatch.setenv(PROD_SECRET, "prod-secret-4c1f")
    run = run_cli(capsys, ["plan", str(manifests), "--sandbox", "prod"])
    assert (run.code, run.out) == (1, "")
    assert run.err == (
        f"error: org {PROD} (aep/prod.yaml:6): IMS token request failed: POST "
        f"{server.url}/ims/token/v3 returned 400 invalid_client: invalid client_id parameter; "
        f"check {PROD_ID}; nothing was done in this org\n"
    )


def test_an_org_the_shared_credential_cannot_reach_says_how_to_give_it_its_own(
    manifests: Path, server: RunningServer, emulator: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    # No pair for the production org: it falls back on the shared one, which the gateway
    # refuses there (403025). One prefix, and the variables that would fix it.
    run = run_cli(capsys, ["plan", str(manifests)])
    assert run.code == 1
    assert run.err == (
        f"error: org {PROD} (aep/prod.yaml:6): get the PostgreSQL connection spec in sandbox "
        f"'prod' failed: GET {server.url}/data/foundation/flowservice/connectionSpecs/"
        "74a1c565-4e59-48d7-9d67-7c03b8a13137 returned 403 403025: Profile is not valid; check "
        "the manifest's org, and that the project of AEP_CLIENT_ID has a product profile for it "
        "(nothing was done in this org); this org uses AEP_CLIENT_ID and AEP_CLIENT_SECRET: to "
        f"give it its own credential, set {PROD_ID} and {PROD_SECRET}\n"
    )
    assert names(emulator, NONPROD) == []
