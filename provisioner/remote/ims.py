"""IMS OAuth server-to-server credentials, the token response, and the shared token cache.

No HTTP here: the client sends the token request and hands the answer to
``parse_token_response``; ``TokenCache`` only decides when to ask again.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from provisioner import escape
from provisioner.errors import ApiError, AuthError
from provisioner.redact import register_secret, scrub

DEFAULT_SCOPES = (
    "openid",
    "AdobeID",
    "read_organizations",
    "additional_info.projectedProductContext",
    "session",
)

# Renew this long before IMS says the token expires, so a request never leaves with a
# token that dies in flight; short-lived tokens get a tenth of their lifetime instead.
MAX_RENEW_MARGIN = 300.0
RENEW_FRACTION = 0.1


@dataclass(frozen=True)
class Credentials:
    client_id: str
    client_secret: str = field(repr=False)
    scopes: tuple[str, ...] = DEFAULT_SCOPES


@dataclass(frozen=True)
class AccessToken:
    value: str = field(repr=False)
    renew_at: float  # on the client's clock


def token_form(credentials: Credentials) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_id": credentials.client_id,
        "client_secret": credentials.client_secret,
        "scope": ",".join(credentials.scopes),
    }


def renew_margin(lifetime: float) -> float:
    return min(MAX_RENEW_MARGIN, lifetime * RENEW_FRACTION)


def parse_token_response(
    status: int, body: bytes, *, method: str, url: str, fetched_at: float
) -> AccessToken:
    """The token from an IMS answer that is not worth retrying; AuthError on refusal."""
    where = f"IMS token request failed: {method} {url} returned {status}"
    try:
        data: object = json.loads(body)
    except ValueError:
        data = None
    if not 200 <= status < 300:
        raise _refusal(where, data, body, method=method, url=url, status=status)
    if not isinstance(data, dict):
        raise ApiError(f"{where} with a body that is not a JSON object", method=method, url=url)
    token = data.get("access_token")
    # Seconds since OAuth S2S; the retired JWT flow used milliseconds.
    expires_in = data.get("expires_in")
    if not isinstance(token, str) or not token:
        raise ApiError(f"{where} without an access_token", method=method, url=url)
    if isinstance(expires_in, bool) or not isinstance(expires_in, int | float) or expires_in <= 0:
        raise ApiError(f"{where} without a usable expires_in", method=method, url=url)
    register_secret(token)
    return AccessToken(token, fetched_at + expires_in - renew_margin(expires_in))


def _refusal(
    where: str, data: object, body: bytes, *, method: str, url: str, status: int
) -> ApiError:
    code, detail = "", body.decode("utf-8", "replace")
    if isinstance(data, dict) and isinstance(data.get("error"), str):
        code, described = data["error"], data.get("error_description")
        detail = described if isinstance(described, str) else ""
    detail = escape.line(" ".join(scrub(detail).split())[:300])  # IMS's text, shown as data
    message = where + (f" {code}" if code else "") + (f": {detail}" if detail else "")
    if not 400 <= status < 500:  # IMS itself failed: nothing for the user to check
        return ApiError(message, method=method, url=url, status=status, code=code)
    hint = _variable_to_check(code, detail)
    return AuthError(f"{message}; check {hint}", method=method, url=url, status=status, code=code)


def _variable_to_check(code: str, detail: str) -> str:
    # IMS names the refused parameter ("invalid client_secret parameter"): say which
    # variable holds it, so the person fixes one thing rather than guessing between two.
    if code == "invalid_scope":
        return "AEP_SCOPES"
    lowered = detail.lower()
    if "client_secret" in lowered:
        return "AEP_CLIENT_SECRET"
    if "client_id" in lowered:
        return "AEP_CLIENT_ID"
    return "AEP_CLIENT_ID and AEP_CLIENT_SECRET"


class TokenCache:
    """One token per client (so per credentials), fetched by one caller while others wait.

    The lock is held across the fetch on purpose: sixteen workers starting together must
    cause one IMS request, not sixteen. A definite refusal (AuthError) is remembered, so bad
    credentials do not send every worker to IMS in turn.
    """

    def __init__(self, fetch: Callable[[], AccessToken], clock: Callable[[], float]) -> None:
        self._fetch = fetch
        self._clock = clock
        self._lock = threading.Lock()
        self._token: AccessToken | None = None
        self._refused: AuthError | None = None

    def get(self) -> str:
        with self._lock:
            if self._refused is not None:
                raise self._refused
            if self._token is None or self._clock() >= self._token.renew_at:
                try:
                    self._token = self._fetch()
                except AuthError as exc:
                    self._refused = exc
                    raise
            return self._token.value

    def invalidate(self, value: str) -> None:
        """Forget ``value`` after a 401, unless another worker already replaced it."""
        with self._lock:
            if self._token is not None and self._token.value == value:
                self._token = None
