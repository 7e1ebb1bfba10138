"""Safe removal end to end over a socket: `apply --prune` deletes only connections that carry
the claim's owner mark, that no manifest declares and that a manifest's `prune:` claims;
in-use, unclaimed, unmarked (hand-made, 0.2-made) and other owners' ones survive."""

from __future__ import annotations

from pathlib import Path

import pytest

from provisioner.emulator import Emulator

from .recon_helpers import (
    MANIFEST,
    ORG,
    create_remote,
    names,
    orders,
    run_cli,
    stored,
    write_manifest,
)

pytestmark = pytest.mark.usefixtures("aep_env")

PRUNING = MANIFEST.replace(
    "sandboxes:\n", 'prune:\n  owner: team-a\n  names: ["orders-*", "legacy-*"]\nsandboxes:\n', 1
)
MARK = "\nmanaged-by: provision owner=team-a"  # what team-a's apply wrote on its connections
M = "manifests/connections.yaml"
PRUNE_LINE = 5


@pytest.fixture
def pruning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return write_manifest(tmp_path / "manifests", PRUNING).relative_to(tmp_path)


def old(name: str, sandbox: str = "prod", mark: str = MARK) -> dict[str, object]:
    """A connection an earlier apply of team-a's made (`mark=""`: made by hand, or by 0.2)."""
    made = orders(sandbox, "Verify Full")
    return made | {"name": name, "description": f"{made['description']}{mark}"}


def test_prune_deletes_only_claimed_undeclared_connections(
    pruning: Path, emulator: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(capsys, ["apply", str(pruning), "--auto-approve"]).code == 0
    retired = create_remote(emulator, "prod", old("orders-retired"))
    in_use = create_remote(emulator, "prod", old("legacy-crm"))
    emulator.add_dataflow(ORG, "prod", in_use, "crm nightly")
    hand_made = create_remote(emulator, "prod", old("crm-by-hand", mark=""))
    archive = create_remote(emulator, "dev", old("orders-archive", "dev"))
    made_by_02 = create_remote(emulator, "dev", old("orders-2019", "dev", mark=""))
    theirs = create_remote(emulator, "dev", old("orders-b", "dev", mark=MARK[:-1] + "b"))
    before = {r["id"] for r in stored(emulator)}

    # Without --prune nothing is deleted, and the plan does not pretend otherwise.
    plain = run_cli(capsys, ["plan", str(pruning), "--detailed-exitcode"])
    assert plain.code == 0 and " - " not in plain.out
    assert f"sandbox prod (azure, {ORG}): 3 unchanged, 3 unmanaged, left alone\n" in plain.out
    assert run_cli(capsys, ["apply", str(pruning), "--auto-approve"]).code == 0
    assert {r["id"] for r in stored(emulator)} == before

    plan = run_cli(
        capsys, ["plan", str(pruning), "--prune", "--detailed-exitcode", "--out", "p.json"]
    )
    assert (plan.code, plan.err) == (2, "")
    claim = f"of owner team-a ({M}:{PRUNE_LINE})"
    assert plan.out == (
        f"Read 1 manifest file(s) from {M}.\n"
        f"sandbox prod (azure, {ORG}): 3 unchanged, 1 unmanaged, left alone\n"
        f"  - orders-retired  ({retired}) will delete: marked owner=team-a, no manifest "
        f"declares it, and prune 'orders-*' {claim} claims it\n"
        f"  - legacy-crm  ({in_use}) will delete: marked owner=team-a, no manifest declares "
        f"it, and prune 'legacy-*' {claim} claims it; but dataflow(s) 'crm nightly' still "
        "use it, so the API will refuse until they are deleted or repointed\n"
        f"sandbox dev (azure, {ORG}): 2 unchanged, 2 unmanaged, left alone (2 claimed by "
        "prune but not marked by the claim's owner)\n"
        f"  - orders-archive  ({archive}) will delete: marked owner=team-a, no manifest "
        f"declares it, and prune 'orders-*' {claim} claims it\n"
        f"sandbox prod-aws (aws, {ORG}): 2 unchanged\n"
        "Plan: 0 to add, 3 to delete, 7 unchanged, 0 drifted.\n"
        "Saved the plan to p.json; apply it with `provision apply --plan p.json`.\n"
    )
    assert stored(emulator) and {r["id"] for r in stored(emulator)} == before  # plan is read-only

    apply = run_cli(capsys, ["apply", "--plan", "p.json"])
    assert apply.code == 1  # the in-use one is not converged: say so
    assert apply.out.endswith(
        "  ! legacy-crm (prod): not deleted: a dataflow still uses it (FLOW-1418-400); "
        "delete or repoint its dataflows first, then apply --prune again\n"
        "  prod: 1 deleted, 1 kept: in use by a dataflow\n"
        "  dev: 1 deleted\n"
        "Apply complete: 0 created, 2 deleted, 1 kept: in use by a dataflow; re-run apply to "
        "converge (it never duplicates).\n"
    )
    assert names(emulator, "prod") == [
        "billing",
        "crm-by-hand",
        "inventory",
        "legacy-crm",
        "orders-prod",
    ]
    assert names(emulator, "dev") == ["orders-2019", "orders-b", "orders-dev", "payments"]
    assert {hand_made, made_by_02, theirs} <= {r["id"] for r in stored(emulator)}


def test_prune_follows_the_selection_and_spares_names_other_files_declare(
    pruning: Path, emulator: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    create_remote(emulator, "prod", old("orders-retired"))
    create_remote(emulator, "dev", old("orders-archive", "dev"))
    create_remote(emulator, "dev", old("orders-kept", "dev"))
    # Another team's file declares orders-kept in dev: it is managed, never pruned.
    write_manifest(
        Path("manifests"),
        "version: 1\norg: 0123456789ABCDEF01234567@AdobeOrg\nsandboxes:\n"
        "  - {name: dev, cloud: azure}\nconnections:\n  - name: orders-kept\n    auth:\n"
        "      type: basic\n      server: pg.example.test\n      database: orders\n"
        "      username: aep_reader\n      password: {env: RECON_ORDERS_PASSWORD}\n",
        "other.yaml",
    )
    only_dev = run_cli(capsys, ["plan", "manifests", "--prune", "--sandbox", "dev"])
    assert [line.split()[1] for line in only_dev.out.splitlines() if line.startswith("  - ")] == [
        "orders-archive"
    ]
    narrowed = run_cli(capsys, ["plan", "manifests", "--prune", "--connection", "orders-r*"])
    # A --connection selection narrows what may be deleted as well as what is created.
    assert [line.split()[1] for line in narrowed.out.splitlines() if line.startswith("  - ")] == [
        "orders-retired"
    ]


def test_a_saved_prune_plan_refuses_a_deletion_nobody_reviewed(
    pruning: Path, emulator: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    create_remote(emulator, "prod", old("orders-retired"))
    assert run_cli(capsys, ["plan", str(pruning), "--prune", "--out", "p.json"]).code == 0
    late = create_remote(emulator, "prod", old("orders-late"))
    apply = run_cli(capsys, ["apply", "--plan", "p.json"])
    assert apply.code == 1
    assert (
        f"  connection 'orders-late' ({late}) in sandbox 'prod' would now be deleted too, which "
        "the plan did not show\n"
    ) in apply.err
    assert "orders-retired" in names(emulator, "prod") and "orders-late" in names(emulator, "prod")


def test_prune_without_a_claim_says_nothing_can_be_deleted(
    manifest: Path, emulator: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    create_remote(emulator, "prod", old("orders-retired"))
    note = (
        "--prune: no manifest has a prune: claim in the selected sandboxes, so nothing can be "
        "deleted; add `prune: {names: [GLOB]}` to a manifest to claim what it may delete "
        "(docs/lifecycle.md)\n"
    )
    plan = run_cli(capsys, ["plan", str(manifest), "--prune"])
    assert (plan.code, plan.err) == (0, note)
    apply = run_cli(capsys, ["apply", str(manifest), "--prune", "--auto-approve"])
    assert apply.code == 0 and apply.err.startswith(note)
    assert "orders-retired" in names(emulator, "prod")


def test_plan_v_lists_the_unmanaged_connections_it_leaves_alone(
    pruning: Path, emulator: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(capsys, ["apply", str(pruning), "--auto-approve", "-q"]).code == 0
    retired = create_remote(emulator, "prod", old("orders-retired"))
    create_remote(emulator, "prod", old("crm-by-hand"))
    create_remote(emulator, "prod", old("crm-\x1b[31mred"))
    plan = run_cli(capsys, ["plan", str(pruning), "--prune", "-v", "--sandbox", "prod"])
    assert plan.code == 0
    lines = plan.out.splitlines()
    assert lines[:2] == [
        f"Read 1 manifest file(s) from {M}.",
        f"sandbox prod (azure, {ORG}): 3 unchanged, 2 unmanaged, left alone",
    ]
    assert lines[-4:] == [
        f"  - orders-retired  ({retired}) will delete: marked owner=team-a, no manifest "
        f"declares it, and prune 'orders-*' of owner team-a ({M}:{PRUNE_LINE}) claims it",
        "    crm-\\x1b[31mred  unmanaged, left alone",
        "    crm-by-hand  unmanaged, left alone",
        "Plan: 0 to add, 1 to delete, 3 unchanged, 0 drifted.",
    ]
