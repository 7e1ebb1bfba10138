"""aepp 0.6.0 (Adobe's widely used Python wrapper) against the emulator, over a real socket.

How aepp is pointed at the emulator: ``aepp.configure(environment="prod")`` hard-codes
``https://platform.adobe.io`` and ``https://ims-na1.adobelogin.com``; the "support"
environment lets the platform URL be overridden but still hard-codes IMS. So the test calls
``configure`` normally and then sets the module-level ``aepp.config.endpoints["global"]`` and
``config_object["oauthTokenEndpointV2"]`` (restored afterwards by monkeypatch). Nothing in the
emulator is bent to aepp.

Findings (the emulator stays faithful; these are aepp's behaviours):
- ``getConnections`` follows ``_links.next.href`` verbatim, so continuation tokens containing
  ``+``, ``/`` and ``=`` survive; it re-sends its own params on top of the href, which the
  emulator tolerates (first value wins) as Adobe appears to.
- ``getConnections`` stops after ``n_results=100`` items by default: 130 connections list as 100.
- ``getFlows``/``getRuns`` take the token as ``href.split("=")[1]``, which mangles any
  percent-encoded token; the same parsing applied to a connections href is refused (400).
- ``postFlowAction`` sends no body and drops ``Content-Type``: the emulator accepts a
  body-less action without one. ``getFlows(onlySources=True)`` filters on
  ``inheritedAttributes.properties.isSourceFlow``, which flows carry.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from provisioner.emulator import Emulator, EmulatorConfig, RunningServer, serve

from .emu_helpers import ORG, create, make_client, pg_payload

aepp = pytest.importorskip("aepp")
from aepp import flowservice  # noqa: E402


@pytest.fixture
def running() -> Iterator[RunningServer]:
    emu = Emulator(EmulatorConfig(page_size=20))
    with serve(emu) as server:
        yield server
    emu.close()


@pytest.fixture
def flow(running: RunningServer, monkeypatch: pytest.MonkeyPatch) -> Any:
    emu = running.emulator
    aepp.configure(
        org_id=ORG,
        client_id=emu.config.client_id,
        secret=emu.config.client_secret,
        scopes="openid,AdobeID,read_organizations,additional_info.projectedProductContext,session",
        sandbox="prod",
    )
    monkeypatch.setitem(aepp.config.endpoints, "global", running.url)
    monkeypatch.setitem(aepp.config.config_object, "imsEndpoint", running.url)
    monkeypatch.setitem(
        aepp.config.config_object, "oauthTokenEndpointV2", f"{running.url}/ims/token/v3"
    )
    return flowservice.FlowService()


def test_aepp_token_create_list_and_read(flow: Any, running: RunningServer) -> None:
    emu = running.emulator
    assert emu.request_counts() == {"POST /ims/token/v3": 1}

    created = flow.createConnection(data=pg_payload("orders-prod"))
    assert set(created) == {"id", "etag"}
    assert created["etag"].startswith('"')

    with make_client(emu) as api:
        for i in range(44):
            create(api, pg_payload(f"bulk-{i:02d}"))
    listed = flow.getConnections(limit=10)
    assert len(listed) == 45
    assert {c["id"] for c in listed} == {c["id"] for c in emu.connections()}
    assert emu.request_counts()["GET /data/foundation/flowservice/connections"] == 5

    one = flow.getConnection(created["id"])
    assert one["name"] == "orders-prod"
    assert one["auth"]["params"]["password"] == "********"
    assert one["etag"] == created["etag"]

    filtered = flow.getConnections(property="name==orders-prod")
    assert [c["id"] for c in filtered] == [created["id"]]


def test_aepp_stops_listing_after_100_by_default(flow: Any, running: RunningServer) -> None:
    with make_client(running.emulator) as api:
        for i in range(130):
            create(api, pg_payload(f"c{i:03d}"))
    assert len(flow.getConnections(limit=20)) == 100  # aepp's silent n_results cap
    assert len(flow.getConnections(limit=20, n_results="inf")) == 130


def test_aepp_style_token_splitting_is_refused(flow: Any, running: RunningServer) -> None:
    with make_client(running.emulator) as api:
        for i in range(3):
            create(api, pg_payload(f"c{i}"))
    first = flow.connector.getData(f"{flow.endpoint}/connections", params={"limit": 1})
    href = first["_links"]["next"]["href"]
    mangled = href.split("=")[1]  # what aepp's getFlows/getRuns do with a next href
    response = flow.connector.getData(
        f"{flow.endpoint}/connections", params={"limit": 1, "continuationToken": mangled}
    )
    assert response["status"] == 400
    assert response["type"].endswith("FLOW-1100-400")


def test_aepp_reads_dataflows_and_switches_a_flow_off(flow: Any, running: RunningServer) -> None:
    from .chain_helpers import chain

    emu = running.emulator
    emu.set_dataflow_options(past_start_time="accepted")  # the helper's start is fixed
    with make_client(emu) as api:
        ids = chain(api, emu)
    (spec,) = flow.getFlowSpecs(prop='name=="CRMToAEP"')
    assert spec["id"] == "14518937-270c-4525-bdec-c2ba7cce3860"
    flows = flow.getFlows(onlySources=True)
    assert [f["id"] for f in flows] == [ids["flow"]]
    # aepp's postFlowAction drops Content-Type and sends no body: still a valid request.
    assert set(flow.postFlowAction(ids["flow"], "disable")) == {"id", "etag"}
    assert flow.getFlow(ids["flow"])["state"] == "disabled"
    refused = flow.postFlowAction(ids["flow"], "disable")
    assert refused["type"].endswith("FLOW-1422-400")
