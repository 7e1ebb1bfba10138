"""The Flow Service calls a dataflow chain needs (the remote branch adds them to FlowService)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal, Protocol

from provisioner.dataflow import (
    CreatedMappingSet,
    RemoteFlow,
    RemoteSourceConnection,
    RemoteTargetConnection,
)
from provisioner.model import CreatedConnection


class ChainService(Protocol):
    def list_flows(self, org: str, sandbox: str) -> list[RemoteFlow]: ...

    def list_source_connections(
        self, org: str, sandbox: str, *, spec_id: str
    ) -> list[RemoteSourceConnection]: ...

    def list_target_connections(self, org: str, sandbox: str) -> list[RemoteTargetConnection]: ...

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
        self, org: str, sandbox: str, mapping_id: str, payload: Mapping[str, object], *, name: str
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
        self, org: str, sandbox: str, flow_id: str, op: Literal["enable", "disable"], *, name: str
    ) -> CreatedConnection: ...

    def delete_flow(self, org: str, sandbox: str, flow_id: str, *, name: str) -> None: ...

    def delete_source_connection(
        self, org: str, sandbox: str, connection_id: str, *, name: str
    ) -> None: ...

    def delete_target_connection(
        self, org: str, sandbox: str, connection_id: str, *, name: str
    ) -> None: ...
