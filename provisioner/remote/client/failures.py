"""How a refused or failed request becomes a one-line ApiError naming what and where.

Adobe answers errors in two shapes (the gateway's ``error_code``/``message`` and the Flow
Service's problem document with a ``FLOW-...`` type); both are read here. Every text that
reaches a message has secrets cut first, then is shortened; every message is one escaped
line (names and API text are someone else's: no control character, no CI log command).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import httpx

from provisioner import connectors, escape
from provisioner.errors import ApiError
from provisioner.redact import scrub
from provisioner.remote import decode

_MAX_DETAIL = 300
_FLOW_CODE = re.compile(r"FLOW-\d+-\d+")

# What a call does, which decides its retry rules (see transport.Transport.send).
Kind = Literal["token", "read", "create", "update", "delete"]


@dataclass(frozen=True)
class Call:
    """One API call to send: the request, and what its error messages say it was."""

    kind: Kind
    what: str  # "create connection 'orders' in sandbox 'prod'", the message's subject
    method: str
    url: str
    org: str = ""
    sandbox: str = ""
    body: bytes | None = None
    form: Mapping[str, str] | None = field(default=None, repr=False)
    secrets: tuple[str, ...] = field(default=(), repr=False)  # to cut from error text
    if_match: str | None = None  # the etag an update was planned against


class CreateOutcomeUnknown(ApiError):
    """A create that may have been committed: timeout, dropped connection or 5xx.

    Never send it again blindly (names are not unique, so that risks a duplicate): list the
    sandbox and create only if the name is still absent. ``pending_for`` is how long the
    server may still be working on it (the timeout, for a create that timed out; 0 when the
    server answered or hung up): list no earlier, or the listing can miss it.
    """

    pending_for: float = 0.0


# Any of these in a param's name marks it secret; each connector adds its own secret params.
_SECRET_MARKS = (
    "secret",
    "token",
    "key",
    *(name.lower() for connector in connectors.ALL for name in connector.secret_param_names),
)


def is_secret_param(key: str) -> bool:
    """Whether an auth param carries a secret: a connector's secret param, or a token or key."""
    return any(mark in key.lower() for mark in _SECRET_MARKS)


def secrets_of(payload: Mapping[str, object]) -> tuple[str, ...]:
    """Secret param values of a payload, cut from error text even if nobody registered them."""
    params = decode.obj(decode.obj(payload.get("auth")).get("params"))
    return tuple(v for k, v in params.items() if isinstance(v, str) and is_secret_param(k))


def clean(text: str, secrets: tuple[str, ...]) -> str:
    """Response text fit for a one-line message: secrets cut, then shortened."""
    for secret in secrets:  # before truncating, which could leave half a secret
        if secret:
            text = text.replace(secret, "(sensitive)")
    text = escape.line(" ".join(scrub(text).split()))
    return text if len(text) <= _MAX_DETAIL else text[: _MAX_DETAIL - 3] + "..."


def returned(response: httpx.Response, secrets: tuple[str, ...]) -> str:
    """'returned 400 FLOW-1415-400: Unknown auth spec name', from either error shape."""
    code, detail = error_body(response)
    text = f"returned {response.status_code}" + (f" {code}" if code else "")
    detail = clean(detail, secrets)
    return f"{text}: {detail}" if detail else text


def error_body(response: httpx.Response) -> tuple[str, str]:
    try:
        data = response.json()
    except ValueError:
        return "", response.text
    if not isinstance(data, dict):
        return "", response.text
    if "error_code" in data:  # the gateway's shape
        return str(data["error_code"]), decode.text(data.get("message")) or ""
    match = _FLOW_CODE.search(decode.text(data.get("type")) or "")
    report = decode.obj(data.get("report"))
    for candidate in (report.get("detailed-message"), data.get("errorMessage"), data.get("detail")):
        if isinstance(candidate, str) and candidate:
            return (match.group() if match else ""), candidate
    title = decode.text(data.get("title"))
    return (match.group() if match else ""), title or response.text


def transport_text(exc: httpx.TransportError) -> str:
    detail = scrub(str(exc))
    return f"{type(exc).__name__}" + (f": {detail}" if detail else "")


def failure(
    call: Call, text: str, response: httpx.Response | None = None, *, retryable: bool = False
) -> ApiError:
    status = response.status_code if response is not None else None
    code = error_body(response)[0] if response is not None else ""
    return ApiError(
        escape.line(f"{call.what} failed: {_where(call, text)}"),
        method=call.method,
        url=call.url,
        status=status,
        code=code,
        retryable=retryable,
    )


def unknown_outcome(call: Call, text: str, status: int | None = None) -> CreateOutcomeUnknown:
    return CreateOutcomeUnknown(
        escape.line(
            f"{call.what} may have succeeded: {_where(call, text)}; "
            "list the sandbox before creating it again"
        ),
        method=call.method,
        url=call.url,
        status=status,
        retryable=True,
    )


def malformed(call: Call, problem: str) -> ApiError:
    """A success whose body we cannot read: the request is named, the problem said."""
    return ApiError(
        escape.line(f"{call.what} failed: {call.method} {call.url}: {problem}"),
        method=call.method,
        url=call.url,
    )


def _where(call: Call, text: str) -> str:
    # "POST <url> returned 503 ..." for an answer, "POST <url>: ReadTimeout ..." for none.
    sep = " " if text.startswith("returned") else ": "
    return f"{call.method} {call.url}{sep}{text}"
