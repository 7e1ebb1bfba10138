"""The Flow Service calls of a dataflow chain: source and target connections, flows, runs.

A mixin of ``FlowServiceClient`` (it uses the client's transport, endpoints and page size),
written like the connection calls: listings follow every ``_links.next`` page, reads go
through ``decode_dataflows``, and a create is one POST, never sent again blindly: a create
whose answer was lost is ``CreateOutcomeUnknown`` (list before creating it again).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Literal, TypeVar
from urllib.parse import quote

import httpx

from provisioner.dataflow import (
    DATA_LAKE_SPEC_ID,
    FlowRun,
    RemoteFlow,
    RemoteSourceConnection,
    RemoteTargetConnection,
)
from provisioner.errors import ApiError
from provisioner.model import CreatedConnection
from provisioner.remote import decode_dataflows as decode
from provisioner.remote.client import pagination
from provisioner.remote.client.failures import Call, CreateOutcomeUnknown, malformed
from provisioner.remote.client.transport import Endpoints, Transport
from provisioner.remote.decode import Malformed

T = TypeVar("T")
# Flow ids per runs query (`property=flowId==a,b,...`): keeps each URL well under 4 KB.
RUN_FLOWS_PER_QUERY = 40
# "The action disable cannot be applied on the current state {state}" [doc ERR].
ACTION_REFUSED = "1422-400"
SETTLED = {"enable": "enabled", "disable": "disabled"}


def send_create(transport: Transport, call: Call, noun: str) -> Mapping[str, object]:
    """Send a create once and return its answer's object, which holds a string ``id``.

    The create went through once a 2xx comes back; an answer we cannot read leaves us
    without its id, which is as uncertain as a lost answer.
    """
    response = transport.send(call)
    try:
        data = response.json()
    except ValueError:
        data = None
    if isinstance(data, dict) and isinstance(data.get("id"), str) and data["id"]:
        return data
    raise CreateOutcomeUnknown(
        f"{call.what} may have succeeded: {call.method} {call.url} returned "
        f"{response.status_code} without a {noun} id; list the sandbox before creating it again",
        method=call.method,
        url=call.url,
        status=response.status_code,
    )


def etag_of(response: httpx.Response) -> str:
    """The new etag a 2xx answer carries; "" when its body does not say (the change landed
    all the same, and the next read shows the etag)."""
    try:
        data = response.json()
    except ValueError:
        return ""
    etag = data.get("etag") if isinstance(data, dict) else None
    return etag if isinstance(etag, str) else ""


class DataflowCalls:
    _transport: Transport
    _endpoints: Endpoints
    _page_size: int
    _max_pages: int

    def list_flows(self, org: str, sandbox: str, *, name: str | None = None) -> list[RemoteFlow]:
        """Every flow of the sandbox, of every flow spec, following every page; with
        ``name``, at least the flows of that name (the documented ``property=name==`` filter,
        one page where the whole sandbox may be many; callers still check the name)."""
        query = {"property": f"name=={name}"} if name and _filterable(name) else {}
        return self._list(org, sandbox, "flows", query, decode.flow)

    def list_source_connections(
        self, org: str, sandbox: str, *, spec_id: str
    ) -> list[RemoteSourceConnection]:
        """Every source connection of connector spec ``spec_id`` in the sandbox."""
        query = {"property": f"connectionSpec.id=={spec_id}"}
        return self._list(org, sandbox, "sourceConnections", query, decode.source_connection)

    def list_target_connections(self, org: str, sandbox: str) -> list[RemoteTargetConnection]:
        """Every data lake target connection of the sandbox (other targets are not ours)."""
        query = {"property": f"connectionSpec.id=={DATA_LAKE_SPEC_ID}"}
        return self._list(org, sandbox, "targetConnections", query, decode.target_connection)

    def list_runs(
        self, org: str, sandbox: str, flow_ids: Sequence[str], *, since_ms: int | None = None
    ) -> list[FlowRun]:
        """The runs of ``flow_ids`` (started at ``since_ms`` or later, when given), every
        page of one query per batch of flows; no flows, no request."""
        ids = list(dict.fromkeys(flow_ids))
        runs: list[FlowRun] = []
        for start in range(0, len(ids), RUN_FLOWS_PER_QUERY):
            batch = ids[start : start + RUN_FLOWS_PER_QUERY]
            filters = [("property", f"flowId=={','.join(batch)}")]
            if since_ms is not None:
                filters.append(("property", f"metrics.durationSummary.startedAtUTC>={since_ms}"))
            runs.extend(self._list(org, sandbox, "runs", filters, decode.run))
        return runs

    def get_flow(self, org: str, sandbox: str, flow_id: str) -> RemoteFlow:
        what = f"get flow '{flow_id}' in sandbox '{sandbox}'"
        call = Call("read", what, "GET", self._url("flows", flow_id), org, sandbox)
        body = self._transport.json(call, self._transport.send(call))
        # Adobe wraps a single flow in the list shape [doc UPD]; accept a bare object too.
        items = body.get("items", [body]) if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            raise malformed(call, "response holds no flow")
        try:
            return decode.flow(items[0], "items[0]")
        except Malformed as problem:
            raise malformed(call, str(problem)) from None

    def explore_columns(
        self, org: str, sandbox: str, connection_id: str, table: str, *, name: str
    ) -> list[dict[str, object]]:
        """``explore?objectType=table&object=<table>``: the table's column items."""
        what = f"explore table '{table}' of connection '{name}' in sandbox '{sandbox}'"
        query = {"objectType": "table", "object": table}
        url = str(httpx.URL(self._url("connections", connection_id) + "/explore", params=query))
        call = Call("read", what, "GET", url, org, sandbox)
        try:
            return decode.columns(self._transport.json(call, self._transport.send(call)))
        except Malformed as problem:
            raise malformed(call, str(problem)) from None

    def create_source_connection(
        self, org: str, sandbox: str, payload: Mapping[str, object], *, name: str
    ) -> CreatedConnection:
        return self._create(
            org, sandbox, "sourceConnections", payload, f"source connection '{name}'"
        )

    def create_target_connection(
        self, org: str, sandbox: str, payload: Mapping[str, object], *, name: str
    ) -> CreatedConnection:
        return self._create(
            org, sandbox, "targetConnections", payload, f"target connection '{name}'"
        )

    def create_flow(
        self, org: str, sandbox: str, payload: Mapping[str, object], *, name: str
    ) -> CreatedConnection:
        return self._create(org, sandbox, "flows", payload, f"flow '{name}'")

    def update_flow(
        self,
        org: str,
        sandbox: str,
        flow_id: str,
        ops: Sequence[Mapping[str, object]],
        *,
        etag: str,
        name: str,
    ) -> CreatedConnection:
        """PATCH a flow with JSON Patch ``ops`` only if it still has ``etag``: someone else's
        change in between is an ApiError with ``status == 412`` (FLOW-1404-412)."""
        what = f"update flow '{name}' ({flow_id}) in sandbox '{sandbox}'"
        body = json.dumps(list(ops)).encode()
        url = self._url("flows", flow_id)
        call = Call("update", what, "PATCH", url, org, sandbox, body, None, (), etag)
        return CreatedConnection(flow_id, etag_of(self._transport.send(call)))

    def flow_action(
        self,
        org: str,
        sandbox: str,
        flow_id: str,
        op: Literal["enable", "disable"],
        *,
        name: str,
    ) -> CreatedConnection:
        """``POST /flows/{id}/action?op=enable|disable``, no body [doc DEST]. Sent again on
        a 429, 5xx or lost answer like an update: a repeat of one that landed is refused
        (1422) in the state it asked for, which is then read and taken as done. The action
        changes the etag."""
        what = f"{op} flow '{name}' ({flow_id}) in sandbox '{sandbox}'"
        url = str(httpx.URL(self._url("flows", flow_id) + "/action", params={"op": op}))
        call = Call("update", what, "POST", url, org, sandbox)
        try:
            return CreatedConnection(flow_id, etag_of(self._transport.send(call)))
        except ApiError as error:
            if ACTION_REFUSED not in error.code:
                raise
            # Refused for the state it is in: when that is the state asked for (our own
            # earlier attempt landed before its answer was lost, or someone else acted), the
            # action is done; any other state is the refusal it was.
            flow = self.get_flow(org, sandbox, flow_id)
            if flow.state != SETTLED[op]:
                raise
            return CreatedConnection(flow_id, flow.etag)

    def delete_flow(self, org: str, sandbox: str, flow_id: str, *, name: str) -> None:
        self._delete(org, sandbox, "flows", flow_id, f"flow '{name}'")

    def delete_source_connection(
        self, org: str, sandbox: str, connection_id: str, *, name: str
    ) -> None:
        self._delete(
            org, sandbox, "sourceConnections", connection_id, f"source connection '{name}'"
        )

    def delete_target_connection(
        self, org: str, sandbox: str, connection_id: str, *, name: str
    ) -> None:
        self._delete(
            org, sandbox, "targetConnections", connection_id, f"target connection '{name}'"
        )

    def _list(
        self,
        org: str,
        sandbox: str,
        collection: str,
        filters: Mapping[str, str] | Sequence[tuple[str, str]],
        parse: Callable[[object, str], T],
    ) -> list[T]:
        what = f"list {collection} in sandbox '{sandbox}'"
        pairs = list(filters.items()) if isinstance(filters, Mapping) else list(filters)
        query = [*pairs, ("limit", str(self._page_size))]
        url = str(httpx.URL(f"{self._endpoints.flow_url}/{collection}", params=query))
        return pagination.collect(
            self._transport,
            Call("read", what, "GET", url, org, sandbox),
            flow_url=self._endpoints.flow_url,
            max_pages=self._max_pages,
            parse=parse,
        )

    def _create(
        self,
        org: str,
        sandbox: str,
        collection: str,
        payload: Mapping[str, object],
        subject: str,
    ) -> CreatedConnection:
        what = f"create {subject} in sandbox '{sandbox}'"
        url = f"{self._endpoints.flow_url}/{collection}"
        call = Call("create", what, "POST", url, org, sandbox, json.dumps(payload).encode())
        data = send_create(self._transport, call, subject.split(" '")[0])
        etag = data.get("etag")
        return CreatedConnection(str(data["id"]), etag if isinstance(etag, str) else "")

    def _delete(self, org: str, sandbox: str, collection: str, item_id: str, subject: str) -> None:
        what = f"delete {subject} ({item_id}) in sandbox '{sandbox}'"
        call = Call("delete", what, "DELETE", self._url(collection, item_id), org, sandbox)
        self._transport.send(call)

    def _url(self, collection: str, item_id: str) -> str:
        # Quoted whole: an id is data, never path structure.
        return f"{self._endpoints.flow_url}/{collection}/{quote(item_id, safe='')}"


def _filterable(value: str) -> bool:
    """Whether a value can go into a ``property=field==value`` filter as itself: a comma reads
    as OR there, and operator characters as another comparison [reference SF]."""
    return not any(c in value for c in ",=<>!~\"'")
