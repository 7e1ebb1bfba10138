"""Read the remote state: every sandbox in scope listed concurrently, every page followed."""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

from provisioner.client import FlowServiceClient
from provisioner.errors import ApiError
from provisioner.model import POSTGRES_SPEC_ID, RemoteConnection
from provisioner.plan import ListingFailed, SandboxKey


def list_sandbox(
    client: FlowServiceClient, key: SandboxKey
) -> list[RemoteConnection] | ListingFailed:
    org, sandbox = key
    try:
        return client.list_connections(org, sandbox, spec_id=POSTGRES_SPEC_ID)
    except ApiError as error:
        return ListingFailed(str(error))


def observe(
    client: FlowServiceClient, keys: Iterable[SandboxKey], parallelism: int
) -> dict[SandboxKey, list[RemoteConnection] | ListingFailed]:
    """Each sandbox's PostgreSQL connections; a sandbox that cannot be read is marked so."""
    ordered = list(dict.fromkeys(keys))
    with ThreadPoolExecutor(max_workers=max(1, parallelism)) as pool:
        results = list(pool.map(lambda key: list_sandbox(client, key), ordered))
    return dict(zip(ordered, results, strict=True))
