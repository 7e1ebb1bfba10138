"""What ``provision emulator PATH...`` serves from manifests, as plain records.

This package imports nothing from the provisioner; ``commands/emulator.py`` reads the manifests
and hands over a ``Rehearsal``: the (org, sandbox, cloud) scopes to serve, and for the
dataflows they declare, the Catalog datasets to preload (provision never creates one) and the
tables offline explore should list, so a dataflow can be planned and applied here end to end.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from provisioner.emulator.app import Emulator

Scope = tuple[str, str, str]  # (org, sandbox, cloud)


class Table(NamedTuple):
    org: str
    sandbox: str
    connection: str  # the base connection's name: its table is listed once it is created
    path: str  # "schema.table"
    columns: tuple[str, ...]
    incremental: str  # typed timestamp; the other columns text


class Rehearsal(NamedTuple):
    scopes: Sequence[Scope]
    datasets: Sequence[tuple[str, str, str]] = ()  # (org, sandbox, dataset name)
    tables: Sequence[Table] = ()


def schema_id(org: str, dataset: str) -> str:
    """The XDM schema a preloaded dataset names, derived from its name: the same on every
    start, so a --state file and the plan agree across restarts."""
    digest = hashlib.sha256(f"{org}\0{dataset}".encode()).hexdigest()[:32]
    return f"https://ns.adobe.com/emulator/schemas/{digest}"


def preload(emulator: Emulator, rehearsal: Rehearsal) -> tuple[int, int]:
    """Preload the datasets and tables; a dataset of that name already there (a --state
    file, an admin preload) is kept, never doubled. Answers how many of each are served."""
    catalog = emulator.dataflows.catalog
    for org, sandbox, name in dict.fromkeys(rehearsal.datasets):
        if any(r["name"] == name for r in catalog.store.in_scope((org, sandbox))):
            continue
        dataset_id = hashlib.sha256(f"{org}\0{sandbox}\0{name}".encode()).hexdigest()[:24]
        catalog.preload(
            org, sandbox, {"name": name, "schemaId": schema_id(org, name), "id": dataset_id}
        )
    for table in rehearsal.tables:
        columns = [
            {"name": c, "type": "timestamp" if c == table.incremental else "text"}
            for c in dict.fromkeys(table.columns)
        ]
        emulator.databases.tables.preload(
            {
                "org": table.org,
                "sandbox": table.sandbox,
                "connectionName": table.connection,
                "path": table.path,
                "columns": columns,
            }
        )
    return len(dict.fromkeys(rehearsal.datasets)), len(rehearsal.tables)
