"""When the API fails a dataflow call: a create whose answer is lost is CreateOutcomeUnknown
and is never sent again; reads ride out 429s and 5xx as the connection listings do; an answer
of the wrong shape is an error naming the request, never a shorter list."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from provisioner.emulator import POSTGRES_SPEC_ID, Emulator
from provisioner.errors import ApiError
from provisioner.remote.client import CreateOutcomeUnknown, FlowServiceClient
from tests.emulator.chain_helpers import SCHEMA

from .client_helpers import (
    ORG,
    Handler,
    base_connection,
    connect,
    flow_payload,
    mapping_payload,
    source_payload,
    target_payload,
)

Create = Callable[[FlowServiceClient, dict[str, str]], object]
CREATES: dict[str, tuple[str, Create, Callable[[FlowServiceClient], list[object]]]] = {
    "source connection": (
        "sourceConnections",
        lambda c, ids: c.create_source_connection(
            ORG, "prod", source_payload(ids["base"]), name="o"
        ),
        lambda c: list(c.list_source_connections(ORG, "prod", spec_id=POSTGRES_SPEC_ID)),
    ),
    "target connection": (
        "targetConnections",
        lambda c, ids: c.create_target_connection(
            ORG, "prod", target_payload(ids["dataset"]), name="o"
        ),
        lambda c: list(c.list_target_connections(ORG, "prod")),
    ),
    "mapping set": (
        "mappingSets",
        lambda c, ids: c.create_mapping_set(ORG, "prod", mapping_payload(), name="o"),
        lambda c: list(c.list_mapping_sets(ORG, "prod")),
    ),
    "flow": (
        "flows",
        lambda c, ids: c.create_flow(
            ORG, "prod", flow_payload(ids["source"], ids["target"], ids["mapping"]), name="o"
        ),
        lambda c: list(c.list_flows(ORG, "prod")),
    ),
}


def parts(emulator: Emulator, client: FlowServiceClient) -> dict[str, str]:
    """Everything a create of any part needs, made beforehand."""
    base = base_connection(client)
    dataset = str(emulator.add_dataset(ORG, "prod", name="Orders", schemaId=SCHEMA)["id"])
    source = client.create_source_connection(ORG, "prod", source_payload(base), name="o").id
    target = client.create_target_connection(ORG, "prod", target_payload(dataset), name="o").id
    mapping = client.create_mapping_set(ORG, "prod", mapping_payload(), name="o").id
    return {
        "base": base,
        "dataset": dataset,
        "source": source,
        "target": target,
        "mapping": mapping,
    }


@pytest.mark.parametrize("part", sorted(CREATES))
def test_a_create_whose_answer_is_lost_is_never_sent_again(emulator: Emulator, part: str) -> None:
    client = connect(emulator)
    ids = parts(emulator, client)
    _, create, listing = CREATES[part]
    before = len(listing(client))
    posts = client.requests_sent["POST"]
    emulator.set_faults(rate_commit_then_drop=1.0)  # stored, then the connection closed

    with pytest.raises(CreateOutcomeUnknown) as unknown:
        create(client, ids)
    assert str(unknown.value).startswith(
        f"create {part} 'o' in sandbox 'prod' may have succeeded: POST "
    )
    assert str(unknown.value).endswith("; list the sandbox before creating it again")
    assert client.requests_sent["POST"] == posts + 1  # one POST, no blind retry
    emulator.set_faults(rate_commit_then_drop=0.0)
    assert len(listing(client)) == before + 1  # it was made: the listing finds it


def failing(
    status: int, path_end: str, method: str, times: int = 1
) -> Callable[[Handler], Handler]:
    """The first `times` `method` requests to a path ending in `path_end` answer `status`."""
    left = [times]

    def wrap(emulated: Handler) -> Handler:
        def handler(request: httpx.Request) -> httpx.Response:
            if request.method == method and request.url.path.endswith(path_end) and left[0]:
                left[0] -= 1
                headers = {"Retry-After": "1"} if status == 429 else {}
                return httpx.Response(status, headers=headers, json={"title": "try later"})
            return emulated(request)

        return handler

    return wrap


@pytest.mark.parametrize("part", sorted(CREATES))
def test_a_5xx_to_a_create_is_an_unknown_outcome_and_a_429_is_sent_again(
    emulator: Emulator, part: str
) -> None:
    path, create, listing = CREATES[part]
    client = connect(emulator, wrap=failing(503, f"/{path}", "POST"))
    prepared = connect(emulator)
    ids = parts(emulator, prepared)
    before = len(listing(prepared))
    with pytest.raises(CreateOutcomeUnknown, match=f"^create {part} 'o' .* returned 503"):
        create(client, ids)
    assert client.requests_sent["POST"] == 1 and len(listing(prepared)) == before

    # The gateway's 429 comes before the service saw the request: sending it again is safe.
    throttled = connect(emulator, wrap=failing(429, f"/{path}", "POST", times=2))
    create(throttled, ids)
    assert throttled.requests_sent["POST"] == 3 and len(listing(prepared)) == before + 1


LISTINGS: dict[str, tuple[str, Callable[[FlowServiceClient], list[object]]]] = {
    "flows": ("/flows", lambda c: list(c.list_flows(ORG, "prod"))),
    "sources": (
        "/sourceConnections",
        lambda c: list(c.list_source_connections(ORG, "prod", spec_id=POSTGRES_SPEC_ID)),
    ),
    "targets": ("/targetConnections", lambda c: list(c.list_target_connections(ORG, "prod"))),
    "mapping sets": ("/mappingSets", lambda c: list(c.list_mapping_sets(ORG, "prod"))),
    "datasets": ("/dataSets", lambda c: list(c.list_datasets(ORG, "prod"))),
}


@pytest.fixture
def chains(emulator: Emulator) -> Iterator[Emulator]:
    client = connect(emulator)
    base = base_connection(client)
    for n in range(7):
        emulator.add_dataflow(ORG, "prod", base, f"orders {n}")
    yield emulator


@pytest.mark.parametrize("listing", sorted(LISTINGS))
@pytest.mark.parametrize("status", [429, 500, 503])
def test_reads_ride_out_429_and_5xx(chains: Emulator, listing: str, status: int) -> None:
    path, read = LISTINGS[listing]
    client = connect(chains, page_size=3, wrap=failing(status, path, "GET", times=2))
    assert len(read(client)) == 7
    # 7 items, 3 a page: 3 pages (offset paging reads a 3rd short page too), + 2 refused.
    assert client.requests_sent["GET"] == 3 + 2


def test_an_action_whose_answer_is_lost_is_done_when_the_flow_is_in_that_state(
    emulator: Emulator,
) -> None:
    client = connect(emulator)
    ids = parts(emulator, client)
    flow = client.create_flow(
        ORG, "prod", flow_payload(ids["source"], ids["target"], ids["mapping"]), name="o"
    )
    emulator.set_faults(rate_commit_then_drop=1.0)  # the disable lands; its answer is lost
    done = client.flow_action(ORG, "prod", flow.id, "disable", name="o")
    emulator.set_faults(rate_commit_then_drop=0.0)
    now = client.get_flow(ORG, "prod", flow.id)
    assert (now.state, done.etag) == ("disabled", now.etag)
    # Sent again after the lost answer: refused (1422) in the state asked for, read, done.
    assert client.requests_sent["POST"] == 5 + 2


def test_an_action_refused_in_another_state_stays_refused(emulator: Emulator) -> None:
    refusal = {
        "type": "https://ns.adobe.com/aep/errors/FLOW-1422-400",
        "title": "Invalid request",
        "status": 400,
        "errorMessage": "The action disable cannot be applied on the current state draft.",
    }

    def wrap(emulated: Handler) -> Handler:
        def handler(request: httpx.Request) -> httpx.Response:
            if request.url.path.endswith("/action"):
                return httpx.Response(400, json=refusal)
            return emulated(request)

        return handler

    client = connect(emulator, wrap=wrap)
    ids = parts(emulator, client)
    flow = client.create_flow(
        ORG, "prod", flow_payload(ids["source"], ids["target"], ids["mapping"]), name="o"
    )
    with pytest.raises(ApiError, match="FLOW-1422-400") as refused:
        client.flow_action(ORG, "prod", flow.id, "disable", name="o")
    assert str(refused.value).startswith(f"disable flow 'o' ({flow.id}) in sandbox 'prod' failed")
    assert client.get_flow(ORG, "prod", flow.id).state == "enabled"
