"""The router (provisioner/remote/routing.py) stands in for one client: it must route every
public method of FlowServiceClient, or a new one would run without a transport."""

from __future__ import annotations

import inspect

import httpx
import pytest

from provisioner.errors import ApiError, UsageError
from provisioner.remote.client import Endpoints, FlowServiceClient, Pacer
from provisioner.remote.routing import OrgClients, OrgPacers

ORG = "0123456789ABCDEF01234567@AdobeOrg"


def public(cls: type) -> set[str]:
    # The client's own methods and its mixins' (the dataflow calls), not object's.
    return {n for k in cls.__mro__[:-1] for n in vars(k) if not n.startswith("_")}


def test_every_public_method_of_the_client_is_routed() -> None:
    missing = public(FlowServiceClient) - public(OrgClients)
    assert not missing, (
        f"route these through OrgClients: name = _routed(FlowServiceClient.name): {sorted(missing)}"
    )
    for name in public(FlowServiceClient):
        base, routed = getattr(FlowServiceClient, name), getattr(OrgClients, name)
        if callable(base):
            assert inspect.signature(base) == inspect.signature(routed), name


def test_an_org_is_routed_to_its_own_credential_and_a_refused_one_answers_an_error() -> None:
    seen: list[tuple[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/ims/token/v3":
            return httpx.Response(200, json={"access_token": "t", "expires_in": 3600})
        seen.append((request.headers["x-api-key"], request.headers["x-gw-ims-org-id"]))
        return httpx.Response(200, json={"items": []})

    other = "FEDCBA9876543210FEDCBA98@AdobeOrg"
    environ = {
        "AEP_CLIENT_ID": "plain",
        "AEP_CLIENT_SECRET": "plain-secret",
        "AEP_CLIENT_ID__FEDCBA9876543210FEDCBA98": "own",
        "AEP_CLIENT_SECRET__FEDCBA9876543210FEDCBA98": "own-secret",
    }
    base = "http://aep.test"
    with httpx.Client(transport=httpx.MockTransport(handler)) as http:
        endpoints = Endpoints(ims_url=base, platform_url=base)
        router = OrgClients(environ, lambda c: FlowServiceClient(http, c, endpoints))
        assert router.list_connections(ORG, "dev", spec_id="s") == []
        assert router.list_connections(other, "prod", spec_id="s") == []
        assert seen == [("plain", ORG), ("own", other)]
        assert router.requests_sent == {"TOKEN": 2, "GET": 2}
        router.refused[other] = "refused"
        with pytest.raises(ApiError, match=r"the credential for org .* was refused"):
            router.list_connections(other, "prod", spec_id="s")
        assert router.refused == {other: "refused"}
        without = OrgClients({}, lambda c: FlowServiceClient(http, c, endpoints))
        with pytest.raises(UsageError, match="AEP_CLIENT_ID and AEP_CLIENT_SECRET must be set"):
            without.list_connections(ORG, "dev", spec_id="s")


class Ticks:
    """A clock that only moves when something sleeps."""

    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_each_org_is_paced_apart() -> None:
    # Adobe's gateway limits each org apart: one org's 429s must not slow another's requests
    # (issue 22: one pacer for the run did).
    other = "FEDCBA9876543210FEDCBA98@AdobeOrg"
    refusals = iter(range(6))

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/ims/token/v3":
            return httpx.Response(200, json={"access_token": "t", "expires_in": 3600})
        if request.headers["x-gw-ims-org-id"] == ORG and next(refusals, None) is not None:
            return httpx.Response(429, json={"error_code": "429050", "message": "Too many"})
        return httpx.Response(200, json={"items": []})

    ticks = Ticks()
    pacers = OrgPacers(lambda: Pacer(clock=ticks, sleep=ticks.sleep))
    environ = {"AEP_CLIENT_ID": "plain", "AEP_CLIENT_SECRET": "plain-secret"}
    base = "http://aep.test"
    with httpx.Client(transport=httpx.MockTransport(handler)) as http:
        endpoints = Endpoints(ims_url=base, platform_url=base)
        router = OrgClients(
            environ,
            lambda c: FlowServiceClient(
                http, c, endpoints, pacer=pacers.new(), sleep=ticks.sleep, clock=ticks
            ),
            pacers,
        )
        assert router.list_connections(ORG, "dev", spec_id="s") == []  # after six 429s
        throttled_pace = router.client_for(ORG).pacer
        assert throttled_pace is not None and throttled_pace.throttled == 6
        assert router.list_connections(other, "prod", spec_id="s") == []
        unthrottled = router.client_for(other).pacer
        assert unthrottled is not None
        assert (unthrottled.throttled, unthrottled.lowest) == (0, None)
        # The run's view adds them up for the closing line.
        assert router.pacer is pacers and pacers.throttled == 6
        assert pacers.lowest == throttled_pace.lowest
