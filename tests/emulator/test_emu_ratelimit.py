"""The gateway's throttle: a token bucket per org in front of every Flow Service route."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from provisioner.emulator import Emulator, EmulatorConfig, Faults, serve
from provisioner.emulator.cli import build_parser, config_from_args, main
from provisioner.emulator.ratelimit import RateLimiter, burst_of

from .emu_helpers import BASE, FLOW, api_headers, fetch_token, make_client, pg_payload

OTHER_ORG = "FEDCBA9876543210FEDCBA98@AdobeOrg"
BODY = {"error_code": "429050", "message": "Too many requests"}


class Ticks:
    """A monotonic clock that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ticks() -> Ticks:
    return Ticks()


@pytest.fixture
def limited(ticks: Ticks) -> Iterator[Emulator]:
    faults = Faults(rate_limit=10, rate_limit_burst=2)
    config = EmulatorConfig(orgs=(EmulatorConfig().orgs[0], OTHER_ORG), faults=faults, seed=1)
    emu = Emulator(config, monotonic=ticks)
    yield emu
    emu.close()


def test_the_bucket_admits_its_burst_then_refills_at_the_rate(ticks: Ticks) -> None:
    limiter = RateLimiter(ticks)
    faults = Faults(rate_limit=4, rate_limit_burst=3)
    assert [limiter.admit("org", faults) for _ in range(3)] == [None, None, None]
    assert limiter.admit("org", faults) == pytest.approx(0.25)  # one token is 1/4 s away
    ticks.now += 0.5  # two tokens back
    assert [limiter.admit("org", faults) is None for _ in range(3)] == [True, True, False]
    ticks.now += 60  # a long pause refills the burst, never more
    assert sum(limiter.admit("org", faults) is None for _ in range(10)) == 3
    assert limiter.throttled == 1 + 1 + 7


def test_orgs_have_separate_buckets(ticks: Ticks) -> None:
    limiter = RateLimiter(ticks)
    faults = Faults(rate_limit=1, rate_limit_burst=1)
    assert limiter.admit("a", faults) is None
    assert limiter.admit("a", faults) is not None
    assert limiter.admit("b", faults) is None


def test_the_default_burst_is_a_tenth_of_a_second() -> None:
    assert burst_of(Faults(rate_limit=100)) == 10
    assert burst_of(Faults(rate_limit=3)) == 1
    assert burst_of(Faults(rate_limit=100, rate_limit_burst=4)) == 4


def test_lifting_the_limit_forgets_the_buckets(ticks: Ticks) -> None:
    limiter = RateLimiter(ticks)
    tight = Faults(rate_limit=1, rate_limit_burst=1)
    limiter.admit("a", tight)
    assert limiter.admit("a", tight) is not None
    assert limiter.admit("a", Faults()) is None
    assert limiter.admit("a", tight) is None  # full again


def test_over_the_limit_gets_the_gateway_429_without_retry_after(
    limited: Emulator, ticks: Ticks
) -> None:
    with make_client(limited) as api:
        assert [api.get(f"{FLOW}/connections").status_code for _ in range(2)] == [200, 200]
        refused = api.get(f"{FLOW}/connections")
        assert refused.status_code == 429
        assert refused.json() == BODY
        assert "Retry-After" not in refused.headers
        # Creates are refused before the Flow Service: nothing is stored.
        assert api.post(f"{FLOW}/connections", json=pg_payload()).status_code == 429
        assert limited.connections() == []
        ticks.now += 0.1  # one token at 10 per second
        assert api.post(f"{FLOW}/connections", json=pg_payload()).status_code == 201
        assert api.get(f"{FLOW}/connections").status_code == 429
    assert limited.throttled == 3
    # IMS is another service: token requests are never throttled.
    with httpx.Client(transport=limited.transport(), base_url=BASE) as ims:
        assert all(fetch_token(ims, limited) for _ in range(5))


def test_the_limit_is_per_org(limited: Emulator) -> None:
    with make_client(limited) as api:
        for _ in range(3):
            api.get(f"{FLOW}/connections")
        other = {**api.headers, "x-gw-ims-org-id": OTHER_ORG}
        assert api.get(f"{FLOW}/connections", headers=other).status_code == 200


def test_retry_after_only_when_asked(limited: Emulator, ticks: Ticks) -> None:
    limited.set_faults(rate_limit=0.25, rate_limit_burst=1, rate_limit_retry_after=True)
    with make_client(limited) as api:
        assert api.get(f"{FLOW}/connections").status_code == 200
        ticks.now += 1  # a quarter of a token back: 3 s to go
        refused = api.get(f"{FLOW}/connections")
        assert (refused.status_code, refused.headers["Retry-After"]) == (429, "3")
        ticks.now += 2.5  # 0.5 s to go: whole seconds, rounded up
        assert api.get(f"{FLOW}/connections").headers["Retry-After"] == "1"


@pytest.fixture
def socket_client(limited: Emulator) -> Iterator[httpx.Client]:
    with serve(limited) as running:
        with httpx.Client(base_url=running.url) as ims:
            token = fetch_token(ims, limited)
        with httpx.Client(base_url=running.url, headers=api_headers(token, limited)) as client:
            yield client


def test_the_limit_changes_at_run_time_through_the_admin_route(
    limited: Emulator, socket_client: httpx.Client
) -> None:
    answer = socket_client.put("/__emulator/faults", json={"rate_limit_burst": 1}).json()
    assert (answer["rate_limit"], answer["rate_limit_burst"]) == (10.0, 1)
    assert [socket_client.get(f"{FLOW}/connections").status_code for _ in range(2)] == [200, 429]
    # Admin routes are not behind the gateway.
    assert socket_client.get("/__emulator/requests").json()["throttled"] == 1
    socket_client.put("/__emulator/faults", json={"rate_limit": None})
    assert {socket_client.get(f"{FLOW}/connections").status_code for _ in range(5)} == {200}
    assert limited.injector.faults == Faults(rate_limit_burst=1)
    assert socket_client.delete("/__emulator/requests").status_code == 204
    assert limited.throttled == 0


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"rate_limit": 0}, "rate_limit must be above 0 (or null: no limit), got 0.0"),
        ({"rate_limit": "fast"}, "rate_limit must be a number"),
        ({"rate_limit_burst": 0}, "rate_limit_burst must be at least 1, got 0"),
        ({"rate_limit_burst": 1.5}, "rate_limit_burst must be an integer"),
        ({"rate_limit_retry_after": 1}, "rate_limit_retry_after must be true or false"),
    ],
)
def test_bad_limits_are_refused(socket_client: httpx.Client, body: object, message: str) -> None:
    response = socket_client.put("/__emulator/faults", json=body)
    assert (response.status_code, response.json()["message"]) == (400, message)
    assert socket_client.get("/__emulator/faults").json()["rate_limit"] == 10.0


def test_command_line_options_reach_the_faults(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--rate-limit", "100", "--rate-limit-burst", "5", "--rate-limit-retry-after"]
    faults = config_from_args(build_parser("p").parse_args(argv)).faults
    assert (faults.rate_limit, faults.rate_limit_burst, faults.rate_limit_retry_after) == (
        100,
        5,
        True,
    )
    assert config_from_args(build_parser("p").parse_args([])).faults.rate_limit is None
    assert main(["--rate-limit", "-1"]) == 1
    err = capsys.readouterr().err
    assert (
        err
        == "provision emulator: error: rate_limit must be above 0 (or null: no limit), got -1.0\n"
    )
