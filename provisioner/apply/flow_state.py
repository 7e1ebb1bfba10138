"""Enable or disable a flow through its action, only when its state says so.

Adobe refuses an action on a flow already in that state (FLOW-1422-400) and any change while
it is still `enabling`, `disabling` or `updating` (FLOW-1420/1421-400), so the state is read
first, a transient one is waited out by a bounded poll (the sleep is injected: tests move no
wall clock), and the action is sent only when the state differs. The action is a POST: when
its answer is lost the state is read again before it is ever sent again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from provisioner import escape
from provisioner.dataflow import RemoteFlow
from provisioner.errors import ApiError
from provisioner.remote.client import CreateOutcomeUnknown
from provisioner.remote.service import FlowService

Op = Literal["enable", "disable"]
TRANSIENT = frozenset({"enabling", "disabling", "updating"})
# About half a minute in all: Adobe's transitions take seconds [reference 3.5, open 11].
STATE_WAITS = (0.5, 1.0, 2.0, 4.0, 8.0, 15.0)
MAX_ACTION_ATTEMPTS = 3


@dataclass(frozen=True)
class Waiting:
    """How apply waits for the API: the clock and the sleep are injected for tests."""

    now: Callable[[], float]
    sleep: Callable[[float], None]
    waits: Sequence[float] = STATE_WAITS


def settled(
    client: FlowService, org: str, sandbox: str, flow_id: str, *, name: str, waiting: Waiting
) -> RemoteFlow:
    """The flow once it is in no transient state; ApiError when it stays in one."""
    flow = client.get_flow(org, sandbox, flow_id)
    for wait in waiting.waits:
        if flow.state not in TRANSIENT:
            return flow
        waiting.sleep(wait)
        flow = client.get_flow(org, sandbox, flow_id)
    if flow.state in TRANSIENT:
        raise ApiError(
            f"flow {escape.quoted(name)} in sandbox {escape.quoted(sandbox)} stayed "
            f"{escape.quoted(flow.state or '')} for {sum(waiting.waits):g}s; re-run apply "
            "once it has settled"
        )
    return flow


def set_enabled(
    client: FlowService,
    org: str,
    sandbox: str,
    flow_id: str,
    op: Op,
    *,
    name: str,
    waiting: Waiting,
) -> bool:
    """Whether an action was sent (False: the flow was in that state already)."""
    wanted = "enabled" if op == "enable" else "disabled"
    flow = settled(client, org, sandbox, flow_id, name=name, waiting=waiting)
    if flow.state == wanted:
        return False
    last: CreateOutcomeUnknown | None = None
    for _ in range(MAX_ACTION_ATTEMPTS):
        try:
            client.flow_action(org, sandbox, flow_id, op, name=name)
            return True
        except CreateOutcomeUnknown as error:
            last = error
        waiting.sleep(last.pending_for)
        # Look before acting again: the lost answer may have been a success.
        if settled(client, org, sandbox, flow_id, name=name, waiting=waiting).state == wanted:
            return True
    assert last is not None
    raise last
