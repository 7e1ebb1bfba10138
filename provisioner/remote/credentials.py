"""Credential problems, found once before any sandbox is listed.

A wrong ``AEP_CLIENT_SECRET`` used to surface as the same IMS error on every sandbox of the
plan ("11 in error"); a person needs one line naming the variable to fix. So before listing,
the run asks IMS for a token and, per org, reads a connection spec (the connector's) in one of its
sandboxes: the gateway checks the token, the API key and the org before the Flow Service
looks at the sandbox, so a refusal there is about the credential, never about a sandbox.
Flow Service answers (an unknown sandbox, say) and server trouble are left to the listing,
which reports them per sandbox as before.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from provisioner import connectors
from provisioner.errors import ApiError, AuthError, CredentialError
from provisioner.model import DesiredConnection
from provisioner.remote.service import FlowService

_GATEWAY_CODE = re.compile(r"^\d{6}$")
# The gateway's API-key refusals: x-api-key is AEP_CLIENT_ID.
_API_KEY_CODES = ("403000", "403003")


def check_access(client: FlowService, desired: Sequence[DesiredConnection]) -> None:
    """Raise CredentialError, one line per problem, when the credentials cannot do the run."""
    try:
        client.fetch_token()
    except ApiError as error:
        raise CredentialError(_token_problem(error)) from None
    problems = []
    for org, first in _first_use_per_org(desired).items():
        try:
            client.get_connection_spec(org, first.sandbox, connectors.of(first).spec_id)
        except ApiError as error:
            problem = _org_problem(error, first)
            if problem:
                problems.append(problem)
    if problems:
        raise CredentialError("\n".join(dict.fromkeys(problems)))


def _first_use_per_org(desired: Sequence[DesiredConnection]) -> dict[str, DesiredConnection]:
    first: dict[str, DesiredConnection] = {}
    for connection in desired:
        first.setdefault(connection.org, connection)
    return first


def _token_problem(error: ApiError) -> str:
    if isinstance(error, AuthError):
        return f"{error}; nothing was listed"
    if error.status is None:
        return f"{error}; check AEP_IMS_URL (nothing was listed)"
    return f"{error}; IMS is failing, try again later (nothing was listed)"


def _org_problem(error: ApiError, first: DesiredConnection) -> str | None:
    if error.status is None:
        return f"{error}; check AEP_PLATFORM_URL (nothing was listed)"
    if not _GATEWAY_CODE.match(error.code or ""):
        return None  # a Flow Service answer about the sandbox: the listing reports it
    if error.code in _API_KEY_CODES:
        return (
            f"{error}; AEP_CLIENT_ID is sent as the API key: check it is the client id of a "
            "Developer Console project with the Experience Platform API (nothing was listed)"
        )
    if error.status == 401:
        return (
            f"{error}; the platform refused the token IMS issued: check that AEP_IMS_URL and "
            "AEP_PLATFORM_URL belong together (nothing was listed)"
        )
    if error.status == 403:
        return (
            f"org {first.org} ({first.source.file}:{first.source.line}): {error}; check the "
            "manifest's org, and that the project of AEP_CLIENT_ID has a product profile for "
            "it (nothing was listed)"
        )
    return None
