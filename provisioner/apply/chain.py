"""Create one dataflow's chain: source -> target -> mapping set -> flow -> disable if declared so.

A half chain a run left behind (the plan's `reuse` leftovers) is built on instead of made
again. No POST is ever sent twice blindly: when its answer is lost (`CreateOutcomeUnknown`)
the sandbox is listed first (a source by base connection, table and name, a target by name
and dataset, a flow by name, base connection and source) and the part is created again only
when it is not there. A mapping set has no name to be found by: an unclear create of one
stops the chain, and the mapping set it may have made is said to be left behind. A failure
stops the chain where it is; the summary says what was made, and the next run reuses it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from provisioner import escape
from provisioner.apply.breaker import server_cause
from provisioner.apply.chain_bodies import (
    ChainError,
    chosen_columns,
    flow_body,
    mapping_body,
    source_body,
    target_body,
)
from provisioner.apply.chain_lookup import flow_of, unused_source, unused_target
from provisioner.apply.chain_result import DataflowOutcome, DataflowStatus
from provisioner.apply.chain_settle import built_on_by_another, settle_created
from provisioner.apply.create import create_or_find
from provisioner.apply.flow_state import Waiting, set_enabled
from provisioner.dataflow import DesiredDataflow
from provisioner.errors import ApiError
from provisioner.plan.dataflows import PlannedDataflow
from provisioner.remote.client import CreateOutcomeUnknown
from provisioner.remote.service import FlowService


@dataclass
class Made:
    """The parts of the chain so far; `ours`: the ids this run's creates answered with."""

    source: str | None = None
    target: str | None = None
    mapping: str | None = None
    flow: str | None = None
    ours: set[str] = field(default_factory=set)

    def said(self) -> str:
        """What a failed run leaves for the next one, for the failure's line."""
        parts = [
            f"{kind} connection {part_id}"
            for kind, part_id in (("source", self.source), ("target", self.target))
            if part_id
        ]
        return f"; the next apply reuses {' and '.join(parts)}" if parts else ""


def create_chain(
    client: FlowService,
    planned: PlannedDataflow,
    base_id: str,
    spec: tuple[str, str],
    waiting: Waiting,
    columns: Sequence[Mapping[str, object]] | None = None,
) -> DataflowOutcome:
    """`spec`: the base connection's connector spec (id, version), the source's spec too.
    `columns`: the source's column items when already chosen (see `columns_for`)."""
    desired = planned.desired
    made = Made(
        source=next((r.id for r in planned.reuse if r.kind == "source"), None),
        target=next((r.id for r in planned.reuse if r.kind == "target"), None),
    )
    try:
        _build(client, planned, base_id, spec, waiting, made, columns)
    except (ApiError, ChainError) as error:
        taken = _taken(client, desired, base_id, made, error)
        if taken is not None:
            return taken
        left = (made.mapping,) if made.mapping else ()
        failure = _outcome(
            desired, DataflowStatus.FAILED, None, f"{error}{made.said()}", left_behind=left
        )
        cause = server_cause(error) if isinstance(error, ApiError) else None
        return replace(failure, cause=cause)
    assert made.flow is not None
    if made.flow in made.ours or made.source in made.ours:
        lost = settle_created(client, desired, base_id, made.flow)
        if lost is not None:
            return lost
    note = None if made.flow in made.ours else "confirmed by listing after an unclear response"
    note = _discard(client, planned, note)
    if not desired.enabled:
        try:
            set_enabled(
                client,
                desired.org,
                desired.sandbox,
                made.flow,
                "disable",
                name=desired.name,
                waiting=waiting,
            )
        except ApiError as error:
            message = f"created ({made.flow}) but not disabled: {error}; re-run apply"
            return _outcome(desired, DataflowStatus.FAILED, made.flow, message)
    return _outcome(desired, DataflowStatus.CREATED, made.flow, note=note)


def _taken(
    client: FlowService, desired: DesiredDataflow, base_id: str, made: Made, error: Exception
) -> DataflowOutcome | None:
    """A flow create refused (400) after this run reused a leftover: a concurrent run may
    have built its flow on the same leftover first."""
    refused = isinstance(error, ApiError) and error.status == 400
    reused = {made.source, made.target} - made.ours
    if not refused or made.flow or not made.mapping or not made.source or not made.target:
        return None
    if not reused:
        return None
    return built_on_by_another(
        client, desired, base_id, made.source, made.target, made.ours, made.mapping
    )


def _build(
    client: FlowService,
    planned: PlannedDataflow,
    base_id: str,
    spec: tuple[str, str],
    waiting: Waiting,
    made: Made,
    columns: Sequence[Mapping[str, object]] | None,
) -> None:
    desired = planned.desired
    org, sandbox = desired.org, desired.sandbox
    dataset = planned.dataset
    if dataset is None or not dataset.schema_id:
        raise ChainError(
            f"its dataset {escape.quoted(desired.dataset)} has no XDM schema; give it one in AEP"
        )
    if made.source is None:
        explored = client.explore_columns(org, sandbox, base_id, desired.table, name=desired.name)
        body = source_body(
            desired,
            base_id,
            chosen_columns(desired, explored),
            spec_id=spec[0],
            spec_version=spec[1],
        )
        made.source = _create(
            lambda: (
                client.create_source_connection(org, sandbox, body, name=desired.source_name).id
            ),
            lambda: unused_source(client, desired, base_id, spec[0]),
            waiting,
            made,
        )
    if made.target is None:
        body = target_body(desired, dataset.id, dataset.schema_id)
        made.target = _create(
            lambda: (
                client.create_target_connection(org, sandbox, body, name=desired.target_name).id
            ),
            lambda: unused_target(client, desired, dataset.id),
            waiting,
            made,
        )
    try:
        mapping = client.create_mapping_set(
            org, sandbox, mapping_body(desired, dataset.schema_id), name=desired.name
        )
    except CreateOutcomeUnknown as error:
        raise ApiError(
            f"{error}; a mapping set may have been made and left behind (Adobe gives it no "
            "name to find it by)"
        ) from None
    made.mapping = mapping.id
    body = flow_body(
        desired, made.source, made.target, mapping.id, mapping.version, now_s=waiting.now()
    )
    source_id = made.source
    made.flow = _create(
        lambda: client.create_flow(org, sandbox, body, name=desired.name).id,
        lambda: flow_of(client, desired, base_id, source_id),
        waiting,
        made,
    )


def columns_for(
    client: FlowService, desired: DesiredDataflow, base_id: str
) -> list[dict[str, object]]:
    """The column items the source will send, from explore: ChainError when a declared or
    the incremental column is missing. A RECREATE asks first, before it retires anything."""
    explored = client.explore_columns(
        desired.org, desired.sandbox, base_id, desired.table, name=desired.connection
    )
    return chosen_columns(desired, explored)


def _create(
    create: Callable[[], str], find: Callable[[], str | None], waiting: Waiting, made: Made
) -> str:
    created, found = create_or_find(create, find, waiting.sleep)
    if not found:
        made.ours.add(created)
    return created


def _discard(client: FlowService, planned: PlannedDataflow, note: str | None) -> str | None:
    """Delete this owner's leftovers that did not match (targets first: nothing uses them)."""
    desired = planned.desired
    problems = []
    for leftover in sorted(planned.discard, key=lambda r: r.kind != "target"):
        delete = (
            client.delete_target_connection
            if leftover.kind == "target"
            else client.delete_source_connection
        )
        try:
            delete(desired.org, desired.sandbox, leftover.id, name=leftover.name)
        except ApiError as error:
            if error.status != 404:
                problems.append(f"leftover {leftover.kind} connection {leftover.id} kept: {error}")
    if not problems:
        return note
    return "; ".join([*([note] if note else []), *problems])


def _outcome(
    desired: DesiredDataflow,
    status: DataflowStatus,
    flow_id: str | None,
    message: str | None = None,
    *,
    note: str | None = None,
    left_behind: tuple[str, ...] = (),
) -> DataflowOutcome:
    return DataflowOutcome(
        desired.org,
        desired.sandbox,
        desired.name,
        status,
        flow_id=flow_id,
        message=message,
        note=note,
        left_behind=left_behind,
    )
