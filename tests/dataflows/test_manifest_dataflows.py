"""`dataflows:` under a connection, as plan and apply receive them: rendered per sandbox,
owned like their connection, selected with it, and shown by `provision schema`."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from provisioner.cli.main import main
from provisioner.commands import load_manifests
from provisioner.dataflow import DesiredDataflow, Incremental, MappingRule, Schedule
from provisioner.errors import Location, UsageError
from provisioner.manifests.selection import Selection

ORG = "0123456789ABCDEF01234567@AdobeOrg"
MANIFEST = f"""\
version: 1
org: {ORG}
vars: {{tenant: acme}}
sandboxes:
  - {{name: prod, cloud: azure, vars: {{schema: sales}}}}
  - {{name: dev, cloud: azure, vars: {{schema: sales_dev}}}}
connections:
  - name: "orders-{{{{ sandbox.name }}}}"
    auth:
      type: basic
      server: pg.example.test
      database: orders
      username: aep
      password: {{env: ORDERS_PW}}
    dataflows:
      - table: "{{{{ sandbox.vars.schema }}}}.orders"
        dataset: "Orders ({{{{ sandbox.name }}}})"
        description: "Orders of {{{{ sandbox.name }}}}"
        columns: [id, email, updated_at]
        incremental: {{column: updated_at, date_format: "yyyy-MM-dd HH:mm:ss", timezone: UTC}}
        schedule: {{frequency: minute, interval: 15, start: "2027-01-01T01:00:00+01:00"}}
        mapping:
          - {{source: id, destination: _id}}
          - {{expression: "lower(email)", destination: "_{{{{ vars.tenant }}}}.email"}}
      - table: public.refunds
        name: "refunds ({{{{ sandbox.name }}}})"
        dataset: Refunds
        incremental: changed_at
        schedule: {{frequency: once}}
        mapping: [{{source: id, destination: _id}}]
        enabled: false
  - name: billing
    sandboxes: [prod]
    auth:
      type: connection-string
      connection_string: {{env: BILLING_DSN}}
prune:
  owner: team-a
  names: ["orders-*", "billing"]
"""


@pytest.fixture
def manifest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "orders.yaml"
    path.write_text(MANIFEST, encoding="utf-8")
    return path


EVERYTHING = Selection()


def _load(*paths: str, selection: Selection = EVERYTHING, prune: bool = False) -> Any:
    return load_manifests(list(paths), selection, (), prune=prune)


def test_dataflows_are_rendered_per_sandbox_and_carry_the_files_owner(manifest: Path) -> None:
    flows = _load("orders.yaml").dataflows
    prod_orders = DesiredDataflow(
        org=ORG,
        sandbox="prod",
        connection="orders-prod",
        table="sales.orders",
        name="orders-prod/sales.orders",  # the default: "<connection>/<table>"
        description="Orders of prod",
        dataset="Orders (prod)",
        columns=("id", "email", "updated_at"),
        incremental=Incremental("updated_at", "yyyy-MM-dd HH:mm:ss", "UTC"),
        # 2027-01-01T00:00:00Z: the offset is applied; backfill defaults to true.
        schedule=Schedule("minute", 15, 1798761600, True),
        mapping=(
            MappingRule("attribute", "id", "_id"),
            MappingRule("expression", "lower(email)", "_acme.email"),
        ),
        enabled=True,
        source=Location("orders.yaml", 16, 9),
        owner="team-a",
    )
    prod_refunds = DesiredDataflow(
        org=ORG,
        sandbox="prod",
        connection="orders-prod",
        table="public.refunds",
        name="refunds (prod)",
        description=None,
        dataset="Refunds",
        columns=None,  # every column explore lists when the dataflow is created
        incremental=Incremental("changed_at"),
        schedule=Schedule("once"),  # no interval, no backfill
        mapping=(MappingRule("attribute", "id", "_id"),),
        enabled=False,
        source=Location("orders.yaml", 25, 9),
        owner="team-a",
    )
    assert [f for f in flows if f.sandbox == "prod"] == [prod_orders, prod_refunds]
    dev = [f for f in flows if f.sandbox == "dev"]
    assert [(f.connection, f.table, f.name, f.dataset) for f in dev] == [
        ("orders-dev", "sales_dev.orders", "orders-dev/sales_dev.orders", "Orders (dev)"),
        ("orders-dev", "public.refunds", "refunds (dev)", "Refunds"),
    ]
    assert prod_orders.remote_description == "Orders of prod\nmanaged-by: provision owner=team-a"


def test_sandbox_and_connection_select_dataflows_with_their_connection(manifest: Path) -> None:
    chosen = _load("orders.yaml", selection=Selection(("dev",), ()))
    assert [c.name for c in chosen.desired] == ["orders-dev"]
    assert [(f.sandbox, f.table) for f in chosen.dataflows] == [
        ("dev", "sales_dev.orders"),
        ("dev", "public.refunds"),
    ]
    billing = _load("orders.yaml", selection=Selection((), ("billing",)))
    assert [c.name for c in billing.desired] == ["billing"]
    assert billing.dataflows == ()
    # Every declared dataflow stays managed, selected or not: none is ever an orphan.
    assert billing.managed_dataflows == {
        (ORG, sandbox, f"orders-{sandbox}", table)
        for sandbox, table in (
            ("prod", "sales.orders"),
            ("prod", "public.refunds"),
            ("dev", "sales_dev.orders"),
            ("dev", "public.refunds"),
        )
    }


def test_with_prune_every_manifest_of_the_repository_declares_dataflows(
    manifest: Path, tmp_path: Path
) -> None:
    # The repository's root: --prune reads every manifest in it.
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    other = tmp_path / "team-b"
    other.mkdir()
    (other / "clicks.yaml").write_text(
        _renamed(MANIFEST, orders="clicks", refunds="returns", billing="ledger", team="squad"),
        encoding="utf-8",
    )
    narrow = _load("orders.yaml", prune=True)
    assert {f.connection for f in narrow.dataflows} == {"orders-prod", "orders-dev"}
    assert (ORG, "prod", "clicks-prod", "sales.clicks") in narrow.managed_dataflows
    assert (ORG, "prod", "clicks-prod", "sales.clicks") not in _load(
        "orders.yaml"
    ).managed_dataflows


def _renamed(text: str, **names: str) -> str:
    for old, new in names.items():
        text = text.replace(old, new)
    return text


def test_a_selection_that_matches_nothing_is_still_refused(manifest: Path) -> None:
    with pytest.raises(UsageError, match="--connection refunds matches no connection"):
        _load("orders.yaml", selection=Selection((), ("refunds",)))


def test_validate_says_how_many_dataflows_it_validated(
    manifest: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", "orders.yaml"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "orders.yaml: 3 connection(s) in dev, prod",
        "Dataflows: 4 on 2 connection(s) in 2 sandbox(es).",
        "Valid: 3 connection(s) in 2 sandbox(es) from 1 file(s).",
    ]
    assert main(["validate", "orders.yaml", "--sandbox", "prod", "--connection", "billing"]) == 0
    # No dataflow selected: the output is what it was before dataflows existed.
    assert capsys.readouterr().out.splitlines() == [
        "orders.yaml: 1 connection(s) in prod",
        "Valid: 1 connection(s) in 1 sandbox(es) from 1 file(s).",
    ]


def _fields(schema: dict[str, Any], node: Any, path: str) -> list[tuple[str, dict[str, Any]]]:
    """Every property reachable from `node`, through $refs, as (path, its schema)."""
    found: list[tuple[str, dict[str, Any]]] = []
    if "$ref" in node:
        return _fields(schema, schema["$defs"][node["$ref"].rsplit("/", 1)[1]], path)
    for key, child in node.get("properties", {}).items():
        found.append((f"{path}.{key}", child))
        found += _fields(schema, child, f"{path}.{key}")
    if "items" in node:
        found += _fields(schema, node["items"], f"{path}[]")
    return found


def test_provision_schema_documents_every_dataflow_field_for_editors(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    connection = schema["properties"]["connections"]["items"]
    fields = _fields(schema, connection["properties"]["dataflows"], "dataflows")
    names = {path for path, _ in fields}
    assert {
        "dataflows[].table",
        "dataflows[].dataset",
        "dataflows[].incremental",
        "dataflows[].schedule.frequency",
        "dataflows[].schedule.start",
        "dataflows[].mapping[].expression",
        "dataflows[].enabled",
    } <= names
    for path, field in fields:
        # What an editor shows on hover and offers on completion.
        target = schema["$defs"][field["$ref"].rsplit("/", 1)[1]] if "$ref" in field else field
        assert target.get("description"), path
        assert target.get("examples") or "properties" in target, path
