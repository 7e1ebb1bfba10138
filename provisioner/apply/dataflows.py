"""Stage 5, apply (dataflows): walk the plan's dataflow entries, then its chain deletions.

Runs after the connections' creates and updates (a dataflow on a connection created by this
run takes the id that create answered with) and before the connections' deletions (a base
connection a flow still uses cannot be deleted). Entries run concurrently, bounded by the
parallelism; each failure stays with its dataflow. A RECREATE retires the old flow first
(renamed, disabled), builds the new chain, and only then is the old chain deleted: when the
new chain fails, the old one stays for the next run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import partial

from provisioner import escape
from provisioner.apply.breaker import Breaker
from provisioner.apply.chain import columns_for, create_chain
from provisioner.apply.chain_bodies import ChainError
from provisioner.apply.chain_change import retire, update_dataflow
from provisioner.apply.chain_delete import delete_chain
from provisioner.apply.chain_result import DataflowOutcome, DataflowStatus
from provisioner.apply.flow_state import Waiting
from provisioner.apply.progress import Progress
from provisioner.apply.workqueue import stopping_note
from provisioner.errors import ApiError
from provisioner.plan.dataflow_prune import REPLACED_SUFFIX
from provisioner.plan.dataflows import PlannedChainDeletion, PlannedDataflow
from provisioner.plan.make import Action
from provisioner.remote.service import FlowService

WORK = (Action.CREATE, Action.UPDATE, Action.RECREATE)
Job = Callable[[], DataflowOutcome]


@dataclass(frozen=True)
class DataflowStage:
    """What the stage needs besides the plan: the base connection ids this run's creates
    answered with ((org, sandbox, name) -> id, None when that create failed), and the spec
    (id, version) of each dataflow's base connection."""

    client: FlowService
    created: Mapping[tuple[str, str, str], str | None]
    spec_of: Callable[[PlannedDataflow], tuple[str, str]]
    waiting: Waiting
    parallelism: int
    progress: Progress
    breaker: Breaker


def to_apply(dataflows: Sequence[PlannedDataflow]) -> list[PlannedDataflow]:
    return [p for p in dataflows if p.action in WORK]


def not_started(
    dataflows: Sequence[PlannedDataflow], deletions: Sequence[PlannedChainDeletion]
) -> list[DataflowOutcome]:
    skipped = [
        DataflowOutcome(p.desired.org, p.desired.sandbox, p.desired.name, DataflowStatus.SKIPPED)
        for p in to_apply(dataflows)
    ]
    return skipped + [
        DataflowOutcome(
            d.org, d.sandbox, d.flow.name, DataflowStatus.SKIPPED, "deletion", flow_id=d.flow.id
        )
        for d in deletions
    ]


def apply_dataflows(
    stage: DataflowStage,
    dataflows: Sequence[PlannedDataflow],
    deletions: Sequence[PlannedChainDeletion],
) -> tuple[list[DataflowOutcome], bool]:
    """Every outcome, in plan order, and whether a signal stopped the stage."""
    entries = to_apply(dataflows)
    skipped = not_started(entries, deletions)
    first, later = skipped[: len(entries)], skipped[len(entries) :]
    outcomes, interrupted = _run(stage, [partial(_one, stage, p) for p in entries], first)
    if interrupted:
        return outcomes + later, True
    # The old chain of a RECREATE (or of one a killed run began) goes only once its new
    # chain stands: a failed create keeps it, disabled, for the next run.
    unmade = (DataflowStatus.FAILED, DataflowStatus.SKIPPED)
    failed = {(o.org, o.sandbox, o.name) for o in outcomes if o.status in unmade}
    jobs = []
    for deletion, skip in zip(deletions, later, strict=True):
        base_name = deletion.flow.name.removesuffix(REPLACED_SUFFIX)
        if deletion.why == "replaced" and (deletion.org, deletion.sandbox, base_name) in failed:
            message = "kept: the flow replacing it was not created; re-run apply"
            jobs.append(partial(lambda s, m: replace(s, message=m), skip, message))
        else:
            jobs.append(partial(delete_chain, stage.client, deletion, stage.waiting))
    removed, interrupted = _run(stage, jobs, later)
    return outcomes + removed, interrupted


def _one(stage: DataflowStage, planned: PlannedDataflow) -> DataflowOutcome:
    desired = planned.desired
    if planned.action is Action.UPDATE:
        return update_dataflow(stage.client, planned, stage.waiting)

    def unmade(status: DataflowStatus, message: str) -> DataflowOutcome:
        return DataflowOutcome(desired.org, desired.sandbox, desired.name, status, message=message)

    base_id = planned.base_connection_id
    if base_id is None:
        base_id = stage.created.get((desired.org, desired.sandbox, desired.connection))
    if base_id is None:
        return unmade(
            DataflowStatus.SKIPPED,
            f"its connection {escape.quoted(desired.connection)} was not created in "
            "this run; re-run apply",
        )
    columns = None
    if planned.action is Action.RECREATE:
        try:
            # The new chain's columns first: a table that cannot be read as declared must
            # not cost the old flow its name and its schedule.
            if not any(r.kind == "source" for r in planned.reuse):
                columns = columns_for(stage.client, desired, base_id)
            retire(stage.client, planned, stage.waiting)
        except ChainError as error:
            return unmade(DataflowStatus.FAILED, f"{error}; the old flow was left as it is")
        except ApiError as error:
            return unmade(
                DataflowStatus.FAILED, f"the old flow was not retired, nothing replaced: {error}"
            )
    made = create_chain(
        stage.client, planned, base_id, stage.spec_of(planned), stage.waiting, columns
    )
    if planned.action is Action.RECREATE and made.status is DataflowStatus.CREATED:
        return replace(made, status=DataflowStatus.REPLACED)
    return made


def _run(
    stage: DataflowStage, jobs: Sequence[Job], skipped: Sequence[DataflowOutcome]
) -> tuple[list[DataflowOutcome], bool]:
    """Run the jobs concurrently; on a signal start nothing new and let what runs finish
    (each part of a chain has a known end), the rest reported as not started."""
    for skip in skipped:
        stage.progress.start(skip.sandbox, 1)

    def run(skip: DataflowOutcome, job: Job) -> DataflowOutcome:
        if not stage.breaker.allows(skip.org):
            stage.progress.finished(skip.sandbox, failed=False, started=False)
            return skip
        outcome = job()
        stage.breaker.record(skip.org, outcome.cause)
        stage.progress.finished(skip.sandbox, failed=outcome.status is DataflowStatus.FAILED)
        return outcome

    pool = ThreadPoolExecutor(max_workers=max(1, stage.parallelism))
    futures = [pool.submit(run, skip, job) for skip, job in zip(skipped, jobs, strict=True)]
    interrupted = False
    try:
        for future in futures:
            future.exception()
    except KeyboardInterrupt:
        interrupted = True
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
        try:
            if interrupted:
                stage.progress.note(stopping_note(sum(1 for f in futures if f.running())))
            pool.shutdown(wait=True)
        except KeyboardInterrupt:
            interrupted = True
    outcomes = []
    for skip, future in zip(skipped, futures, strict=True):
        done = future.done() and not future.cancelled()
        outcomes.append(future.result() if done else skip)
    return outcomes, interrupted
