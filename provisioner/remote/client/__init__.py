"""The Flow Service client: the project's one network seam.

It receives a ready ``httpx.Client`` (``build_http_client`` makes the production one), so
tests hand it a ``MockTransport`` and the emulator a ``WSGITransport``. Safe to share between
threads: the only lock held across a request is the token cache's, around the IMS call.

    ApiError                 any refused or failed request; the message names what and where
    ├── AuthError            IMS refused the client credentials
    └── CreateOutcomeUnknown a create may or may not have happened: list before creating again

The package is cut along its seams:

    flowservice  FlowServiceClient: one method per Flow Service API call (add new calls here)
    dataflows    its mixin of a dataflow chain's Flow Service calls (sources, targets, flows, runs)
    dataprep     its mixin of Data Prep's mapping sets and Catalog's datasets (offset pages)
    transport    sending one Call with the retry rules of its kind; Endpoints, the HTTP client
    failures     how a refused or failed request becomes a one-line ApiError
    token        the IMS token request, sent through the transport, cached by TokenCache
    pagination   following ``_links.next`` without leaving the API's origin
    pacing       Pacer: the request rate the gateway allows, found from its 429s
"""

from __future__ import annotations

from provisioner.model import CreatedConnection, RemoteConnection
from provisioner.remote.client.failures import CreateOutcomeUnknown
from provisioner.remote.client.flowservice import FlowServiceClient
from provisioner.remote.client.pacing import Pacer
from provisioner.remote.client.transport import Endpoints, build_http_client
from provisioner.remote.ims import DEFAULT_SCOPES, Credentials

__all__ = [
    "DEFAULT_SCOPES",
    "CreateOutcomeUnknown",
    "CreatedConnection",
    "Credentials",
    "Endpoints",
    "FlowServiceClient",
    "Pacer",
    "RemoteConnection",
    "build_http_client",
]
