"""What the stages ask of the API: one client, or the router that holds a client per org.

Observe, apply, verify and import take a ``FlowService`` and never ask which one they got:
``FlowServiceClient`` (remote/client) talks to one org's credential, ``OrgClients``
(remote/routing) sends each call through the client of the org it names. A new API call is
a method of the client, a line here and a line in the router.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from provisioner.dataflow import (
        CreatedMappingSet,
        Dataset,
        FlowRun,
        RemoteFlow,
        RemoteMappingSet,
        RemoteSourceConnection,
        RemoteTargetConnection,
    )
    from provisioner.model import (
        ConnectionTest,
        CreatedConnection,
        DesiredConnection,
        RemoteConnection,
    )
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

    def test_connection(
        self, org: str, sandbox: str, connection_id: str, *, name: str
    ) -> ConnectionTest: ...

    def explore_tables(
        self, org: str, sandbox: str, connection_id: str, *, name: str
    ) -> list[str]: ...

    # A dataflow chain's calls (remote/client/dataflows.py, dataprep.py).
    def list_flows(
        self, org: str, sandbox: str, *, name: str | None = None
    ) -> list[RemoteFlow]: ...

    def list_source_connections(
        self, org: str, sandbox: str, *, spec_id: str
    ) -> list[RemoteSourceConnection]: ...

    def list_target_connections(self, org: str, sandbox: str) -> list[RemoteTargetConnection]: ...

    def list_mapping_sets(self, org: str, sandbox: str) -> list[RemoteMappingSet]: ...

    def get_mapping_set(
        self, org: str, sandbox: str, mapping_id: str, *, version: str | None
    ) -> RemoteMappingSet: ...

    def list_datasets(self, org: str, sandbox: str) -> list[Dataset]: ...

    def explore_columns(
        self, org: str, sandbox: str, connection_id: str, table: str, *, name: str
    ) -> list[dict[str, object]]: ...

    def create_source_connection(
        self, org: str, sandbox: str, payload: Mapping[str, object], *, name: str
    ) -> CreatedConnection: ...

    def create_target_connection(
        self, org: str, sandbox: str, payload: Mapping[str, object], *, name: str
    ) -> CreatedConnection: ...

    def create_mapping_set(
        self, org: str, sandbox: str, payload: Mapping[str, object], *, name: str
    ) -> CreatedMappingSet: ...

    def update_mapping_set(
        self,
        org: str,
        sandbox: str,
        mapping_id: str,
        payload: Mapping[str, object],
        *,
        name: str,
    ) -> CreatedMappingSet: ...

    def create_flow(
        self, org: str, sandbox: str, payload: Mapping[str, object], *, name: str
    ) -> CreatedConnection: ...

    def get_flow(self, org: str, sandbox: str, flow_id: str) -> RemoteFlow: ...

    def update_flow(
        self,
        org: str,
        sandbox: str,
        flow_id: str,
        ops: Sequence[Mapping[str, object]],
        *,
        etag: str,
        name: str,
    ) -> CreatedConnection: ...

    def flow_action(
        self,
        org: str,
        sandbox: str,
        flow_id: str,
        op: Literal["enable", "disable"],
        *,
        name: str,
    ) -> CreatedConnection: ...

    def delete_flow(self, org: str, sandbox: str, flow_id: str, *, name: str) -> None: ...

    def delete_source_connection(
        self, org: str, sandbox: str, connection_id: str, *, name: str
    ) -> None: ...

    def delete_target_connection(
        self, org: str, sandbox: str, connection_id: str, *, name: str
    ) -> None: ...

    def list_runs(
        self, org: str, sandbox: str, flow_ids: Sequence[str], *, since_ms: int | None = None
    ) -> list[FlowRun]: ...
