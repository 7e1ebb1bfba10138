from __future__ import annotations

import httpx
import pytest

from provisioner.emulator import Emulator

from .emu_helpers import FLOW, create, flow_code


def patch(api: httpx.Client, conn_id: str, ops: object, if_match: str | None) -> httpx.Response:
    headers = {"If-Match": if_match} if if_match is not None else {}
    return api.patch(f"{FLOW}/connections/{conn_id}", json=ops, headers=headers)


def test_patch_returns_new_etag_and_updates_fields(api: httpx.Client, emulator: Emulator) -> None:
    created = create(api)
    ops = [
        {"op": "replace", "path": "/name", "value": "renamed"},
        {"op": "Add", "path": "/description", "value": "new words"},
        {"op": "REPLACE", "path": "/auth/params/password", "value": "rotated"},
    ]
    response = patch(api, created["id"], ops, created["etag"])
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == created["id"]
    assert body["etag"] != created["etag"] and body["etag"].startswith('"')
    (item,) = api.get(f"{FLOW}/connections/{created['id']}").json()["items"]
    assert (item["name"], item["description"]) == ("renamed", "new words")
    assert item["etag"] == item["version"] == body["etag"]
    assert item["updatedAt"] >= item["createdAt"]
    assert emulator.connections()[0]["auth"]["params"]["password"] == "rotated"


def test_bare_etag_is_accepted(api: httpx.Client) -> None:
    created = create(api)
    bare = created["etag"].strip('"')
    assert (
        patch(api, created["id"], [{"op": "remove", "path": "/description"}], bare).status_code
        == 200
    )


def test_missing_if_match_is_1403(api: httpx.Client) -> None:
    created = create(api)
    response = patch(api, created["id"], [{"op": "replace", "path": "/name", "value": "x"}], None)
    assert (response.status_code, flow_code(response)) == (400, "1403-400")


def test_stale_etag_is_1404_412(api: httpx.Client) -> None:
    created = create(api)
    ops = [{"op": "replace", "path": "/name", "value": "x"}]
    assert patch(api, created["id"], ops, created["etag"]).status_code == 200
    stale = patch(api, created["id"], ops, created["etag"])
    assert (stale.status_code, flow_code(stale)) == (412, "1404-412")


@pytest.mark.parametrize(
    ("ops", "code"),
    [
        ([{"op": "move", "from": "/name", "path": "/description"}], "1434-400"),
        ([{"op": "MOVE", "from": "/name", "path": "/description"}], "1434-400"),
        ([{"op": "replace", "path": "/connectionSpec/id", "value": "x"}], "1414-400"),
        ([{"op": "replace", "path": "/connectionSpec", "value": {}}], "1414-400"),
        ([{"op": "copy", "from": "/name", "path": "/description"}], "1455-400"),
        ([{"op": "replace", "path": "/state", "value": "disabled"}], "1455-400"),
        ([{"op": "replace", "path": "/name"}], "1455-400"),
        ([{"op": "remove", "path": "/name"}], "1455-400"),
        ([{"op": "replace", "path": "/auth/params/sslMode", "value": "bogus"}], "1455-400"),
        ([{"op": "replace", "path": "/auth/params/nothere", "value": "x"}], "1455-400"),
        ([], "1455-400"),
        ("not a patch", "1455-400"),
        ([42], "1455-400"),
    ],
)
def test_bad_patches(api: httpx.Client, emulator: Emulator, ops: object, code: str) -> None:
    created = create(api)
    before = emulator.connections()
    response = patch(api, created["id"], ops, created["etag"])
    assert flow_code(response) == code
    assert emulator.connections() == before  # nothing half-applied


def test_single_instruction_object_like_the_openapi_schema(api: httpx.Client) -> None:
    created = create(api)
    op = {"op": "add", "path": "/auth/params", "value": {"database": "orders2"}}
    assert patch(api, created["id"], op, created["etag"]).status_code == 200
    (item,) = api.get(f"{FLOW}/connections/{created['id']}").json()["items"]
    assert item["auth"]["params"]["database"] == "orders2"
    assert item["auth"]["params"]["server"] == "pg-prod.db.acme.internal"  # add merged


def test_empty_patch_body_is_1405(api: httpx.Client) -> None:
    created = create(api)
    response = api.patch(
        f"{FLOW}/connections/{created['id']}",
        content=b"",
        headers={"If-Match": created["etag"], "Content-Type": "application/json"},
    )
    assert flow_code(response) == "1405-400"
