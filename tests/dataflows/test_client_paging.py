"""Listings follow every page, and their requests grow with pages, never with objects:
Flow Service lists by `_links.next`, Data Prep and Catalog by a 0-based `start` offset (the
widely used wrapper starts Catalog at 1 and so loses dataset #101; this client must not)."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from provisioner.emulator import POSTGRES_SPEC_ID, Emulator
from provisioner.remote.client import FlowServiceClient
from tests.emulator.chain_helpers import SCHEMA, START

from .client_helpers import ORG, Handler, base_connection, connect, mapping_payload

PAGE = 5


def recording(seen: list[str]) -> Callable[[Handler], Handler]:
    """A wrapper that notes the path and query of every API GET."""

    def wrap(emulated: Handler) -> Handler:
        def handler(request: httpx.Request) -> httpx.Response:
            if request.method == "GET":
                seen.append(f"{request.url.path.rsplit('/', 1)[-1]}?{request.url.query.decode()}")
            return emulated(request)

        return handler

    return wrap


def gets(client: FlowServiceClient, read: Callable[[], object]) -> int:
    before = client.requests_sent.get("GET", 0)
    read()
    return client.requests_sent.get("GET", 0) - before


@pytest.mark.parametrize("count", [99, 100, 101, 205])
def test_every_dataset_is_listed_over_catalog_pages(emulator: Emulator, count: int) -> None:
    names = [f"Orders {n:03}" for n in range(count)]
    for name in names:
        emulator.add_dataset(ORG, "prod", name=name, schemaId=SCHEMA)
    seen: list[str] = []
    client = connect(emulator, wrap=recording(seen))

    datasets = client.list_datasets(ORG, "prod")
    assert sorted(d.name for d in datasets) == names  # dataset #101 included
    assert {d.schema_id for d in datasets} == {SCHEMA}
    # A page shorter than 100 is the last: a full one needs one more (empty) read.
    starts = [parse_qs(urlsplit(s).query)["start"][0] for s in seen]
    assert starts == [str(100 * n) for n in range(count // 100 + 1)]
    assert all("properties=name%2CschemaRef&limit=100" in s for s in seen)


def test_every_mapping_set_is_listed_over_limit_and_start_pages(emulator: Emulator) -> None:
    seen: list[str] = []
    client = connect(emulator, page_size=PAGE, wrap=recording(seen))
    made = {
        client.create_mapping_set(ORG, "prod", mapping_payload(), name=f"m{n}").id
        for n in range(12)
    }
    assert {m.id for m in client.list_mapping_sets(ORG, "prod")} == made
    assert seen == [f"mappingSets?limit={PAGE}&start={s}" for s in (0, 5, 10)]


@pytest.mark.parametrize("flows", [4, 5, 12])
def test_requests_grow_with_pages_not_with_objects(emulator: Emulator, flows: int) -> None:
    client = connect(emulator, page_size=PAGE)
    base = base_connection(client)
    made = {emulator.add_dataflow(ORG, "prod", base, f"orders {n}")["flowId"] for n in range(flows)}

    # Flow Service pages end where no next link is given; offset pages at a short page.
    linked = max(1, -(-flows // PAGE))
    offset = flows // PAGE + 1
    assert gets(client, lambda: client.list_flows(ORG, "prod")) == linked
    assert {f.id for f in client.list_flows(ORG, "prod")} == made

    def sources() -> list[object]:
        return list(client.list_source_connections(ORG, "prod", spec_id=POSTGRES_SPEC_ID))

    assert gets(client, sources) == linked and len(sources()) == flows
    assert gets(client, lambda: client.list_target_connections(ORG, "prod")) == linked
    assert gets(client, lambda: client.list_mapping_sets(ORG, "prod")) == offset
    assert gets(client, lambda: client.list_datasets(ORG, "prod")) == offset
    assert (
        len(client.list_mapping_sets(ORG, "prod"))
        == len(client.list_datasets(ORG, "prod"))
        == flows
    )


def test_runs_of_many_flows_are_read_in_batches_of_pages(emulator: Emulator) -> None:
    client = connect(emulator, page_size=PAGE)
    base = base_connection(client)
    flow_ids = [emulator.add_dataflow(ORG, "prod", base, f"f{n}")["flowId"] for n in range(45)]
    for n in range(12):  # 12 runs of the first flow, one of every other
        emulator.add_run(ORG, "prod", {"flowId": flow_ids[0], "startedAt": START + 900 * n})
    for flow_id in flow_ids[1:]:
        emulator.add_run(ORG, "prod", {"flowId": flow_id, "startedAt": START})

    runs: list[object] = []
    sent = gets(client, lambda: runs.extend(client.list_runs(ORG, "prod", flow_ids[:1])))
    # 12 stored + the first run each flow made when it was created (its start was "now").
    assert (len(runs), sent) == (13, 3)
    every = client.list_runs(ORG, "prod", flow_ids)
    assert len(every) == 13 + 2 * 44
    # 40 flows a query: the first 40 flows' 13 + 2 * 39 runs, then the last 5 flows' 10.
    assert gets(client, lambda: client.list_runs(ORG, "prod", flow_ids)) == 19 + 2


def test_flows_of_one_name_are_one_page_however_many_the_sandbox_holds(
    emulator: Emulator,
) -> None:
    """apply settles each flow it made against the flows of its name: one filtered page, not
    every page of the sandbox (which would grow with the square of the flows it creates)."""
    client = connect(emulator, page_size=PAGE)
    base = base_connection(client)
    for n in range(3 * PAGE):
        emulator.add_dataflow(ORG, "prod", base, f"orders-prod/public.t_{n} (x)")
    twin = emulator.add_dataflow(ORG, "prod", base, "orders-prod/public.t_7 (x)")["flowId"]

    named = client.list_flows(ORG, "prod", name="orders-prod/public.t_7 (x)")
    assert [f.name for f in named] == ["orders-prod/public.t_7 (x)"] * 2
    assert twin in {f.id for f in named}
    assert (
        gets(client, lambda: client.list_flows(ORG, "prod", name="orders-prod/public.t_7 (x)")) == 1
    )
    # A name a filter would read as two (a comma is OR) lists the sandbox instead.
    emulator.add_dataflow(ORG, "prod", base, "a,b")
    both = client.list_flows(ORG, "prod", name="a,b")
    assert "a,b" in {f.name for f in both} and len(both) == 3 * PAGE + 2
