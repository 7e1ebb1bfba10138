"""The dataflow half of a saved plan: its digest, and why it is stale.

A saved plan is applied only while what it was reviewed against still holds: the same flow
answers to each dataflow (or still none), planned the same way, with the same etag where
apply writes to it, the same leftovers discarded, and exactly the reviewed chains deleted,
each still carrying the mark that allowed it. Anything else is refused before any write.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from provisioner import ownermark
from provisioner.dataflow import DesiredDataflow
from provisioner.plan.make import Action, Plan

_ETAG_CHECKED = (Action.UPDATE, Action.RECREATE)  # the entries apply writes to a flow for


def canonical(dataflows: Sequence[DesiredDataflow]) -> list[Any]:
    """The declared dataflows as sortable JSON data, for the manifests' digest."""
    return sorted(
        [
            list(d.identity),
            d.name,
            d.description,
            d.dataset,
            list(d.columns) if d.columns is not None else None,
            [d.incremental.column, d.incremental.date_format, d.incremental.timezone],
            [d.schedule.frequency, d.schedule.interval, d.schedule.start, d.schedule.backfill],
            sorted([r.kind, r.source, r.destination] for r in d.mapping),
            d.enabled,
            d.owner,
        ]
        for d in dataflows
    )


def dataflow_staleness(document: dict[str, Any], current: Plan) -> list[str]:
    reasons: list[str] = []
    now = {d.identity: d for d in current.dataflows}
    for connection in document.get("connections", []):
        for entry in connection.get("dataflows", []):
            identity = (entry["org"], entry["sandbox"], entry["connection"], entry["table"])
            present = now.get(identity)
            if present is None or present.action is Action.UNKNOWN:
                continue  # a manifest change (the digest says so), or unreadable now
            where = f"dataflow {entry['name']!r} in sandbox {entry['sandbox']!r}"
            reasons.extend(_entry_moved(where, entry, present))
    return reasons + _deletions_moved(document, current)


def _entry_moved(where: str, entry: dict[str, Any], present: Any) -> list[str]:
    before = (entry.get("flow") or {}).get("id")
    flow = present.chain.flow if present.chain else None
    after = flow.id if flow else None
    if before != after:
        if before is None:
            return [f"{where} had no flow and now has {after}"]
        if after is None:
            return [f"{where} had flow {before} and it is now gone"]
        return [f"{where} was flow {before} and is now {after}"]
    if entry["action"] != present.action.value:
        return [f"{where} was planned as {entry['action']} and would now be {present.action.value}"]
    if flow is not None and present.action in _ETAG_CHECKED:
        etag = entry["flow"].get("etag")
        if etag != flow.etag:
            return [f"{where} changed since the plan was made (etag {etag}, now {flow.etag})"]
    discarded = sorted(part["id"] for part in entry.get("discard", []))
    if discarded != sorted(part.id for part in present.discard):
        return [f"{where}: the leftovers it deletes changed since the plan was made"]
    return []


def _deletions_moved(document: dict[str, Any], current: Plan) -> list[str]:
    """Chain deletions must be exactly those reviewed: none added, none changed meanwhile."""
    planned = {d["flow"]["id"]: d for d in document.get("dataflow_deletions", [])}
    now = {c.flow.id: c for c in current.chain_deletions}
    alone = {a.id: a for a in current.dataflows_left_alone if a.kind == "flow"}
    reasons: list[str] = []
    for flow_id, entry in planned.items():
        reviewed = entry["flow"].get("owner")
        where = f"dataflow {entry['flow']['name']!r} ({flow_id}) in sandbox {entry['sandbox']!r}"
        deletion = now.get(flow_id)
        mark = (
            ownermark.owner_of(deletion.flow.description)
            if deletion
            else alone[flow_id].mark
            if flow_id in alone
            else reviewed
        )
        if mark != reviewed:
            reasons.append(
                f"{where}: its owner mark changed since the plan was made "
                f"({ownermark.shown(reviewed)}, now {ownermark.shown(mark)}); it is not deleted"
            )
        elif deletion is None:
            reasons.append(f"{where} was planned for deletion and no longer is")
        elif deletion.flow.etag != entry["flow"].get("etag"):
            reasons.append(
                f"{where} changed since the plan was made (etag {entry['flow'].get('etag')}, "
                f"now {deletion.flow.etag}); it is not deleted unseen"
            )
    for flow_id, deletion in now.items():
        if flow_id not in planned:
            reasons.append(
                f"dataflow {deletion.flow.name!r} ({flow_id}) in sandbox {deletion.sandbox!r} "
                "would now be deleted too, which the plan did not show"
            )
    return reasons
