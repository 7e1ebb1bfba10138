"""Delete a dataflow's chain in Adobe's order: flow, then target, then source connection.

A source or target connection a flow still uses cannot be deleted (FLOW-1447-400), so the
flow goes first. The flow is read once more before: a mark changed since the plan (another
owner adopted it, a person cleared it) withdraws the permission to delete, as for
connections. The mapping set stays, because Adobe documents no delete for it: its id is
reported as left behind. A part already gone (404) is what we wanted.
"""

from __future__ import annotations

from collections.abc import Callable

from provisioner import ownermark
from provisioner.apply.chain_result import DataflowOutcome, DataflowStatus
from provisioner.apply.flow_state import Waiting, settled
from provisioner.errors import ApiError
from provisioner.plan.dataflows import PlannedChainDeletion
from provisioner.remote.service import FlowService

IN_USE_CODE = "FLOW-1447-400"


def delete_chain(
    client: FlowService, deletion: PlannedChainDeletion, waiting: Waiting
) -> DataflowOutcome:
    org, sandbox, flow = deletion.org, deletion.sandbox, deletion.flow

    def outcome(status: DataflowStatus, message: str | None = None) -> DataflowOutcome:
        left = (deletion.mapping_id,) if deletion.mapping_id else ()
        gone = status is DataflowStatus.DELETED
        return DataflowOutcome(
            org,
            sandbox,
            flow.name,
            status,
            kind="deletion",
            flow_id=flow.id,
            message=message,
            left_behind=left if gone else (),
        )

    try:
        # A flow still disabling refuses a delete: wait it out, as for an action.
        fresh = settled(client, org, sandbox, flow.id, name=flow.name, waiting=waiting)
    except ApiError as error:
        if error.status != 404:
            return outcome(DataflowStatus.FAILED, str(error))
    else:
        mark = ownermark.owner_of(fresh.description)
        if mark != deletion.owner:
            return outcome(
                DataflowStatus.FAILED,
                f"not deleted: its owner mark changed since the plan ({ownermark.shown(mark)}, "
                f"was owner={deletion.owner}); it is no longer this owner's to delete",
            )
    parts: list[tuple[Callable[..., None], str]] = [(client.delete_flow, flow.id)]
    parts += [(client.delete_target_connection, i) for i in deletion.target_ids]
    parts += [(client.delete_source_connection, i) for i in deletion.source_ids]
    for delete, part_id in parts:
        try:
            delete(org, sandbox, part_id, name=flow.name)
        except ApiError as error:
            if error.status == 404:
                continue
            more = ""
            if error.code == IN_USE_CODE:
                more = " (another flow uses it: it stays with that flow)"
            return outcome(DataflowStatus.FAILED, f"{error}{more}; re-run apply to finish")
    return outcome(DataflowStatus.DELETED)
