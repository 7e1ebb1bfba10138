"""The dataflow parts of the JSON plan (and of a saved plan): each declared dataflow under
its connection's entry, the chains apply deletes, and what plan found but leaves alone.

A saved plan's staleness check (plan/planfile_dataflows.py) reads back each flow's id, etag
and owner mark from here: a flow changed since the review is refused, never acted on.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from provisioner import ownermark
from provisioner.dataflow import RemoteFlow
from provisioner.plan.dataflow_prune import LeftAlone
from provisioner.plan.dataflows import Leftover, PlannedChainDeletion, PlannedDataflow
from provisioner.plan.make import Action, Plan


def flow_record(flow: RemoteFlow) -> dict[str, Any]:
    return {
        "id": flow.id,
        "name": flow.name,
        "etag": flow.etag,
        "state": flow.state,
        "owner": ownermark.owner_of(flow.description),
        "createdAt": flow.created_at,
    }


def _leftover(part: Leftover) -> dict[str, Any]:
    return {"kind": part.kind, "id": part.id, "name": part.name, "etag": part.etag}


def dataflow_entry(entry: PlannedDataflow) -> dict[str, Any]:
    d = entry.desired
    schedule = d.schedule
    document: dict[str, Any] = {
        "action": entry.action.value,
        "org": d.org,
        "sandbox": d.sandbox,
        "connection": d.connection,
        "table": d.table,
        "name": d.name,
        "source": f"{d.source.file}:{d.source.line}",
        "owner": d.owner,
        "dataset": {"name": d.dataset, "id": entry.dataset.id if entry.dataset else None},
        "schedule": {
            "frequency": schedule.frequency,
            "interval": schedule.interval,
            "start": schedule.start,
            "backfill": schedule.backfill,
        },
        "enabled": d.enabled,
        "base_connection_id": entry.base_connection_id,
        "flow": flow_record(entry.chain.flow) if entry.chain else None,
        "drift": [
            {"field": x.field, "desired": x.desired, "observed": x.observed} for x in entry.drift
        ],
    }
    if entry.matches:
        document["matches"] = [flow_record(f) for f in entry.matches]
    if entry.action is Action.UPDATE:
        document["patch"] = list(entry.flow_ops)
        document["new_mapping"] = entry.new_mapping
        document["toggle"] = entry.toggle
    if entry.reuse or entry.discard:
        document["reuse"] = [_leftover(p) for p in entry.reuse]
        document["discard"] = [_leftover(p) for p in entry.discard]
    if entry.reason:
        document["reason"] = entry.reason
    return document


def chain_deletion(deletion: PlannedChainDeletion) -> dict[str, Any]:
    return {
        "action": "delete",
        "why": deletion.why,
        "org": deletion.org,
        "sandbox": deletion.sandbox,
        "connection": deletion.connection,
        "flow": flow_record(deletion.flow),
        "source_ids": list(deletion.source_ids),
        "target_ids": list(deletion.target_ids),
        "mapping_id": deletion.mapping_id,
        "owner": deletion.owner,
        "pattern": deletion.pattern,
    }


def left_alone(alone: LeftAlone) -> dict[str, Any]:
    return {
        "org": alone.org,
        "sandbox": alone.sandbox,
        "connection": alone.connection,
        "kind": alone.kind,
        "id": alone.id,
        "name": alone.name,
        "owner": alone.mark,
        "why": alone.why,
    }


def summary_counts(plan: Plan) -> dict[str, int]:
    """Flat counts for the summary object (its values are integers): dataflows_<action>."""
    counts = Counter(d.action for d in plan.dataflows)
    found = {f"dataflows_{action.value}": n for action, n in sorted(counts.items())}
    return {
        "dataflows_add": counts[Action.CREATE],
        **found,
        "dataflows_delete": len(plan.chain_deletions),
    }


def add_dataflows(document: dict[str, Any], plan: Plan) -> None:
    """Put the plan's dataflows into its JSON document; one without any stays as it was."""
    if not (plan.dataflows or plan.chain_deletions or plan.dataflows_left_alone):
        return
    # Each dataflow is declared under its connection, so that connection has an entry.
    under: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for entry in plan.dataflows:
        d = entry.desired
        under.setdefault((d.org, d.sandbox, d.connection), []).append(dataflow_entry(entry))
    for connection in document["connections"]:
        key = (connection["org"], connection["sandbox"], connection["name"])
        connection["dataflows"] = under.get(key, [])
    document["summary"].update(summary_counts(plan))
    document["dataflow_deletions"] = [chain_deletion(c) for c in plan.chain_deletions]
    document["dataflows_left_alone"] = [left_alone(a) for a in plan.dataflows_left_alone]
