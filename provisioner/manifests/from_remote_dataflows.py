"""`provision import`, dataflows: the flows of an imported connection as `dataflows:` entries.

A pure function of one sandbox's listing (`SandboxDataflows`): each database -> data lake
flow (`CRMToAEP`) on the connection becomes the entry the manifest format declares, with
every field `plan` compares, so a plan right after the import shows no change. The chain
is found from the flow's own ids, never by name. What the format cannot hold (a flow of
another spec, a chain with a part missing, a dataset the Catalog does not list, a second
flow on the same table...) is left out with one reason each, never guessed.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from provisioner import ownermark
from provisioner.dataflow import (
    FLOW_SPEC_ID,
    FREQUENCIES,
    RemoteFlow,
    RemoteMappingSet,
    SandboxDataflows,
)
from provisioner.escape import quoted
from provisioner.model import RemoteConnection

# One mapping set at one version: a flow names both, the listing shows the latest only.
MappingKey = tuple[str, str]
# The flow's state as the manifest's `enabled`: transient states read as where they go.
_ENABLED = {"enabled": True, "enabling": True, "disabled": False, "disabling": False}


def mapping_keys(listing: SandboxDataflows) -> dict[MappingKey, RemoteMappingSet]:
    """The mapping sets the listing holds, by (id, version)."""
    return {(m.id, m.version): m for m in listing.mapping_sets.values()}


def missing_versions(listing: SandboxDataflows, connection_ids: set[str]) -> list[tuple[str, str]]:
    """(mapping id, version) that a flow on one of these connections points at and the
    listing does not hold: an older version, one GET each (apply moves flows to the latest,
    so these are rare)."""
    held = mapping_keys(listing)
    wanted = {
        (flow.mapping_id, flow.mapping_version)
        for flow in listing.flows
        if flow.base_connection_id in connection_ids
        and flow.spec_id == FLOW_SPEC_ID
        and flow.mapping_id in listing.mapping_sets
        and flow.mapping_version is not None
    }
    return sorted(key for key in wanted if key not in held)  # type: ignore[misc]


def adopt_dataflows(
    connections: Sequence[RemoteConnection],
    sandbox: str,
    listing: SandboxDataflows,
    mappings: Mapping[MappingKey, RemoteMappingSet],
) -> tuple[dict[str, list[dict[str, Any]]], list[str]]:
    """The `dataflows:` entries of each connection (by id, ordered by table), and why each
    flow on them that could not become one was left out ("flow 'x' of connection 'y' in
    sandbox z: why")."""
    made: list[tuple[str, str, str, dict[str, Any]]] = []  # (connection id, where, name, entry)
    skipped: list[str] = []
    for connection in connections:
        ours = [f for f in listing.flows if f.base_connection_id == connection.id]
        for flow in sorted(ours, key=lambda f: (f.name, f.id)):
            where = (
                f"flow {quoted(flow.name)} of connection {quoted(connection.name)} "
                f"in sandbox {sandbox}"
            )
            entry = _entry(flow, connection.name, listing, mappings)
            if isinstance(entry, str):
                skipped.append(f"{where}: {entry}")
            else:
                made.append((connection.id, where, flow.name, entry))
    # Identity is (connection, table), and a flow's name is taken once per sandbox (the plan
    # finds a flow by its name): flows that would share either are left out, all of them.
    tables = Counter((cid, entry["table"]) for cid, _, _, entry in made)
    names = Counter(name for _, _, name, _ in made)
    kept: dict[str, list[dict[str, Any]]] = {}
    for cid, where, name, entry in made:
        if tables[(cid, entry["table"])] > 1:
            skipped.append(
                f"{where}: {tables[(cid, entry['table'])]} flows of this connection read table "
                f"{quoted(entry['table'])}; a manifest declares one dataflow per table"
            )
        elif names[name] > 1:
            skipped.append(
                f"{where}: {names[name]} flows of this sandbox share its name; a manifest "
                "names each dataflow once per sandbox"
            )
        else:
            kept.setdefault(cid, []).append(entry)
    return {cid: sorted(e, key=lambda x: x["table"]) for cid, e in kept.items()}, skipped


def _entry(
    flow: RemoteFlow,
    connection: str,
    listing: SandboxDataflows,
    mappings: Mapping[MappingKey, RemoteMappingSet],
) -> dict[str, Any] | str:
    if flow.spec_id != FLOW_SPEC_ID:
        return (
            f"not a database -> data lake flow (flow spec {quoted(flow.spec_id or 'none')}); "
            "a manifest declares only those"
        )
    if len(flow.source_connection_ids) != 1 or len(flow.target_connection_ids) != 1:
        return (
            f"it has {len(flow.source_connection_ids)} source and "
            f"{len(flow.target_connection_ids)} target connections; a manifest declares one of each"
        )
    source = next((s for s in listing.sources if s.id == flow.source_connection_ids[0]), None)
    target = next((t for t in listing.targets if t.id == flow.target_connection_ids[0]), None)
    mapping = mappings.get((flow.mapping_id or "", flow.mapping_version or ""))
    broken = [
        part
        for part, found in (("source connection", source), ("target connection", target))
        if found is None
    ]
    if mapping is None:
        broken.append("mapping set")
    if broken or source is None or target is None or mapping is None:
        return (
            f"its chain is broken (its {' and '.join(broken)} no longer "
            f"exist{'s' if len(broken) == 1 else ''}); "
            "fix or delete it in AEP, then import again"
        )
    if not source.table:
        return "its source connection names no table"
    if flow.incremental is None:
        return "it has no incremental column (Copy deltaColumn), which a manifest requires"
    if source.columns and flow.incremental.column not in source.columns:
        return (
            f"its incremental column {quoted(flow.incremental.column)} is not among the columns "
            "its source connection reads, and a manifest requires it there"
        )
    if not mapping.rules:
        return "its mapping set holds no rule, and a manifest's mapping is required"
    if len({rule.destination for rule in mapping.rules}) < len(mapping.rules):
        return "two rules of its mapping set write the same destination"
    try:
        dataset = _dataset_name(target.dataset_id, listing)
        schedule = _schedule(flow.schedule)
    except _Unfit as unfit:
        return str(unfit)
    enabled = _ENABLED.get(flow.state or "")
    if enabled is None:
        return (
            f"its state {quoted(flow.state or 'none')} is neither enabled nor disabled; "
            "import it again once it settles"
        )
    entry: dict[str, Any] = {"table": source.table}
    if flow.name != f"{connection}/{source.table}":
        entry["name"] = flow.name
    description = ownermark.split(flow.description)[0]
    if description:
        entry["description"] = description
    entry["dataset"] = dataset
    if source.columns:  # none listed: the manifest's default, every column
        entry["columns"] = list(source.columns)
    inc = flow.incremental
    if inc.date_format is None and inc.timezone is None:
        entry["incremental"] = inc.column
    else:
        entry["incremental"] = {"column": inc.column}
        if inc.date_format is not None:
            entry["incremental"]["date_format"] = inc.date_format
        if inc.timezone is not None:
            entry["incremental"]["timezone"] = inc.timezone
    entry["schedule"] = schedule
    entry["mapping"] = [
        {
            "source" if rule.kind == "attribute" else "expression": rule.source,
            "destination": rule.destination,
        }
        for rule in mapping.rules
    ]
    entry["enabled"] = enabled
    return _unfit_text(entry) or entry


# What the manifest's rules refuse in a dataflow's texts (manifests/dataflows.py): each
# must say something, hold no control character, and stay within the schema's length.
_TEXT_CONTROL = re.compile("[\x00-\x1f\x7f]")
_LIMITS = {"name": 256, "date_format": 256, "timezone": 256, "dataset": 4096, "expression": 4096}


def _unfit_text(entry: Mapping[str, Any]) -> str | None:
    table = entry["table"]
    schema, _, name = table.partition(".")
    if not schema.strip() or not name.strip() or "." in name:
        return f"its table {quoted(table)} is not schema.table, which a manifest declares"
    if len(set(entry.get("columns", ()))) < len(entry.get("columns", ())):
        return "its source connection lists a column twice"
    if len(entry.get("description", "")) > 4096:
        return "its description is longer than 4096 characters"
    for key, text in _named_texts({k: v for k, v in entry.items() if k != "description"}):
        if not text.strip():
            return f"its {key} is empty, which a manifest cannot declare"
        if _TEXT_CONTROL.search(text):
            return f"its {key} holds a control character, which a manifest cannot declare"
        if len(text) > _LIMITS.get(key, 1024):
            return f"its {key} is longer than {_LIMITS.get(key, 1024)} characters"
    return None


def _named_texts(value: Any, key: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield key, value
    elif isinstance(value, dict):
        for inner, item in value.items():
            yield from _named_texts(item, inner)
    elif isinstance(value, list):
        for item in value:
            yield from _named_texts(item, key)


class _Unfit(Exception):
    """Why a field of the flow cannot be written in a manifest."""


def _dataset_name(dataset_id: str | None, listing: SandboxDataflows) -> str:
    """The dataset's name (_Unfit when a manifest cannot name it)."""
    found = [d for d in listing.datasets if d.id == dataset_id]
    if not found:
        raise _Unfit(
            f"its target writes to dataset {quoted(dataset_id or 'none')}, which the Catalog "
            "does not list (deleted or expired); a manifest names an existing dataset"
        )
    name = found[0].name
    same = [d.id for d in listing.datasets if d.name == name]
    if len(same) > 1:
        raise _Unfit(
            f"its dataset's name {quoted(name)} is shared by {len(same)} datasets "
            f"({', '.join(same)}); a manifest names a dataset by a name only it has"
        )
    return name


def _schedule(params: Mapping[str, str]) -> dict[str, Any]:
    """`scheduleParams` (strings on a GET) as the manifest's `schedule` (_Unfit if not)."""
    frequency = str(params.get("frequency", "")).lower()
    if frequency not in FREQUENCIES:
        raise _Unfit(
            f"its schedule's frequency {_shown(params, 'frequency')} is not one of {FREQUENCIES}"
        )
    schedule: dict[str, Any] = {"frequency": frequency}
    if frequency != "once":
        try:
            interval = int(str(params.get("interval")))
        except ValueError:
            raise _Unfit(
                f"its schedule's interval {_shown(params, 'interval')} is not a number"
            ) from None
        if interval < (15 if frequency == "minute" else 1):
            raise _Unfit(f"its schedule's interval {interval} is below what a manifest allows")
        schedule["interval"] = interval
    if params.get("startTime") is not None:
        try:
            start = datetime.fromtimestamp(int(str(params["startTime"])), UTC)
        except (ValueError, OverflowError, OSError):
            raise _Unfit(
                f"its schedule's startTime {_shown(params, 'startTime')} is not epoch seconds"
            ) from None
        schedule["start"] = start.strftime("%Y-%m-%dT%H:%M:%SZ")
    backfill = str(params.get("backfill", "")).lower()
    if frequency != "once" and backfill in ("true", "false"):
        schedule["backfill"] = backfill == "true"
    return schedule


def _shown(params: Mapping[str, str], key: str) -> str:
    value = params.get(key)
    return "none" if value is None else quoted(str(value)[:80])


def texts(value: Any) -> Iterator[str]:
    """Every string an entry holds (the import's template hole must be none of their
    characters)."""
    return (text for _, text in _named_texts(value))


def map_texts(value: Any, change: Callable[[str], str]) -> Any:
    """The entry with `change` applied to each of its strings (keys stay as they are):
    the import hollows and templates a dataflow's texts as a connection's."""
    if isinstance(value, str):
        return change(value)
    if isinstance(value, dict):
        return {key: map_texts(item, change) for key, item in value.items()}
    if isinstance(value, list):
        return [map_texts(item, change) for item in value]
    return value
