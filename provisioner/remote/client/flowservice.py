"""FlowServiceClient: one method per Flow Service API call.

This is the home of every call to the API. A new call is a method here that builds a
``Call`` (its kind picks the retry rules in ``transport``; its ``what`` is the subject of
every error message), hands it to ``self._transport.send`` and reads the answer through
``decode`` (tolerant parsing) or ``pagination.collect`` for a listing. Nothing here retries,
sleeps or words HTTP failures itself: the transport and ``failures`` do.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Mapping, Sequence
from urllib.parse import quote

import httpx

from provisioner.model import ConnectionTest, CreatedConnection, DesiredConnection, RemoteConnection
from provisioner.redact import register_secret
from provisioner.remote import decode
from provisioner.remote.client import pagination
from provisioner.remote.client.dataflows import DataflowCalls
from provisioner.remote.client.dataprep import DataPrepCalls
from provisioner.remote.client.failures import (
    Call,
    CreateOutcomeUnknown,
    clean,
    is_secret_param,
    malformed,
    secrets_of,
)
from provisioner.remote.client.notices import Notices
from provisioner.remote.client.pacing import Pacer
from provisioner.remote.client.token import fetch_token
from provisioner.remote.client.transport import (
    DEFAULT_ENDPOINTS,
    DEFAULT_RETRY,
    Endpoints,
    Transport,
)
from provisioner.remote.credentials import check_access
from provisioner.remote.ims import Credentials
from provisioner.remote.retry import RetryPolicy


class FlowServiceClient(DataflowCalls, DataPrepCalls):
    """One org's calls: the base connections' here, a dataflow's in the two mixins."""

    def __init__(
        self,
        http: httpx.Client,
        credentials: Credentials,
        endpoints: Endpoints = DEFAULT_ENDPOINTS,
        *,
        retry: RetryPolicy = DEFAULT_RETRY,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        page_size: int = 100,
        max_pages: int = 10_000,
        pacer: Pacer | None = None,
        notices: Notices | None = None,
    ) -> None:
        """``pacer`` adapts the request rate to the gateway's 429s (see ``pacing``); the CLI
        always passes one. Without it, requests go out as fast as the callers' threads send."""
        self._endpoints = endpoints
        self._page_size = page_size
        self._max_pages = max_pages
        self._transport = Transport(
            http,
            credentials.client_id,
            lambda transport: fetch_token(transport, credentials, endpoints),
            retry=retry,
            sleep=sleep,
            clock=clock,
            rng=rng,
            pacer=pacer,
            notices=notices,
        )
        register_secret(credentials.client_secret)

    @property
    def requests_sent(self) -> dict[str, int]:
        """Requests sent so far, retries included, by method; IMS calls under "TOKEN"."""
        return self._transport.requests_sent

    @property
    def pacer(self) -> Pacer | None:
        return self._transport.pacer

    def check_credentials(self, desired: Sequence[DesiredConnection]) -> dict[str, str]:
        """One credential for the run: refused is CredentialError, never a refused org."""
        check_access(self, desired)
        return {}

    def list_connections(self, org: str, sandbox: str, *, spec_id: str) -> list[RemoteConnection]:
        """Every connection of ``spec_id`` in the sandbox, following every page."""
        what = f"list connections in sandbox '{sandbox}'"
        query = {"property": f"connectionSpec.id=={spec_id}", "limit": str(self._page_size)}
        url = str(httpx.URL(self._endpoints.flow_url + "/connections", params=query))
        return pagination.collect(
            self._transport,
            Call("read", what, "GET", url, org, sandbox),
            flow_url=self._endpoints.flow_url,
            max_pages=self._max_pages,
            parse=decode.connection,
        )

    def get_connection(self, org: str, sandbox: str, connection_id: str) -> RemoteConnection:
        what = f"get connection '{connection_id}' in sandbox '{sandbox}'"
        call = Call("read", what, "GET", self._item_url(connection_id), org, sandbox)
        body = self._transport.json(call, self._transport.send(call))
        # Adobe wraps a single connection in the list shape; accept a bare object too.
        items = body.get("items", [body]) if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            raise malformed(call, "response holds no connection")
        try:
            return decode.connection(items[0], "items[0]")
        except decode.Malformed as problem:
            raise malformed(call, str(problem)) from None

    def create_connection(
        self, org: str, sandbox: str, payload: Mapping[str, object], *, name: str
    ) -> CreatedConnection:
        """Create one connection. Raises CreateOutcomeUnknown when it may have happened."""
        what = f"create connection '{name}' in sandbox '{sandbox}'"
        body = json.dumps(payload).encode()
        url = self._endpoints.flow_url + "/connections"
        call = Call("create", what, "POST", url, org, sandbox, body, None, secrets_of(payload))
        response = self._transport.send(call)
        # The create went through; a body we cannot read leaves us without its id.
        try:
            data = response.json()
            created_id, etag = data["id"], data.get("etag", "")
            if isinstance(created_id, str) and created_id and isinstance(etag, str):
                return CreatedConnection(created_id, etag)
        except (ValueError, TypeError, KeyError, AttributeError):
            pass
        raise CreateOutcomeUnknown(
            f"{what} may have succeeded: POST {url} returned {response.status_code} without "
            f"a connection id; list the sandbox before creating it again",
            method="POST",
            url=url,
            status=response.status_code,
        )

    def fetch_token(self) -> None:
        """Make sure a token is at hand (asking IMS if need be); AuthError when refused."""
        self._transport.ensure_token()

    def get_connection_spec(self, org: str, sandbox: str, spec_id: str) -> None:
        """Ask for a connection spec: an answer proves the token, API key and org accepted.

        The body is not read: only whether the gateway let the request through matters.
        """
        what = f"get the PostgreSQL connection spec in sandbox '{sandbox}'"
        url = f"{self._endpoints.flow_url}/connectionSpecs/{quote(spec_id, safe='')}"
        self._transport.send(Call("read", what, "GET", url, org, sandbox))

    def delete_connection(self, org: str, sandbox: str, connection_id: str, *, name: str) -> None:
        what = f"delete connection '{name}' ({connection_id}) in sandbox '{sandbox}'"
        call = Call("delete", what, "DELETE", self._item_url(connection_id), org, sandbox)
        self._transport.send(call)

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
        """PATCH a connection with JSON Patch ``ops``, only if it still has ``etag``.

        Someone else's change in between is a 412 (FLOW-1404-412): an ApiError with
        ``status == 412``; the caller reads the connection again and decides afresh.
        """
        what = f"update connection '{name}' ({connection_id}) in sandbox '{sandbox}'"
        body = json.dumps(list(ops)).encode()
        url = self._item_url(connection_id)
        # Values sent to secret params are cut from any error text that quotes the body.
        secrets = tuple(
            str(op["value"])
            for op in ops
            if isinstance(op.get("value"), str)
            and is_secret_param(str(op.get("path", "")).rsplit("/", 1)[-1])
        )
        call = Call("update", what, "PATCH", url, org, sandbox, body, None, secrets, etag)
        response = self._transport.send(call)
        # A 2xx is the API saying the patch landed; the body only carries the new etag,
        # which nothing needs (the next run lists afresh), so an unreadable one is no failure.
        try:
            data = response.json()
        except ValueError:
            data = None
        new_etag = data.get("etag") if isinstance(data, dict) else None
        return CreatedConnection(connection_id, new_etag if isinstance(new_etag, str) else "")

    def test_connection(
        self, org: str, sandbox: str, connection_id: str, *, name: str
    ) -> ConnectionTest:
        """``GET /connections/{id}/test``: can the platform reach the database with it?"""
        what = f"test connection '{name}' ({connection_id}) in sandbox '{sandbox}'"
        url = self._item_url(connection_id) + "/test"
        call = Call("read", what, "GET", url, org, sandbox)
        body = decode.obj(self._transport.json(call, self._transport.send(call)))
        result = body.get("result")
        if not isinstance(result, bool):
            raise malformed(call, "response holds no boolean 'result'")
        if result:
            return ConnectionTest(True)
        # [open] Adobe documents only `result`; a reason, when the API gives one, is shown.
        reason = next(
            (
                decode.text(body.get(k))
                for k in ("errorMessage", "message")
                if decode.text(body.get(k))
            ),
            None,
        )
        return ConnectionTest(False, clean(reason or "the platform gave no reason", ()))

    def explore_tables(self, org: str, sandbox: str, connection_id: str, *, name: str) -> list[str]:
        """``GET /connections/{id}/explore?objectType=root``: the tables' paths it sees."""
        what = f"explore connection '{name}' ({connection_id}) in sandbox '{sandbox}'"
        url = self._item_url(connection_id) + "/explore?objectType=root"
        call = Call("read", what, "GET", url, org, sandbox)
        body = self._transport.json(call, self._transport.send(call))
        items = body.get("items") if isinstance(body, dict) else body
        if not isinstance(items, list):
            raise malformed(call, "response is not a list of explore items")
        tables = []
        for item in map(decode.obj, items):
            path = decode.text(item.get("path")) or decode.text(item.get("name"))
            if path and (decode.text(item.get("type")) or "table").lower() == "table":
                tables.append(path)
        return tables

    def _item_url(self, connection_id: str) -> str:
        # Quoted whole: an id is data, never path structure.
        return f"{self._endpoints.flow_url}/connections/{quote(connection_id, safe='')}"
