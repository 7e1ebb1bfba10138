"""`--prune` deletes only what its own owner made, whichever files are in the run (issue 18).

End to end over a loopback socket, the way the issue's reporter met it: `configs/team-a/`
claims `orders-*` in sandbox prod; other files, folders, repositories and people make
`orders-...` connections there too. In every test the other owner's, the hand-made and the
0.2-made connections survive, and a truly stale connection of the pruning owner is deleted:
no test passes by pruning nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from provisioner.emulator import Emulator

from .recon_helpers import ORG, basic, create_remote, direct_client, names, run_cli, stored

pytestmark = pytest.mark.usefixtures("aep_env")

A_CLAIM = 'prune: {owner: team-a, names: ["orders-*"]}\n'


def manifest(name: str, *, prune: str = "", sandbox: str = "prod") -> str:
    return (
        f"version: 1\norg: {ORG}\n{prune}sandboxes:\n  - {{name: {sandbox}, cloud: azure}}\n"
        f"connections:\n  - name: {name}\n    description: {name} db\n    auth:\n"
        "      type: basic\n      server: pg.example.test\n      database: orders\n"
        "      username: aep_reader\n      password: {env: RECON_ORDERS_PASSWORD}\n"
    )


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def git_init(folder: Path) -> None:
    subprocess.run(["git", "init", "-q", str(folder)], check=True)


def by_hand(emulator: Emulator, name: str, description: str = "made in the UI") -> str:
    """A connection a person made in Adobe's UI (or provision 0.2 made): no owner mark."""
    payload = basic(
        name,
        description=description,
        server="pg.example.test",
        port="5432",
        database="orders",
        username="aep_reader",
        password="by-hand-pw",
        ssl="Verify Full",
    )
    return create_remote(emulator, "prod", payload)


def ids(emulator: Emulator) -> dict[str, str]:
    return {r["name"]: r["id"] for r in stored(emulator, "prod")}


def description(emulator: Emulator, name: str) -> str | None:
    (record,) = [r for r in stored(emulator, "prod") if r["name"] == name]
    return record.get("description")


def retire(
    capsys: pytest.CaptureFixture[str], path: Path, name: str, *, prune: str = A_CLAIM
) -> str:
    """A connection the owner made and later removed from its manifests: truly stale."""
    write(path, manifest(name, prune=prune))
    assert run_cli(capsys, ["apply", str(path), "--auto-approve"]).code == 0
    path.unlink()
    return name


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The issue's layout in one git repository: team-a claims orders-*, team-b declares
    orders-b, and both name the same owner."""
    monkeypatch.chdir(tmp_path)
    git_init(tmp_path)
    write(Path("configs/team-a/orders.yaml"), manifest("orders-a", prune=A_CLAIM))
    write(Path("configs/team-b/orders-b.yaml"), manifest("orders-b", prune=A_CLAIM))
    return Path("configs")


def test_a_narrower_run_is_not_a_deletion_within_one_owner(
    repo: Path, emulator: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    stale = retire(capsys, Path("configs/team-a/old.yaml"), "orders-old")
    assert run_cli(capsys, ["apply", "configs", "--auto-approve"]).code == 0
    before = ids(emulator)

    plan = run_cli(capsys, ["plan", "configs/team-a/", "--prune", "--detailed-exitcode"])
    assert (plan.code, plan.err) == (2, "")
    claim = "prune 'orders-*' of owner team-a (configs/team-a/orders.yaml:3)"
    assert plan.out == (
        "Read 1 manifest file(s) from configs/team-a/, and 1 more of the repository for what "
        "they declare (never deleted by --prune).\n"
        f"sandbox prod (azure, {ORG}): 1 unchanged\n"
        f"  - orders-old  ({before[stale]}) will delete: marked owner=team-a, no manifest "
        f"declares it, and {claim} claims it\n"
        "Plan: 0 to add, 1 to delete, 1 unchanged, 0 drifted.\n"
    )
    apply = run_cli(capsys, ["apply", "configs/team-a/", "--prune", "--auto-approve"])
    assert apply.code == 0
    assert apply.out.endswith("  prod: 1 deleted\nApply complete: 0 created, 1 deleted.\n")
    assert ids(emulator) == {k: v for k, v in before.items() if k != stale}


def test_a_symlinked_folder_and_a_case_variant_suffix_still_declare(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, emulator: Emulator, capsys
) -> None:
    monkeypatch.chdir(tmp_path)
    git_init(tmp_path)
    write(Path("configs/team-a/orders.yaml"), manifest("orders-a", prune=A_CLAIM))
    # team-b's files live elsewhere in the repository; configs/team-b links to them, and one
    # of them is spelled .YAML.
    write(Path("teams/b/orders-b.yaml"), manifest("orders-b", prune=A_CLAIM))
    write(Path("teams/b/orders-c.YAML"), manifest("orders-c", prune=A_CLAIM))
    Path("configs/team-b").symlink_to(Path("../teams/b"), target_is_directory=True)
    stale = retire(capsys, Path("configs/team-a/old.yaml"), "orders-old")
    for path in ("configs/team-a/orders.yaml", "teams/b/orders-b.yaml", "teams/b/orders-c.YAML"):
        assert run_cli(capsys, ["apply", path, "--auto-approve"]).code == 0
    assert names(emulator, "prod") == ["orders-a", "orders-b", "orders-c", "orders-old"]

    plan = run_cli(capsys, ["plan", "configs/team-a", "--prune"])
    assert plan.out.startswith(
        "Read 1 manifest file(s) from configs/team-a, and 2 more of the repository for what "
        "they declare (never deleted by --prune).\n"
    )
    apply = run_cli(capsys, ["apply", "configs/team-a", "--prune", "--auto-approve"])
    assert apply.code == 0, apply.out + apply.err
    assert f"- {stale}  " in apply.out and "- orders-b" not in apply.out
    assert "- orders-c" not in apply.out
    assert names(emulator, "prod") == ["orders-a", "orders-b", "orders-c"]
    # The run over the folder holding the link: the link's files are declared (read
    # through the link, or through the repository) or the link is refused; never a deletion.
    whole = run_cli(capsys, ["apply", "configs", "--prune", "--auto-approve"])
    assert whole.code == 0 or "configs/team-b" in whole.err, whole.out + whole.err
    assert names(emulator, "prod") == ["orders-a", "orders-b", "orders-c"]


def test_a_hand_made_and_a_02_made_connection_are_never_pruned(
    repo: Path, emulator: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    hand_made = by_hand(emulator, "orders-by-hand")
    made_by_02 = by_hand(emulator, "orders-b", description="orders-b db")  # declared, unmarked
    stale = retire(capsys, Path("configs/team-a/old.yaml"), "orders-old")

    # The declared 0.2-made connection is adopted: plan shows the mark as an update.
    plan = run_cli(capsys, ["plan", "configs", "--prune", "-v"])
    assert plan.code == 0
    assert f"  ~ orders-b  ({made_by_02}) will update\n      owner: None -> 'team-a'\n" in plan.out
    assert (
        f"  . orders-by-hand ({hand_made}) left alone: prune 'orders-*' of owner team-a "
        "(configs/team-a/orders.yaml:3) matches it, but it carries no owner mark\n" in plan.out
    )
    apply = run_cli(capsys, ["apply", "configs", "--prune", "--auto-approve"])
    assert apply.code == 0
    assert apply.out.endswith(
        "  prod: 1 created, 1 updated, 1 deleted\n"
        "Apply complete: 1 created, 1 updated, 1 deleted.\n"
    )
    assert description(emulator, "orders-b") == "orders-b db\nmanaged-by: provision owner=team-a"
    assert description(emulator, "orders-by-hand") == "made in the UI"
    assert stale not in names(emulator, "prod")
    assert names(emulator, "prod") == ["orders-a", "orders-b", "orders-by-hand"]
    again = run_cli(capsys, ["plan", "configs", "--prune", "--detailed-exitcode"])
    assert again.code == 0, again.out


def test_another_owners_connection_is_an_error_and_keeps_its_mark(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, emulator: Emulator, capsys
) -> None:
    monkeypatch.chdir(tmp_path)
    theirs = by_hand(emulator, "orders-a", "owned by b\nmanaged-by: provision owner=team-b")
    path = write(Path("team-a.yaml"), manifest("orders-a", prune=A_CLAIM))
    apply = run_cli(capsys, ["apply", str(path), "--prune", "--auto-approve"])
    assert apply.code == 1
    assert (
        f"  ! orders-a  ({theirs}) ERROR: marked owner=team-b, not owner=team-a: another "
        "owner's manifests manage it, and its mark is never overwritten; remove it from this "
        "manifest, or, if the ownership really moves, edit the last line of its description "
        "in Adobe's UI\n"
    ) in apply.out
    assert description(emulator, "orders-a") == "owned by b\nmanaged-by: provision owner=team-b"


def test_overlapping_claims_of_two_owners_are_a_validate_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    write(Path("configs/a.yaml"), manifest("orders-a", prune=A_CLAIM))
    write(
        Path("configs/b.yaml"),
        manifest("orders-b", prune='prune: {owner: team-b, names: ["*-b", "crm"]}\n'),
    )
    run = run_cli(capsys, ["validate", "configs"])
    assert (run.code, run.out) == (1, "")
    assert run.err == (
        "configs/b.yaml:3:32: $.prune.names[0]: '*-b' of owner 'team-b' overlaps 'orders-*' "
        "of owner 'team-a' at configs/a.yaml:3:32 in sandbox 'prod' (both claim 'orders-b'); "
        "the claims of two owners must not overlap: narrow one of them\n"
        "1 problem found; nothing was done.\n"
    )


def test_a_prune_block_without_an_owner_is_refused_with_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    write(Path("a.yaml"), manifest("orders-a", prune='prune: {names: ["orders-*"]}\n'))
    run = run_cli(capsys, ["validate", "a.yaml"])
    assert (run.code, run.out) == (1, "")
    assert run.err == (
        "a.yaml:3:8: $.prune: names no owner; add `owner: NAME` (your team or repository, the "
        "same in every file you prune with, and no one else's): --prune deletes only "
        "connections marked with it\n1 problem found; nothing was done.\n"
    )


def test_a_manifest_of_the_repository_that_cannot_be_read_stops_the_prune(
    repo: Path, emulator: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    stale = retire(capsys, Path("configs/team-a/old.yaml"), "orders-old")
    assert run_cli(capsys, ["apply", "configs", "--auto-approve"]).code == 0
    before = ids(emulator)
    Path("configs/team-b/orders-b.yaml").write_text(
        manifest("orders-b", prune=A_CLAIM).replace("auth:", "auth: [", 1), encoding="utf-8"
    )
    run = run_cli(capsys, ["apply", "configs/team-a/", "--prune", "--auto-approve"])
    assert run.code == 1
    assert run.err.startswith("configs/team-b/orders-b.yaml:")
    assert ids(emulator) == before and stale in before


def test_a_saved_plan_refuses_a_deletion_whose_owner_mark_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, emulator: Emulator, capsys
) -> None:
    monkeypatch.chdir(tmp_path)
    path = write(Path("team-a.yaml"), manifest("orders-a", prune=A_CLAIM))
    stale = retire(capsys, Path("old.yaml"), "orders-old")
    assert run_cli(capsys, ["plan", str(path), "--prune", "--out", "p.json"]).code == 0
    saved = json.loads(Path("p.json").read_text(encoding="utf-8"))
    (deletion,) = saved["deletions"]
    assert (deletion["name"], deletion["owner"], deletion["rule"]["owner"]) == (
        stale,
        "team-a",
        "team-a",
    )
    # Meanwhile team-b adopts it: its mark now says team-b.
    conn_id = ids(emulator)[stale]
    (record,) = [r for r in stored(emulator, "prod") if r["id"] == conn_id]
    client = direct_client(emulator)
    client.update_connection(
        ORG,
        "prod",
        conn_id,
        [
            {
                "op": "replace",
                "path": "/description",
                "value": "x\nmanaged-by: provision owner=team-b",
            }
        ],
        etag=record["etag"],
        name=stale,
    )
    apply = run_cli(capsys, ["apply", "--plan", "p.json"])
    assert apply.code == 1
    assert (
        f"  connection 'orders-old' ({conn_id}) in sandbox 'prod': its owner mark changed since "
        "the plan was made (owner=team-a, now owner=team-b); it is not deleted\n"
    ) in apply.err
    assert stale in names(emulator, "prod")


def test_without_git_the_paths_given_are_the_whole_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, emulator: Emulator, capsys
) -> None:
    """Documented: outside a repository, a narrower run of one owner may prune what a file
    left out declares; the other owners' and the unmarked connections stay out of reach."""
    monkeypatch.chdir(tmp_path)
    write(Path("configs/team-a/orders.yaml"), manifest("orders-a", prune=A_CLAIM))
    write(
        Path("configs/team-b/orders-b.yaml"),
        manifest("orders-b", prune='prune: {owner: team-b, names: ["orders-b*"]}\n'),
    )
    assert run_cli(capsys, ["validate", "configs"]).code == 1  # the claims overlap
    write(
        Path("configs/team-b/orders-b.yaml"),
        manifest("orders-b", prune='prune: {owner: team-b, names: ["b-*"]}\n'),
    )
    assert run_cli(capsys, ["apply", "configs", "--auto-approve"]).code == 0
    plan = run_cli(capsys, ["plan", "configs/team-a", "--prune", "--detailed-exitcode"])
    assert plan.code == 0, plan.out  # orders-b is team-b's: not team-a's to delete
    assert plan.out.startswith("Read 1 manifest file(s) from configs/team-a.\n")
    assert os.path.exists("configs/team-b/orders-b.yaml")


def test_import_of_a_marked_connection_leaves_the_mark_to_prune_owner(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, emulator: Emulator, capsys
) -> None:
    monkeypatch.chdir(tmp_path)
    by_hand(emulator, "orders-a", "orders-a db\nmanaged-by: provision owner=team-a")
    run = run_cli(
        capsys,
        [
            "import",
            "--org",
            ORG,
            "--sandbox",
            "prod",
            "--connection",
            "orders-a",
            "--out",
            "a.yaml",
        ],
    )
    assert run.code == 0, run.err
    text = Path("a.yaml").read_text(encoding="utf-8")
    assert "description: orders-a db\n" in text and "managed-by" not in text
    with Path("a.yaml").open("a", encoding="utf-8") as handle:
        handle.write(A_CLAIM)
    monkeypatch.setenv("PG_PROD_ORDERS_A_PASSWORD", "unused")
    plan = run_cli(capsys, ["plan", "a.yaml", "--prune", "--detailed-exitcode"])
    assert (plan.code, plan.err) == (0, ""), plan.out  # declared, already team-a's: unchanged
