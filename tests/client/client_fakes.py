"""A small stateful fake of IMS and the Flow Service connections API, for MockTransport.

It keeps connections in a dict per sandbox, issues and checks tokens, pages lists with
URL-significant continuation tokens, and can be told to misbehave on the next matching
request (a canned response or a raised transport error).
"""

from __future__ import annotations

import itertools
import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs, quote

import httpx

from provisioner.remote.client import Credentials, Endpoints, FlowServiceClient

CLIENT_ID = "test-client-id"
CLIENT_SECRET = "p8e-Cl1ent-S3cret-value"
ORG = "0123456789ABCDEF01234567@AdobeOrg"
SPEC_ID = "74a1c565-4e59-48d7-9d67-7c03b8a13137"
FLOW = "https://platform.adobe.io/data/foundation/flowservice"
IMS = "https://ims-na1.adobelogin.com/ims/token/v3"

Fault = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


class FakeClock:
    """Monotonic time that only moves when the client sleeps (or a test says so)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@dataclass
class FakeAdobe:
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET
    expires_in: object = 86399
    page_size: int = 2
    # How a next link is written: "relative" (/connections?...), "host" (/data/...),
    # "full" (https://...), "bare" (connections?...).
    href_form: str = "relative"
    # How a continuation token appears in the href: "encoded" or "raw" (a+b/c== as is).
    token_form: str = "encoded"
    sandboxes: dict[str, dict[str, dict[str, object]]] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)
    tokens_issued: list[str] = field(default_factory=list)
    faults: dict[str, list[Fault]] = field(default_factory=dict)
    revoked: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._counter = itertools.count(1)
        self._pages: dict[str, tuple[str, int]] = {}  # raw token -> (sandbox, offset)

    # --- test set-up -------------------------------------------------------------------

    def add(self, sandbox: str, name: str, **extra: object) -> str:
        cid = str(uuid.uuid4())
        item: dict[str, object] = {
            "id": cid,
            "name": name,
            "etag": f'"{cid[:8]}"',
            "connectionSpec": {"id": SPEC_ID, "version": "1.0"},
            "state": "enabled",
            "auth": {"specName": "Basic Authentication", "params": {"server": "pg"}},
            "createdAt": 1700000000000,
            "createdClient": CLIENT_ID,
            "sandboxName": sandbox,
        }
        item.update(extra)
        self.sandboxes.setdefault(sandbox, {})[cid] = item
        return cid

    def fail_next(self, route: str, *faults: Fault) -> None:
        """Queue misbehaviour for the next requests of ``route``: token, list, get, create,
        delete."""
        self.faults.setdefault(route, []).extend(faults)

    def seen(self, route: str) -> list[httpx.Request]:
        return [r for r in self.requests if _route(r) == route]

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def client(
        self,
        clock: FakeClock | None = None,
        *,
        secret: str | None = None,
        **options: object,
    ) -> FlowServiceClient:
        """A client of this fake; ``secret`` overrides the one the fake accepts."""
        clock = clock or FakeClock()
        return FlowServiceClient(
            httpx.Client(transport=self.transport()),
            Credentials(self.client_id, self.client_secret if secret is None else secret),
            Endpoints(),
            sleep=clock.sleep,
            clock=clock,
            **options,  # type: ignore[arg-type]
        )

    # --- the server --------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        request.read()
        route = _route(request)
        with self._lock:
            self.requests.append(request)
            queued = self.faults.get(route)
            fault = queued.pop(0) if queued else None
        if isinstance(fault, Exception):
            raise fault
        if isinstance(fault, httpx.Response):
            return fault
        if fault is not None:
            return fault(request)
        return self.serve(request)

    def serve(self, request: httpx.Request) -> httpx.Response:
        """Answer as the real service would, without recording or faults."""
        route = _route(request)
        if route == "token":
            return self._token(request)
        denied = self._check(request)
        if denied is not None:
            return denied
        sandbox = request.headers["x-sandbox-name"]
        store = self.sandboxes.setdefault(sandbox, {})
        if route == "list":
            return self._list(request, sandbox, store)
        if route == "create":
            return self._create(request, sandbox, store)
        cid = request.url.path.rsplit("/", 1)[1]
        if cid not in store:
            return flow_error(1101, 404, f"Connection with id {cid} not found")
        if route == "get":
            return httpx.Response(200, json={"items": [store[cid]]})
        del store[cid]
        return httpx.Response(204)

    def _token(self, request: httpx.Request) -> httpx.Response:
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        if form.get("grant_type") != "client_credentials" or form.get("scope") is None:
            return httpx.Response(400, json={"error": "invalid_request"})
        if (form.get("client_id"), form.get("client_secret")) != (
            self.client_id,
            self.client_secret,
        ):
            return httpx.Response(
                401,
                json={"error": "invalid_client", "error_description": "invalid client_secret"},
            )
        with self._lock:
            token = f"eyJ-token-{next(self._counter)}-{uuid.uuid4().hex}"
            self.tokens_issued.append(token)
        body = {"access_token": token, "token_type": "bearer", "expires_in": self.expires_in}
        return httpx.Response(200, json=body)

    def _check(self, request: httpx.Request) -> httpx.Response | None:
        auth = request.headers.get("authorization", "")
        token = auth.removeprefix("Bearer ")
        if not auth.startswith("Bearer ") or token not in self.tokens_issued:
            return gateway_error(401, "401013", "Oauth token is not valid")
        if token in self.revoked:
            return gateway_error(401, "401013", "Oauth token is not valid")
        if request.headers.get("x-api-key") != self.client_id:
            return gateway_error(403, "403003", "Api Key is invalid")
        if request.headers.get("x-gw-ims-org-id") != ORG:
            return gateway_error(400, "400003", "Missing header x-gw-ims-org-id")
        if "x-sandbox-name" not in request.headers:
            return flow_error(2105, 400, "Sandbox header missing")
        return None

    def _list(
        self, request: httpx.Request, sandbox: str, store: dict[str, dict[str, object]]
    ) -> httpx.Response:
        raw = _raw_params(request)
        offset = 0
        if "continuationToken" in raw:
            page = self._pages.get(raw["continuationToken"])
            if page is None or page[0] != sandbox:
                return flow_error(1100, 400, "Invalid continuation token")
            offset = page[1]
        else:
            wanted = request.url.params.get("property")
            if wanted != f"connectionSpec.id=={SPEC_ID}":
                return flow_error(1100, 400, f"unexpected filter {wanted}")
        items = list(store.values())
        body: dict[str, object] = {"items": items[offset : offset + self.page_size]}
        if offset + self.page_size < len(items):
            token = f"{offset + self.page_size}+b/c=="
            written = token if self.token_form == "raw" else quote(token, safe="")
            self._pages[written] = (sandbox, offset + self.page_size)
            query = f"continuationToken={written}&property=connectionSpec.id%3D%3D{SPEC_ID}"
            body["_links"] = {"next": {"href": self._href(query)}}
        return httpx.Response(200, json=body)

    def _href(self, query: str) -> str:
        return {
            "relative": f"/connections?{query}",
            "host": f"/data/foundation/flowservice/connections?{query}",
            "full": f"{FLOW}/connections?{query}",
            "bare": f"connections?{query}",
        }[self.href_form]

    def _create(
        self, request: httpx.Request, sandbox: str, store: dict[str, dict[str, object]]
    ) -> httpx.Response:
        if request.headers.get("content-type") != "application/json":
            return httpx.Response(
                400,
                json={
                    "type": "/placeholder/type/uri",
                    "status": 400,
                    "title": "BadRequestError",
                    "detail": "A valid content-type must be specified",
                },
            )
        payload = json.loads(request.content)
        cid = self.add(sandbox, payload["name"], auth=payload["auth"])
        etag = store[cid]["etag"]
        return httpx.Response(201, json={"id": cid, "etag": etag})


def flow_error(code: int, status: int, message: str) -> httpx.Response:
    return httpx.Response(
        status,
        json={
            "type": f"https://ns.adobe.com/aep/errors/FLOW-{code}-{status}",
            "title": "Error",
            "status": status,
            "report": {"detailed-message": message},
            "errorMessage": message,
        },
    )


def gateway_error(status: int, code: str, message: str, **headers: str) -> httpx.Response:
    return httpx.Response(status, json={"error_code": code, "message": message}, headers=headers)


def _route(request: httpx.Request) -> str:
    path = request.url.path
    if path == "/ims/token/v3":
        return "token"
    if path == "/data/foundation/flowservice/connections":
        return "list" if request.method == "GET" else "create"
    return {"GET": "get", "DELETE": "delete"}.get(request.method, "other")


def _raw_params(request: httpx.Request) -> dict[str, str]:
    """Query parameters exactly as sent, not decoded: a re-encoded token will not match."""
    query = request.url.query.decode()
    return dict(part.split("=", 1) for part in query.split("&") if "=" in part)
