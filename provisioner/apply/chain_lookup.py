"""Looking before creating again: after a create whose answer was lost, the part it may have
made is found by listing, never by sending the POST again.

A source connection is found by its base connection, table and name, a target by its name
and dataset, a flow by its name, base connection and our own source; a part some flow
already uses is never taken (it is another chain's, maybe a concurrent run's).
"""

from __future__ import annotations

from provisioner.dataflow import FLOW_SPEC_ID, DesiredDataflow
from provisioner.remote.service import FlowService


def referenced(client: FlowService, org: str, sandbox: str) -> set[str]:
    flows = client.list_flows(org, sandbox)
    return {i for f in flows for i in (*f.source_connection_ids, *f.target_connection_ids)}


def unused_source(
    client: FlowService, desired: DesiredDataflow, base_id: str, spec_id: str
) -> str | None:
    org, sandbox = desired.org, desired.sandbox
    used = referenced(client, org, sandbox)
    for source in client.list_source_connections(org, sandbox, spec_id=spec_id):
        if (
            source.id not in used
            and source.name == desired.source_name
            and source.base_connection_id == base_id
            and source.table == desired.table
        ):
            return source.id
    return None


def unused_target(client: FlowService, desired: DesiredDataflow, dataset_id: str) -> str | None:
    used = referenced(client, desired.org, desired.sandbox)
    for target in client.list_target_connections(desired.org, desired.sandbox):
        if (
            target.id not in used
            and target.name == desired.target_name
            and target.dataset_id == dataset_id
        ):
            return target.id
    return None


def flow_of(
    client: FlowService, desired: DesiredDataflow, base_id: str, source_id: str
) -> str | None:
    # Adopt only a flow built on our own source: the name alone is anyone's.
    for flow in client.list_flows(desired.org, desired.sandbox):
        if (
            flow.name == desired.name
            and flow.spec_id == FLOW_SPEC_ID
            and flow.base_connection_id == base_id
            and source_id in flow.source_connection_ids
        ):
            return flow.id
    return None
