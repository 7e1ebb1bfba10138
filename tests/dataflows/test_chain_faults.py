"""A lost answer on each POST of the chain: never a blind retry, a look before creating again,
and in the end one flow, no orphan source or target, and the mapping sets reported."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from provisioner.apply.chain_result import DataflowStatus
from provisioner.emulator import POSTGRES_SPEC_ID, Emulator
from provisioner.plan.dataflows import Leftover

from .apply_helpers import census, run, sandbox, to_create
from .client_helpers import ORG, Handler
from .helpers import desired


def commit_then_fail(path_end: str, how: str) -> Callable[[Handler], Handler]:
    """The first POST ending in `path_end` is committed, then its answer is lost: the
    connection drops, or a 500 comes back instead of the 2xx."""
    left = [1]

    def wrap(inner: Handler) -> Handler:
        def handler(request: httpx.Request) -> httpx.Response:
            response = inner(request)
            hit = request.method == "POST" and request.url.path.endswith(path_end)
            if hit and left[0] and response.status_code < 300:
                left[0] -= 1
                if how == "drop":
                    raise httpx.RemoteProtocolError("Server disconnected", request=request)
                return httpx.Response(500, json={"message": "internal error"})
            return response

        return handler

    return wrap


@pytest.mark.parametrize("how", ["drop", "500"])
@pytest.mark.parametrize("path_end", ["/sourceConnections", "/targetConnections", "/flows"])
def test_a_lost_create_answer_is_settled_by_listing_not_by_sending_again(
    emulator: Emulator, path_end: str, how: str
) -> None:
    box = sandbox(emulator, commit_then_fail(path_end, how))
    [outcome] = run(box, [to_create(box, desired())])
    assert outcome.status is DataflowStatus.CREATED, outcome.message
    now = census(emulator)
    assert (dict(now.flows), now.sources, now.targets, now.orphans, now.mapping_sets) == (
        {"orders-prod/public.orders": 1},
        1,
        1,
        (),
        1,
    )


@pytest.mark.parametrize("how", ["drop", "500"])
def test_a_lost_action_answer_is_read_before_acting_again(emulator: Emulator, how: str) -> None:
    box = sandbox(emulator, commit_then_fail("/action", how))
    [outcome] = run(box, [to_create(box, desired(enabled=False))])
    assert outcome.status is DataflowStatus.CREATED, outcome.message
    assert box.client.get_flow(ORG, "prod", outcome.flow_id or "").state == "disabled"
    assert census(emulator).duplicates == 0


@pytest.mark.parametrize("how", ["drop", "500"])
def test_a_lost_mapping_set_answer_stops_the_chain_and_the_next_run_reuses_it(
    emulator: Emulator, how: str
) -> None:
    box = sandbox(emulator, commit_then_fail("/mappingSets", how))
    [failed] = run(box, [to_create(box, desired())])
    assert failed.status is DataflowStatus.FAILED
    source = box.client.list_source_connections(ORG, "prod", spec_id=POSTGRES_SPEC_ID)[0]
    target = box.client.list_target_connections(ORG, "prod")[0]
    assert failed.message is not None
    assert failed.message.startswith(
        "create mapping set 'orders-prod/public.orders' in sandbox 'prod' may have succeeded: "
    )
    assert failed.message.endswith(
        "; a mapping set may have been made and left behind (Adobe gives it no name to find "
        f"it by); the next apply reuses source connection {source.id} and target connection "
        f"{target.id}"
    )
    # The next run's plan finds them unreferenced: its leftovers.
    reuse = (
        Leftover("source", source.id, source.name, source.etag),
        Leftover("target", target.id, target.name, target.etag),
    )
    [outcome] = run(box, [to_create(box, desired(), reuse)])
    assert outcome.status is DataflowStatus.CREATED, outcome.message
    now = census(emulator)
    assert (dict(now.flows), now.sources, now.targets, now.orphans) == (
        {"orders-prod/public.orders": 1},
        1,
        1,
        (),
    )
    assert now.mapping_sets == 2  # the one whose answer was lost stays, unused
