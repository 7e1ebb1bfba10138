"""The forge's JSON API over httpx: one request at a time, errors that name what failed.

The Flow Service client (`provisioner.client`) stays the only seam to Adobe; this is the
second, smaller one, to GitHub or GitLab. Tests hand it a transport or point it at a fake
forge on a loopback socket. The token is registered with the redactor and only ever sent
as a header, so no message, URL or log line can carry it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from provisioner import __version__, redact
from provisioner.ci.sticky import Forbidden, ForgeError

USER_AGENT = f"provision/{__version__} (+ci)"


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
    ) -> None:
        redact.register_secret(token)
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
        try:
            response = self._http.request(method, url, json=body)
        except httpx.HTTPError as error:
            raise ForgeError(f"{where}: {type(error).__name__}: {error}") from None
        if response.status_code >= 400:
            message = f"{where}: HTTP {response.status_code}: {_message(response)}"
            kind = Forbidden if response.status_code == 403 else ForgeError
            raise kind(redact.scrub(message), status=response.status_code)
        data = response.json() if response.content else None
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
