"""Read the remote state: every sandbox in scope listed concurrently, every page followed."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

from provisioner import connectors
from provisioner.errors import ApiError
from provisioner.model import RemoteConnection
from provisioner.plan.make import ListingFailed, SandboxKey, Usage
from provisioner.remote.service import FlowService

log = logging.getLogger("provisioner.observe")


def list_sandbox(client: FlowService, key: SandboxKey) -> list[RemoteConnection] | ListingFailed:
    org, sandbox = key
    try:
        return [
            item
            for connector in connectors.ALL
            for item in client.list_connections(org, sandbox, spec_id=connector.spec_id)
        ]
    except ApiError as error:
        return ListingFailed(str(error))


def observe(
    client: FlowService, keys: Iterable[SandboxKey], parallelism: int
) -> dict[SandboxKey, list[RemoteConnection] | ListingFailed]:
    """Each sandbox's connections (every connector's); a sandbox that cannot be read is
    marked so."""
    ordered = list(dict.fromkeys(keys))
    with ThreadPoolExecutor(max_workers=max(1, parallelism)) as pool:
        results = list(pool.map(lambda key: list_sandbox(client, key), ordered))
    return dict(zip(ordered, results, strict=True))


def dataflow_users(client: FlowService, key: SandboxKey) -> dict[str, tuple[str, ...]]:
    """Base connection id -> names of the dataflows reading through it (empty when the
    sandbox's dataflows cannot be listed: the delete itself will tell)."""
    org, sandbox = key
    try:
        sources = client.list_source_connections(org, sandbox)
        flows = client.list_flows(org, sandbox)
    except ApiError as error:
        log.warning("could not list dataflows in sandbox %s: %s", sandbox, error)
        return {}
    base_of = {s.id: s.base_connection_id for s in sources}
    users: dict[str, list[str]] = {}
    for flow in flows:
        for base in {base_of.get(s) for s in flow.source_connection_ids} - {None}:
            users.setdefault(str(base), []).append(flow.name)
    return {base: tuple(sorted(names)) for base, names in users.items()}


def observe_usage(client: FlowService, keys: Iterable[SandboxKey], parallelism: int) -> Usage:
    ordered = list(dict.fromkeys(keys))
    with ThreadPoolExecutor(max_workers=max(1, parallelism)) as pool:
        results = list(pool.map(lambda key: dataflow_users(client, key), ordered))
    return dict(zip(ordered, results, strict=True))
