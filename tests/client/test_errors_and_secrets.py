from __future__ import annotations

import json
import logging

import httpx
import pytest

from provisioner.errors import ApiError, AuthError
from provisioner.redact import register_secret
from provisioner.remote.client import CreateOutcomeUnknown

from .client_fakes import CLIENT_SECRET, FLOW, IMS, ORG, SPEC_ID, FakeAdobe, FakeClock, flow_error

CREATE = f"{FLOW}/connections"
PASSWORD = "Pg-pa55word-never-shown"
DSN = "Server=pg;Database=orders;UID=aep;Password=dsn-secret-value"


def payload(name: str = "orders-prod") -> dict[str, object]:
    return {
        "name": name,
        "auth": {
            "specName": "Basic Authentication",
            "params": {"server": "pg.internal", "username": "aep", "password": PASSWORD},
        },
        "connectionSpec": {"id": SPEC_ID, "version": "1.0"},
    }


def create_error(adobe: FakeAdobe, response: httpx.Response) -> ApiError:
    adobe.fail_next("create", response)
    with pytest.raises(ApiError) as caught:
        adobe.client().create_connection(ORG, "prod", payload(), name="orders-prod")
    return caught.value


def test_flow_service_error_shape(adobe: FakeAdobe) -> None:
    body = {
        "type": "https://ns.adobe.com/aep/errors/FLOW-1415-400",
        "title": "Bad request",
        "status": 400,
        "report": {"detailed-message": "Unknown auth spec name"},
        "errorMessage": "Unknown auth spec name",
        "errorDetails": "specName",
    }
    error = create_error(adobe, httpx.Response(400, json=body))
    assert str(error) == (
        "create connection 'orders-prod' in sandbox 'prod' failed: POST "
        f"{CREATE} returned 400 FLOW-1415-400: Unknown auth spec name"
    )
    assert (error.method, error.url, error.status, error.code) == (
        "POST",
        CREATE,
        400,
        "FLOW-1415-400",
    )


def test_flow_service_error_without_report_uses_error_message(adobe: FakeAdobe) -> None:
    body = {
        "type": "https://ns.adobe.com/aep/errors/FLOW-1413-400",
        "title": "Bad request",
        "errorMessage": "Connection spec not found",
    }
    error = create_error(adobe, httpx.Response(400, json=body))
    assert str(error).endswith("returned 400 FLOW-1413-400: Connection spec not found")


def test_gateway_error_shape(adobe: FakeAdobe) -> None:
    body = {"error_code": "403003", "message": "Api Key is invalid"}
    error = create_error(adobe, httpx.Response(403, json=body))
    assert str(error) == (
        "create connection 'orders-prod' in sandbox 'prod' failed: POST "
        f"{CREATE} returned 403 403003: Api Key is invalid"
    )
    assert error.code == "403003"


def test_placeholder_error_shape(adobe: FakeAdobe) -> None:
    body = {
        "type": "/placeholder/type/uri",
        "status": 400,
        "title": "BadRequestError",
        "detail": "A valid content-type must be specified",
    }
    error = create_error(adobe, httpx.Response(400, json=body))
    assert str(error).endswith("returned 400: A valid content-type must be specified")


def test_non_json_error_body(adobe: FakeAdobe) -> None:
    html = "<html>\n  <body>Forbidden\n</body>\n</html>"
    error = create_error(adobe, httpx.Response(403, text=html))
    assert str(error) == (
        "create connection 'orders-prod' in sandbox 'prod' failed: POST "
        f"{CREATE} returned 403: <html> <body>Forbidden </body> </html>"
    )


def test_get_names_the_id_and_sandbox(adobe: FakeAdobe) -> None:
    with pytest.raises(ApiError) as caught:
        adobe.client().get_connection(ORG, "dev", "no-such-id")
    assert str(caught.value) == (
        f"get connection 'no-such-id' in sandbox 'dev' failed: GET {FLOW}/connections/"
        "no-such-id returned 404 FLOW-1101-404: Connection with id no-such-id not found"
    )


def test_a_password_echoed_in_a_400_is_cut(adobe: FakeAdobe) -> None:
    echoed = json.dumps(payload())
    error = create_error(adobe, flow_error(1455, 400, f"Invalid payload {echoed}"))
    assert PASSWORD not in str(error)
    assert "(sensitive)" in str(error)


def test_a_connection_string_echoed_in_a_5xx_is_cut(adobe: FakeAdobe) -> None:
    body = payload()
    body["auth"] = {"specName": "Connection String Based Authentication",
                    "params": {"connectionString": DSN}}  # fmt: skip
    adobe.fail_next("create", httpx.Response(500, text=f"failed for {DSN}"))
    with pytest.raises(CreateOutcomeUnknown) as caught:
        adobe.client().create_connection(ORG, "prod", body, name="orders-prod")
    assert DSN not in str(caught.value)
    assert "dsn-secret-value" not in str(caught.value)


def test_a_registered_secret_echoed_anywhere_is_cut(adobe: FakeAdobe) -> None:
    register_secret("registered-pg-secret")  # as apply does when it resolves secrets
    adobe.fail_next("list", flow_error(1100, 400, "bad filter registered-pg-secret"))
    with pytest.raises(ApiError) as caught:
        adobe.client().list_connections(ORG, "prod", spec_id=SPEC_ID)
    assert "registered-pg-secret" not in str(caught.value)


def test_ims_echoing_the_client_secret_is_cut(adobe: FakeAdobe) -> None:
    body = {"error": "invalid_client", "error_description": f"bad secret {CLIENT_SECRET}"}
    adobe.fail_next("token", httpx.Response(401, json=body))
    with pytest.raises(AuthError) as caught:
        adobe.client().list_connections(ORG, "prod", spec_id=SPEC_ID)
    assert str(caught.value) == (
        f"IMS token request failed: POST {IMS} returned 401 invalid_client: bad secret "
        "(sensitive); check AEP_CLIENT_ID and AEP_CLIENT_SECRET"
    )


def test_debug_logs_never_hold_tokens_or_secrets(
    adobe: FakeAdobe, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    adobe.page_size = 1
    for n in range(3):
        adobe.add("prod", f"c{n}")
    adobe.fail_next("list", httpx.Response(503), httpx.ConnectError("refused"))
    echoed = flow_error(1455, 400, f"bad payload {json.dumps(payload())}")
    client = adobe.client(clock)
    with caplog.at_level(logging.DEBUG, logger="provisioner"):
        client.list_connections(ORG, "prod", spec_id=SPEC_ID)
        created = client.create_connection(ORG, "prod", payload("a"), name="a")
        adobe.revoked.add(adobe.tokens_issued[0])
        client.get_connection(ORG, "prod", created.id)
        adobe.fail_next("create", echoed)
        with pytest.raises(ApiError):
            client.create_connection(ORG, "prod", payload(), name="orders-prod")
    assert len(adobe.tokens_issued) == 2
    records = [r for r in caplog.records if r.name == "provisioner.client"]
    text = "\n".join(r.getMessage() for r in records)
    assert "GET https://platform.adobe.io" in text
    assert f"POST {IMS} -> 200" in text
    assert "retrying in" in text
    for secret in [*adobe.tokens_issued, CLIENT_SECRET, PASSWORD, "Bearer", "Authorization"]:
        assert secret not in caplog.text
        assert secret.lower() not in text.lower()


def test_requests_are_counted_by_method(adobe: FakeAdobe, clock: FakeClock) -> None:
    client = adobe.client(clock)
    adobe.fail_next("list", httpx.Response(502))
    created = client.create_connection(ORG, "prod", payload(), name="orders-prod")
    client.list_connections(ORG, "prod", spec_id=SPEC_ID)
    client.delete_connection(ORG, "prod", created.id, name="orders-prod")
    assert client.requests_sent == {"TOKEN": 1, "POST": 1, "GET": 2, "DELETE": 1}
