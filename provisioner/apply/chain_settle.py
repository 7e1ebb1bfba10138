"""Converging concurrent applies of one dataflow: one flow per identity in the end.

Flow names are not unique and the API has no lock, so two applies can both plan a CREATE and
both make a chain. After its flow exists, each apply lists the sandbox's flows again;
wherever several flows of this owner answer to the dataflow (its name, the database flow
spec, its base connection), every process agrees on one winner by the rule connections use
(apply/settle.py: the oldest `createdAt`, then the smallest id), and the loser deletes its own
chain: its flow, then the target and source connections no remaining flow uses. Its mapping
set stays (Adobe documents no delete) and is reported as left behind.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence

from provisioner import ownermark
from provisioner.apply.chain_result import DataflowOutcome, DataflowStatus
from provisioner.dataflow import FLOW_SPEC_ID, DesiredDataflow, RemoteFlow
from provisioner.errors import ApiError
from provisioner.remote.service import FlowService

log = logging.getLogger("provisioner.apply")


def winner(flows: Sequence[RemoteFlow]) -> RemoteFlow:
    # A missing createdAt sorts last: such a record cannot claim to be the oldest.
    return min(flows, key=lambda f: (f.created_at is None, f.created_at or 0, f.id))


def answering(
    flows: Sequence[RemoteFlow], desired: DesiredDataflow, base_id: str
) -> list[RemoteFlow]:
    """The flows of this owner that answer to the dataflow's identity."""
    return [
        f
        for f in flows
        if f.name == desired.name
        and f.spec_id == FLOW_SPEC_ID
        and f.base_connection_id == base_id
        and ownermark.owner_of(f.description) == desired.owner
    ]


def settle_created(
    client: FlowService,
    desired: DesiredDataflow,
    base_id: str,
    flow_id: str,
) -> DataflowOutcome | None:
    """None when this run's flow stays; otherwise the outcome of yielding to an older one.
    The caller passes only a flow this run made (its create answered, or it references a
    source this run made): another run's chain is never deleted here."""
    org, sandbox = desired.org, desired.sandbox
    try:
        # Only flows of its name can be duplicates, or share the parts of its chain (a
        # leftover is reused by the dataflow of its name only): one page, not the sandbox.
        flows = client.list_flows(org, sandbox, name=desired.name)
    except ApiError as error:
        log.warning(
            "could not check dataflow %r for a concurrent duplicate: %s", desired.name, error
        )
        return None
    same = answering(flows, desired, base_id)
    mine = next((f for f in same if f.id == flow_id), None)
    if mine is None or len(same) < 2 or winner(same).id == flow_id:
        return None
    # Parts still used by another flow (a leftover both runs reused) stay with it.
    used = {
        part
        for f in flows
        if f.id != flow_id
        for part in (*f.source_connection_ids, *f.target_connection_ids)
    }
    left = (mine.mapping_id,) if mine.mapping_id else ()
    try:
        client.delete_flow(org, sandbox, flow_id, name=desired.name)
        for target in mine.target_connection_ids:
            if target not in used:
                client.delete_target_connection(org, sandbox, target, name=desired.target_name)
        for source in mine.source_connection_ids:
            if source not in used:
                client.delete_source_connection(org, sandbox, source, name=desired.source_name)
    except ApiError as error:
        message = (
            f"created flow {flow_id}, a duplicate of the older {winner(same).id}, and could "
            f"not delete its chain ({error}); delete that flow by hand"
        )
        return DataflowOutcome(
            org, sandbox, desired.name, DataflowStatus.FAILED, flow_id=flow_id, message=message
        )
    return DataflowOutcome(
        org,
        sandbox,
        desired.name,
        DataflowStatus.YIELDED,
        flow_id=winner(same).id,
        left_behind=left,
    )


def built_on_by_another(
    client: FlowService,
    desired: DesiredDataflow,
    base_id: str,
    source_id: str,
    target_id: str,
    ours: Collection[str],
    mapping_id: str,
) -> DataflowOutcome | None:
    """After a refused flow create: whether another run's flow of this dataflow already
    stands on the leftover source or target both runs reused (Adobe lets a source and a
    target serve a single dataflow). Then this run yields, deleting the part it made itself;
    None when no such flow exists (the refusal was something else)."""
    org, sandbox = desired.org, desired.sandbox
    try:
        flows = client.list_flows(org, sandbox)
    except ApiError:
        return None
    theirs = [
        f
        for f in answering(flows, desired, base_id)
        if source_id in f.source_connection_ids or target_id in f.target_connection_ids
    ]
    if not theirs:
        return None
    used = {p for f in flows for p in (*f.source_connection_ids, *f.target_connection_ids)}
    try:
        if target_id in ours and target_id not in used:
            client.delete_target_connection(org, sandbox, target_id, name=desired.target_name)
        if source_id in ours and source_id not in used:
            client.delete_source_connection(org, sandbox, source_id, name=desired.source_name)
    except ApiError as error:
        log.warning("could not delete a part of a chain that lost a race: %s", error)
    return DataflowOutcome(
        org,
        sandbox,
        desired.name,
        DataflowStatus.YIELDED,
        flow_id=winner(theirs).id,
        left_behind=(mapping_id,),
    )
