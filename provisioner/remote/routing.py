"""One Flow Service client per IMS org, behind the one-client interface (``FlowService``).

Every Flow Service call names its org first, so the router sends it through that org's own
client: its credential, token and API key (remote/orgs.py says which variables). The stages
(observe, apply, settle, verify) take it as they take one client and need not know.

`check_credentials` runs the credential check per org before anything is listed. With one
org a refusal stops the run as before; with several, the refused org answers every later
call with an ApiError, so its sandboxes are planned as "could not be listed" and nothing is
done there, while the other orgs are planned and applied. Only when every org is refused
does the run stop at the check.

A per-org call is one line below, `_routed(FlowServiceClient.method)`: it keeps the client's
signature, and tests/reconcile/test_org_routing.py fails for a client method not routed.
"""

from __future__ import annotations

import functools
import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from provisioner.errors import ApiError, CredentialError
from provisioner.model import DesiredConnection
from provisioner.remote.client import Credentials, FlowServiceClient, Pacer
from provisioner.remote.client.pacing import describe
from provisioner.remote.credentials import check_access
from provisioner.remote.orgs import DEFAULT_PAIR, OrgCredential, for_org, orgs_in, resolve


def _routed(method: Callable[..., Any]) -> Any:
    """`method` of FlowServiceClient, sent through the client of the org it names first."""

    @functools.wraps(method)
    def call(self: OrgClients, org: str, *args: Any, **kwargs: Any) -> Any:
        return method(self.client_for(org), org, *args, **kwargs)

    return call


class OrgPacers:
    """A pacer per org, and the run's view of them for reports. Adobe's gateway limits each
    org apart, so one org's 429s must not slow another's requests."""

    def __init__(self, make: Callable[[], Pacer] = Pacer) -> None:
        self._make = make
        self._lock = threading.Lock()
        self._pacers: list[Pacer] = []

    def new(self) -> Pacer:
        """The pacer of one more org's client."""
        pacer = self._make()
        with self._lock:
            self._pacers.append(pacer)
        return pacer

    def _all(self) -> list[Pacer]:
        with self._lock:
            return list(self._pacers)

    @property
    def throttled(self) -> int:
        return sum(p.throttled for p in self._all())

    @property
    def lowest(self) -> float | None:
        paces = [p.lowest for p in self._all() if p.lowest is not None]
        return min(paces) if paces else None

    def describe(self) -> str:
        """One org's line as its pacer says it; several: their total, and the lowest pace."""
        states = [p.state() for p in self._all()]
        if len(states) == 1:
            return describe(*states[0])
        paced = [(pace, starting) for _, pace, starting in states if pace is not None]
        lowest = min(paced, default=(None, False))
        return describe(sum(answered for answered, _, _ in states), *lowest)


class OrgClients:
    def __init__(
        self,
        environ: Mapping[str, str],
        make_client: Callable[[Credentials], FlowServiceClient],
        pacers: OrgPacers | None = None,
    ) -> None:
        # `make_client` builds an org's client from its credential, with everything else
        # the run's clients share (the HTTP client, the endpoints); `pacers` reports on the
        # pacer each org's client was given.
        self._environ, self._make_client = environ, make_client
        self._clients: dict[str, FlowServiceClient] = {}
        self._credentials: dict[str, OrgCredential] = {}
        self.refused: dict[str, str] = {}  # org -> one line: what was refused, what to fix
        self._pacers = pacers

    @property
    def pacer(self) -> OrgPacers | None:
        """The orgs' pacers together (each org's client has its own)."""
        return self._pacers

    def prepare(self, orgs: Mapping[str, str]) -> None:
        """A client for each org (org -> where it is first used); UsageError listing every
        org without a credential, before any request."""
        for credential in resolve(orgs, self._environ):
            if credential.org not in self._clients:
                self._clients[credential.org] = self._make_client(credential.credentials)
                self._credentials[credential.org] = credential

    def check_credentials(self, desired: Sequence[DesiredConnection]) -> dict[str, str]:
        orgs = orgs_in(desired)
        self.prepare(orgs)
        for org in orgs:
            credential = self._credentials[org]
            try:
                check_access(self._clients[org], [c for c in desired if c.org == org])
            except CredentialError as error:
                if len(orgs) == 1 and credential.variables == DEFAULT_PAIR:
                    raise  # one org on the plain pair: the message everyone knows
                lines = str(error).splitlines()
                self.refused[org] = "\n".join(for_org(credential, line) for line in lines)
        if orgs and len(self.refused) == len(orgs):
            raise CredentialError("\n".join(self.refused[org] for org in orgs))
        return dict(self.refused)

    def client_for(self, org: str) -> FlowServiceClient:
        if org in self.refused:
            raise ApiError(f"not listed: the credential for org {org} was refused")
        if org not in self._clients:
            self.prepare({org: "in the manifests"})
        return self._clients[org]

    @property
    def requests_sent(self) -> dict[str, int]:
        total: Counter[str] = Counter()
        for client in self._clients.values():
            total.update(client.requests_sent)
        return dict(total)

    def fetch_token(self) -> None:
        for org in self._clients:
            self.client_for(org).fetch_token()

    list_connections = _routed(FlowServiceClient.list_connections)
    get_connection = _routed(FlowServiceClient.get_connection)
    create_connection = _routed(FlowServiceClient.create_connection)
    get_connection_spec = _routed(FlowServiceClient.get_connection_spec)
    delete_connection = _routed(FlowServiceClient.delete_connection)
    update_connection = _routed(FlowServiceClient.update_connection)
    test_connection = _routed(FlowServiceClient.test_connection)
    explore_tables = _routed(FlowServiceClient.explore_tables)
    # A dataflow chain's calls.
    list_flows = _routed(FlowServiceClient.list_flows)
    list_source_connections = _routed(FlowServiceClient.list_source_connections)
    list_target_connections = _routed(FlowServiceClient.list_target_connections)
    list_mapping_sets = _routed(FlowServiceClient.list_mapping_sets)
    get_mapping_set = _routed(FlowServiceClient.get_mapping_set)
    list_datasets = _routed(FlowServiceClient.list_datasets)
    explore_columns = _routed(FlowServiceClient.explore_columns)
    create_source_connection = _routed(FlowServiceClient.create_source_connection)
    create_target_connection = _routed(FlowServiceClient.create_target_connection)
    create_mapping_set = _routed(FlowServiceClient.create_mapping_set)
    update_mapping_set = _routed(FlowServiceClient.update_mapping_set)
    create_flow = _routed(FlowServiceClient.create_flow)
    get_flow = _routed(FlowServiceClient.get_flow)
    update_flow = _routed(FlowServiceClient.update_flow)
    flow_action = _routed(FlowServiceClient.flow_action)
    delete_flow = _routed(FlowServiceClient.delete_flow)
    delete_source_connection = _routed(FlowServiceClient.delete_source_connection)
    delete_target_connection = _routed(FlowServiceClient.delete_target_connection)
    list_runs = _routed(FlowServiceClient.list_runs)
