"""A slow run says what it waits for: IMS down, a Flow Service outage, a long listing.

The clock is a fake that moves only when the client sleeps (or a page is served), so the
2 s threshold is met without waiting; the backoff's jitter is pinned to its ceiling.
"""

from __future__ import annotations

import random

import httpx
import pytest

from provisioner.errors import ApiError
from provisioner.plan.observe import observe
from provisioner.remote.client.notices import Notices

from .client_fakes import ORG, SPEC_ID, FakeAdobe, FakeClock, flow_error

UNAVAILABLE = httpx.Response(503, text="Service Unavailable")


class Ceiling(random.Random):
    """Full-jitter backoff at its ceiling: 0.5, 1, 2, 4 s ..."""

    def uniform(self, a: float, b: float) -> float:
        return b


def test_ims_down_is_said_once_after_two_seconds_of_retrying(
    adobe: FakeAdobe, clock: FakeClock
) -> None:
    lines: list[str] = []
    adobe.fail_next("token", *[UNAVAILABLE] * 4)
    client = adobe.client(clock, rng=Ceiling(), notices=Notices(lines.append, clock=clock))
    client.fetch_token()
    assert clock.sleeps == [0.5, 1.0, 2.0, 4.0]
    # Waits of 0.5 and 1 s go unsaid; the third (1.5 s in, 2 s more) is said, once.
    assert lines == [
        "provision: waiting for IMS (the access token): IMS token request returned 503: "
        "Service Unavailable; retrying (attempt 4 in 2.0 s)"
    ]


def test_many_workers_waiting_on_one_outage_say_it_once(adobe: FakeAdobe, clock: FakeClock) -> None:
    lines: list[str] = []
    client = adobe.client(clock, rng=Ceiling(), notices=Notices(lines.append, clock=clock))
    client.fetch_token()
    for sandbox in ("prod", "dev", "stage"):
        adobe.fail_next("list", *[flow_error(1103, 503, "unavailable")] * 3)
        client.list_connections(ORG, sandbox, spec_id=SPEC_ID)
    assert lines == [
        "provision: waiting for the Flow Service: list connections in sandbox 'prod' returned "
        "503 FLOW-1103-503: unavailable; retrying (attempt 4 in 2.0 s)"
    ]


def test_quick_retries_say_nothing(adobe: FakeAdobe, clock: FakeClock) -> None:
    lines: list[str] = []
    adobe.fail_next("list", flow_error(1103, 503, "unavailable"))
    client = adobe.client(clock, rng=Ceiling(), notices=Notices(lines.append, clock=clock))
    client.list_connections(ORG, "prod", spec_id=SPEC_ID)
    assert clock.sleeps == [0.5] and lines == []


def test_a_refusal_is_not_a_wait(adobe: FakeAdobe, clock: FakeClock) -> None:
    lines: list[str] = []
    adobe.fail_next("list", flow_error(1415, 400, "bad"))
    client = adobe.client(clock, notices=Notices(lines.append, clock=clock))
    with pytest.raises(ApiError):
        client.list_connections(ORG, "prod", spec_id=SPEC_ID)
    assert lines == []


def test_a_long_listing_says_how_far_it_has_got_every_two_seconds(
    adobe: FakeAdobe, clock: FakeClock
) -> None:
    for i in range(30):
        adobe.add("prod", f"orders-{i:02d}")

    def slow(request: httpx.Request) -> httpx.Response:
        clock.now += 0.5  # each page of 2 takes half a second
        return adobe.serve(request)

    adobe.fail_next("list", *[slow] * 15)
    lines: list[str] = []
    client = adobe.client(clock, notices=Notices(lines.append, clock=clock))
    assert len(client.list_connections(ORG, "prod", spec_id=SPEC_ID)) == 30
    what = "provision: list connections in sandbox 'prod'"
    assert lines == [
        f"{what}: 8 read so far (page 5)",
        f"{what}: 16 read so far (page 9)",
        f"{what}: 24 read so far (page 13)",
    ]


def test_listing_many_sandboxes_says_how_many_are_read(adobe: FakeAdobe, clock: FakeClock) -> None:
    sandboxes = [f"sb{i:02d}" for i in range(12)]
    for sandbox in sandboxes:
        adobe.add(sandbox, "orders")

    def slow(request: httpx.Request) -> httpx.Response:
        clock.now += 0.5
        return adobe.serve(request)

    adobe.fail_next("list", *[slow] * 12)
    lines: list[str] = []
    notices = Notices(lines.append, clock=clock)
    client = adobe.client(clock, notices=notices)
    observed = observe(client, [(ORG, s) for s in sandboxes], 1, notices)
    assert len(observed) == 12
    assert lines == [
        "provision: listing sandboxes: 4/12 read, 4 connection(s) so far",
        "provision: listing sandboxes: 8/12 read, 8 connection(s) so far",
        "provision: listing sandboxes: 12/12 read, 12 connection(s) so far",
    ]


def test_an_outage_answering_500_503_and_504_by_turns_is_one_wait(
    adobe: FakeAdobe, clock: FakeClock
) -> None:
    lines: list[str] = []
    statuses = (500, 503, 504, 503, 500, 504)
    adobe.fail_next("token", *[httpx.Response(s, text="down") for s in statuses])
    client = adobe.client(clock, rng=Ceiling(), notices=Notices(lines.append, clock=clock))
    client.fetch_token()
    assert len(clock.sleeps) == 6
    assert lines == [
        "provision: waiting for IMS (the access token): IMS token request returned 504: down; "
        "retrying (attempt 4 in 2.0 s)"
    ]
