"""A run against the API, shared by plan, apply, verify and import.

`open_session` reads the endpoints from the environment and gives a `Session` whose client
is a router (remote/routing.py) that sends each call through its org's own client, so
everything below sees one `FlowService`. `Session.plan` is the one road from manifests to a
Plan: check the credentials per org, list the sandboxes, plan; the orgs whose credential was
refused travel in the Plan (`Plan.refused`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from provisioner import DEFAULT_PARALLELISM
from provisioner.commands import Manifests
from provisioner.dataflow import SandboxDataflows
from provisioner.errors import UsageError
from provisioner.manifests.selection import RemoteOptions
from provisioner.model import DesiredConnection, Identity, PruneRule
from provisioner.plan.dataflow_make import plan_dataflows
from provisioner.plan.make import (
    CREATE_ONLY,
    Observed,
    Plan,
    PlanOptions,
    SandboxKey,
    Usage,
    make_plan,
)
from provisioner.plan.observe import observe, observe_usage
from provisioner.plan.observe_dataflows import observe_dataflows
from provisioner.remote.client import Endpoints, FlowServiceClient, build_http_client
from provisioner.remote.client.notices import Notices
from provisioner.remote.routing import OrgClients, OrgPacers
from provisioner.remote.service import FlowService

if TYPE_CHECKING:
    from provisioner.dataflow import DataflowIdentity, DesiredDataflow

__all__ = [
    "DEFAULT_PARALLELISM",
    "RemoteOptions",
    "Session",
    "open_session",
    "plan_for",
    "unclaimed_prune",
]


def endpoints_from(environ: Mapping[str, str]) -> Endpoints:
    endpoints = Endpoints(
        ims_url=environ.get("AEP_IMS_URL") or Endpoints.ims_url,
        platform_url=environ.get("AEP_PLATFORM_URL") or Endpoints.platform_url,
    )
    for name, url in (
        ("AEP_IMS_URL", endpoints.ims_url),
        ("AEP_PLATFORM_URL", endpoints.platform_url),
    ):
        if not url.startswith(("https://", "http://")):
            raise UsageError(f"{name}={url!r} is not an http(s) URL")
    return endpoints


@dataclass(frozen=True)
class Session:
    client: FlowService
    options: RemoteOptions
    notices: Notices | None = None  # what a slow run waits for, on stderr (None: -q)
    clock: Callable[[], float] = time.time  # when a dataflow's start has passed

    def plan(
        self,
        manifests: Manifests,
        lifecycle: PlanOptions = CREATE_ONLY,
        connection_globs: Sequence[str] = (),
    ) -> Plan:
        """The plan for the loaded manifests (`lifecycle`: what may change besides creates)."""
        made = plan_for(
            self.client,
            manifests.desired,
            self.options.parallelism,
            manifests.managed,
            options=lifecycle,
            rules=manifests.rules,
            connection_globs=connection_globs,
            notices=self.notices,
            dataflows=manifests.dataflows,
            managed_dataflows=manifests.managed_dataflows,
            now_s=int(self.clock()),
        )
        return replace(made, reading=manifests.reading)

    def observe(self, keys: Sequence[SandboxKey], named_by: str) -> Observed:
        """The listing of each (org, sandbox), or why it failed (`named_by`: what chose the
        sandboxes, said when one does not exist)."""
        return observe(self.client, keys, self.options.parallelism, self.notices, named_by)


@contextmanager
def open_session(
    environ: Mapping[str, str], options: RemoteOptions, notices: Notices | None = None
) -> Iterator[Session]:
    # A client per org, each with its own credential (remote/orgs.py), made when the
    # credential check sees the orgs; missing credentials are listed before any request.
    endpoints = endpoints_from(environ)
    with build_http_client(options.timeout, parallelism=options.parallelism) as http:
        # --parallelism is the ceiling; each org's pacer finds the rate the gateway allows
        # that org below it (OrgPacers): one org's 429s do not slow another.
        pacers = OrgPacers()
        router = OrgClients(
            environ,
            lambda each: FlowServiceClient(
                http, each, endpoints, pacer=pacers.new(), notices=notices
            ),
            pacers,
        )
        yield Session(router, options, notices)


def unclaimed_prune(manifests: Manifests, lifecycle: PlanOptions) -> str | None:
    """What to say when --prune can delete nothing because no manifest claims anything: a
    flag that silently does nothing reads as "nothing to prune"."""
    if not lifecycle.prune or manifests.rules:
        return None
    return (
        "--prune: no manifest has a prune: claim in the selected sandboxes, so nothing can be "
        "deleted; add `prune: {names: [GLOB]}` to a manifest to claim what it may delete "
        "(docs/lifecycle.md)"
    )


def plan_for(
    client: FlowService,
    desired: Sequence[DesiredConnection],
    parallelism: int,
    managed: Collection[Identity] = (),
    *,
    options: PlanOptions = CREATE_ONLY,
    rules: Sequence[PruneRule] = (),
    connection_globs: Sequence[str] = (),
    notices: Notices | None = None,
    dataflows: Sequence[DesiredDataflow] = (),
    managed_dataflows: Collection[DataflowIdentity] = (),
    now_s: int = 0,
) -> Plan:
    # Refused credentials are one line for the run, not the same error once per sandbox.
    refused = client.check_credentials(desired)
    keys = [(c.org, c.sandbox) for c in desired]
    if options.prune:
        keys += [(r.org, r.sandbox) for r in rules]
    observed = observe(client, keys, parallelism, notices)
    # Dataflows are read where the manifests declare some, and with --prune where a claim
    # may delete some: a run without either makes no dataflow request at all.
    declared: dict[SandboxKey, set[str]] = {}
    for wanted in dataflows:
        declared.setdefault((wanted.org, wanted.sandbox), set()).add(wanted.name)
    flow_keys = [*declared, *((r.org, r.sandbox) for r in rules if options.prune)]
    flows = observe_dataflows(client, flow_keys, declared, parallelism, notices)

    def plan(usage: Usage | None = None) -> Plan:
        made = make_plan(
            desired,
            observed,
            managed,
            options=options,
            rules=rules,
            connection_globs=connection_globs,
            usage=usage,
        )
        if flow_keys:
            made = plan_dataflows(
                made,
                dataflows,
                flows,
                observed,
                now_s=now_s,
                managed=managed_dataflows,
                rules=rules,
                connection_globs=connection_globs,
            )
        return replace(made, refused=refused)

    first = plan()
    # Where something would be deleted: which dataflows still read through it, from the
    # dataflow listing where there is one, else from a listing made for that alone.
    listed = {key for key, found in flows.items() if isinstance(found, SandboxDataflows)}
    unread = {d.key for d in first.deletions} - listed
    if not unread:
        return first
    return plan(observe_usage(client, unread, parallelism))
