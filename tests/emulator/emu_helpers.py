"""Helpers shared by the emulator tests (imported by name: tests/ has no packages)."""

from __future__ import annotations

from typing import Any

import httpx

from provisioner.emulator import POSTGRES_SPEC_ID, Emulator
from provisioner.emulator.config import DEFAULT_ORG

ORG = DEFAULT_ORG
FLOW = "/data/foundation/flowservice"
BASE = "http://emulator.test"


def pg_payload(name: str = "orders-prod", **params: Any) -> dict[str, Any]:
    """The seed-doc Basic Authentication payload (SPEC section 3)."""
    auth_params: dict[str, Any] = {
        "server": "pg-prod.db.acme.internal",
        "port": "5432",
        "database": "orders",
        "username": "aep_reader",
        "password": "hunter2-secret",
        "sslMode": "Verify Full",
    }
    auth_params.update(params)
    return {
        "name": name,
        "description": f"Orders DB ({name})",
        "auth": {"specName": "Basic Authentication", "params": auth_params},
        "connectionSpec": {"id": POSTGRES_SPEC_ID, "version": "1.0"},
    }


def cs_payload(name: str = "billing") -> dict[str, Any]:
    return {
        "name": name,
        "auth": {
            "specName": "Connection String Based Authentication",
            "params": {"connectionString": "Server=pg;Database=b;Port=5432;UID=u;Password=p"},
        },
        "connectionSpec": {"id": POSTGRES_SPEC_ID, "version": "1.0"},
    }


def fetch_token(client: httpx.Client, emulator: Emulator) -> str:
    response = client.post(
        "/ims/token/v3",
        data={
            "grant_type": "client_credentials",
            "client_id": emulator.config.client_id,
            "client_secret": emulator.config.client_secret,
            "scope": "openid,AdobeID,read_organizations",
        },
    )
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    assert isinstance(token, str)
    return token


def api_headers(token: str, emulator: Emulator, sandbox: str = "prod") -> dict[str, str]:
    return {
        "Authorization": f"Bearer {token}",
        "x-api-key": emulator.config.client_id,
        "x-gw-ims-org-id": ORG,
        "x-sandbox-name": sandbox,
    }


def make_client(emulator: Emulator, sandbox: str = "prod") -> httpx.Client:
    with httpx.Client(transport=emulator.transport(), base_url=BASE) as ims:
        token = fetch_token(ims, emulator)
    # A fresh client: httpx refuses `with` on a client that has already sent a request.
    return httpx.Client(
        transport=emulator.transport(),
        base_url=BASE,
        headers=api_headers(token, emulator, sandbox),
    )


def create(api: httpx.Client, payload: dict[str, Any] | None = None) -> dict[str, Any]:
    response = api.post(f"{FLOW}/connections", json=payload or pg_payload())
    assert response.status_code == 201, response.text
    body = response.json()
    assert isinstance(body, dict)
    return body


def flow_code(response: httpx.Response) -> str:
    """'1101-404' from a Flow Service error body, checking the whole shape on the way."""
    body = response.json()
    assert set(body) == {"type", "title", "status", "report", "errorMessage", "errorDetails"}
    assert body["status"] == response.status_code
    assert set(body["report"]) == {"detailed-message", "request-id"}
    prefix = "https://ns.adobe.com/aep/errors/FLOW-"
    assert body["type"].startswith(prefix)
    code = str(body["type"][len(prefix) :])
    assert code.endswith(f"-{response.status_code}")
    return code
