"""What plan and apply share: credentials from the environment, the client, the plan.

A run may span several IMS orgs: `connect` gives a router (provisioner/remote/routing.py) that
sends each call through its org's own client, so everything below sees one client.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager

from provisioner import DEFAULT_PARALLELISM
from provisioner.errors import UsageError
from provisioner.manifests.selection import RemoteOptions
from provisioner.model import DesiredConnection, Identity, PruneRule
from provisioner.plan.make import CREATE_ONLY, Plan, PlanOptions, Usage, make_plan
from provisioner.plan.observe import observe, observe_usage
from provisioner.remote.client import Endpoints, FlowServiceClient, Pacer, build_http_client
from provisioner.remote.routing import OrgClients, check_orgs

__all__ = ["DEFAULT_PARALLELISM", "RemoteOptions", "connect", "plan_for"]


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


@contextmanager
def connect(environ: Mapping[str, str], options: RemoteOptions) -> Iterator[FlowServiceClient]:
    # A client per org, each with its own credential (provisioner/remote/orgs.py), made when
    # plan_for's check sees the orgs; missing credentials are listed before any request.
    endpoints = endpoints_from(environ)
    with build_http_client(options.timeout, parallelism=options.parallelism) as http:
        # --parallelism is the ceiling; the pacer finds the rate the gateway allows below it.
        # One pacer for the run, shared by the orgs' clients (see routing.OrgClients.pacer).
        pacer = Pacer()
        yield OrgClients(
            environ, lambda each: FlowServiceClient(http, each, endpoints, pacer=pacer), pacer
        )


def plan_for(
    client: FlowServiceClient,
    desired: Sequence[DesiredConnection],
    parallelism: int,
    managed: Collection[Identity] = (),
    *,
    options: PlanOptions = CREATE_ONLY,
    rules: Sequence[PruneRule] = (),
    connection_globs: Sequence[str] = (),
) -> Plan:
    # Refused credentials are one line for the run, not the same error once per sandbox.
    check_orgs(client, desired)
    keys = [(c.org, c.sandbox) for c in desired]
    if options.prune:
        keys += [(r.org, r.sandbox) for r in rules]
    observed = observe(client, keys, parallelism)

    def plan(usage: Usage | None = None) -> Plan:
        return make_plan(
            desired,
            observed,
            managed,
            options=options,
            rules=rules,
            connection_globs=connection_globs,
            usage=usage,
        )

    first = plan()
    if not first.deletions:
        return first
    # Only where something would be deleted: which dataflows still read through it.
    return plan(observe_usage(client, {d.key for d in first.deletions}, parallelism))
