from __future__ import annotations

import json
import ssl

import httpx

from provisioner.remote.client import build_http_client

from .client_fakes import CLIENT_ID, ORG, SPEC_ID, FakeAdobe

PAYLOAD = {"name": "orders", "auth": {"specName": "Basic Authentication", "params": {}}}


def test_every_flow_service_call_carries_the_documented_headers(adobe: FakeAdobe) -> None:
    client = adobe.client()
    for n in range(3):
        adobe.add("prod", f"c{n}")
    client.list_connections(ORG, "Prod", spec_id=SPEC_ID)
    created = client.create_connection(ORG, "PROD", PAYLOAD, name="orders")
    client.get_connection(ORG, "prod", created.id)
    client.delete_connection(ORG, "pRod", created.id, name="orders")
    (token,) = adobe.tokens_issued
    flow = [r for r in adobe.requests if r.url.path.startswith("/data/")]
    assert [r.method for r in flow] == ["GET", "GET", "POST", "GET", "DELETE"]
    for request in flow:
        assert request.headers["authorization"] == f"Bearer {token}"
        assert request.headers["x-api-key"] == CLIENT_ID
        assert request.headers["x-gw-ims-org-id"] == ORG
        assert request.headers["x-sandbox-name"] == "prod"
        assert request.headers["accept"] == "application/json"
        has_body = request.method == "POST"
        assert ("content-type" in request.headers) is has_body


def test_create_sends_the_payload_as_json(adobe: FakeAdobe) -> None:
    adobe.client().create_connection(ORG, "prod", PAYLOAD, name="orders")
    (request,) = adobe.seen("create")
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.content) == PAYLOAD


def test_ids_are_quoted_into_the_path(adobe: FakeAdobe) -> None:
    client = adobe.client()
    adobe.fail_next("get", httpx.Response(200, json={"items": [{"id": "x", "name": "n"}]}))
    client.get_connection(ORG, "prod", "../connectionSpecs/x?y")
    (request,) = adobe.seen("get")
    assert (
        request.url.raw_path
        == b"/data/foundation/flowservice/connections/..%2FconnectionSpecs%2Fx%3Fy"
    )


def test_build_http_client_always_verifies_tls() -> None:
    with build_http_client() as http:
        context = http._transport._pool._ssl_context  # type: ignore[attr-defined]
        assert context.verify_mode == ssl.CERT_REQUIRED
        assert context.check_hostname is True
        assert http.follow_redirects is False
        assert http.timeout == httpx.Timeout(30.0, connect=10.0)


def test_build_http_client_pool_fits_the_workers() -> None:
    with build_http_client(parallelism=32) as http:
        pool = http._transport._pool  # type: ignore[attr-defined]
        assert pool._max_connections == 33
