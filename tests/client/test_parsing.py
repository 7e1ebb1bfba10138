from __future__ import annotations

import dataclasses

import httpx
import pytest

from provisioner.errors import ApiError
from provisioner.remote.client import RemoteConnection

from .client_fakes import CLIENT_ID, FLOW, ORG, SPEC_ID, FakeAdobe

NO_HREF = "response has a '_links.next' without a string 'href'"
FIRST = f"{FLOW}/connections?property=connectionSpec.id%3D%3D{SPEC_ID}&limit=100"
FULL_ITEM = {
    "id": "c0ffee",
    "name": "orders-prod",
    "description": "Orders DB",
    "connectionSpec": {"id": SPEC_ID, "version": "1.0"},
    "state": "enabled",
    "auth": {
        "specName": "Basic Authentication",
        "params": {"server": "pg", "port": "5432", "password": "***"},
    },
    "etag": '"3b00a1"',
    "version": '"3b00a1"',
    "createdAt": 1700000000000,
    "updatedAt": 1700000000001,
    "createdBy": "someone@AdobeID",
    "createdClient": CLIENT_ID,
    "sandboxName": "prod",
    "imsOrgId": ORG,
    "somethingAdobeAddsNextYear": {"x": [1, 2]},
}


def list_body(adobe: FakeAdobe, body: object, text: str | None = None) -> None:
    response = (
        httpx.Response(200, text=text) if text is not None else httpx.Response(200, json=body)
    )
    adobe.fail_next("list", response)


def test_reads_every_documented_field_and_ignores_the_rest(adobe: FakeAdobe) -> None:
    list_body(adobe, {"items": [FULL_ITEM], "count": 1, "_page": {"orderby": "name"}})
    (found,) = adobe.client().list_connections(ORG, "prod", spec_id=SPEC_ID)
    assert dataclasses.asdict(found) == {
        "id": "c0ffee",
        "name": "orders-prod",
        "etag": '"3b00a1"',
        "description": "Orders DB",
        "spec_id": SPEC_ID,
        "auth_spec_name": "Basic Authentication",
        "params": {"server": "pg", "port": "5432", "password": "***"},
        "state": "enabled",
        "created_at": 1700000000000,
        "created_client": CLIENT_ID,
        "spec_version": "1.0",
    }


def test_optional_fields_may_be_missing_or_odd(adobe: FakeAdobe) -> None:
    item = {
        "id": "1",
        "name": "n",
        "description": None,
        "auth": "masked",
        "connectionSpec": [],
        "createdAt": "yesterday",
        "version": '"7"',
    }
    list_body(adobe, {"items": [item]})
    (found,) = adobe.client().list_connections(ORG, "prod", spec_id=SPEC_ID)
    assert found == RemoteConnection(
        id="1",
        name="n",
        etag='"7"',
        description=None,
        spec_id=None,
        auth_spec_name=None,
        params={},
        state=None,
        created_at=None,
        created_client=None,
    )
    hash(found)  # usable in sets, params notwithstanding


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "<html><body><h1>502 Bad Gateway</h1></body></html>",
            "response is not JSON: <html><body><h1>502 Bad Gateway</h1></body></html>",
        ),
        ('{"items": [{"id": "1", "na', 'response is not JSON: {"items": [{"id": "1", "na'),
        ("", "response is not JSON: an empty body"),
        ("[]", "response is not a JSON object"),
        ('{"count": 3}', "response has no 'items' list"),
        ('{"items": {"id": "1"}}', "response has no 'items' list"),
        ('{"items": null}', "response has no 'items' list"),
        ('{"items": ["1"]}', "items[0] is not an object"),
        ('{"items": [{"id": "1", "name": "a"}, {"name": "b"}]}', "items[1] has no string 'id'"),
        ('{"items": [{"id": 5, "name": "b"}]}', "items[0] has no string 'id'"),
        ('{"items": [{"id": "5"}]}', "items[0] has no string 'name'"),
        ('{"items": [], "_links": "next"}', "response has a '_links' that is not an object"),
        ('{"items": [], "_links": {"next": {"href": 3}}}', NO_HREF),
        ('{"items": [], "_links": {"next": {"rel": "next"}}}', NO_HREF),
        ('{"items": [], "_links": {"next": ["x"]}}', NO_HREF),
    ],
)
def test_malformed_lists_are_clear_errors(adobe: FakeAdobe, text: str, problem: str) -> None:
    list_body(adobe, None, text)
    with pytest.raises(ApiError) as caught:
        adobe.client().list_connections(ORG, "prod", spec_id=SPEC_ID)
    assert str(caught.value) == (
        f"list connections in sandbox 'prod' failed: GET {FIRST}: {problem}"
    )


def test_a_long_garbage_body_is_shortened(adobe: FakeAdobe) -> None:
    list_body(adobe, None, "<html>" + "x" * 5000)
    with pytest.raises(ApiError) as caught:
        adobe.client().list_connections(ORG, "prod", spec_id=SPEC_ID)
    prefix = f"list connections in sandbox 'prod' failed: GET {FIRST}: response is not JSON: "
    assert str(caught.value) == prefix + "<html>" + "x" * 291 + "..."


def test_get_unwraps_the_items_list(adobe: FakeAdobe) -> None:
    cid = adobe.add("prod", "orders", description="d")
    found = adobe.client().get_connection(ORG, "prod", cid)
    assert (found.id, found.name, found.description) == (cid, "orders", "d")


def test_get_accepts_a_bare_object(adobe: FakeAdobe) -> None:
    adobe.fail_next("get", httpx.Response(200, json=FULL_ITEM))
    assert adobe.client().get_connection(ORG, "prod", "c0ffee").name == "orders-prod"


@pytest.mark.parametrize("body", [{"items": []}, {"items": "x"}, ["x"]])
def test_get_without_a_connection_is_an_error(adobe: FakeAdobe, body: object) -> None:
    adobe.fail_next("get", httpx.Response(200, json=body))
    with pytest.raises(ApiError) as caught:
        adobe.client().get_connection(ORG, "prod", "c0ffee")
    assert str(caught.value) == (
        f"get connection 'c0ffee' in sandbox 'prod' failed: GET {FLOW}/connections/c0ffee: "
        "response holds no connection"
    )


def test_create_returns_id_and_quoted_etag(adobe: FakeAdobe) -> None:
    payload = {"name": "orders", "auth": {"specName": "Basic Authentication", "params": {}}}
    created = adobe.client().create_connection(ORG, "prod", payload, name="orders")
    stored = adobe.sandboxes["prod"][created.id]
    assert created.etag == stored["etag"]
    assert created.etag.startswith('"')
