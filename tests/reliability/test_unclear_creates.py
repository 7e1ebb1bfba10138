"""Regression: a create that timed out may still commit; it gets time to land before listing.

A server finishes a request whose client stopped waiting (the emulator does too). Listing
straight after the timeout could miss that create, and apply would send it a second time:
the timeout fault profile found exactly that duplicate.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import httpx
import pytest

from provisioner.apply.create import create_one
from provisioner.connectors.postgres.spec import SPEC_ID as POSTGRES_SPEC_ID
from provisioner.remote.client import (
    CreateOutcomeUnknown,
    Credentials,
    Endpoints,
    FlowServiceClient,
)

from .soak import desired_from, write_manifest

BASE = "http://api.test"
TOKEN = {"access_token": "t", "token_type": "bearer", "expires_in": 86399}


def client(transport: httpx.MockTransport, timeout: float) -> FlowServiceClient:
    return FlowServiceClient(
        httpx.Client(transport=transport, timeout=timeout),
        Credentials("id", "unclear-creates-s3cret-7f2c"),
        Endpoints(ims_url=BASE, platform_url=BASE),
    )


def no_answer(error: type[httpx.TransportError]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/ims/"):
            return httpx.Response(200, json=TOKEN)
        raise error("no answer", request=request)

    return httpx.MockTransport(handle)


@pytest.mark.parametrize(
    ("error", "pending_for"),
    [
        (httpx.ReadTimeout, 2.5),  # the server may still be working on it
        (httpx.WriteTimeout, 2.5),
        (httpx.RemoteProtocolError, 0.0),  # it hung up: done with the request
        (httpx.ReadError, 0.0),
    ],
)
def test_an_unclear_create_says_how_long_the_server_may_still_be_on_it(
    error: type[httpx.TransportError], pending_for: float
) -> None:
    with pytest.raises(CreateOutcomeUnknown) as caught:
        client(no_answer(error), 2.5).create_connection(
            "org", "prod", {"name": "orders"}, name="orders"
        )
    assert caught.value.pending_for == pending_for


class SlowServer:
    """Every create times out on the client and commits ``lag`` seconds later."""

    def __init__(self, lag: float) -> None:
        self.lag = lag
        self.creates = 0
        self.records: list[tuple[float, dict[str, object]]] = []  # (visible from, record)
        self.lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/ims/"):
            return httpx.Response(200, json=TOKEN)
        now = time.monotonic()
        with self.lock:
            if request.method == "POST":
                self.creates += 1
                body = json.loads(request.content)
                record = {"id": f"id-{self.creates}", "name": body["name"], "createdAt": 1}
                self.records.append((now + self.lag, record))
                raise httpx.ReadTimeout("timed out", request=request)
            items = [r for visible, r in self.records if visible <= now]
        return httpx.Response(200, json={"items": items})


def test_apply_lists_only_after_a_timed_out_create_had_time_to_land(tmp_path: Path) -> None:
    desired = desired_from(write_manifest(tmp_path, names=1, sandboxes=("prod",)))[0]
    server = SlowServer(lag=0.03)
    flow = client(httpx.MockTransport(server), timeout=0.05)
    connection_id, note = create_one(flow, desired, {"name": desired.name})
    assert (connection_id, note) == ("id-1", "confirmed by listing after an unclear response")
    assert server.creates == 1
    assert [r.id for r in flow.list_connections("o", "prod", spec_id=POSTGRES_SPEC_ID)] == ["id-1"]
