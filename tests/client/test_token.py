from __future__ import annotations

import threading
import time
from urllib.parse import parse_qs

import httpx
import pytest

from provisioner.errors import ApiError, AuthError
from provisioner.remote.client import Credentials
from provisioner.remote.ims import renew_margin

from .client_fakes import CLIENT_ID, CLIENT_SECRET, IMS, ORG, SPEC_ID, FakeAdobe, FakeClock


def test_token_request_is_the_documented_form(adobe: FakeAdobe) -> None:
    adobe.client().list_connections(ORG, "prod", spec_id=SPEC_ID)
    (request,) = adobe.seen("token")
    assert request.method == "POST"
    assert str(request.url) == IMS
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert parse_qs(request.content.decode()) == {
        "grant_type": ["client_credentials"],
        "client_id": [CLIENT_ID],
        "client_secret": [CLIENT_SECRET],
        "scope": [
            "openid,AdobeID,read_organizations,additional_info.projectedProductContext,session"
        ],
    }
    assert "authorization" not in request.headers


def test_token_is_cached_across_calls_and_sandboxes(adobe: FakeAdobe) -> None:
    client = adobe.client()
    for sandbox in ("prod", "dev", "prod"):
        client.list_connections(ORG, sandbox, spec_id=SPEC_ID)
    assert len(adobe.tokens_issued) == 1


@pytest.mark.parametrize(("expires_in", "margin"), [(86399, 300.0), (3600, 300.0), (100, 10.0)])
def test_token_renewed_shortly_before_expiry(
    adobe: FakeAdobe, clock: FakeClock, expires_in: int, margin: float
) -> None:
    adobe.expires_in = expires_in
    client = adobe.client(clock)
    client.list_connections(ORG, "prod", spec_id=SPEC_ID)
    clock.now += expires_in - margin - 0.5
    client.list_connections(ORG, "prod", spec_id=SPEC_ID)
    assert len(adobe.tokens_issued) == 1
    clock.now += 1.0
    client.list_connections(ORG, "prod", spec_id=SPEC_ID)
    assert len(adobe.tokens_issued) == 2
    assert renew_margin(expires_in) == margin


def test_expires_in_is_seconds_not_milliseconds(adobe: FakeAdobe, clock: FakeClock) -> None:
    adobe.expires_in = 3600
    client = adobe.client(clock)
    client.list_connections(ORG, "prod", spec_id=SPEC_ID)
    clock.now += 3600  # an hour later: read as milliseconds, this token would be long dead
    client.list_connections(ORG, "prod", spec_id=SPEC_ID)
    assert len(adobe.tokens_issued) == 2


def test_a_401_gets_one_new_token_and_one_repeat(adobe: FakeAdobe) -> None:
    client = adobe.client()
    adobe.add("prod", "orders")
    client.list_connections(ORG, "prod", spec_id=SPEC_ID)
    adobe.revoked.add(adobe.tokens_issued[0])  # IMS revoked it before it expired
    found = client.list_connections(ORG, "prod", spec_id=SPEC_ID)
    assert [c.name for c in found] == ["orders"]
    assert len(adobe.tokens_issued) == 2
    assert len(adobe.seen("list")) == 3


def test_a_second_401_is_an_error_not_a_loop(adobe: FakeAdobe) -> None:
    client = adobe.client()
    adobe.fail_next(
        "list",
        *[httpx.Response(401, json={"error_code": "401013", "message": "Oauth token is not valid"})]
        * 5,
    )
    with pytest.raises(ApiError) as caught:
        client.list_connections(ORG, "prod", spec_id=SPEC_ID)
    assert str(caught.value) == (
        "list connections in sandbox 'prod' failed: GET https://platform.adobe.io/data/"
        "foundation/flowservice/connections?property=connectionSpec.id%3D%3D"
        f"{SPEC_ID}&limit=100 returned 401 401013: Oauth token is not valid"
    )
    assert caught.value.status == 401
    assert caught.value.code == "401013"
    assert len(adobe.tokens_issued) == 2
    assert len(adobe.seen("list")) == 2


def test_a_401_on_create_gets_a_new_token_too(adobe: FakeAdobe) -> None:
    client = adobe.client()
    client.list_connections(ORG, "prod", spec_id=SPEC_ID)
    adobe.revoked.add(adobe.tokens_issued[0])
    payload = {"name": "orders", "auth": {"specName": "Basic Authentication", "params": {}}}
    client.create_connection(ORG, "prod", payload, name="orders")
    assert [c["name"] for c in adobe.sandboxes["prod"].values()] == ["orders"]
    assert len(adobe.seen("create")) == 2


def test_invalid_client_is_an_auth_error_that_names_the_variables(adobe: FakeAdobe) -> None:
    client = adobe.client(secret="wrong-secret-value")
    with pytest.raises(AuthError) as caught:
        client.list_connections(ORG, "prod", spec_id=SPEC_ID)
    assert str(caught.value) == (
        f"IMS token request failed: POST {IMS} returned 401 invalid_client: invalid "
        "client_secret; check AEP_CLIENT_SECRET"
    )
    assert "wrong-secret-value" not in str(caught.value)
    assert caught.value.code == "invalid_client"


def test_refused_credentials_are_not_sent_again(adobe: FakeAdobe) -> None:
    client = adobe.client(secret="something-else")
    for _ in range(3):
        with pytest.raises(AuthError):
            client.list_connections(ORG, "prod", spec_id=SPEC_ID)
    assert client.requests_sent == {"TOKEN": 1}


def test_invalid_scope_points_at_the_scopes(adobe: FakeAdobe) -> None:
    adobe.fail_next(
        "token",
        httpx.Response(400, json={"error": "invalid_scope", "error_description": "bad scope"}),
    )
    with pytest.raises(AuthError) as caught:
        adobe.client().list_connections(ORG, "prod", spec_id=SPEC_ID)
    assert str(caught.value) == (
        f"IMS token request failed: POST {IMS} returned 400 invalid_scope: bad scope; "
        "check AEP_SCOPES"
    )


def test_ims_outage_is_retried(adobe: FakeAdobe, clock: FakeClock) -> None:
    adobe.fail_next("token", httpx.Response(503, text="busy"), httpx.ConnectError("refused"))
    adobe.client(clock).list_connections(ORG, "prod", spec_id=SPEC_ID)
    assert len(adobe.seen("token")) == 3
    assert len(clock.sleeps) == 2


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"token_type": "bearer", "expires_in": 10}, "without an access_token"),
        ({"access_token": "abcdef", "expires_in": "soon"}, "without a usable expires_in"),
        ({"access_token": "abcdef", "expires_in": True}, "without a usable expires_in"),
        ({"access_token": "abcdef"}, "without a usable expires_in"),
        (["abcdef"], "with a body that is not a JSON object"),
    ],
)
def test_unreadable_token_response(adobe: FakeAdobe, body: object, problem: str) -> None:
    adobe.fail_next("token", httpx.Response(200, json=body))
    with pytest.raises(ApiError) as caught:
        adobe.client().list_connections(ORG, "prod", spec_id=SPEC_ID)
    assert str(caught.value) == f"IMS token request failed: POST {IMS} returned 200 {problem}"
    assert not isinstance(caught.value, AuthError)


def test_credentials_repr_hides_the_secret() -> None:
    text = repr(Credentials(CLIENT_ID, CLIENT_SECRET))
    assert CLIENT_ID in text
    assert CLIENT_SECRET not in text


def test_sixteen_threads_cause_one_token_request(adobe: FakeAdobe) -> None:
    release = threading.Event()

    def slow_ims(request: httpx.Request) -> httpx.Response:
        release.wait(5)  # hold IMS until every worker is waiting on the token
        return adobe.serve(request)

    adobe.fail_next("token", slow_ims)
    for n in range(5):
        adobe.add("prod", f"conn-{n}")
    client = adobe.client()
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            found = client.list_connections(ORG, "prod", spec_id=SPEC_ID)
            results.append(sorted(c.name for c in found))
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(16)]
    for thread in threads:
        thread.start()
    time.sleep(0.2)  # let every worker reach the token; without the lock each would ask IMS
    release.set()
    for thread in threads:
        thread.join(10)
    assert errors == []
    assert results == [[f"conn-{n}" for n in range(5)]] * 16
    assert len(adobe.tokens_issued) == 1
    assert client.requests_sent == {"TOKEN": 1, "GET": 16 * 3}
