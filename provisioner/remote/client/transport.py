"""Sending one call: the retry rules of its kind, the token on every request, the counts.

Nothing here knows the Flow Service's resources: a ``Call`` arrives ready (method, URL,
body, what to name it in errors) and a success or an ``ApiError`` goes back.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from provisioner.remote.client.failures import (
    Call,
    Kind,
    clean,
    failure,
    malformed,
    returned,
    transport_text,
    unknown_outcome,
)
from provisioner.remote.client.notices import Notices
from provisioner.remote.client.pacing import Pacer
from provisioner.remote.ims import AccessToken, TokenCache
from provisioner.remote.retry import RETRYABLE_STATUSES, RetryPolicy

# The logger keeps the name it had before the client moved: pipelines filter on it.
log = logging.getLogger("provisioner.client")

FLOW_SERVICE_PATH = "/data/foundation/flowservice"
CONVERSION_PATH = "/data/foundation/conversion"  # Data Prep: mapping sets
CATALOG_PATH = "/data/foundation/catalog"  # Catalog: datasets
TOKEN_PATH = "/ims/token/v3"
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

    @property
    def conversion_url(self) -> str:
        return self.platform_url.rstrip("/") + CONVERSION_PATH

    @property
    def catalog_url(self) -> str:
        return self.platform_url.rstrip("/") + CATALOG_PATH


DEFAULT_ENDPOINTS = Endpoints()  # Adobe's production hosts


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


class Transport:
    """Sends calls for one set of credentials; ``fetch_token`` is asked when a token is due."""

    def __init__(
        self,
        http: httpx.Client,
        client_id: str,
        fetch_token: Callable[[Transport], AccessToken],
        *,
        retry: RetryPolicy = DEFAULT_RETRY,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        pacer: Pacer | None = None,
        notices: Notices | None = None,
    ) -> None:
        self.http = http
        self.pacer = pacer
        self.notices = notices  # says what a long wait is for (None: silent)
        self.clock = clock
        self._client_id = client_id
        self._retry = retry
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._tokens = TokenCache(lambda: fetch_token(self), clock)
        self._count_lock = threading.Lock()
        self._sent: Counter[str] = Counter()

    @property
    def requests_sent(self) -> dict[str, int]:
        """Requests sent so far, retries included, by method; IMS calls under "TOKEN"."""
        with self._count_lock:
            return dict(self._sent)

    def send(self, call: Call) -> httpx.Response:
        """Send with the retry rules of ``call.kind``; a success or an ApiError comes back.

        Reads, updates, deletes and the token request retry on 429, 5xx and transient
        transport errors (an update carries If-Match, so a repeat of one that landed is a
        412, never a second change). A create retries only when the request cannot have
        been processed.
        A 401 gets one new token and one repeat, for every kind.
        """
        start, failures, refreshed, uncertain = self.clock(), 0, False, False
        while True:
            token = "" if call.kind == "token" else self._tokens.get()
            request = self._request(call, token)
            # IMS is another service: only Flow Service calls wait for the gateway's pace.
            pacer = self.pacer if call.kind != "token" else None
            slot = pacer.before_send() if pacer is not None else None
            self._count("TOKEN" if call.kind == "token" else call.method)
            sent_at = self.clock()
            try:
                response = self.http.send(request)
            except httpx.TransportError as exc:
                if pacer is not None and slot is not None:
                    pacer.on_failure(slot)
                _log(call, f"{type(exc).__name__}", sent_at, self.clock(), failures + 1)
                not_sent = isinstance(exc, _NOT_SENT)
                if call.kind == "create" and not not_sent:
                    unknown = unknown_outcome(call, transport_text(exc))
                    if isinstance(exc, httpx.TimeoutException):
                        # The server finishes a request its client stopped waiting for.
                        unknown.pending_for = self.http.timeout.read or 0.0
                    raise unknown from exc
                if not isinstance(exc, _TRANSIENT):
                    raise failure(call, transport_text(exc)) from exc
                uncertain = uncertain or not not_sent
                text, last, retry_after = transport_text(exc), None, None
                why = type(exc).__name__
            else:
                _log(call, str(response.status_code), sent_at, self.clock(), failures + 1)
                status = response.status_code
                # Read once: the pacer takes a 429's wait, the retry below any status's.
                header = response.headers.get("Retry-After")
                retry_after = self._retry.retry_after_delay(header, time.time())
                if pacer is not None and slot is not None:
                    pacer.on_response(slot, status, retry_after if status == 429 else None)
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
                        raise unknown_outcome(call, returned(response, call.secrets), status)
                    raise failure(call, returned(response, call.secrets), response)
                uncertain = uncertain or status >= 500
                text, last = returned(response, call.secrets), response
                why = "5xx" if status >= 500 else str(status)  # an outage answers 500, 503, 504
            failures += 1
            delay = retry_after
            if delay is None:
                delay = self._retry.backoff_delay(failures, self._rng)
            elapsed = self.clock() - start
            if failures >= self._retry.max_attempts or elapsed + delay > self._retry.deadline:
                gave_up = f"{text} (gave up after {failures} attempts in {elapsed:.1f} s)"
                raise failure(call, gave_up, last, retryable=True)
            log.debug("%s %s: retrying in %.2f s", call.method, call.url, delay)
            if self.notices is not None:
                target = "IMS (the access token)" if call.kind == "token" else "the Flow Service"
                self.notices.retrying(
                    target,
                    why,
                    f"{call.what}{' ' if text.startswith('returned') else ': '}{text}",
                    since=start,
                    delay=delay,
                    attempt=failures,
                )
            self._sleep(delay)

    def ensure_token(self) -> None:
        """A token now, from the cache or IMS; AuthError when IMS refuses the credentials."""
        self._tokens.get()

    def json(self, call: Call, response: httpx.Response) -> object:
        """The body of a success as JSON, or an ApiError naming the call."""
        try:
            return response.json()
        except ValueError:
            snippet = clean(response.text, call.secrets) or "an empty body"
            raise malformed(call, f"response is not JSON: {snippet}") from None

    def _retryable(self, kind: Kind, status: int) -> bool:
        if kind == "create":
            # A 429 comes from the gateway, which refused the request before the Flow Service
            # saw it: nothing was created, so sending it again cannot duplicate. A 5xx may come
            # after the connection was committed, so it never qualifies.
            return status == 429 and self._retry.retry_create_on_429
        return status in RETRYABLE_STATUSES

    def _request(self, call: Call, token: str) -> httpx.Request:
        if call.kind == "token":
            return self.http.build_request(call.method, call.url, data=dict(call.form or {}))
        headers = {
            "Authorization": f"Bearer {token}",
            "x-api-key": self._client_id,
            "x-gw-ims-org-id": call.org,
            "x-sandbox-name": call.sandbox.lower(),
            "Accept": "application/json",
        }
        if call.body is not None:
            headers["Content-Type"] = "application/json"
        if call.if_match is not None:
            headers["If-Match"] = call.if_match  # verbatim, quotes included
        return self.http.build_request(call.method, call.url, headers=headers, content=call.body)

    def _count(self, key: str) -> None:
        with self._count_lock:
            self._sent[key] += 1


def _log(call: Call, outcome: str, sent_at: float, now: float, attempt: int) -> None:
    # Method, URL and status only: headers carry the token, bodies carry secrets.
    ms = (now - sent_at) * 1000
    log.debug("%s %s -> %s in %.0f ms (attempt %d)", call.method, call.url, outcome, ms, attempt)
