"""Change a dataflow in place, and retire the old flow a RECREATE replaces.

In place is what Adobe's update guide allows: one PATCH of the flow with the plan's etag
(name, description, schedule), a new mapping-set version (PUT, the whole set) pointed at by
replacing the Mapping transformation at the index the flow's own GET gave, and the flow's
enable/disable action after its state was read. A 412 means someone changed the flow since
the plan: it is read again, and the operations that still differ from it are sent once more
against the new etag (none left: it was found up to date); a second 412 is an error.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from provisioner import escape
from provisioner.apply.breaker import server_cause
from provisioner.apply.chain_bodies import mapping_body, mapping_entry
from provisioner.apply.chain_result import DataflowOutcome, DataflowStatus
from provisioner.apply.flow_state import Waiting, set_enabled
from provisioner.dataflow import RemoteFlow
from provisioner.errors import ApiError
from provisioner.plan.dataflow_prune import REPLACED_SUFFIX
from provisioner.plan.dataflows import PlannedDataflow
from provisioner.plan.diff import PatchOp
from provisioner.remote.service import FlowService


def update_dataflow(
    client: FlowService, planned: PlannedDataflow, waiting: Waiting
) -> DataflowOutcome:
    desired = planned.desired
    assert planned.chain is not None, "an UPDATE names the flow it changes"
    flow = planned.chain.flow
    org, sandbox = desired.org, desired.sandbox

    def outcome(
        status: DataflowStatus, message: str | None = None, cause: str | None = None
    ) -> DataflowOutcome:
        return DataflowOutcome(
            org, sandbox, desired.name, status, flow_id=flow.id, message=message, cause=cause
        )

    ops = list(planned.flow_ops)
    try:
        if planned.new_mapping:
            ops.append(_new_mapping(client, planned, flow))
        sent = _patch(client, planned, flow, ops) if ops else False
        toggled = False
        if planned.toggle is not None:
            toggled = set_enabled(
                client, org, sandbox, flow.id, planned.toggle, name=desired.name, waiting=waiting
            )
    except ApiError as error:
        return outcome(DataflowStatus.FAILED, str(error), server_cause(error))
    return outcome(DataflowStatus.UPDATED if sent or toggled else DataflowStatus.CURRENT)


def _new_mapping(client: FlowService, planned: PlannedDataflow, flow: RemoteFlow) -> PatchOp:
    """PUT the mapping set (a new version), and the flow op that points at that version."""
    desired = planned.desired
    chain = planned.chain
    schema_id = (chain.mapping.schema_id if chain and chain.mapping else None) or (
        planned.dataset.schema_id if planned.dataset else None
    )
    if flow.mapping_id is None or flow.mapping_index is None or schema_id is None:
        raise ApiError(
            f"dataflow {escape.quoted(desired.name)} in sandbox {escape.quoted(desired.sandbox)}"
            ": its flow names no mapping set whose schema is known; re-run plan, or replace it "
            "with --replace-dataflows"
        )
    made = client.update_mapping_set(
        desired.org,
        desired.sandbox,
        flow.mapping_id,
        mapping_body(desired, schema_id),
        name=desired.name,
    )
    return {
        "op": "replace",
        "path": f"/transformations/{flow.mapping_index}",
        "value": mapping_entry(made.id, made.version),
    }


def _patch(
    client: FlowService, planned: PlannedDataflow, flow: RemoteFlow, ops: Sequence[PatchOp]
) -> bool:
    """Whether a PATCH was sent (False: someone else's change had made it already)."""
    desired = planned.desired
    org, sandbox = desired.org, desired.sandbox
    for attempt in (1, 2):
        try:
            client.update_flow(org, sandbox, flow.id, ops, etag=flow.etag, name=desired.name)
            return True
        except ApiError as error:
            if error.status != 412:
                raise
            if attempt == 2:
                raise ApiError(
                    f"flow {escape.quoted(flow.name)} in sandbox {escape.quoted(sandbox)} "
                    "changed again while it was being updated (412 twice); re-run apply to "
                    "plan it afresh"
                ) from None
        # Someone changed it since the plan: read it again and decide again, once.
        fresh = client.get_flow(org, sandbox, flow.id)
        if (fresh.name, fresh.source_connection_ids, fresh.mapping_index) != (
            flow.name,
            flow.source_connection_ids,
            flow.mapping_index,
        ):
            raise ApiError(
                f"flow {escape.quoted(flow.name)} in sandbox {escape.quoted(sandbox)} was "
                "changed by someone else while it was being updated; re-run apply to plan it "
                "afresh"
            )
        ops = [op for op in ops if not _holds(op, fresh)]
        if not ops:
            return False
        flow = fresh
    raise AssertionError("unreachable")


def _holds(op: PatchOp, flow: RemoteFlow) -> bool:
    """Whether a flow read afresh already shows what this operation would write."""
    path, value = str(op.get("path", "")), op.get("value")
    if path == "/name":
        return flow.name == value
    if path == "/description":
        return flow.description == value
    if path.startswith("/scheduleParams/"):
        key = path.removeprefix("/scheduleParams/")
        return flow.schedule.get(key) == _as_sent(value)
    if path == f"/transformations/{flow.mapping_index}" and isinstance(value, dict):
        params: dict[str, Any] = value.get("params") or {}
        return (flow.mapping_id, flow.mapping_version) == (
            params.get("mappingId"),
            str(params.get("mappingVersion")),
        )
    return False


def _as_sent(value: object) -> str:
    # A GET shows every scheduleParams value as a string [reference 3.4].
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def retire(client: FlowService, planned: PlannedDataflow, waiting: Waiting) -> None:
    """RECREATE's first step: rename the old flow `<name> (replaced)`, so the new one takes
    the name and a later plan finds the old chain to delete, then disable it. ApiError when
    it cannot be done: the old chain then stays as it was."""
    desired = planned.desired
    assert planned.chain is not None, "a RECREATE names the flow it replaces"
    flow = planned.chain.flow
    renamed = desired.name + REPLACED_SUFFIX
    rename = [{"op": "replace", "path": "/name", "value": renamed}]
    _patch(client, planned, flow, rename)
    set_enabled(
        client,
        desired.org,
        desired.sandbox,
        flow.id,
        "disable",
        name=renamed,
        waiting=waiting,
    )
