"""Read what dataflows are made of, per sandbox, with list pages only.

Per sandbox: every flow, the source connections of each connector's spec, the data lake
target connections, the Data Prep mapping sets and the Catalog datasets, each listing every
page. A flow pinned to a mapping set version other than the one listed is the one extra GET
(and only for flows a manifest names): requests grow with pages, never one GET per flow
(the issue's scale rule). Sandboxes are read concurrently, as `observe` reads connections.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import replace

from provisioner import connectors
from provisioner.dataflow import FLOW_SPEC_ID, RemoteMappingSet, SandboxDataflows
from provisioner.errors import ApiError
from provisioner.plan.dataflow_make import ObservedDataflows
from provisioner.plan.make import ListingFailed, SandboxKey
from provisioner.plan.observe import each
from provisioner.remote.client.notices import Notices
from provisioner.remote.service import FlowService


def list_dataflows(
    client: FlowService, key: SandboxKey, declared: Collection[str] = ()
) -> SandboxDataflows | ListingFailed:
    """`declared`: the flow names the manifests declare in this sandbox; only their flows
    may need the extra read of a pinned mapping set version."""
    org, sandbox = key
    try:
        flows = client.list_flows(org, sandbox)
        sources = [
            item
            for connector in connectors.ALL
            for item in client.list_source_connections(org, sandbox, spec_id=connector.spec_id)
        ]
        targets = client.list_target_connections(org, sandbox)
        mapping_sets = {m.id: m for m in client.list_mapping_sets(org, sandbox)}
        datasets = client.list_datasets(org, sandbox)
        for flow in flows:
            listed = mapping_sets.get(flow.mapping_id or "")
            pinned = flow.mapping_version
            if (
                listed is None
                or pinned is None
                or pinned == listed.version
                or flow.spec_id != FLOW_SPEC_ID
                or flow.name not in declared
            ):
                continue
            mapping_sets[listed.id] = _pinned(client, key, listed, pinned)
    except ApiError as error:
        return ListingFailed(str(error))
    return SandboxDataflows(
        tuple(flows), tuple(sources), tuple(targets), mapping_sets, tuple(datasets)
    )


def _pinned(
    client: FlowService, key: SandboxKey, listed: RemoteMappingSet, version: str
) -> RemoteMappingSet:
    """The version the flow runs with. One Adobe no longer serves (a 404: old versions may
    not be kept) reads as no rules, so the plan writes the declared ones as a new version
    rather than trusting the listed version the flow does not use."""
    try:
        return client.get_mapping_set(*key, listed.id, version=version)
    except ApiError as error:
        if error.status != 404:
            raise
        return replace(listed, version=version, rules=())


def observe_dataflows(
    client: FlowService,
    keys: Iterable[SandboxKey],
    declared: Mapping[SandboxKey, Collection[str]],
    parallelism: int,
    notices: Notices | None = None,
) -> ObservedDataflows:
    """Each sandbox's dataflow listing, or why it failed; read concurrently."""
    ordered = list(dict.fromkeys(keys))
    found = each(
        lambda key: list_dataflows(client, key, declared.get(key, ())),
        ordered,
        parallelism,
        notices,
    )
    return dict(zip(ordered, found, strict=True))
