"""The Flow Service client: the project's one network seam.

It receives a ready ``httpx.Client`` (``build_http_client`` makes the production one), so
tests hand it a ``MockTransport`` and the emulator a ``WSGITransport``. Safe to share between
threads: the only lock held across a request is the token cache's, around the IMS call.

    ApiError                 any refused or failed request; the message names what and where
    ├── AuthError            IMS refused the client credentials
    └── CreateOutcomeUnknown a create may or may not have happened: list before creating again
"""

from __future__ import annotations

import json
import logging
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import quote, urlsplit

import httpx

from provisioner import wire
from provisioner.auth_token import (
    DEFAULT_SCOPES,
    AccessToken,
    Credentials,
    TokenCache,
    parse_token_response,
    token_form,
)
from provisioner.errors import ApiError
from provisioner.model import CreatedConnection, RemoteConnection
from provisioner.redact import register_secret, scrub
from provisioner.retry import RETRYABLE_STATUSES, RetryPolicy

__all__ = [
    "DEFAULT_SCOPES",
    "CreateOutcomeUnknown",
    "CreatedConnection",
    "Credentials",
    "Endpoints",
    "FlowServiceClient",
    "RemoteConnection",
    "build_http_client",
]

log = logging.getLogger("provisioner.client")

FLOW_SERVICE_PATH = "/data/foundation/flowservice"
TOKEN_PATH = "/ims/token/v3"
_MAX_DETAIL = 300
DEFAULT_RETRY = RetryPolicy()

# Failures where the request provably never reached the server (no connection, no pool
# slot, refused before sending): even a create may be sent again after these.
_NOT_SENT = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.UnsupportedProtocol,
    httpx.LocalProtocolError,
    httpx.ProxyError,
)
_TRANSIENT = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)
_FLOW_CODE = re.compile(r"FLOW-\d+-\d+")


class CreateOutcomeUnknown(ApiError):
    """A create that may have been committed: timeout, dropped connection or 5xx.

    Never send it again blindly (names are not unique, so that risks a duplicate): list the
    sandbox and create only if the name is still absent. ``pending_for`` is how long the
    server may still be working on it (the timeout, for a create that timed out; 0 when the
    server answered or hung up): list no earlier, or the listing can miss it.
    """

    pending_for: float = 0.0


@dataclass(frozen=True)
class Endpoints:
    ims_url: str = "https://ims-na1.adobelogin.com"
    platform_url: str = "https://platform.adobe.io"

    @property
    def token_url(self) -> str:
        return self.ims_url.rstrip("/") + TOKEN_PATH

    @property
    def flow_url(self) -> str:
        return self.platform_url.rstrip("/") + FLOW_SERVICE_PATH


def build_http_client(
    timeout: float = 30.0, *, connect_timeout: float = 10.0, parallelism: int = 16
) -> httpx.Client:
    """The production HTTP client: TLS always verified, a pool sized for the workers."""
    return httpx.Client(
        verify=True,
        timeout=httpx.Timeout(timeout, connect=connect_timeout),
        # A connection per worker plus the token request, so no worker waits for a slot.
        limits=httpx.Limits(
            max_connections=parallelism + 1, max_keepalive_connections=parallelism + 1
        ),
        # A redirect would carry the bearer token to wherever it points.
        follow_redirects=False,
        headers={"User-Agent": "provision"},
    )


Kind = Literal["token", "read", "create", "delete"]


@dataclass(frozen=True)
class _Call:
    kind: Kind
    what: str  # "create connection 'orders' in sandbox 'prod'", the message's subject
    method: str
    url: str
    org: str = ""
    sandbox: str = ""
    body: bytes | None = None
    form: Mapping[str, str] | None = field(default=None, repr=False)
    secrets: tuple[str, ...] = field(default=(), repr=False)  # to cut from error text


class FlowServiceClient:
    def __init__(
        self,
        http: httpx.Client,
        credentials: Credentials,
        endpoints: Endpoints = Endpoints(),
        *,
        retry: RetryPolicy = DEFAULT_RETRY,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        page_size: int = 100,
        max_pages: int = 10_000,
    ) -> None:
        self._http = http
        self._credentials = credentials
        self._endpoints = endpoints
        self._retry = retry
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()
        self._page_size = page_size
        self._max_pages = max_pages
        self._tokens = TokenCache(self._fetch_token, clock)
        self._count_lock = threading.Lock()
        self._sent: Counter[str] = Counter()
        register_secret(credentials.client_secret)

    @property
    def requests_sent(self) -> dict[str, int]:
        """Requests sent so far, retries included, by method; IMS calls under "TOKEN"."""
        with self._count_lock:
            return dict(self._sent)

    def list_connections(self, org: str, sandbox: str, *, spec_id: str) -> list[RemoteConnection]:
        """Every connection of ``spec_id`` in the sandbox, following every page."""
        what = f"list connections in sandbox '{sandbox}'"
        query = {"property": f"connectionSpec.id=={spec_id}", "limit": str(self._page_size)}
        url = str(httpx.URL(self._endpoints.flow_url + "/connections", params=query))
        seen: set[str] = set()
        found: list[RemoteConnection] = []
        for _ in range(self._max_pages):
            seen.add(url)
            call = _Call("read", what, "GET", url, org, sandbox)
            try:
                items, next_href = wire.page(self._json(call, self._send(call)))
                found.extend(wire.connection(item, f"items[{i}]") for i, item in enumerate(items))
            except wire.Malformed as problem:
                raise _malformed(call, str(problem)) from None
            if next_href is None:
                return found
            url = self._resolve(next_href, call)
            if url in seen:
                raise _malformed(call, f"next page link loops back to {url}")
        raise ApiError(
            f"{what} failed: GET {url}: more than {self._max_pages} pages; "
            "stopped following _links.next",
            method="GET",
            url=url,
        )

    def get_connection(self, org: str, sandbox: str, connection_id: str) -> RemoteConnection:
        what = f"get connection '{connection_id}' in sandbox '{sandbox}'"
        call = _Call("read", what, "GET", self._item_url(connection_id), org, sandbox)
        body = self._json(call, self._send(call))
        # Adobe wraps a single connection in the list shape; accept a bare object too.
        items = body.get("items", [body]) if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            raise _malformed(call, "response holds no connection")
        try:
            return wire.connection(items[0], "items[0]")
        except wire.Malformed as problem:
            raise _malformed(call, str(problem)) from None

    def create_connection(
        self, org: str, sandbox: str, payload: Mapping[str, object], *, name: str
    ) -> CreatedConnection:
        """Create one connection. Raises CreateOutcomeUnknown when it may have happened."""
        what = f"create connection '{name}' in sandbox '{sandbox}'"
        body = json.dumps(payload).encode()
        url = self._endpoints.flow_url + "/connections"
        call = _Call("create", what, "POST", url, org, sandbox, body, None, _secrets_of(payload))
        response = self._send(call)
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

    def delete_connection(self, org: str, sandbox: str, connection_id: str, *, name: str) -> None:
        what = f"delete connection '{name}' ({connection_id}) in sandbox '{sandbox}'"
        self._send(_Call("delete", what, "DELETE", self._item_url(connection_id), org, sandbox))

    # --- requests --------------------------------------------------------------------

    def _fetch_token(self) -> AccessToken:
        url = self._endpoints.token_url
        form = token_form(self._credentials)
        call = _Call("token", "IMS token request", "POST", url, form=form)
        fetched_at = self._clock()
        response = self._send(call)
        return parse_token_response(
            response.status_code, response.content, method="POST", url=url, fetched_at=fetched_at
        )

    def _send(self, call: _Call) -> httpx.Response:
        """Send with the retry rules of ``call.kind``; a success or an ApiError comes back.

        Reads, deletes and the token request retry on 429, 5xx and transient transport
        errors. A create retries only when the request cannot have been processed.
        A 401 gets one new token and one repeat, for every kind.
        """
        start, failures, refreshed, uncertain = self._clock(), 0, False, False
        while True:
            token = "" if call.kind == "token" else self._tokens.get()
            request = self._request(call, token)
            self._count("TOKEN" if call.kind == "token" else call.method)
            sent_at = self._clock()
            try:
                response = self._http.send(request)
            except httpx.TransportError as exc:
                _log(call, f"{type(exc).__name__}", sent_at, self._clock(), failures + 1)
                not_sent = isinstance(exc, _NOT_SENT)
                if call.kind == "create" and not not_sent:
                    unknown = _unknown_outcome(call, _transport_text(exc))
                    if isinstance(exc, httpx.TimeoutException):
                        # The server finishes a request its client stopped waiting for.
                        unknown.pending_for = self._http.timeout.read or 0.0
                    raise unknown from exc
                if not isinstance(exc, _TRANSIENT):
                    raise _failure(call, _transport_text(exc)) from exc
                uncertain = uncertain or not not_sent
                failure, last, retry_after = _transport_text(exc), None, None
            else:
                _log(call, str(response.status_code), sent_at, self._clock(), failures + 1)
                status = response.status_code
                if status < 300 or (status == 404 and call.kind == "delete" and uncertain):
                    return response  # a delete that may have landed earlier: gone is done
                if status == 401 and token and not refreshed:
                    self._tokens.invalidate(token)
                    refreshed = True
                    continue
                if not self._retryable(call.kind, status):
                    if call.kind == "token":
                        return response  # parse_token_response words IMS's refusal
                    if call.kind == "create" and status >= 500:
                        raise _unknown_outcome(call, _returned(response, call.secrets), status)
                    raise _failure(call, _returned(response, call.secrets), response)
                uncertain = uncertain or status >= 500
                failure, last = _returned(response, call.secrets), response
                header = response.headers.get("Retry-After")
                retry_after = self._retry.retry_after_delay(header, time.time())
            failures += 1
            delay = retry_after
            if delay is None:
                delay = self._retry.backoff_delay(failures, self._rng)
            elapsed = self._clock() - start
            if failures >= self._retry.max_attempts or elapsed + delay > self._retry.deadline:
                gave_up = f"{failure} (gave up after {failures} attempts in {elapsed:.1f} s)"
                raise _failure(call, gave_up, last, retryable=True)
            log.debug("%s %s: retrying in %.2f s", call.method, call.url, delay)
            self._sleep(delay)

    def _retryable(self, kind: Kind, status: int) -> bool:
        if kind == "create":
            # A 429 comes from the gateway, which refused the request before the Flow Service
            # saw it: nothing was created, so sending it again cannot duplicate. A 5xx may come
            # after the connection was committed, so it never qualifies.
            return status == 429 and self._retry.retry_create_on_429
        return status in RETRYABLE_STATUSES

    def _request(self, call: _Call, token: str) -> httpx.Request:
        if call.kind == "token":
            return self._http.build_request(call.method, call.url, data=dict(call.form or {}))
        headers = {
            "Authorization": f"Bearer {token}",
            "x-api-key": self._credentials.client_id,
            "x-gw-ims-org-id": call.org,
            "x-sandbox-name": call.sandbox.lower(),
            "Accept": "application/json",
        }
        if call.body is not None:
            headers["Content-Type"] = "application/json"
        return self._http.build_request(call.method, call.url, headers=headers, content=call.body)

    def _count(self, key: str) -> None:
        with self._count_lock:
            self._sent[key] += 1

    def _json(self, call: _Call, response: httpx.Response) -> object:
        try:
            return response.json()
        except ValueError:
            snippet = _clean(response.text, call.secrets) or "an empty body"
            raise _malformed(call, f"response is not JSON: {snippet}") from None

    def _item_url(self, connection_id: str) -> str:
        # Quoted whole: an id is data, never path structure.
        return f"{self._endpoints.flow_url}/connections/{quote(connection_id, safe='')}"

    def _resolve(self, href: str, call: _Call) -> str:
        """The URL of a next-page link, its query kept byte for byte (tokens hold =+/)."""
        base = urlsplit(self._endpoints.flow_url)
        origin = f"{base.scheme}://{base.netloc}"
        if href.startswith(("http://", "https://")):
            target = urlsplit(href)
            if f"{target.scheme}://{target.netloc}" != origin:
                # It would receive our bearer token.
                raise _malformed(call, f"next page link leaves {origin}: {href}")
            return href
        if href.startswith(base.path + "/"):
            return origin + href
        return self._endpoints.flow_url + ("" if href.startswith("/") else "/") + href


# --- response parsing and messages ----------------------------------------------------


def _secrets_of(payload: Mapping[str, object]) -> tuple[str, ...]:
    """Secret param values of a payload, cut from error text even if nobody registered them."""
    params = wire.obj(wire.obj(payload.get("auth")).get("params"))
    marks = ("password", "secret", "connectionstring", "token", "key")
    return tuple(
        v for k, v in params.items() if isinstance(v, str) and any(m in k.lower() for m in marks)
    )


def _clean(text: str, secrets: tuple[str, ...]) -> str:
    """Response text fit for a one-line message: secrets cut, then shortened."""
    for secret in secrets:  # before truncating, which could leave half a secret
        if secret:
            text = text.replace(secret, "(sensitive)")
    text = " ".join(scrub(text).split())
    return text if len(text) <= _MAX_DETAIL else text[: _MAX_DETAIL - 3] + "..."


def _returned(response: httpx.Response, secrets: tuple[str, ...]) -> str:
    """'returned 400 FLOW-1415-400: Unknown auth spec name', from either error shape."""
    code, detail = _error_body(response)
    text = f"returned {response.status_code}" + (f" {code}" if code else "")
    detail = _clean(detail, secrets)
    return f"{text}: {detail}" if detail else text


def _error_body(response: httpx.Response) -> tuple[str, str]:
    try:
        data = response.json()
    except ValueError:
        return "", response.text
    if not isinstance(data, dict):
        return "", response.text
    if "error_code" in data:  # the gateway's shape
        return str(data["error_code"]), wire.text(data.get("message")) or ""
    match = _FLOW_CODE.search(wire.text(data.get("type")) or "")
    report = wire.obj(data.get("report"))
    for candidate in (report.get("detailed-message"), data.get("errorMessage"), data.get("detail")):
        if isinstance(candidate, str) and candidate:
            return (match.group() if match else ""), candidate
    title = wire.text(data.get("title"))
    return (match.group() if match else ""), title or response.text


def _transport_text(exc: httpx.TransportError) -> str:
    detail = scrub(str(exc))
    return f"{type(exc).__name__}" + (f": {detail}" if detail else "")


def _failure(
    call: _Call, text: str, response: httpx.Response | None = None, *, retryable: bool = False
) -> ApiError:
    status = response.status_code if response is not None else None
    code = _error_body(response)[0] if response is not None else ""
    return ApiError(
        f"{call.what} failed: {_where(call, text)}",
        method=call.method,
        url=call.url,
        status=status,
        code=code,
        retryable=retryable,
    )


def _unknown_outcome(call: _Call, text: str, status: int | None = None) -> CreateOutcomeUnknown:
    return CreateOutcomeUnknown(
        f"{call.what} may have succeeded: {_where(call, text)}; "
        "list the sandbox before creating it again",
        method=call.method,
        url=call.url,
        status=status,
        retryable=True,
    )


def _where(call: _Call, text: str) -> str:
    # "POST <url> returned 503 ..." for an answer, "POST <url>: ReadTimeout ..." for none.
    sep = " " if text.startswith("returned") else ": "
    return f"{call.method} {call.url}{sep}{text}"


def _malformed(call: _Call, problem: str) -> ApiError:
    return ApiError(
        f"{call.what} failed: {call.method} {call.url}: {problem}",
        method=call.method,
        url=call.url,
    )


def _log(call: _Call, outcome: str, sent_at: float, now: float, attempt: int) -> None:
    # Method, URL and status only: headers carry the token, bodies carry secrets.
    ms = (now - sent_at) * 1000
    log.debug("%s %s -> %s in %.0f ms (attempt %d)", call.method, call.url, outcome, ms, attempt)
