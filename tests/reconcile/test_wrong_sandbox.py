"""A sandbox name the org does not have (a typo), as a user meets it in plan and apply."""

from __future__ import annotations

from pathlib import Path

import pytest

from provisioner.emulator import Emulator

from .recon_helpers import NOTHING_APPLIED, ORG, run_cli, stored, write_manifest

pytestmark = pytest.mark.usefixtures("aep_env")

TYPO = """\
version: 1
org: 0123456789ABCDEF01234567@AdobeOrg
sandboxes:
  - {name: prdo, cloud: azure}
  - {name: dev, cloud: azure}
connections:
  - name: "orders-{{ sandbox.name }}"
    sandboxes: [prdo]
    auth:
      type: basic
      server: pg.example.test
      database: orders
      username: reader
      password: {env: RECON_ORDERS_PASSWORD}
"""
MISSING = (
    f"sandbox prdo does not exist in org {ORG} (the API answered 404 FLOW-2100-404); the "
    "manifests' sandboxes in this org: prdo. Correct the name, or create the sandbox in AEP "
    "first"
)


@pytest.fixture
def typo(tmp_path: Path) -> Path:
    return write_manifest(tmp_path / "manifests", TYPO)


def test_plan_names_the_missing_sandbox_plainly(
    typo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = run_cli(capsys, ["plan", str(typo)])
    assert run.code == 1
    assert run.out == (
        f"Read 1 manifest file(s) from {typo}.\n"
        f"sandbox prdo (azure, {ORG})\n"
        f"  ? cannot list connections: {MISSING}\n"
        "Plan: 0 to add, 0 unchanged, 0 drifted. 1 in error.\n"
    )
    assert "%3D" not in run.out + run.err


def test_apply_never_says_nothing_to_change_when_a_sandbox_failed(
    typo: Path, emulator: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    run = run_cli(capsys, ["apply", str(typo), "--auto-approve"])
    assert run.code == 1
    assert run.out == (
        f"Read 1 manifest file(s) from {typo}.\n"
        f"sandbox prdo (azure, {ORG})\n"
        f"  ? cannot list connections: {MISSING}\n"
        "Plan: 0 to add, 0 unchanged, 0 drifted. 1 in error.\n"
        f"  ? prdo: cannot list connections: {MISSING}\n" + NOTHING_APPLIED
    )
    assert stored(emulator) == []


def test_the_other_sandboxes_of_the_org_are_listed(
    tmp_path: Path, emulator: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    both = write_manifest(tmp_path / "m", TYPO.replace("    sandboxes: [prdo]\n", ""))
    run = run_cli(capsys, ["apply", str(both), "--auto-approve", "-q"])
    assert run.code == 1
    two = MISSING.replace("this org: prdo.", "this org: dev, prdo.")
    assert run.out == (
        f"  ? prdo: cannot list connections: {two}\n"
        "  dev: 1 created\n"
        "Apply complete: 1 created; re-run apply to converge (it never duplicates).\n"
    )
    assert [r["name"] for r in stored(emulator)] == ["orders-dev"]
