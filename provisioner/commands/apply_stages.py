"""The writes of `provision apply` after its creates, in the order the API needs, and the
bodies and words they need before the first write.

Order: connection updates -> dataflow creates, updates and replacements (a dataflow on a
connection this run created takes the id that create answered with) -> chain deletions
(flow -> target -> source) -> connection deletions (a base connection a flow still uses
cannot be deleted, so its managed flows go first).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from provisioner import connectors
from provisioner.apply.breaker import Breaker
from provisioner.apply.chain_result import DataflowOutcome
from provisioner.apply.change import ChangeOutcome, apply_changes
from provisioner.apply.change import not_started as changes_not_started
from provisioner.apply.create import ApplyResult, Status
from provisioner.apply.dataflows import DataflowStage, apply_dataflows, not_started, to_apply
from provisioner.apply.flow_state import Waiting
from provisioner.apply.progress import Progress
from provisioner.connectors import Payload, render_payload
from provisioner.errors import ProvisionError
from provisioner.manifests.secrets import SecretResolver
from provisioner.model import DesiredConnection
from provisioner.plan.dataflows import PlannedDataflow
from provisioner.plan.diff import PatchOp
from provisioner.plan.make import Action, Plan, PlannedConnection, PlanOptions
from provisioner.remote.service import FlowService

# The real clock; tests pass their own to `run`.
REAL_TIME = Waiting(now=time.time, sleep=time.sleep)


def after_creates(
    client: FlowService,
    plan: Plan,
    result: ApplyResult,
    ops_for: Callable[[PlannedConnection], list[PatchOp]],
    *,
    options: PlanOptions,
    parallelism: int,
    progress: Progress,
    breaker: Breaker,
    waiting: Waiting = REAL_TIME,
) -> tuple[list[ChangeOutcome], list[DataflowOutcome], bool]:
    """The connections' patches and deletions, the dataflows between them; and whether a
    signal stopped the run (what was not reached is reported as not started)."""
    changes, interrupted = apply_changes(
        client,
        plan.patches,
        (),
        ops_for,
        options=options,
        parallelism=parallelism,
        progress=progress,
        breaker=breaker,
    )
    flows = not_started(plan.dataflows, plan.chain_deletions)
    if not interrupted and flows:
        stage = DataflowStage(
            client,
            created=_created_ids(result),
            spec_of=_specs(plan),
            waiting=waiting,
            parallelism=parallelism,
            progress=progress,
            breaker=breaker,
        )
        flows, interrupted = apply_dataflows(stage, plan.dataflows, plan.chain_deletions)
    deletions, interrupted = (
        apply_changes(
            client,
            (),
            plan.deletions,
            ops_for,
            options=options,
            parallelism=parallelism,
            progress=progress,
            breaker=breaker,
        )
        if not interrupted
        else (_skipped(plan), True)
    )
    return changes + deletions, flows, interrupted


def _skipped(plan: Plan) -> list[ChangeOutcome]:
    return changes_not_started((), plan.deletions)


def _created_ids(result: ApplyResult) -> dict[tuple[str, str, str], str | None]:
    # Only a create's own answer: a YIELDED connection's id is the duplicate it deleted.
    return {
        o.planned.desired.identity: o.connection_id if o.status is Status.CREATED else None
        for o in result.outcomes
    }


def _specs(plan: Plan) -> Callable[[PlannedDataflow], tuple[str, str]]:
    by_identity = {p.desired.identity: p.desired for p in plan.connections}

    def spec_of(planned: PlannedDataflow) -> tuple[str, str]:
        d = planned.desired
        connection = by_identity.get((d.org, d.sandbox, d.connection))
        connector = connectors.of(connection) if connection else connectors.DEFAULT
        return connector.spec_id, connector.spec_version

    return spec_of


def prepare(
    plan: Plan, environ: Mapping[str, str], secrets_dirs: Sequence[Path]
) -> tuple[Callable[[DesiredConnection], Payload], Callable[[PlannedConnection], list[PatchOp]]]:
    """Every secret and every request body, before the first write: a missing secret or one
    a payload cannot carry (a control character in an ODBC password) must not stop a
    rollout half way."""
    needed = [*plan.creates, *(p for p in plan.patches if p.rotate)]
    resolver = SecretResolver(environ, secrets_dirs)
    values = resolver.resolve_all(ref for p in needed for ref in p.desired.secrets)
    payloads, problems = {}, []
    for planned in plan.creates:
        try:
            payloads[id(planned.desired)] = render_payload(planned.desired, values.__getitem__)
        except ProvisionError as error:
            problems.append(str(error))
    for planned in plan.patches:
        try:
            planned.patch_ops(values.__getitem__)
        except ProvisionError as error:
            problems.append(str(error))
    if problems:
        raise ProvisionError(
            f"{len(problems)} payload(s) cannot be built; nothing was changed:\n"
            + "\n".join(problems)
        )
    # A re-planned entry (after a 412) is rendered the same way, from the same values.
    return (lambda c: payloads[id(c)]), (lambda p: p.patch_ops(values.__getitem__))


def question(plan: Plan, *, creates: bool = True) -> str:
    """'Create 2 connections, update 1 connection, create 3 dataflows', or without the
    creates, what is under way: 'Updating 1 connection, deleting 3 connections'."""
    rotations = sum(1 for p in plan.patches if p.action is Action.ROTATE)
    secrets = f"the secret{'s' if rotations != 1 else ''} of"
    flows = [p.action for p in to_apply(plan.dataflows)]
    verbs = (
        ("create", "creating", len(plan.creates) if creates else 0, "connection"),
        (
            "update",
            "updating",
            sum(1 for p in plan.patches if p.action is Action.UPDATE),
            "connection",
        ),
        (f"rotate {secrets}", f"rotating {secrets}", rotations, "connection"),
        ("delete", "deleting", len(plan.deletions), "connection"),
        ("create", "creating", flows.count(Action.CREATE), "dataflow"),
        ("update", "updating", flows.count(Action.UPDATE), "dataflow"),
        ("replace", "replacing", flows.count(Action.RECREATE), "dataflow"),
        (
            "delete",
            "deleting",
            sum(1 for d in plan.chain_deletions if d.why == "pruned"),
            "dataflow",
        ),
    )
    text = ", ".join(
        f"{verb if creates else doing} {count_of(n, noun)}" for verb, doing, n, noun in verbs if n
    )
    return text[0].upper() + text[1:] if text else ""


def writes_after_creates(plan: Plan) -> int:
    """How many things the run changes after its creates; a replacement is one (its old
    chain's deletion goes with it)."""
    pruned = sum(1 for d in plan.chain_deletions if d.why == "pruned")
    return len(plan.patches) + len(plan.deletions) + len(to_apply(plan.dataflows)) + pruned


def count_of(count: int, noun: str = "connection") -> str:
    return f"{count} {noun}{'s' if count != 1 else ''}"


def at_once(count: int, parallelism: int) -> str:
    return f", up to {min(count, parallelism)} at a time" if count > 1 else ""
