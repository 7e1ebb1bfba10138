"""Read the remote state: every sandbox in scope listed concurrently, every page followed."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from provisioner import connectors
from provisioner.errors import ApiError
from provisioner.model import RemoteConnection
from provisioner.plan.make import ListingFailed, SandboxKey, Usage
from provisioner.remote.client.notices import Notices
from provisioner.remote.service import FlowService

log = logging.getLogger("provisioner.observe")


# The Flow Service's answer for an x-sandbox-name the org does not have.
SANDBOX_NOT_FOUND = "2100-404"
MANIFESTS = "the manifests' sandboxes"


def list_sandbox(
    client: FlowService, key: SandboxKey, in_run: Sequence[str] = (), named_by: str = MANIFESTS
) -> list[RemoteConnection] | ListingFailed:
    """`in_run`: the run's sandbox names in that org, said when this one does not exist, as
    what `named_by` names (the manifests, or import's --sandbox)."""
    org, sandbox = key
    try:
        return [
            item
            for connector in connectors.ALL
            for item in client.list_connections(org, sandbox, spec_id=connector.spec_id)
        ]
    except ApiError as error:
        if error.status == 404 and SANDBOX_NOT_FOUND in error.code:
            # A typo in a sandbox name is the usual cause: say so plainly, not with the
            # percent-encoded listing URL the API error names.
            return ListingFailed(
                f"sandbox {sandbox} does not exist in org {org} (the API answered 404 "
                f"{error.code}); {named_by} in this org: {', '.join(in_run)}. Correct the "
                "name, or create the sandbox in AEP first"
            )
        return ListingFailed(str(error))


def observe(
    client: FlowService,
    keys: Iterable[SandboxKey],
    parallelism: int,
    notices: Notices | None = None,
    named_by: str = MANIFESTS,
) -> dict[SandboxKey, list[RemoteConnection] | ListingFailed]:
    """Each sandbox's connections (every connector's); a sandbox that cannot be read is
    marked so. A listing that takes a while says how far it has got (``notices``)."""
    ordered = list(dict.fromkeys(keys))
    read = _Tally(len(ordered), notices)
    names = {org: sorted({s for o, s in ordered if o == org}) for org, _ in ordered}

    def listed(key: SandboxKey) -> list[RemoteConnection] | ListingFailed:
        found = list_sandbox(client, key, names[key[0]], named_by)
        read.add(0 if isinstance(found, ListingFailed) else len(found))
        return found

    listings = each(listed, ordered, parallelism, notices)
    return dict(zip(ordered, listings, strict=True))


T = TypeVar("T")
R = TypeVar("R")


def each(
    work: Callable[[T], R],
    items: Sequence[T],
    parallelism: int,
    notices: Notices | None = None,
) -> list[R]:
    """``work`` on every item, concurrently. Interrupted (Ctrl-C, SIGTERM), the listings
    not yet started are dropped at once, not waited for (a pool's ``with`` would run them
    all), and the wait for those in flight is said before it starts."""
    pool = ThreadPoolExecutor(max_workers=max(1, parallelism))
    futures = [pool.submit(work, item) for item in items]
    try:
        return [future.result() for future in futures]
    except KeyboardInterrupt:
        pool.shutdown(wait=False, cancel_futures=True)
        running = sum(1 for future in futures if future.running())
        if running and notices is not None:
            noun = "listing" if running == 1 else "listings"
            notices.write(f"Stopping: waiting for the {running} {noun} in flight")
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


class _Tally:
    """Sandboxes listed so far, for the progress line of a long listing."""

    def __init__(self, total: int, notices: Notices | None) -> None:
        self._total, self._notices = total, notices
        self._since = notices.now() if notices is not None else 0.0
        self._lock = threading.Lock()
        self._sandboxes = self._connections = 0

    def add(self, connections: int) -> None:
        if self._notices is None or self._total < 2:
            return  # one sandbox: its pages say how far they have got
        with self._lock:
            self._sandboxes += 1
            self._connections += connections
            text = (
                f"listing sandboxes: {self._sandboxes}/{self._total} read, "
                f"{self._connections} connection(s) so far"
            )
        self._notices.progress("listing sandboxes", text, since=self._since)


def dataflow_users(client: FlowService, key: SandboxKey) -> dict[str, tuple[str, ...]]:
    """Base connection id -> names of the dataflows reading through it (empty when the
    sandbox's dataflows cannot be listed: the delete itself will tell)."""
    org, sandbox = key
    try:
        flows = client.list_flows(org, sandbox)
        # A flow names its base connection (inheritedAttributes); its source connections
        # are the way for one that does not.
        unnamed = any(flow.base_connection_id is None for flow in flows)
        sources = [
            source
            for connector in (connectors.ALL if unnamed else ())
            for source in client.list_source_connections(org, sandbox, spec_id=connector.spec_id)
        ]
    except ApiError as error:
        log.warning("could not list dataflows in sandbox %s: %s", sandbox, error)
        return {}
    base_of = {s.id: s.base_connection_id for s in sources}
    users: dict[str, list[str]] = {}
    for flow in flows:
        bases = {flow.base_connection_id} | {base_of.get(s) for s in flow.source_connection_ids}
        for base in bases - {None}:
            users.setdefault(str(base), []).append(flow.name)
    return {base: tuple(sorted(names)) for base, names in users.items()}


def observe_usage(client: FlowService, keys: Iterable[SandboxKey], parallelism: int) -> Usage:
    ordered = list(dict.fromkeys(keys))
    results = each(lambda key: dataflow_users(client, key), ordered, parallelism)
    return dict(zip(ordered, results, strict=True))
