"""`provision import`, dataflows: read what the imported connections' flows are made of.

Per sandbox, by list pages only: the flows first, and only where one of them reads through
an imported connection, its source connections (per connector spec), target connections,
mapping sets and Catalog datasets; the one extra GET is a mapping set at a version other
than the listed one. A sandbox that cannot be read refuses the whole import, as a failed
connection listing does: half an import would read as "these are all".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from provisioner.dataflow import FLOW_SPEC_ID, SandboxDataflows
from provisioner.errors import ApiError
from provisioner.manifests.from_remote_dataflows import (
    adopt_dataflows,
    mapping_keys,
    missing_versions,
)
from provisioner.model import RemoteConnection
from provisioner.remote.service import FlowService

Adopted = dict[tuple[str, str], list[dict[str, Any]]]  # (sandbox, connection id) -> entries


def adopted_dataflows(
    client: FlowService,
    org: str,
    remote: Mapping[str, Sequence[RemoteConnection]],
    parallelism: int,
) -> tuple[Adopted, list[str]]:
    """The `dataflows:` entries of each imported connection, and the flows left out (why)."""
    sandboxes = [s for s, items in remote.items() if items]

    def one(sandbox: str) -> tuple[Adopted, list[str]]:
        return _sandbox(client, org, sandbox, remote[sandbox])

    with ThreadPoolExecutor(max_workers=max(1, min(parallelism, len(sandboxes) or 1))) as pool:
        answers = list(pool.map(one, sandboxes))
    adopted: Adopted = {}
    skipped: list[str] = []
    for entries, reasons in answers:
        adopted.update(entries)
        skipped += reasons
    return adopted, skipped


def _sandbox(
    client: FlowService, org: str, sandbox: str, connections: Sequence[RemoteConnection]
) -> tuple[Adopted, list[str]]:
    ids = {c.id for c in connections}
    try:
        flows = [f for f in client.list_flows(org, sandbox) if f.base_connection_id in ids]
        if not flows:
            return {}, []
        specs = sorted({c.spec_id for c in connections if c.spec_id})
        listing = SandboxDataflows(
            flows=tuple(flows),
            sources=tuple(
                s
                for spec in specs
                for s in client.list_source_connections(org, sandbox, spec_id=spec)
            ),
            targets=tuple(client.list_target_connections(org, sandbox)),
            mapping_sets={m.id: m for m in client.list_mapping_sets(org, sandbox)},
            datasets=tuple(client.list_datasets(org, sandbox))
            if any(f.spec_id == FLOW_SPEC_ID for f in flows)
            else (),
        )
        mappings = mapping_keys(listing)
        for mapping_id, version in missing_versions(listing, ids):
            mappings[(mapping_id, version)] = client.get_mapping_set(
                org, sandbox, mapping_id, version=version
            )
    except ApiError as error:
        raise ApiError(f"{str(error).rstrip('.')}; nothing was written") from None
    entries, skipped = adopt_dataflows(connections, sandbox, listing, mappings)
    return {(sandbox, cid): flows for cid, flows in entries.items()}, skipped
