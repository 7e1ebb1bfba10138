from __future__ import annotations

import random

import httpx
import pytest

from provisioner.errors import ApiError
from provisioner.remote.client import CreateOutcomeUnknown, FlowServiceClient, Pacer
from provisioner.remote.retry import RetryPolicy

from .client_fakes import FLOW, ORG, SPEC_ID, FakeAdobe, FakeClock, flow_error, gateway_error

FIRST = f"{FLOW}/connections?property=connectionSpec.id%3D%3D{SPEC_ID}&limit=100"
PAYLOAD = {
    "name": "orders",
    "auth": {"specName": "Basic Authentication", "params": {"password": "hunter2-pg-pass"}},
}


def too_many(retry_after: str | None = None) -> httpx.Response:
    headers = {} if retry_after is None else {"Retry-After": retry_after}
    return gateway_error(429, "429050", "Too many requests", **headers)


def test_429_honours_retry_after(adobe: FakeAdobe, clock: FakeClock) -> None:
    adobe.fail_next("list", too_many("7"), too_many("3"))
    adobe.client(clock).list_connections(ORG, "prod", spec_id=SPEC_ID)
    assert clock.sleeps == [7.0, 3.0]
    assert len(adobe.seen("list")) == 3


def test_429_retry_after_is_capped(adobe: FakeAdobe, clock: FakeClock) -> None:
    adobe.fail_next("list", too_many("3600"))
    adobe.client(clock, retry=RetryPolicy(max_retry_after=45.0)).list_connections(
        ORG, "prod", spec_id=SPEC_ID
    )
    assert clock.sleeps == [45.0]


def test_429_without_retry_after_backs_off(adobe: FakeAdobe, clock: FakeClock) -> None:
    adobe.fail_next("list", *[too_many()] * 5)
    policy = RetryPolicy(base_delay=1.0, max_delay=6.0)
    adobe.client(clock, retry=policy, rng=random.Random(1)).list_connections(
        ORG, "prod", spec_id=SPEC_ID
    )
    assert len(clock.sleeps) == 5
    for attempt, delay in enumerate(clock.sleeps, start=1):
        assert 0.0 <= delay <= min(6.0, 2.0 ** (attempt - 1))
    assert len(set(clock.sleeps)) == 5  # jittered, not a fixed ladder


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_reads_retry_on_5xx(adobe: FakeAdobe, clock: FakeClock, status: int) -> None:
    cid = adobe.add("prod", "orders")
    adobe.fail_next("get", flow_error(1000, status, "try again"))
    adobe.fail_next("list", httpx.Response(status, text="<html>upstream</html>"))
    client = adobe.client(clock)
    assert client.get_connection(ORG, "prod", cid).name == "orders"
    assert [c.id for c in client.list_connections(ORG, "prod", spec_id=SPEC_ID)] == [cid]
    assert len(clock.sleeps) == 2


@pytest.mark.parametrize("status", [400, 403, 404, 412, 501])
def test_reads_do_not_retry_what_will_not_change(
    adobe: FakeAdobe, clock: FakeClock, status: int
) -> None:
    adobe.fail_next("list", flow_error(1000, status, "no"))
    with pytest.raises(ApiError):
        adobe.client(clock).list_connections(ORG, "prod", spec_id=SPEC_ID)
    assert len(adobe.seen("list")) == 1
    assert clock.sleeps == []


@pytest.mark.parametrize(
    "error",
    [
        httpx.ConnectError("refused"),
        httpx.ConnectTimeout("slow connect"),
        httpx.ReadTimeout("slow read"),
        httpx.ReadError("connection reset by peer"),
        httpx.RemoteProtocolError("server disconnected"),
        httpx.PoolTimeout("pool"),
    ],
)
def test_reads_retry_on_transport_errors(
    adobe: FakeAdobe, clock: FakeClock, error: Exception
) -> None:
    adobe.add("prod", "orders")
    adobe.fail_next("list", error)
    found = adobe.client(clock).list_connections(ORG, "prod", spec_id=SPEC_ID)
    assert [c.name for c in found] == ["orders"]
    assert len(adobe.seen("list")) == 2


def test_a_hopeless_transport_error_is_not_retried(adobe: FakeAdobe, clock: FakeClock) -> None:
    adobe.fail_next("list", httpx.UnsupportedProtocol("Request URL has an unsupported protocol"))
    with pytest.raises(ApiError) as caught:
        adobe.client(clock).list_connections(ORG, "prod", spec_id=SPEC_ID)
    assert str(caught.value) == (
        f"list connections in sandbox 'prod' failed: GET {FIRST}: UnsupportedProtocol: "
        "Request URL has an unsupported protocol"
    )
    assert clock.sleeps == []


def test_the_deadline_ends_retries_with_a_clear_error(adobe: FakeAdobe, clock: FakeClock) -> None:
    adobe.fail_next("list", *[flow_error(1000, 503, "Service unavailable")] * 50)
    policy = RetryPolicy(max_attempts=50, deadline=30.0)
    with pytest.raises(ApiError) as caught:
        adobe.client(clock, retry=policy, rng=random.Random(7)).list_connections(
            ORG, "prod", spec_id=SPEC_ID
        )
    waited = sum(clock.sleeps)
    assert waited <= 30.0
    attempts = len(adobe.seen("list"))
    assert str(caught.value) == (
        f"list connections in sandbox 'prod' failed: GET {FIRST} returned 503 FLOW-1000-503: "
        f"Service unavailable (gave up after {attempts} attempts in {waited:.1f} s)"
    )
    assert caught.value.retryable is True
    assert caught.value.status == 503
    assert caught.value.code == "FLOW-1000-503"


def test_a_retry_after_beyond_the_deadline_gives_up_at_once(
    adobe: FakeAdobe, clock: FakeClock
) -> None:
    adobe.fail_next("list", too_many("50"))
    with pytest.raises(ApiError) as caught:
        adobe.client(clock, retry=RetryPolicy(deadline=40.0)).list_connections(
            ORG, "prod", spec_id=SPEC_ID
        )
    assert clock.sleeps == []
    assert str(caught.value).endswith(
        "returned 429 429050: Too many requests (gave up after 1 attempts in 0.0 s)"
    )


def test_max_attempts_ends_retries(adobe: FakeAdobe, clock: FakeClock) -> None:
    adobe.fail_next("list", *[httpx.ConnectError("refused")] * 10)
    with pytest.raises(ApiError) as caught:
        adobe.client(clock, retry=RetryPolicy(max_attempts=3)).list_connections(
            ORG, "prod", spec_id=SPEC_ID
        )
    assert len(adobe.seen("list")) == 3
    assert len(clock.sleeps) == 2
    assert str(caught.value).startswith(
        f"list connections in sandbox 'prod' failed: GET {FIRST}: ConnectError: refused "
        "(gave up after 3 attempts in "
    )


# --- creates: never blindly repeated ---------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "says"),
    [
        (flow_error(1000, 500, "Internal error"), "returned 500 FLOW-1000-500: Internal error"),
        (httpx.Response(502, text="Bad Gateway"), "returned 502: Bad Gateway"),
        (
            flow_error(1000, 503, "Service unavailable"),
            "returned 503 FLOW-1000-503: Service unavailable",
        ),
        (httpx.Response(504), "returned 504"),
        (
            httpx.ReadTimeout("The read operation timed out"),
            ": ReadTimeout: The read operation timed out",
        ),
        (httpx.WriteTimeout("write timed out"), ": WriteTimeout: write timed out"),
        (
            httpx.ReadError("[Errno 104] Connection reset by peer"),
            ": ReadError: [Errno 104] Connection reset by peer",
        ),
        (
            httpx.RemoteProtocolError("Server disconnected without sending a response."),
            ": RemoteProtocolError: Server disconnected without sending a response.",
        ),
    ],
)
def test_an_ambiguous_create_is_sent_once_and_reported_unknown(
    adobe: FakeAdobe, clock: FakeClock, fault: httpx.Response | Exception, says: str
) -> None:
    adobe.fail_next("create", fault)
    with pytest.raises(CreateOutcomeUnknown) as caught:
        adobe.client(clock).create_connection(ORG, "prod", PAYLOAD, name="orders")
    assert len(adobe.seen("create")) == 1
    assert clock.sleeps == []
    sep = "" if says.startswith(":") else " "
    assert str(caught.value) == (
        f"create connection 'orders' in sandbox 'prod' may have succeeded: POST "
        f"{FLOW}/connections{sep}{says}; list the sandbox before creating it again"
    )


def test_a_create_that_committed_then_failed_leaves_one_connection(adobe: FakeAdobe) -> None:
    def commit_then_fail(request: httpx.Request) -> httpx.Response:
        adobe.serve(request)  # the server did the work...
        raise httpx.ReadTimeout("The read operation timed out")  # ...and the answer was lost

    adobe.fail_next("create", commit_then_fail)
    with pytest.raises(CreateOutcomeUnknown):
        adobe.client().create_connection(ORG, "prod", PAYLOAD, name="orders")
    assert len(adobe.seen("create")) == 1
    assert [c["name"] for c in adobe.sandboxes["prod"].values()] == ["orders"]


def test_a_create_refused_with_429_is_sent_again(adobe: FakeAdobe, clock: FakeClock) -> None:
    adobe.fail_next("create", too_many("2"), too_many())
    created = adobe.client(clock).create_connection(ORG, "prod", PAYLOAD, name="orders")
    assert list(adobe.sandboxes["prod"]) == [created.id]
    assert len(adobe.seen("create")) == 3
    assert clock.sleeps[0] == 2.0


def test_retrying_a_429_create_can_be_switched_off(adobe: FakeAdobe, clock: FakeClock) -> None:
    adobe.fail_next("create", too_many("2"))
    client = adobe.client(clock, retry=RetryPolicy(retry_create_on_429=False))
    with pytest.raises(ApiError) as caught:
        client.create_connection(ORG, "prod", PAYLOAD, name="orders")
    assert not isinstance(caught.value, CreateOutcomeUnknown)
    assert str(caught.value) == (
        f"create connection 'orders' in sandbox 'prod' failed: POST {FLOW}/connections "
        "returned 429 429050: Too many requests"
    )
    assert len(adobe.seen("create")) == 1


def test_a_create_that_never_connected_is_sent_again(adobe: FakeAdobe, clock: FakeClock) -> None:
    adobe.fail_next("create", httpx.ConnectError("[Errno 111] Connection refused"))
    adobe.client(clock).create_connection(ORG, "prod", PAYLOAD, name="orders")
    assert len(adobe.sandboxes["prod"]) == 1
    assert len(adobe.seen("create")) == 2


def test_a_create_rejected_with_400_is_a_plain_error(adobe: FakeAdobe) -> None:
    adobe.fail_next("create", flow_error(1415, 400, "Unknown auth spec name"))
    with pytest.raises(ApiError) as caught:
        adobe.client().create_connection(ORG, "prod", PAYLOAD, name="orders")
    assert type(caught.value) is ApiError
    assert str(caught.value) == (
        f"create connection 'orders' in sandbox 'prod' failed: POST {FLOW}/connections "
        "returned 400 FLOW-1415-400: Unknown auth spec name"
    )


@pytest.mark.parametrize(
    "body",
    [{"etag": '"1"'}, {"id": 7}, {"id": ""}, ["x"], "created"],
)
def test_a_create_without_a_readable_id_is_unknown(adobe: FakeAdobe, body: object) -> None:
    adobe.fail_next("create", httpx.Response(201, json=body))
    with pytest.raises(CreateOutcomeUnknown) as caught:
        adobe.client().create_connection(ORG, "prod", PAYLOAD, name="orders")
    assert str(caught.value) == (
        f"create connection 'orders' in sandbox 'prod' may have succeeded: POST "
        f"{FLOW}/connections returned 201 without a connection id; list the sandbox before "
        "creating it again"
    )


# --- deletes: idempotent, so 404 after an ambiguous failure means done -----------------


def test_delete_404_after_an_ambiguous_failure_is_done(adobe: FakeAdobe, clock: FakeClock) -> None:
    cid = adobe.add("prod", "orders")

    def delete_then_fail(request: httpx.Request) -> httpx.Response:
        adobe.serve(request)
        return httpx.Response(504)

    adobe.fail_next("delete", delete_then_fail)
    adobe.client(clock).delete_connection(ORG, "prod", cid, name="orders")
    assert adobe.sandboxes["prod"] == {}
    assert len(adobe.seen("delete")) == 2


def test_delete_404_at_first_is_an_error(adobe: FakeAdobe) -> None:
    with pytest.raises(ApiError) as caught:
        adobe.client().delete_connection(ORG, "prod", "abc", name="orders")
    assert str(caught.value) == (
        f"delete connection 'orders' (abc) in sandbox 'prod' failed: DELETE "
        f"{FLOW}/connections/abc returned 404 FLOW-1101-404: Connection with id abc not found"
    )
    assert caught.value.status == 404


def test_delete_404_after_a_refused_connection_is_still_an_error(
    adobe: FakeAdobe, clock: FakeClock
) -> None:
    adobe.fail_next("delete", httpx.ConnectError("refused"))
    with pytest.raises(ApiError):
        adobe.client(clock).delete_connection(ORG, "prod", "abc", name="orders")


# --- with a pacer (what the CLI always uses) ----------------------------------------------


def paced(adobe: FakeAdobe, clock: FakeClock) -> tuple[FlowServiceClient, Pacer]:
    pacer = Pacer(clock=clock, sleep=clock.sleep)
    return adobe.client(clock, pacer=pacer), pacer


def test_the_pacer_hears_every_flow_service_answer_but_not_ims(
    adobe: FakeAdobe, clock: FakeClock
) -> None:
    adobe.fail_next("token", httpx.Response(503))  # retried, and no business of the pacer
    adobe.fail_next("list", *[too_many()] * 6)
    client, pacer = paced(adobe, clock)
    client.list_connections(ORG, "prod", spec_id=SPEC_ID)
    assert pacer.throttled == 6  # IMS's 503 is not counted as a throttle
    assert pacer.rate is not None  # the API throttled: from now on requests are paced
    assert client.requests_sent == {"TOKEN": 2, "GET": 7}
    assert pacer.in_flight == 0


def test_a_429_create_is_sent_again_through_the_pacer(adobe: FakeAdobe, clock: FakeClock) -> None:
    adobe.fail_next("create", too_many(), too_many())
    client, pacer = paced(adobe, clock)
    client.create_connection(ORG, "prod", PAYLOAD, name="orders")
    assert len(adobe.sandboxes["prod"]) == 1 and pacer.throttled == 2


def test_retry_after_holds_the_next_request_too(adobe: FakeAdobe, clock: FakeClock) -> None:
    adobe.fail_next("list", too_many("4"))
    client, pacer = paced(adobe, clock)
    client.list_connections(ORG, "prod", spec_id=SPEC_ID)
    assert clock.sleeps[0] == 4.0  # the request's own wait; the pacer's hold has passed
    assert pacer.throttled == 1


def test_a_transport_error_leaves_the_pacer_consistent(adobe: FakeAdobe, clock: FakeClock) -> None:
    adobe.fail_next("list", httpx.ConnectError("refused"), too_many())
    client, pacer = paced(adobe, clock)
    client.list_connections(ORG, "prod", spec_id=SPEC_ID)
    assert (pacer.throttled, pacer.in_flight) == (1, 0)  # no answer still ends the request
