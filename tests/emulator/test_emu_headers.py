from __future__ import annotations

import httpx
import pytest

from provisioner.emulator import Emulator, EmulatorConfig

from .emu_helpers import BASE, FLOW, ORG, api_headers, fetch_token, flow_code, pg_payload


@pytest.fixture
def raw(emulator: Emulator) -> httpx.Client:
    return httpx.Client(transport=emulator.transport(), base_url=BASE)


@pytest.fixture
def good(raw: httpx.Client, emulator: Emulator) -> dict[str, str]:
    return api_headers(fetch_token(raw, emulator), emulator)


def without(headers: dict[str, str], name: str) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.lower() != name.lower()}


@pytest.mark.parametrize(
    ("change", "status", "body"),
    [
        (
            lambda h: without(h, "Authorization"),
            403,
            {"error_code": "403010", "message": "Oauth token is missing."},
        ),
        (
            lambda h: {**h, "Authorization": "Bearer not-a-token"},
            401,
            {"error_code": "401013", "message": "Oauth token is not valid"},
        ),
        (
            lambda h: {**h, "Authorization": "Basic abc"},
            401,
            {"error_code": "401013", "message": "Oauth token is not valid"},
        ),
        (
            lambda h: without(h, "x-api-key"),
            403,
            {"error_code": "403000", "message": "Api Key is required"},
        ),
        (
            lambda h: {**h, "x-api-key": "other-client"},
            403,
            {"error_code": "403003", "message": "Api Key is invalid"},
        ),
        (
            lambda h: without(h, "x-gw-ims-org-id"),
            400,
            {"error_code": "400003", "message": "Missing header x-gw-ims-org-id"},
        ),
        (
            lambda h: {**h, "x-gw-ims-org-id": "FFFF@AdobeOrg"},
            403,
            {"error_code": "403025", "message": "Profile is not valid"},
        ),
    ],
)
def test_gateway_errors(raw: httpx.Client, good: dict[str, str], change, status, body) -> None:  # type: ignore[no-untyped-def]
    response = raw.get(f"{FLOW}/connections", headers=change(good))
    assert (response.status_code, response.json()) == (status, body)


def test_lowercase_bearer_scheme_is_accepted(raw: httpx.Client, good: dict[str, str]) -> None:
    # aepp's ConnectObject sends "bearer <token>".
    headers = {**good, "Authorization": good["Authorization"].replace("Bearer", "bearer")}
    assert raw.get(f"{FLOW}/connections", headers=headers).status_code == 200


def test_missing_sandbox_is_2105(raw: httpx.Client, good: dict[str, str]) -> None:
    response = raw.get(f"{FLOW}/connections", headers=without(good, "x-sandbox-name"))
    assert (response.status_code, flow_code(response)) == (400, "2105-400")


@pytest.mark.parametrize("sandbox", ["qa", "Prod", "PROD"])
def test_unknown_sandbox_is_2100(raw: httpx.Client, good: dict[str, str], sandbox: str) -> None:
    response = raw.get(f"{FLOW}/connections", headers={**good, "x-sandbox-name": sandbox})
    assert (response.status_code, flow_code(response)) == (404, "2100-404")
    assert response.json()["errorMessage"] == f"The sandbox '{sandbox}' was not found."


def test_any_sandbox_option_accepts_lowercase_names() -> None:
    emu = Emulator(EmulatorConfig(any_sandbox=True))
    with httpx.Client(transport=emu.transport(), base_url=BASE) as client:
        headers = api_headers(fetch_token(client, emu), emu, sandbox="feature-123")
        assert client.get(f"{FLOW}/connections", headers=headers).status_code == 200
        upper = client.get(f"{FLOW}/connections", headers={**headers, "x-sandbox-name": "Feature"})
        assert flow_code(upper) == "2100-404"


def test_sandboxes_are_isolated(
    raw: httpx.Client, good: dict[str, str], emulator: Emulator
) -> None:
    created = raw.post(f"{FLOW}/connections", json=pg_payload(), headers=good).json()
    dev = {**good, "x-sandbox-name": "dev"}
    assert raw.get(f"{FLOW}/connections", headers=dev).json() == {"items": []}
    other = raw.get(f"{FLOW}/connections/{created['id']}", headers=dev)
    assert flow_code(other) == "1101-404"
    assert [c["sandboxName"] for c in emulator.connections()] == ["prod"]
    assert emulator.connections(ORG, "dev") == []


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_body_without_json_content_type(
    raw: httpx.Client, good: dict[str, str], content_type: str | None
) -> None:
    headers = dict(good)
    if content_type:
        headers["Content-Type"] = content_type
    response = raw.post(f"{FLOW}/connections", content=b'{"name": "x"}', headers=headers)
    assert response.status_code == 400
    assert response.json() == {
        "type": "/placeholder/type/uri",
        "status": 400,
        "title": "BadRequestError",
        "detail": "A valid content-type must be specified",
    }


def test_json_content_type_with_charset_is_fine(raw: httpx.Client, good: dict[str, str]) -> None:
    headers = {**good, "Content-Type": "application/json; charset=utf-8"}
    response = raw.post(
        f"{FLOW}/connections",
        content=httpx.Request("POST", "/", json=pg_payload()).content,
        headers=headers,
    )
    assert response.status_code == 201


def test_request_id_header_matches_the_error_body(raw: httpx.Client, good: dict[str, str]) -> None:
    response = raw.get(f"{FLOW}/connections/nope", headers=good)
    assert response.headers["x-request-id"] == response.json()["report"]["request-id"]
