from __future__ import annotations

import httpx

from provisioner.emulator import Emulator, EmulatorConfig

from .emu_helpers import BASE, FLOW, api_headers, fetch_token


def token_request(client: httpx.Client, **fields: str) -> httpx.Response:
    data = {
        "grant_type": "client_credentials",
        "client_id": "emulator-client",
        "client_secret": "emulator-secret",
        "scope": "openid,AdobeID",
    }
    data.update(fields)
    return client.post("/ims/token/v3", data={k: v for k, v in data.items() if v != "<omit>"})


def test_token_response_shape(emulator: Emulator) -> None:
    with httpx.Client(transport=emulator.transport(), base_url=BASE) as client:
        response = token_request(client)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 86399  # seconds, like Adobe's IMS


def test_wrong_credentials_get_ims_errors(emulator: Emulator) -> None:
    with httpx.Client(transport=emulator.transport(), base_url=BASE) as client:
        bad_id = token_request(client, client_id="someone-else")
        bad_secret = token_request(client, client_secret="nope")
        no_id = token_request(client, client_id="<omit>")
        grant = token_request(client, grant_type="authorization_code")
        as_json = client.post("/ims/token/v3", json={"grant_type": "client_credentials"})
    assert (bad_id.status_code, bad_id.json()) == (
        400,
        {"error": "invalid_client", "error_description": "invalid client_id parameter"},
    )
    assert (bad_secret.status_code, bad_secret.json()) == (
        401,
        {"error": "invalid_client", "error_description": "invalid client_secret parameter"},
    )
    assert no_id.json()["error"] == "invalid_request"
    assert grant.json() == {
        "error": "unsupported_grant_type",
        "error_description": "unsupported grant_type authorization_code",
    }
    assert as_json.status_code == 400
    assert as_json.json()["error"] == "invalid_request"


def test_token_expires_after_configured_lifetime() -> None:
    now = [1_000_000.0]
    emu = Emulator(EmulatorConfig(token_lifetime_s=60), clock=lambda: now[0])
    with httpx.Client(transport=emu.transport(), base_url=BASE) as client:
        token = fetch_token(client, emu)
        headers = api_headers(token, emu)
        assert client.get(f"{FLOW}/connections", headers=headers).status_code == 200
        now[0] += 59
        assert client.get(f"{FLOW}/connections", headers=headers).status_code == 200
        now[0] += 1
        expired = client.get(f"{FLOW}/connections", headers=headers)
    assert expired.status_code == 401
    assert expired.json() == {"error_code": "401013", "message": "Oauth token is not valid"}


def test_revoked_token_gets_401_and_a_new_token_works(emulator: Emulator) -> None:
    with httpx.Client(transport=emulator.transport(), base_url=BASE) as client:
        headers = api_headers(fetch_token(client, emulator), emulator)
        assert client.get(f"{FLOW}/connections", headers=headers).status_code == 200
        revoked = client.delete("/__emulator/tokens")
        assert revoked.json() == {"revoked": 1}
        rejected = client.get(f"{FLOW}/connections", headers=headers)
        assert rejected.status_code == 401
        assert rejected.json()["error_code"] == "401013"
        # The client's 401 → fetch again → retry path.
        headers = api_headers(fetch_token(client, emulator), emulator)
        assert client.get(f"{FLOW}/connections", headers=headers).status_code == 200


def test_revoke_one_token_only(emulator: Emulator) -> None:
    with httpx.Client(transport=emulator.transport(), base_url=BASE) as client:
        first, second = fetch_token(client, emulator), fetch_token(client, emulator)
        assert client.delete("/__emulator/tokens", params={"token": first}).json() == {"revoked": 1}
        assert (
            client.get(f"{FLOW}/connections", headers=api_headers(first, emulator)).status_code
            == 401
        )
        assert (
            client.get(f"{FLOW}/connections", headers=api_headers(second, emulator)).status_code
            == 200
        )
