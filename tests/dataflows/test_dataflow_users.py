"""`plan/observe.dataflow_users` (the "still used by dataflow(s)" warning before a base
connection's delete) on the new listings: a flow names its base connection itself, and one
whose answer leaves that out is traced through its source connection."""

from __future__ import annotations

import httpx

from provisioner.emulator import Emulator
from provisioner.plan.observe import dataflow_users

from .client_helpers import ORG, Handler, base_connection, connect


def test_flows_are_counted_against_the_base_connection_they_read(emulator: Emulator) -> None:
    client = connect(emulator)
    used, unused = base_connection(client, "orders-prod"), base_connection(client, "crm-prod")
    emulator.add_dataflow(ORG, "prod", used, "orders nightly")
    emulator.add_dataflow(ORG, "prod", used, "orders hourly")
    sent = client.requests_sent.get("GET", 0)
    users = dataflow_users(client, (ORG, "prod"))
    assert users == {used: ("orders hourly", "orders nightly")} and unused not in users
    # Every flow names its base connection: the source connections are not read.
    assert client.requests_sent["GET"] - sent == 1


def test_a_flow_without_inherited_attributes_is_traced_through_its_source(
    emulator: Emulator,
) -> None:
    def wrap(emulated: Handler) -> Handler:
        def handler(request: httpx.Request) -> httpx.Response:
            response = emulated(request)
            if request.method == "GET" and request.url.path.endswith("/flows"):
                body = response.json()
                for item in body["items"]:
                    item.pop("inheritedAttributes")
                return httpx.Response(200, json=body)
            return response

        return handler

    client = connect(emulator, wrap=wrap)
    used = base_connection(client)
    emulator.add_dataflow(ORG, "prod", used, "orders nightly")
    assert dataflow_users(client, (ORG, "prod")) == {used: ("orders nightly",)}
    assert dataflow_users(client, (ORG, "dev")) == {}
