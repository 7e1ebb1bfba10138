"""Malformed saved plans: `apply --plan` answers one line naming the file and what is wrong,
sends nothing and changes nothing.

Each once ended in "internal error": `connections: null`, a missing key, a wrong type, JSON
nested 100,000 deep, and `"paths": "configs/"` as a string (read character by character, the
run globbed `/` and crashed on `/proc`). And a `format_version: 1` file carrying `options`
pruned, although version 1 is create-only whatever else it holds. The emulator runs on a real
loopback socket, as in the reconcile suite."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from provisioner.emulator import Emulator, EmulatorConfig, serve
from tests.reconcile.recon_helpers import (
    MANIFEST,
    SANDBOXES,
    create_remote,
    orders,
    point_at,
    run_cli,
    stored,
    write_manifest,
)

from .hostile import check
from .hostile import run_cli as run_hostile

PRUNING = MANIFEST.replace(
    "sandboxes:\n", 'prune:\n  owner: team-a\n  names: ["orders-*"]\nsandboxes:\n', 1
)


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    emu = Emulator(EmulatorConfig(sandboxes=SANDBOXES, seed=7))
    yield emu
    emu.close()


@pytest.fixture
def pruned_plan(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    emulator: Emulator,
    capsys: pytest.CaptureFixture[str],
) -> Iterator[tuple[Path, str]]:
    """Every declared connection applied, a stale `orders-retired` a prune claims, and a
    saved plan (`plan --prune --out plan.json`) that deletes it: (plan file, its id)."""
    monkeypatch.chdir(tmp_path)
    write_manifest(tmp_path / "manifests", PRUNING)
    with serve(emulator, port=0) as server:
        point_at(monkeypatch, server, emulator)
        assert run_cli(capsys, ["apply", "manifests", "--auto-approve"]).code == 0
        stale = orders("prod", "Verify Full") | {"name": "orders-retired"}
        stale["description"] += "\nmanaged-by: provision owner=team-a"  # team-a made it
        retired = create_remote(emulator, "prod", stale)
        plan = run_cli(capsys, ["plan", "manifests", "--prune", "--out", "plan.json"])
        assert (plan.code, plan.err) == (0, "")
        yield Path("plan.json"), retired


def _deep(levels: int) -> Any:
    value: Any = []
    for _ in range(levels):
        value = [value]
    return value


def _set(path: tuple[str, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(document: dict[str, Any]) -> None:
        parent = document
        for key in path[:-1]:
            parent = parent[key]
        parent[path[-1]] = value

    return edit


def _drop(path: tuple[str, ...]) -> Callable[[dict[str, Any]], None]:
    def edit(document: dict[str, Any]) -> None:
        parent = document
        for key in path[:-1]:
            parent = parent[key]
        del parent[path[-1]]

    return edit


AGAIN = "; plan again"
MALFORMED: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "connections-null": (
        _set(("connections",), None),
        "not a valid plan file: $.connections: expected a list, but the value is empty" + AGAIN,
    ),
    "missing-manifests": (
        _drop(("manifests",)),
        "not a valid plan file: $: missing required key 'manifests'" + AGAIN,
    ),
    "missing-digest": (
        _drop(("manifests", "digest")),
        "not a valid plan file: $.manifests: missing required key 'digest'" + AGAIN,
    ),
    "paths-a-string": (
        _set(("manifests", "paths"), "configs/"),
        "not a valid plan file: $.manifests.paths: expected a list, got a string (8 "
        "characters)" + AGAIN,
    ),
    "prune-a-string": (
        _set(("options", "prune"), "yes"),
        "not a valid plan file: $.options.prune: expected true or false, got a string (3 "
        "characters)" + AGAIN,
    ),
    "unknown-option": (
        _set(("options", "delete_everything"), True),
        "not a valid plan file: $.options: does not have the form the schema allows here; run "
        "`provision schema` for the format" + AGAIN,
    ),
    "deletion-without-id": (
        lambda d: d["deletions"][0].pop("id"),
        "not a valid plan file: $.deletions[0]: missing required key 'id'" + AGAIN,
    ),
    "observed-a-mapping": (
        lambda d: d["connections"][0].update(observed={"id": "x"}),
        "not a valid plan file: $.connections[0].observed: expected a list, got a mapping (1 "
        "key)" + AGAIN,
    ),
    "nested-100000-deep": (
        _set(("connections",), "DEEP"),  # written out below: json.dumps would recurse
        "not a plan file (nested too deeply); make one with `provision plan ... --out FILE`",
    ),
    "nested-500-deep-in-a-payload": (
        lambda d: d["connections"][0].update(payload={"auth": _deep(500)}),
        "not a plan file (nested too deeply); make one with `provision plan ... --out FILE`",
    ),
    "version-true": (
        _set(("format_version",), True),
        "plan format version true is not supported (this provision writes version 2); plan again",
    ),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_a_malformed_plan_is_one_line_and_changes_nothing(
    pruned_plan: tuple[Path, str], emulator: Emulator, case: str
) -> None:
    plan_file, _ = pruned_plan
    edit, problem = MALFORMED[case]
    document = json.loads(plan_file.read_text(encoding="utf-8"))
    edit(document)
    deep = "[" * 100_000 + "]" * 100_000
    text = json.dumps(document).replace('"connections": "DEEP"', f'"connections": {deep}')
    plan_file.write_text(text, encoding="utf-8")
    before, requests = stored(emulator), sum(emulator.request_counts().values())
    files = sorted(Path().rglob("*"))

    run = run_hostile(["apply", "--plan", str(plan_file)])

    check(run)
    assert (run.code, run.out, run.err) == (1, "", f"error: plan.json: {problem}\n")
    assert stored(emulator) == before
    assert sum(emulator.request_counts().values()) == requests  # not even a token
    assert sorted(Path().rglob("*")) == files


def test_a_version_1_plan_carrying_options_does_not_prune(
    pruned_plan: tuple[Path, str], emulator: Emulator
) -> None:
    plan_file, retired = pruned_plan
    document = json.loads(plan_file.read_text(encoding="utf-8"))
    assert document["options"]["prune"] is True and document["deletions"]
    document["format_version"] = 1  # still holds options.prune and the deletion
    plan_file.write_text(json.dumps(document), encoding="utf-8")

    run = run_hostile(["apply", "--plan", str(plan_file)])

    check(run)
    assert run.code == 0, run.err
    assert retired in {r["id"] for r in stored(emulator)}
    assert "delete" not in run.out


def test_plans_as_written_are_accepted_in_both_versions(
    pruned_plan: tuple[Path, str], emulator: Emulator
) -> None:
    # Today's writer (format 2), and format 1 as 0.1 wrote it: without provision_version,
    # orgs, options, deletions, patch or reason.
    plan_file, retired = pruned_plan
    document = json.loads(plan_file.read_text(encoding="utf-8"))
    for key in ("provision_version", "orgs", "options", "deletions"):
        del document[key]
    document["format_version"] = 1
    document["summary"].pop("delete")
    old = Path("plan-v1.json")
    old.write_text(json.dumps(document), encoding="utf-8")
    for saved in (old, plan_file):
        run = run_hostile(["apply", "--plan", str(saved)])
        check(run)
        assert run.code == 0, run.err
    assert retired not in {r["id"] for r in stored(emulator)}  # the version-2 plan pruned
