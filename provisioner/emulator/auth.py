"""IMS tokens and the gateway's header checks.

Tokens are opaque random strings kept in memory with their expiry: a restart revokes them all,
which a client must survive anyway (401 → fetch a new token).
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qs

from provisioner.emulator.config import EmulatorConfig
from provisioner.emulator.errors import JsonObject, flow_error, gateway_error, ims_error

_SANDBOX_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
FORM_TYPE = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class Caller:
    """Who is calling, once the headers have been checked."""

    client_id: str
    org: str
    sandbox: str

    @property
    def adobe_id(self) -> str:
        # Service tokens show the client as both createdBy and createdClient.
        return f"{self.client_id}@AdobeID"


class TokenIssuer:
    def __init__(self, config: EmulatorConfig, clock: Callable[[], float] = time.time) -> None:
        self._config = config
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens: dict[str, tuple[float, str]] = {}  # token -> (expiry, client id)

    def issue(self, body: bytes, content_type: str) -> JsonObject:
        """Handle ``POST /ims/token/v3``; returns the token response or raises ApiError."""
        if content_type.split(";")[0].strip().lower() != FORM_TYPE:
            raise ims_error(400, "invalid_request", f"Content-Type must be {FORM_TYPE}")
        try:
            form = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
        except UnicodeDecodeError:
            raise ims_error(400, "invalid_request", "body is not valid UTF-8") from None
        fields = {key: values[0] for key, values in form.items()}
        grant = fields.get("grant_type")
        if grant is None:
            raise ims_error(400, "invalid_request", "missing grant_type parameter")
        if grant != "client_credentials":
            raise ims_error(400, "unsupported_grant_type", f"unsupported grant_type {grant}")
        client_id = fields.get("client_id")
        if not client_id:
            raise ims_error(400, "invalid_request", "missing client_id parameter")
        expected = self._config.secret_of(client_id)
        if expected is None:
            raise ims_error(400, "invalid_client", "invalid client_id parameter")
        secret = fields.get("client_secret", "")
        if not secrets.compare_digest(secret, expected):
            raise ims_error(401, "invalid_client", "invalid client_secret parameter")
        token = "emu-" + secrets.token_urlsafe(32)
        now = self._clock()
        lifetime = self._config.token_lifetime_s
        with self._lock:
            # Drop expired tokens so a long rehearsal does not grow without bound.
            self._tokens = {t: entry for t, entry in self._tokens.items() if entry[0] > now}
            self._tokens[token] = (now + lifetime, client_id)
        return {"access_token": token, "token_type": "bearer", "expires_in": lifetime}

    def valid(self, token: str) -> bool:
        return self.client_of(token) is not None

    def client_of(self, token: str) -> str | None:
        """The client a live token was issued to; None for an unknown or expired token."""
        with self._lock:
            entry = self._tokens.get(token)
        return entry[1] if entry is not None and entry[0] > self._clock() else None

    def revoke(self, token: str | None = None) -> int:
        """Revoke one token, or every token when ``token`` is None; returns how many."""
        with self._lock:
            if token is None:
                count = len(self._tokens)
                self._tokens.clear()
                return count
            return 1 if self._tokens.pop(token, None) is not None else 0


def check_headers(
    headers: Mapping[str, str], config: EmulatorConfig, tokens: TokenIssuer
) -> Caller:
    """The gateway's checks, then the Flow Service's sandbox checks, in that order."""
    authorization = headers.get("authorization")
    if not authorization:
        raise gateway_error("403010")
    scheme, _, token = authorization.partition(" ")
    api_key = headers.get("x-api-key")
    if not api_key:
        raise gateway_error("403000")
    if config.secret_of(api_key) is None:
        raise gateway_error("403003")
    # A token is good only with the API key of the client it was issued to.
    if scheme.lower() != "bearer" or tokens.client_of(token.strip()) != api_key:
        raise gateway_error("401013")
    org = headers.get("x-gw-ims-org-id")
    if not org:
        raise gateway_error("400003", "Missing header x-gw-ims-org-id")
    if org not in config.orgs_of(api_key):
        raise gateway_error("403025")
    sandbox = headers.get("x-sandbox-name")
    if not sandbox:
        raise flow_error("2105-400")
    known = sandbox in config.sandboxes or (
        config.any_sandbox and _SANDBOX_NAME.match(sandbox) is not None
    )
    if not known:
        raise flow_error("2100-404", f"The sandbox '{sandbox}' was not found.")
    return Caller(client_id=api_key, org=org, sandbox=sandbox)
