"""`provision plan` with dataflows as a pipeline runs it: YAML manifests, the emulator on a
loopback socket, the exit codes and the printed plan."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from provisioner.commands import load_manifests
from provisioner.emulator import Emulator, RunningServer
from provisioner.manifests.selection import Selection
from tests.dataflows.client_helpers import ORG, connect
from tests.dataflows.plan_helpers import chain
from tests.emulator.chain_helpers import SCHEMA, START
from tests.emulator.emu_helpers import pg_payload
from tests.reconcile.recon_helpers import point_at, run_cli, write_manifest

MANIFEST = """\
version: 1
org: 0123456789ABCDEF01234567@AdobeOrg
sandboxes: [{name: prod, cloud: azure}]
prune: {owner: team-a, names: ["orders-*"]}
connections:
  - name: orders-prod
    auth:
      type: basic
      server: pg.example.test
      database: orders
      username: reader
      password: {env: ORDERS_PW}
      ssl: verify-full
    dataflows:
      - table: public.orders
        dataset: Orders (PostgreSQL)
        columns: [id, updated_at]
        incremental: updated_at
        schedule: {frequency: hour, interval: INTERVAL}
        mapping:
          - {source: id, destination: _id}
"""


@pytest.fixture
def setup(
    emulator: Emulator, server: RunningServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> tuple[Emulator, Path, str]:
    point_at(monkeypatch, server, emulator)
    monkeypatch.chdir(tmp_path)
    client = connect(emulator)
    base_id = client.create_connection(ORG, "prod", pg_payload("orders-prod"), name="x").id
    emulator.add_dataset(ORG, "prod", name="Orders (PostgreSQL)", schemaId=SCHEMA)
    return emulator, write_manifest(tmp_path, MANIFEST.replace("INTERVAL", "1")), base_id


def test_plan_creates_then_shows_no_change_then_an_update(
    setup: tuple[Emulator, Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    emulator, manifest, base_id = setup
    first = run_cli(capsys, ["plan", str(manifest), "--detailed-exitcode", "--no-color"])
    assert first.code == 2
    assert first.out.splitlines()[-1] == (
        "Plan: 0 to add, 1 to update, 0 unchanged, 0 drifted. Dataflows: 1 to add, 0 unchanged."
    )
    assert (
        "      + orders-prod/public.orders  public.orders -> dataset 'Orders (PostgreSQL)' ("
        in (first.out)
    )
    # The chain exactly as declared (as apply makes it): the next plan changes nothing.
    (declared,) = load_manifests([str(manifest)], Selection(), [], prune=False).dataflows
    dataset_id = connect(emulator).list_datasets(ORG, "prod")[0].id
    chain(connect(emulator), base_id, declared, dataset_id, start=START)
    again = run_cli(capsys, ["plan", str(manifest), "--no-update", "--detailed-exitcode"])
    assert (again.code, again.out.splitlines()[-1]) == (
        0,
        "Plan: 0 to add, 0 unchanged, 1 drifted. Dataflows: 0 to add, 1 unchanged.",
    )
    manifest.write_text(MANIFEST.replace("INTERVAL", "2"), encoding="utf-8")
    changed = run_cli(capsys, ["plan", str(manifest), "--detailed-exitcode"])
    assert changed.code == 2
    assert "          interval: '1' -> '2'\n" in changed.out
    assert changed.out.splitlines()[-1].endswith("Dataflows: 0 to add, 1 to update, 0 unchanged.")


def test_prune_shows_a_hostile_flow_name_escaped_and_plan_v_what_it_keeps(
    setup: tuple[Emulator, Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    emulator, manifest, base_id = setup
    (declared,) = load_manifests([str(manifest)], Selection(), [], prune=False).dataflows
    dataset_id = connect(emulator).list_datasets(ORG, "prod")[0].id
    hostile = replace(declared, name="evil\n::error::pwned", table="public.evil")
    chain(connect(emulator), base_id, hostile, dataset_id, start=START)
    by_hand = replace(declared, name="by hand", table="public.hand", owner=None)
    chain(connect(emulator), base_id, by_hand, dataset_id, start=START)
    pruned = run_cli(capsys, ["plan", str(manifest), "--prune", "-v", "--no-color"])
    assert pruned.code == 0
    lines = pruned.out.splitlines()
    assert any(
        line.startswith("      - evil\\n::error::pwned  (")
        and "will delete: marked owner=team-a" in line
        for line in lines
    )
    assert any(
        line.startswith("      . by hand (") and line.endswith("but it carries no owner mark")
        for line in lines
    )
    assert not any(line.startswith("::") for line in lines)
    assert lines[-1].endswith("Dataflows: 1 to add, 1 to delete, 0 unchanged.")


@pytest.mark.parametrize("command", ["plan", "apply"])
def test_replace_dataflows_help_says_what_is_replaced_and_that_backfill_re_ingests(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        run_cli(capsys, [command, "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert (
        "--replace-dataflows replace a dataflow whose table, columns, dataset, incremental "
        "column or schedule kind (once <-> periodic) changed, or whose start has passed, which "
        "the API cannot change in place: the old flow is disabled, a new chain (source, target, "
        "mapping set, flow) is made, then the old one is deleted. With backfill the new flow "
        "re-ingests the table's history into the same dataset (duplicate rows unless it "
        "upserts)."
    ) in text
