"""What the stages ask of the API: one client, or the router that holds a client per org.

Observe, apply, verify and import take a ``FlowService`` and never ask which one they got:
``FlowServiceClient`` (remote/client) talks to one org's credential, ``OrgClients``
(remote/routing) sends each call through the client of the org it names. A new API call is
a method of the client, a line here and a line in the router.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from provisioner.model import (
        ConnectionTest,
        CreatedConnection,
        DesiredConnection,
        RemoteConnection,
    )
    from provisioner.remote import decode
    from provisioner.remote.client.pacing import PaceReport


class FlowService(Protocol):
    @property
    def requests_sent(self) -> dict[str, int]: ...

    @property
    def pacer(self) -> PaceReport | None: ...

    def fetch_token(self) -> None: ...

    def check_credentials(self, desired: Sequence[DesiredConnection]) -> dict[str, str]:
        """Before anything is listed: the orgs whose credential was refused (org -> one line
        saying what to fix), where others can go on; CredentialError when none can."""
        ...

    def list_connections(
        self, org: str, sandbox: str, *, spec_id: str
    ) -> list[RemoteConnection]: ...

    def get_connection(self, org: str, sandbox: str, connection_id: str) -> RemoteConnection: ...

    def create_connection(
        self, org: str, sandbox: str, payload: Mapping[str, object], *, name: str
    ) -> CreatedConnection: ...

    def get_connection_spec(self, org: str, sandbox: str, spec_id: str) -> None: ...

    def delete_connection(
        self, org: str, sandbox: str, connection_id: str, *, name: str
    ) -> None: ...

    def update_connection(
        self,
        org: str,
        sandbox: str,
        connection_id: str,
        ops: Sequence[Mapping[str, object]],
        *,
        etag: str,
        name: str,
    ) -> CreatedConnection: ...

    def list_source_connections(self, org: str, sandbox: str) -> list[decode.SourceConnection]: ...

    def list_flows(self, org: str, sandbox: str) -> list[decode.Dataflow]: ...

    def test_connection(
        self, org: str, sandbox: str, connection_id: str, *, name: str
    ) -> ConnectionTest: ...

    def explore_tables(
        self, org: str, sandbox: str, connection_id: str, *, name: str
    ) -> list[str]: ...
