"""Two applies of the same dataflow at once: both make a chain, one flow stays.

Each POST /flows waits until the other run's arrived, so both runs see the dataflow absent
and both create it: the race at its worst. Every run then lists the flows again and agrees
on the oldest (createdAt, then id); the other one deletes its own chain.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import httpx

from provisioner.apply.chain_result import DataflowOutcome, DataflowStatus
from provisioner.emulator import POSTGRES_SPEC_ID, Emulator
from provisioner.plan.dataflows import Leftover

from .apply_helpers import Sandbox, census, run, sandbox, to_create
from .client_helpers import ORG, Handler, connect
from .helpers import desired


def together(barrier: threading.Barrier) -> Callable[[Handler], Handler]:
    def wrap(inner: Handler) -> Handler:
        def handler(request: httpx.Request) -> httpx.Response:
            if request.method == "POST" and request.url.path.endswith("/flows"):
                barrier.wait(timeout=30)
            return inner(request)

        return handler

    return wrap


def test_two_concurrent_applies_end_with_one_flow_and_no_orphan(emulator: Emulator) -> None:
    barrier = threading.Barrier(2)
    first = sandbox(emulator)
    second = replace(first, client=connect(emulator, wrap=together(barrier)))
    first = replace(first, client=connect(emulator, wrap=together(barrier)))

    def apply(box: Sandbox) -> DataflowOutcome:
        [outcome] = run(box, [to_create(box, desired())])
        return outcome

    with ThreadPoolExecutor(2) as pool:
        outcomes = sorted(pool.map(apply, [first, second]), key=lambda o: o.status)
    assert [o.status for o in outcomes] == sorted([DataflowStatus.CREATED, DataflowStatus.YIELDED])
    [loser] = [o for o in outcomes if o.status is DataflowStatus.YIELDED]
    now = census(emulator)
    assert (dict(now.flows), now.sources, now.targets, now.orphans) == (
        {"orders-prod/public.orders": 1},
        1,
        1,
        (),
    )
    # The loser's mapping set stays (Adobe documents no delete): reported by id.
    assert (now.mapping_sets, now.unused_mapping_sets) == (2, loser.left_behind)


def test_two_runs_reusing_the_same_leftovers_end_with_one_flow(emulator: Emulator) -> None:
    # A killed run left a source and a target; two runs then plan to reuse both.
    box = sandbox(emulator)
    [broken] = run(box, [to_create(box, desired())])
    box.client.delete_flow(ORG, "prod", broken.flow_id or "", name="x")
    source = box.client.list_source_connections(ORG, "prod", spec_id=POSTGRES_SPEC_ID)[0]
    target = box.client.list_target_connections(ORG, "prod")[0]
    reuse = (
        Leftover("source", source.id, source.name, source.etag),
        Leftover("target", target.id, target.name, target.etag),
    )
    barrier = threading.Barrier(2)
    runs = [replace(box, client=connect(emulator, wrap=together(barrier))) for _ in range(2)]

    def apply(each: Sandbox) -> DataflowOutcome:
        [outcome] = run(each, [to_create(each, desired(), reuse)])
        return outcome

    with ThreadPoolExecutor(2) as pool:
        outcomes = sorted(pool.map(apply, runs), key=lambda o: o.status)
    assert [o.status for o in outcomes] == sorted([DataflowStatus.CREATED, DataflowStatus.YIELDED])
    [loser] = [o for o in outcomes if o.status is DataflowStatus.YIELDED]
    now = census(emulator)
    assert (dict(now.flows), now.sources, now.targets, now.orphans) == (
        {"orders-prod/public.orders": 1},
        1,
        1,
        (),
    )
    assert set(loser.left_behind) <= set(now.unused_mapping_sets)
