"""The forge's JSON API over httpx: one request at a time, errors that name what failed.

The Flow Service client (`provisioner.remote.client`) stays the only seam to Adobe; this is the
second, smaller one, to GitHub or GitLab. Tests hand it a transport or point it at a fake
forge on a loopback socket. The token is registered with the redactor and only ever sent
as a header, to the origin of the API's base URL and nowhere else, so no message, URL or
log line can carry it and no link in an answer can lure it away.

What is tried again: a 502/503/504 or a dropped connection (never a POST: it could post
twice), and a rate limit, POST included (a refused request was not processed). A rate
limit is a 429, or a 403 that says so (GitHub's secondary limits carry `Retry-After`, its
primary limit `x-ratelimit-remaining: 0` and the reset time, GitLab `RateLimit-*`): the
wait the forge asks for is honoured, within a budget for the whole run. Only a 403 that
is none of these is a permission refusal (`Forbidden`: a fork's read-only token).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from provisioner import __version__, escape, redact
from provisioner.ci.sticky import Forbidden, ForgeError
from provisioner.remote.retry import parse_retry_after

USER_AGENT = f"provision/{__version__} (+ci)"
TRANSIENT = frozenset({502, 503, 504})
RETRY_DELAYS = (1.0, 3.0)
# GitHub: "wait for at least one minute" when a rate limit names no time.
RATE_LIMIT_WAIT = 60.0
RATE_LIMIT_RETRIES = 3
# All rate-limit waits of one run together: a plan job should not park for the hour a
# primary limit can take to reset; past this it fails, saying how long the forge asked.
RATE_LIMIT_BUDGET = 180.0
# 100 comments a page: a forge that never stops paging is a broken one, not a busy thread.
MAX_PAGES = 1000


@dataclass(frozen=True)
class Reply:
    data: Any
    headers: httpx.Headers


class Rest:
    def __init__(
        self,
        base_url: str,
        headers: Mapping[str, str],
        *,
        token: str,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        rate_limit_budget: float = RATE_LIMIT_BUDGET,
    ) -> None:
        redact.register_secret(token)
        self._sleep, self._clock = sleep, clock
        self._budget = self._left = rate_limit_budget
        self.base_url = base_url.rstrip("/")
        self.origin = origin(self.base_url)
        self._http = httpx.Client(
            headers={"User-Agent": USER_AGENT, **headers},
            timeout=timeout,
            transport=transport,
        )

    def __enter__(self) -> Rest:
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.close()

    def url(self, method: str, path: str) -> str:
        """``path`` under the base URL; an absolute URL (a next-page link) only on its origin."""
        if not path.startswith(("http://", "https://")):
            return self.base_url + path
        if origin(path) != self.origin:
            # It would receive the token (the Flow Service client refuses the same).
            elsewhere = printable(origin(path) or path)
            raise ForgeError(
                f"{method} {printable(path.split('?', 1)[0])}: refused to follow a link to "
                f"{elsewhere}, another origin than the API's ({self.origin}), which would "
                "receive the token; check the API URL and any proxy that rewrites links"
            )
        return path

    def call(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Reply:
        url = self.url(method, path)
        where = f"{method} {url.split('?', 1)[0]}"
        # Forges answer 502/503 now and then; a comment should not fail a plan for that.
        retries = 0 if method == "POST" else len(RETRY_DELAYS)
        failed = limited = 0
        while True:
            try:
                response = self._http.request(method, url, json=body)
            except httpx.HTTPError as error:
                failure = f"{where}: {type(error).__name__}: {error}"
            else:
                if response.status_code not in TRANSIENT:
                    wait = rate_limit_wait(response, self._clock())
                    if wait is None:
                        break
                    self._wait(where, response, wait, limited)
                    limited += 1
                    continue
                failure = f"{where}: HTTP {response.status_code}: {_message(response)}"
            if failed >= retries:
                raise ForgeError(redact.scrub(failure))
            self._sleep(RETRY_DELAYS[failed])
            failed += 1
        if response.status_code >= 400:
            message = f"{where}: HTTP {response.status_code}: {_message(response)}"
            kind = Forbidden if response.status_code == 403 else ForgeError
            raise kind(redact.scrub(message), status=response.status_code)
        try:
            data = response.json() if response.content else None
        except ValueError:
            # A proxy's HTML page with a 200, say: one line naming the call, not a traceback.
            snippet = " ".join(response.text.split())[:120]
            raise ForgeError(
                redact.scrub(
                    f"{where}: HTTP {response.status_code} with a body that is not JSON: {snippet}"
                ),
                status=response.status_code,
            ) from None
        return Reply(data, response.headers)

    def _wait(self, where: str, response: httpx.Response, wait: float, limited: int) -> None:
        """Sleep as a rate limit asks, or raise when that is past the retries or the budget."""
        said = f"{where}: HTTP {response.status_code}: {_message(response)}"
        if limited >= RATE_LIMIT_RETRIES:
            problem = f"still rate limited after {limited} waits"
        elif wait > self._left:
            problem = (
                f"rate limited for {wait:.0f} s more; provision waits at most "
                f"{self._budget:.0f} s in one run"
            )
            if self._left < self._budget:
                problem += f", {self._left:.0f} s of it left"
        else:
            self._left -= wait
            self._sleep(wait)
            return
        raise ForgeError(
            redact.scrub(f"{said} ({problem}); run the job again later"),
            status=response.status_code,
        )


def rate_limit_wait(response: httpx.Response, now: float) -> float | None:
    """Seconds a rate-limited answer asks to wait before the request is sent again; None
    for any other answer. ``now`` is wall-clock epoch seconds (the reset headers' clock)."""
    if response.status_code not in (403, 429):
        return None
    headers = response.headers
    after = parse_retry_after(headers.get("retry-after"), now)
    if after is not None:
        return after
    for prefix in ("x-ratelimit-", "ratelimit-"):  # GitHub, GitLab
        if headers.get(prefix + "remaining", "").strip() == "0":
            try:
                reset = float(headers.get(prefix + "reset", ""))
            except ValueError:
                return RATE_LIMIT_WAIT
            return max(0.0, reset - now) if math.isfinite(reset) else RATE_LIMIT_WAIT
    if response.status_code == 429 or "rate limit" in _message(response).lower():
        return RATE_LIMIT_WAIT
    return None


def origin(url: str) -> str:
    """scheme://host[:port], ports and case normalised; empty for a URL httpx cannot read."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        return ""
    host = f"[{parsed.host}]" if ":" in parsed.host else parsed.host
    return f"{parsed.scheme}://{host}" + (f":{parsed.port}" if parsed.port else "")


def printable(text: str, limit: int = 120) -> str:
    """Text from an answer, one line of printable ASCII, cut: it goes into an error message."""
    escaped = text.encode("ascii", "backslashreplace").decode("ascii")
    escaped = escape.line(escaped)  # control characters, and no CI log command
    return escaped if len(escaped) <= limit else escaped[: limit - 1] + "…"


def _message(response: httpx.Response) -> str:
    # GitHub: {"message": ...}; GitLab: {"message": ...} or {"error": ...}.
    try:
        data = response.json()
    except ValueError:
        return response.reason_phrase or "no message"
    if isinstance(data, dict):
        text = data.get("message") or data.get("error") or ""
        return str(text)[:300] or response.reason_phrase
    return response.reason_phrase
