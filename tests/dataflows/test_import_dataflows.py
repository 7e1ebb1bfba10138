"""`provision import` adopts the flows of the connections it imports: each CRMToAEP flow
becomes a `dataflows:` entry holding every field plan compares; what a manifest cannot
express is left out with one line saying why."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from provisioner.commands import load_manifests
from provisioner.connectors.postgres.spec import SPEC_ID as POSTGRES_SPEC_ID
from provisioner.dataflow import (
    DATA_LAKE_SPEC_ID,
    FLOW_SPEC_ID,
    Dataset,
    Incremental,
    MappingRule,
    RemoteFlow,
    RemoteMappingSet,
    RemoteSourceConnection,
    RemoteTargetConnection,
    SandboxDataflows,
    Schedule,
)
from provisioner.emulator import Emulator, EmulatorConfig, serve
from provisioner.manifests.from_remote import build_manifest
from provisioner.manifests.from_remote_dataflows import (
    adopt_dataflows,
    mapping_keys,
    missing_versions,
)
from provisioner.manifests.selection import Selection
from provisioner.model import RemoteConnection
from tests.reconcile.recon_helpers import point_at, run_cli

from . import remote_chains

ORG = "0123456789ABCDEF01234567@AdobeOrg"
SCHEMA = "https://ns.adobe.com/acme/schemas/0a1b"
START = 1798761600  # 2027-01-01T00:00:00Z


def connection(sandbox: str = "prod", cid: str = "base-prod") -> RemoteConnection:
    return RemoteConnection(
        id=cid,
        name=f"orders-{sandbox}",
        etag='"e"',
        description=None,
        spec_id=POSTGRES_SPEC_ID,
        auth_spec_name="Connection String Based Authentication",
        params={"connectionString": "********"},
        state="enabled",
        created_at=1,
        created_client="c",
    )


def flow(**changes: Any) -> RemoteFlow:
    base = RemoteFlow(
        id="flow-1",
        name="orders-prod/public.orders",
        etag='"f"',
        description="Orders into the lake\nmanaged-by: provision owner=team-a",
        spec_id=FLOW_SPEC_ID,
        state="enabled",
        source_connection_ids=("src-1",),
        target_connection_ids=("tgt-1",),
        base_connection_id="base-prod",
        schedule={
            "startTime": str(START),
            "frequency": "minute",
            "interval": "15",
            "backfill": "true",
        },
        mapping_id="map-1",
        mapping_version="2",
        mapping_index=1,
        incremental=Incremental("updated_at"),
    )
    return dataclasses.replace(base, **changes)


def listing(*flows: RemoteFlow, datasets: tuple[Dataset, ...] | None = None) -> SandboxDataflows:
    return SandboxDataflows(
        flows=flows or (flow(),),
        sources=(
            RemoteSourceConnection(
                "src-1",
                "s",
                '"s"',
                None,
                POSTGRES_SPEC_ID,
                "base-prod",
                "public.orders",
                ("id", "email", "updated_at"),
            ),
        ),
        targets=(
            RemoteTargetConnection("tgt-1", "t", '"t"', None, DATA_LAKE_SPEC_ID, "ds-1", SCHEMA),
        ),
        mapping_sets={
            "map-1": RemoteMappingSet(
                "map-1",
                "2",
                SCHEMA,
                (
                    MappingRule("attribute", "id", "_id"),
                    MappingRule("expression", "lower(email)", "personalEmail.address"),
                ),
            )
        },
        datasets=(Dataset("ds-1", "Orders (PostgreSQL)", SCHEMA),)
        if datasets is None
        else datasets,
    )


def adopt(data: SandboxDataflows) -> tuple[list[dict[str, Any]], list[str]]:
    entries, skipped = adopt_dataflows([connection()], "prod", data, mapping_keys(data))
    return entries.get("base-prod", []), skipped


def test_a_flow_becomes_the_entry_the_manifest_declares() -> None:
    entries, skipped = adopt(listing())
    assert skipped == []
    assert entries == [
        {
            "table": "public.orders",  # the default name "<connection>/<table>" is not written
            "description": "Orders into the lake",  # the owner mark is provision's, not the text's
            "dataset": "Orders (PostgreSQL)",
            "columns": ["id", "email", "updated_at"],
            "incremental": "updated_at",
            "schedule": {
                "frequency": "minute",
                "interval": 15,
                "start": "2027-01-01T00:00:00Z",
                "backfill": True,
            },
            "mapping": [
                {"source": "id", "destination": "_id"},
                {"expression": "lower(email)", "destination": "personalEmail.address"},
            ],
            "enabled": True,
        }
    ]


def test_other_names_formats_once_and_disabled_are_kept() -> None:
    once = flow(
        name="nightly orders",
        description=None,
        state="disabled",
        schedule={"startTime": str(START), "frequency": "once"},
        incremental=Incremental("updated_at", "yyyy-MM-dd HH:mm:ss", "UTC"),
    )
    [entry], _ = adopt(listing(once))
    assert entry["name"] == "nightly orders"
    assert "description" not in entry
    assert entry["incremental"] == {
        "column": "updated_at",
        "date_format": "yyyy-MM-dd HH:mm:ss",
        "timezone": "UTC",
    }
    assert entry["schedule"] == {"frequency": "once", "start": "2027-01-01T00:00:00Z"}
    assert entry["enabled"] is False


def test_what_a_manifest_cannot_express_is_skipped_one_line_each() -> None:
    where = "flow {} of connection 'orders-prod' in sandbox prod"
    cases = [
        (
            flow(name="to profile", spec_id="9753525b-82c7-4dce-8a9b-5ccfce2b9876"),
            "not a database -> data lake flow (flow spec '9753525b-82c7-4dce-8a9b-5ccfce2b9876'); "
            "a manifest declares only those",
        ),
        (
            flow(name="broken", source_connection_ids=("gone",), mapping_id="gone-too"),
            "its chain is broken (its source connection and mapping set no longer exist); "
            "fix or delete it in AEP, then import again",
        ),
        (
            flow(name="elsewhere", target_connection_ids=("tgt-1",)),
            "its target writes to dataset 'ds-1', which the Catalog does not list (deleted or "
            "expired); a manifest names an existing dataset",
        ),
    ]
    for remote, reason in cases:
        data = listing(remote, datasets=() if remote.name == "elsewhere" else None)
        entries, skipped = adopt(data)
        assert (entries, skipped) == ([], [f"{where.format(repr(remote.name))}: {reason}"])


def test_flows_of_other_connections_are_not_imported_and_one_table_one_flow() -> None:
    other = flow(id="flow-2", name="theirs", base_connection_id="base-dev")
    twin = flow(id="flow-3", name="again")
    entries, skipped = adopt(listing(flow(), other, twin))
    assert entries == []
    assert skipped == [
        "flow 'again' of connection 'orders-prod' in sandbox prod: 2 flows of this connection "
        "read table 'public.orders'; a manifest declares one dataflow per table",
        "flow 'orders-prod/public.orders' of connection 'orders-prod' in sandbox prod: 2 flows "
        "of this connection read table 'public.orders'; a manifest declares one dataflow per table",
    ]


def test_a_flow_at_an_older_mapping_version_needs_that_version() -> None:
    data = listing(flow(mapping_version="1"))
    assert missing_versions(data, {"base-prod"}) == [("map-1", "1")]
    older = RemoteMappingSet("map-1", "1", SCHEMA, (MappingRule("attribute", "id", "_id"),))
    entries, _ = adopt_dataflows(
        [connection()], "prod", data, {**mapping_keys(data), ("map-1", "1"): older}
    )
    assert entries["base-prod"][0]["mapping"] == [{"source": "id", "destination": "_id"}]


def test_hostile_texts_are_escaped_in_the_reasons() -> None:
    hostile = flow(name="x\n::error::owned\x1b[2J", spec_id="other")
    _, [reason] = adopt(listing(hostile))
    assert "\n" not in reason and "\x1b" not in reason
    assert reason.startswith("flow 'x\\n::error::owned\\x1b[2J' of connection")


def test_the_manifest_groups_sandboxes_whose_flows_differ_by_the_sandbox_name() -> None:
    remote, flows = {}, {}
    for sandbox in ("prod", "dev"):
        base = connection(sandbox, f"base-{sandbox}")
        remote[sandbox] = [base]
        data = listing(flow(base_connection_id=base.id, name=f"orders-{sandbox}/public.orders"))
        data = dataclasses.replace(
            data,
            datasets=(Dataset("ds-1", f"Orders {sandbox}", SCHEMA),),
            sources=tuple(dataclasses.replace(s, base_connection_id=base.id) for s in data.sources),
        )
        flows[(sandbox, base.id)] = adopt_dataflows([base], sandbox, data, mapping_keys(data))[0][
            base.id
        ]
    result = build_manifest(ORG, {"prod": "azure", "dev": "azure"}, remote, flows)
    document = yaml.safe_load(result.text)
    [entry] = document["connections"]
    assert entry["name"] == "orders-{{ sandbox.name }}"
    assert entry["sandboxes"] == ["prod", "dev"]
    assert entry["dataflows"][0]["dataset"] == "Orders {{ sandbox.name }}"
    assert "name" not in entry["dataflows"][0]
    assert result.dataflows == 2


def test_an_incremental_column_the_source_does_not_read_is_skipped() -> None:
    data = listing(flow(incremental=Incremental("modified")))
    assert adopt(data) == (
        [],
        [
            "flow 'orders-prod/public.orders' of connection 'orders-prod' in sandbox prod: its "
            "incremental column 'modified' is not among the columns its source connection reads, "
            "and a manifest requires it there"
        ],
    )


def test_a_name_two_connections_share_and_texts_the_rules_refuse_are_skipped() -> None:
    other = dataclasses.replace(connection(), id="base-2", name="orders-2")
    data = listing(
        flow(name="orders"), flow(id="flow-2", name="orders", base_connection_id="base-2")
    )
    data = dataclasses.replace(
        data,
        sources=(*data.sources, dataclasses.replace(data.sources[0], base_connection_id="base-2")),
    )
    entries, skipped = adopt_dataflows([connection(), other], "prod", data, mapping_keys(data))
    assert entries == {}
    assert skipped == [
        "flow 'orders' of connection 'orders-prod' in sandbox prod: 2 flows of this sandbox "
        "share its name; a manifest names each dataflow once per sandbox",
        "flow 'orders' of connection 'orders-2' in sandbox prod: 2 flows of this sandbox "
        "share its name; a manifest names each dataflow once per sandbox",
    ]
    multi_line = listing()
    rules = (MappingRule("expression", "lower(\n  email)", "_id"),)
    multi_line = dataclasses.replace(
        multi_line, mapping_sets={"map-1": RemoteMappingSet("map-1", "2", SCHEMA, rules)}
    )
    assert adopt(multi_line)[1] == [
        "flow 'orders-prod/public.orders' of connection 'orders-prod' in sandbox prod: its "
        "expression holds a control character, which a manifest cannot declare"
    ]


# -- end to end: `provision import` against the emulator on a loopback socket ---------------


@pytest.fixture
def emu(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    monkeypatch.chdir(tmp_path)
    emulator = Emulator(
        EmulatorConfig(sandboxes=("prod", "dev"), clouds=(("prod", "azure"), ("dev", "azure"))),
        clock=lambda: remote_chains.NOW,
    )
    with serve(emulator, port=0) as running:
        point_at(monkeypatch, running, emulator, secrets={})
        yield emulator
    emulator.close()


def made_by_hand(emu: Emulator) -> dict[str, str]:
    """Two dataflows a team clicked together on orders-prod, and a third whose target
    connection someone deleted since."""
    base = remote_chains.base_connection(emu, "prod", "orders-prod")
    orders = remote_chains.dataset(emu, "prod", "Orders (PostgreSQL)")
    customers = remote_chains.dataset(emu, "prod", "Customers")
    first = remote_chains.chain(emu, "prod", base, orders, name="orders-prod/public.orders")
    once = {"startTime": str(remote_chains.START), "frequency": "once"}
    second = remote_chains.chain(
        emu, "prod", base, customers, name="customers nightly", table="public.customers",
        description=None, schedule=once,
    )  # fmt: skip
    remote_chains.disable(emu, "prod", second["flow"])
    broken = remote_chains.chain(emu, "prod", base, orders, name="refunds", table="public.refunds")
    remote_chains.delete_target(emu, "prod", broken["target"])
    return {"base": base, "orders": first["flow"], "customers": second["flow"]}


def test_import_adopts_the_flows_and_skips_a_broken_chain(
    emu: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    made_by_hand(emu)
    imported = run_cli(capsys, ["import", "--org", ORG, "--sandbox", "prod", "--out", "prod.yaml"])
    assert imported.out.splitlines()[0] == (
        "  skipped flow 'refunds' of connection 'orders-prod' in sandbox prod: its chain is "
        "broken (its target connection no longer exists); fix or delete it in AEP, then import again"
    )
    assert "Imported 1 connection(s) and 2 dataflow(s) from 1 sandbox(es)" in imported.out
    assert imported.err == (
        "error: 1 dataflow(s) could not be imported and were left out of prod.yaml (listed "
        "above); fix them in AEP, or declare them by hand\n"
    )
    assert imported.code == 1
    [connection] = yaml.safe_load(Path("prod.yaml").read_text(encoding="utf-8"))["connections"]
    assert connection["dataflows"] == [
        {
            "table": "public.customers",
            "name": "customers nightly",
            "dataset": "Customers",
            "columns": ["id", "email", "updated_at"],
            "incremental": "updated_at",
            "schedule": {"frequency": "once", "start": "2026-01-01T01:00:00Z"},
            "mapping": [
                {"source": "id", "destination": "_id"},
                {"expression": "lower(email)", "destination": "personalEmail.address"},
            ],
            "enabled": False,
        },
        {
            "table": "public.orders",
            "description": "Orders into the lake",
            "dataset": "Orders (PostgreSQL)",
            "columns": ["id", "email", "updated_at"],
            "incremental": "updated_at",
            "schedule": {
                "frequency": "minute",
                "interval": 15,
                "start": "2026-01-01T01:00:00Z",
                "backfill": True,
            },
            "mapping": [
                {"source": "id", "destination": "_id"},
                {"expression": "lower(email)", "destination": "personalEmail.address"},
            ],
            "enabled": True,
        },
    ]


def test_imported_dataflows_load_back_as_the_remote_flows(
    emu: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    made_by_hand(emu)
    run_cli(capsys, ["import", "--org", ORG, "--sandbox", "prod", "--out", "prod.yaml"])
    manifests = load_manifests(["prod.yaml"], Selection(), (), prune=False)
    by_name = {d.name: d for d in manifests.dataflows}
    orders = by_name["orders-prod/public.orders"]
    assert (orders.connection, orders.table, orders.dataset) == (
        "orders-prod", "public.orders", "Orders (PostgreSQL)",
    )  # fmt: skip
    assert orders.columns == ("id", "email", "updated_at")
    assert orders.incremental == Incremental("updated_at")
    assert orders.schedule == Schedule("minute", 15, remote_chains.START, True)
    assert orders.mapping == (
        MappingRule("attribute", "id", "_id"),
        MappingRule("expression", "lower(email)", "personalEmail.address"),
    )
    assert (orders.description, orders.enabled) == ("Orders into the lake", True)
    customers = by_name["customers nightly"]
    assert customers.schedule == Schedule("once", None, remote_chains.START, None)
    assert customers.enabled is False


def test_plan_right_after_import_shows_no_change_for_the_dataflows(
    emu: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    made_by_hand(emu)
    run_cli(capsys, ["import", "--org", ORG, "--sandbox", "prod", "--out", "prod.yaml"])
    planned = run_cli(capsys, ["plan", "prod.yaml", "--detailed-exitcode"])
    assert planned.code == 0, planned.out + planned.err  # 2 would mean changes to apply
    planned = run_cli(capsys, ["plan", "prod.yaml", "--format", "json"])
    document = json.loads(planned.out)
    assert document["summary"]["text"] == (
        "Plan: 0 to add, 1 unchanged, 0 drifted. Dataflows: 0 to add, 2 unchanged."
    )
    [connection] = document["connections"]
    assert [(d["name"], d["action"], d["drift"]) for d in connection["dataflows"]] == [
        ("customers nightly", "unchanged", []),
        ("orders-prod/public.orders", "unchanged", []),
    ]
