"""One Flow Service client per IMS org, behind the one-client interface.

Every Flow Service call names its org first, so the router sends it through that org's own
client: its credential, token and API key (provisioner/remote/orgs.py says which variables). The
stages (observe, apply, dedupe) take it as they take one client and need not know.

`check_each_org` runs the credential check per org before anything is listed. With one org
a refusal stops the run as before; with several, the refused org answers every later call
with an ApiError, so its sandboxes are planned as "could not be listed" and nothing is done
there, while the other orgs are planned and applied. Only when every org is refused does the
run stop at the check.

It subclasses FlowServiceClient but holds no transport of its own, so every public method
must be routed here: tests/reconcile/test_org_routing.py fails for one that is not.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence

from provisioner.errors import ApiError, CredentialError
from provisioner.model import ConnectionTest, DesiredConnection
from provisioner.remote import decode as wire
from provisioner.remote.client import (
    CreatedConnection,
    Credentials,
    FlowServiceClient,
    Pacer,
    RemoteConnection,
)
from provisioner.remote.credentials import check_access
from provisioner.remote.orgs import DEFAULT_PAIR, OrgCredential, for_org, orgs_in, resolve


class OrgClients(FlowServiceClient):
    def __init__(
        self,
        environ: Mapping[str, str],
        make_client: Callable[[Credentials], FlowServiceClient],
        pacer: Pacer | None = None,
    ) -> None:
        # No super().__init__(): the clients per org do the sending. `make_client` builds
        # one from an org's credential, with everything else the run's clients share.
        self._environ, self._make_client = environ, make_client
        self._clients: dict[str, FlowServiceClient] = {}
        self._credentials: dict[str, OrgCredential] = {}
        self.refused: dict[str, str] = {}  # org -> one line: what was refused, what to fix
        self._pacer = pacer

    @property
    def pacer(self) -> Pacer | None:
        """The pacer `make_client` gives every org's client. One for the run: Adobe's limit
        is per org, so with several orgs a 429 from one slows all (safe, not fastest)."""
        return self._pacer

    def prepare(self, orgs: Mapping[str, str]) -> None:
        """A client for each org (org -> where it is first used); UsageError listing every
        org without a credential, before any request."""
        for credential in resolve(orgs, self._environ):
            if credential.org not in self._clients:
                self._clients[credential.org] = self._make_client(credential.credentials)
                self._credentials[credential.org] = credential

    def check_each_org(self, desired: Sequence[DesiredConnection]) -> None:
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

    def _for(self, org: str) -> FlowServiceClient:
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
            self._for(org).fetch_token()

    def list_connections(self, org: str, sandbox: str, *, spec_id: str) -> list[RemoteConnection]:
        return self._for(org).list_connections(org, sandbox, spec_id=spec_id)

    def get_connection(self, org: str, sandbox: str, connection_id: str) -> RemoteConnection:
        return self._for(org).get_connection(org, sandbox, connection_id)

    def create_connection(
        self, org: str, sandbox: str, payload: Mapping[str, object], *, name: str
    ) -> CreatedConnection:
        return self._for(org).create_connection(org, sandbox, payload, name=name)

    def get_connection_spec(self, org: str, sandbox: str, spec_id: str) -> None:
        self._for(org).get_connection_spec(org, sandbox, spec_id)

    def delete_connection(self, org: str, sandbox: str, connection_id: str, *, name: str) -> None:
        self._for(org).delete_connection(org, sandbox, connection_id, name=name)

    def update_connection(
        self,
        org: str,
        sandbox: str,
        connection_id: str,
        ops: Sequence[Mapping[str, object]],
        *,
        etag: str,
        name: str,
    ) -> CreatedConnection:
        client = self._for(org)
        return client.update_connection(org, sandbox, connection_id, ops, etag=etag, name=name)

    def list_source_connections(self, org: str, sandbox: str) -> list[wire.SourceConnection]:
        return self._for(org).list_source_connections(org, sandbox)

    def list_flows(self, org: str, sandbox: str) -> list[wire.Dataflow]:
        return self._for(org).list_flows(org, sandbox)

    def test_connection(
        self, org: str, sandbox: str, connection_id: str, *, name: str
    ) -> ConnectionTest:
        return self._for(org).test_connection(org, sandbox, connection_id, name=name)

    def explore_tables(self, org: str, sandbox: str, connection_id: str, *, name: str) -> list[str]:
        return self._for(org).explore_tables(org, sandbox, connection_id, name=name)


def check_orgs(client: FlowServiceClient, desired: Sequence[DesiredConnection]) -> None:
    """The credential check before listing: per org through a router, else as one client."""
    if isinstance(client, OrgClients):
        client.check_each_org(desired)
    else:
        check_access(client, desired)


def refused_orgs(client: FlowServiceClient) -> dict[str, str]:
    """org -> why nothing was done there (its credential was refused); empty for one client."""
    return dict(client.refused) if isinstance(client, OrgClients) else {}
