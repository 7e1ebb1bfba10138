"""The forge's JSON API over httpx: one request at a time, errors that name what failed.

The Flow Service client (`provisioner.remote.client`) stays the only seam to Adobe; this is the
second, smaller one, to GitHub or GitLab. Tests hand it a transport or point it at a fake
forge on a loopback socket. The token is registered with the redactor and only ever sent
as a header, so no message, URL or log line can carry it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from provisioner import __version__, redact
from provisioner.ci.sticky import Forbidden, ForgeError

USER_AGENT = f"provision/{__version__} (+ci)"
TRANSIENT = frozenset({502, 503, 504})
RETRY_DELAYS = (1.0, 3.0)


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
    ) -> None:
        redact.register_secret(token)
        self._sleep = sleep
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(
            headers={"User-Agent": USER_AGENT, **headers},
            timeout=timeout,
            transport=transport,
        )

    def __enter__(self) -> Rest:
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.close()

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else self.base_url + path

    def call(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Reply:
        url = self.url(path)
        where = f"{method} {url.split('?', 1)[0]}"
        # Forges answer 502/503 now and then; a comment should not fail a plan for that.
        # A POST is not repeated (it could post twice), everything else is idempotent.
        attempts = 1 if method == "POST" else len(RETRY_DELAYS) + 1
        for attempt in range(attempts):
            if attempt:
                self._sleep(RETRY_DELAYS[attempt - 1])
            try:
                response = self._http.request(method, url, json=body)
            except httpx.HTTPError as error:
                failure = f"{where}: {type(error).__name__}: {error}"
                continue
            if response.status_code not in TRANSIENT:
                break
            failure = f"{where}: HTTP {response.status_code}: {_message(response)}"
        else:
            raise ForgeError(redact.scrub(failure))
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
