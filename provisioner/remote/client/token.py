"""The IMS token request, sent through the transport like any other call.

``auth_token`` holds what needs no HTTP (the form, the answer's parsing, the cache); this
is the one place that sends the request. The transport's retry rules for kind "token" apply:
429 and 5xx are retried, a refusal comes back for ``parse_token_response`` to word.
"""

from __future__ import annotations

from provisioner.remote.client.failures import Call
from provisioner.remote.client.transport import Endpoints, Transport
from provisioner.remote.ims import AccessToken, Credentials, parse_token_response, token_form


def fetch_token(
    transport: Transport, credentials: Credentials, endpoints: Endpoints
) -> AccessToken:
    url = endpoints.token_url
    call = Call("token", "IMS token request", "POST", url, form=token_form(credentials))
    fetched_at = transport.clock()
    response = transport.send(call)
    return parse_token_response(
        response.status_code, response.content, method="POST", url=url, fetched_at=fetched_at
    )
