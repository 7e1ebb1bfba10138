"""The emulator as a WSGI application, plus the Python API around it."""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import httpx

from provisioner.emulator import admin
from provisioner.emulator.auth import Caller, TokenIssuer, check_headers
from provisioner.emulator.config import EmulatorConfig, Faults
from provisioner.emulator.connections import Connections
from provisioner.emulator.databases import Databases
from provisioner.emulator.dataflow_options import DataflowOptions
from provisioner.emulator.dataflows import TABLES, Dataflows
from provisioner.emulator.errors import (
    ApiError,
    JsonObject,
    content_type_error,
    flow_error,
    gateway_error,
    server_error,
)
from provisioner.emulator.faults import ConnectionDropped, Decision, FaultInjector
from provisioner.emulator.http import Request, Response
from provisioner.emulator.ratelimit import RateLimiter
from provisioner.emulator.routes import CATALOG, CONVERSION, FLOW, Route, match
from provisioner.emulator.spec import POSTGRES_SPEC_ID, ConnectionSpec
from provisioner.emulator.store import open_store

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

log = logging.getLogger("provisioner.emulator")

_REASONS = {
    200: "OK",
    201: "Created",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    412: "Precondition Failed",
    413: "Payload Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class Emulator:
    """A Flow Service + IMS emulator. Call it as a WSGI app, or mount it with :meth:`transport`."""

    def __init__(
        self,
        config: EmulatorConfig | None = None,
        *,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config or EmulatorConfig()
        self.config.validate()
        self.tokens = TokenIssuer(self.config, clock)
        self.store = open_store(self.config.state_file)
        self.spec = ConnectionSpec(self.config)
        self.injector = FaultInjector(self.config.faults, self.config.seed)
        usage_lock = threading.Lock()
        self.limiter = RateLimiter(monotonic)
        self.api = Connections(
            self.config,
            self.store,
            self.spec,
            clock,
            lambda: self.injector.faults.page_size,
            users=lambda org, sandbox, conn_id: self.dataflows.users_of_connection(
                org, sandbox, conn_id
            ),
            usage_lock=usage_lock,
        )
        self.dataflows = Dataflows(
            {table: open_store(self.config.state_file, table) for table in TABLES},
            self.store,
            self.config.dataflow,
            self.api.now_ms,
            clock,
            usage_lock,
            self.config.lenient,
        )
        self.databases = Databases(
            self.config.databases,
            self.config.database_timeout_s,
            self.config.database_ca_file,
            open_store(self.config.state_file, "explore_tables"),
        )
        self._counts: Counter[str] = Counter()
        self._counts_lock = threading.Lock()

    # -- Python API -------------------------------------------------------------------------

    @property
    def wsgi_app(self) -> Emulator:
        return self

    def transport(self) -> httpx.WSGITransport:
        """An httpx transport that serves requests in-process, no socket involved."""
        return _DroppingWSGITransport(app=self)

    def connections(self, org: str | None = None, sandbox: str | None = None) -> list[JsonObject]:
        """Raw stored records (secrets unmasked) in creation order, for assertions."""
        records = self.store.dump()
        return sorted(
            (
                r
                for r in records
                if (org is None or r["imsOrgId"] == org)
                and (sandbox is None or r["sandboxName"] == sandbox)
            ),
            key=lambda r: (r["createdAt"], r["id"]),
        )

    def add_dataflow(self, org: str, sandbox: str, connection_id: str, name: str) -> JsonObject:
        """A source connection on the base connection and a flow reading it: the connection
        is then "in use", and deleting it is refused with FLOW-1418-400."""
        caller = Caller(self.config.client_id, org, sandbox)
        return self.dataflows.preload(caller, connection_id, name)

    def add_dataset(
        self,
        org: str,
        sandbox: str,
        name: str,
        schemaId: str,
        id: str | None = None,
        description: str | None = None,
    ) -> JsonObject:
        """A Catalog dataset (name, XDM schema id) that target connections can write to."""
        body = {"name": name, "schemaId": schemaId, "id": id, "description": description}
        return self.dataflows.catalog.preload(org, sandbox, body)

    def add_run(self, org: str, sandbox: str, run: JsonObject) -> JsonObject:
        """A run of a flow with the given status, record counts and errors (see runs.py)."""
        caller = Caller(self.config.client_id, org, sandbox)
        return self.dataflows.runs.record(caller, run)

    def set_dataflow_options(self, **changes: Any) -> DataflowOptions:
        """Change some of the dataflow options while serving (unknown names: ValueError)."""
        self.dataflows.options = self.dataflows.options.changed(changes)
        return self.dataflows.options

    def state(self) -> JsonObject:
        """Every stored record by kind (secrets unmasked, emulator bookkeeping included)."""
        stores = self.dataflows.stores
        return {
            "connections": self.connections(),
            "sourceConnections": stores["source_connections"].dump(),
            "targetConnections": stores["target_connections"].dump(),
            "flows": stores["flows"].dump(),
            "runs": stores["runs"].dump(),
            "mappingSets": stores["mapping_sets"].dump(),
            "dataSets": stores["datasets"].dump(),
            "tables": self.databases.tables.store.dump(),  # what offline explore lists
        }

    def set_faults(
        self, faults: Faults | None = None, *, seed: int | None = None, **changes: Any
    ) -> Faults:
        """Replace the faults (``faults``) or change some fields (keyword arguments)."""
        if faults is not None:
            self.injector.set(faults, seed)
            return faults
        if seed is not None:
            changes["seed"] = seed
        return self.injector.update(changes)

    @property
    def request_count(self) -> int:
        """Requests received on the token and Flow Service routes (admin routes not counted)."""
        with self._counts_lock:
            return sum(self._counts.values())

    def request_counts(self) -> dict[str, int]:
        """Per ``"METHOD route"``, e.g. ``"POST /data/foundation/flowservice/connections"``."""
        with self._counts_lock:
            return dict(self._counts)

    @property
    def throttled(self) -> int:
        """Requests the rate limit refused with 429 (injected ``rate_429`` ones not counted)."""
        return self.limiter.throttled

    def reset_counts(self) -> None:
        with self._counts_lock:
            self._counts.clear()
        self.limiter.reset_counts()

    def revoke_tokens(self, token: str | None = None) -> int:
        return self.tokens.revoke(token)

    def reset(self) -> None:
        for store in (self.store, self.databases.tables.store, *self.dataflows.stores.values()):
            store.reset()

    def close(self) -> None:
        for store in (self.store, self.databases.tables.store, *self.dataflows.stores.values()):
            store.close()

    # -- WSGI -------------------------------------------------------------------------------

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request_id = uuid.uuid4().hex
        try:
            response = self._handle(environ)
        except ConnectionDropped:
            raise
        except ApiError as exc:
            response = Response(exc.status, exc.body, exc.headers)
        except Exception:  # never let one request take the server down
            log.exception(
                "emulator bug while serving %s %s",
                environ.get("REQUEST_METHOD"),
                environ.get("PATH_INFO"),
            )
            response = _to_response(flow_error("1102-500", request_id=request_id))
        if isinstance(response.body, dict) and isinstance(response.body.get("report"), dict):
            # One id in the header and the Flow error body, so either can be quoted.
            request_id = str(response.body["report"].get("request-id", request_id))
        headers = [("x-request-id", request_id), *response.headers.items()]
        payload = b""
        if response.body is not None:
            payload = json.dumps(response.body, separators=(",", ":")).encode()
            headers.append(("Content-Type", "application/json"))
        headers.append(("Content-Length", str(len(payload))))
        status = f"{response.status} {_REASONS.get(response.status, 'Unknown')}"
        start_response(status, headers)
        return [payload]

    def _handle(self, environ: WSGIEnvironment) -> Response:
        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        path = str(environ.get("PATH_INFO", "") or "/")
        found = match(path)
        if found is None or found[0].kind != "admin":
            self._count(method, found[0] if found else None)
        if found is None:
            if path.startswith("/data/foundation/flowservice/"):
                raise flow_error("1101-404", f"The emulator serves no route '{path}'.")
            raise gateway_error("404010")
        route, item_id = found
        if method not in route.methods:
            raise flow_error(
                "1100-405",
                f"{method} is not allowed on {route.name}; use {', '.join(route.methods)}.",
                headers={"Allow": ", ".join(route.methods)},
            )
        request = self._read(environ, method, path)
        if route.kind == "admin":
            return admin.handle(self, route, request)
        apply_faults = route.kind == "api" or self.injector.faults.apply_to_token
        decision = Decision()
        if apply_faults:
            is_create = method == "POST" and route.kind == "api"
            is_write = method in ("POST", "PATCH", "DELETE") and route.kind == "api"
            decision = self.injector.decide(is_create, is_write=is_write)

            if decision.delay_s > 0:
                time.sleep(decision.delay_s)  # no lock is held here
        if route.kind == "api":
            # The gateway's throttle: before the Flow Service sees the request, GETs too.
            org = request.headers.get("x-gw-ims-org-id", "")
            self.limiter.enforce(org, self.injector.faults)
        if decision.status == 429:
            retry = decision.retry_after_s
            raise gateway_error(
                "429050", headers={"Retry-After": str(retry)} if retry is not None else None
            )
        if decision.status is not None:
            raise server_error(decision.status)
        if route.kind == "token":
            content_type = request.headers.get("content-type", "")
            return Response(200, self.tokens.issue(request.body, content_type))
        caller = check_headers(request.headers, self.config, self.tokens)
        # A body-less POST (a flow action) needs no Content-Type; aepp sends none there.
        if method in ("POST", "PATCH", "PUT") and (
            request.body or not route.name.endswith("/action")
        ):
            media = request.headers.get("content-type", "").split(";")[0].strip().lower()
            # application/json is documented; the JSON Patch media type is accepted as well.
            if media not in ("application/json", "application/json-patch+json"):
                raise content_type_error()
        response = self._dispatch(route, method, item_id, caller, request)
        if decision.commit_then == "500":
            raise server_error(500)
        if decision.commit_then == "drop":
            raise ConnectionDropped("fault injection: create committed, connection dropped")
        return response

    def _dispatch(
        self, route: Route, method: str, item_id: str | None, caller: Caller, request: Request
    ) -> Response:
        if route.name.endswith("/connectionSpecs/{id}"):
            if item_id != POSTGRES_SPEC_ID:
                raise flow_error("1413-400", f"The provided spec ID '{item_id}' is invalid.")
            return Response(200, self.spec.document())
        if route.name.endswith(("/test", "/explore")):
            assert item_id is not None
            record = self.api.require(caller, item_id)
            if route.name.endswith("/test"):
                return self.databases.test(record)
            return self.databases.explore(record, request)
        if route.name.startswith(CONVERSION):
            return self.dataflows.mapping_sets.route(method, item_id, caller, request)
        if route.name.startswith(CATALOG):
            return self.dataflows.catalog.route(method, item_id, caller, request)
        collection = route.name.removeprefix(FLOW + "/").split("/")[0]
        if collection != "connections":
            return self.dataflows.route(
                collection,
                method,
                item_id,
                route.name.endswith("/action"),
                caller,
                request,
                self.api.page_size,
            )
        if item_id is None:
            if method == "POST":
                return self.api.create(caller, request)[0]
            return self.api.list(caller, request)
        if method == "GET":
            return self.api.get(caller, item_id)
        if method == "PATCH":
            return self.api.patch(caller, item_id, request)
        return self.api.delete(caller, item_id)

    def _read(self, environ: WSGIEnvironment, method: str, path: str) -> Request:
        headers = {
            key[5:].replace("_", "-").lower(): str(value)
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if environ.get(key):
                headers[key.replace("_", "-").lower()] = str(environ[key])
        try:
            length = int(headers.get("content-length") or 0)
        except ValueError:
            raise flow_error("1100-400", "Content-Length is not a number.") from None
        if length > self.config.max_body_bytes:
            raise gateway_error(
                "413000", f"Request body is too large (limit {self.config.max_body_bytes} bytes)"
            )
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        query = parse_qsl(str(environ.get("QUERY_STRING", "")), keep_blank_values=True)
        return Request(method, path, query, headers, body)

    def _count(self, method: str, route: Route | None) -> None:
        key = f"{method} {route.name if route else '<unknown>'}"
        with self._counts_lock:
            self._counts[key] += 1


def _to_response(error: ApiError) -> Response:
    return Response(error.status, error.body, error.headers)


class _DroppingWSGITransport(httpx.WSGITransport):
    """Surfaces an injected dropped connection as httpx does for a real socket."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return super().handle_request(request)
        except ConnectionDropped:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            ) from None
