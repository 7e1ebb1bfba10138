"""test_connection and explore_tables: the Flow Service's /test and /explore, read tolerantly."""

from __future__ import annotations

import httpx
import pytest

from provisioner.errors import ApiError
from provisioner.model import ConnectionTest
from provisioner.redact import register_secret

from .client_fakes import FLOW, ORG, FakeAdobe, flow_error

TEST_URL = f"{FLOW}/connections/c%2F1/test"
EXPLORE_URL = f"{FLOW}/connections/c%2F1/explore?objectType=root"


def test_true_is_ok_and_the_request_is_a_plain_get(adobe: FakeAdobe) -> None:
    adobe.fail_next("get", httpx.Response(200, json={"result": True}))
    assert adobe.client().test_connection(ORG, "prod", "c/1", name="orders") == ConnectionTest(True)
    (request,) = adobe.seen("get")
    assert (request.method, str(request.url)) == ("GET", TEST_URL)  # the id quoted whole
    assert request.headers["x-sandbox-name"] == "prod"
    assert request.headers["x-gw-ims-org-id"] == ORG


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"result": False, "errorMessage": "authentication failed"}, "authentication failed"),
        ({"result": False, "message": "  no\nroute  "}, "no route"),
        ({"result": False}, "the platform gave no reason"),
        ({"result": False, "errorMessage": 7}, "the platform gave no reason"),
    ],
)
def test_false_carries_the_reason_the_api_gives(
    adobe: FakeAdobe, body: dict[str, object], reason: str
) -> None:
    adobe.fail_next("get", httpx.Response(200, json=body))
    result = adobe.client().test_connection(ORG, "prod", "c/1", name="orders")
    assert result == ConnectionTest(False, reason)


def test_a_reason_quoting_a_secret_is_scrubbed(adobe: FakeAdobe) -> None:
    register_secret("pg-secret-91aa")
    body = {"result": False, "errorMessage": "login pg-secret-91aa refused"}
    adobe.fail_next("get", httpx.Response(200, json=body))
    result = adobe.client().test_connection(ORG, "prod", "c/1", name="orders")
    assert result.reason == "login (sensitive) refused"


@pytest.mark.parametrize("body", [{"result": "true"}, {}, [True], "yes"])
def test_a_response_without_a_boolean_is_an_error_naming_the_call(
    adobe: FakeAdobe, body: object
) -> None:
    adobe.fail_next("get", httpx.Response(200, json=body))
    with pytest.raises(ApiError) as caught:
        adobe.client().test_connection(ORG, "prod", "c/1", name="orders")
    assert str(caught.value) == (
        f"test connection 'orders' (c/1) in sandbox 'prod' failed: GET {TEST_URL}: "
        "response holds no boolean 'result'"
    )


def test_refusals_are_errors_and_5xx_is_retried(adobe: FakeAdobe) -> None:
    adobe.fail_next("get", flow_error(1101, 404, "Connection with id c/1 not found"))
    with pytest.raises(ApiError) as caught:
        adobe.client().test_connection(ORG, "prod", "c/1", name="orders")
    assert str(caught.value) == (
        f"test connection 'orders' (c/1) in sandbox 'prod' failed: GET {TEST_URL} returned "
        "404 FLOW-1101-404: Connection with id c/1 not found"
    )
    adobe.fail_next("get", httpx.Response(503), httpx.Response(200, json={"result": True}))
    assert adobe.client().test_connection(ORG, "prod", "c/1", name="orders").ok


def test_explore_lists_table_paths(adobe: FakeAdobe) -> None:
    items = [
        {"type": "table", "name": "public.orders", "path": "public.orders", "canPreview": True},
        {"type": "TABLE", "name": "sales.regions"},  # no path: the name is the path
        {"type": "folder", "name": "archive", "path": "/archive/"},
        "junk",
        {"type": "table"},
    ]
    adobe.fail_next("get", httpx.Response(200, json=items))
    tables = adobe.client().explore_tables(ORG, "prod", "c/1", name="orders")
    assert tables == ["public.orders", "sales.regions"]
    assert str(adobe.seen("get")[0].url) == EXPLORE_URL
    # Some Adobe routes wrap lists in "items"; accepted too.
    adobe.fail_next("get", httpx.Response(200, json={"items": items[:1]}))
    assert adobe.client().explore_tables(ORG, "prod", "c/1", name="orders") == ["public.orders"]


def test_explore_that_is_not_a_list_is_an_error(adobe: FakeAdobe) -> None:
    adobe.fail_next("get", httpx.Response(200, json={"tables": []}))
    with pytest.raises(ApiError) as caught:
        adobe.client().explore_tables(ORG, "prod", "c/1", name="orders")
    assert str(caught.value) == (
        f"explore connection 'orders' (c/1) in sandbox 'prod' failed: GET {EXPLORE_URL}: "
        "response is not a list of explore items"
    )
