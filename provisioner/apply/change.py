"""Stage 5, apply (existing connections): PATCH what drifted or rotates, DELETE what is pruned.

Each PATCH carries the etag the plan saw (If-Match). A 412 means someone changed the
connection since: it is read again and planned again, once, with the same options; if it
now matches, nothing is sent, otherwise the patch is re-sent against the new etag. A second
412 is an error naming the connection. A delete the API refuses because a dataflow still
uses the connection (FLOW-1418-400) is reported by name; the other deletes go on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import partial

from provisioner import ownermark
from provisioner.apply.breaker import Breaker, server_cause
from provisioner.apply.create import Status
from provisioner.apply.progress import Progress
from provisioner.apply.workqueue import stopping_note
from provisioner.errors import ApiError
from provisioner.plan.diff import PatchOp
from provisioner.plan.make import Action, PlannedConnection, PlannedDeletion, PlanOptions, plan_one
from provisioner.remote.service import FlowService

IN_USE_CODE = "FLOW-1418-400"
OpsFor = Callable[[PlannedConnection], list[PatchOp]]


@dataclass(frozen=True)
class ChangeOutcome:
    sandbox: str
    name: str
    status: Status
    connection_id: str
    message: str | None = None
    cause: str | None = None  # a server failure's cause, alike across connections


def patch_one(
    client: FlowService, planned: PlannedConnection, ops_for: OpsFor, options: PlanOptions
) -> ChangeOutcome:
    desired = planned.desired
    org, sandbox, name = desired.identity
    entry = planned
    for attempt in (1, 2):
        remote = entry.remote[0]
        try:
            client.update_connection(
                org, sandbox, remote.id, ops_for(entry), etag=remote.etag, name=name
            )
        except ApiError as error:
            if error.status != 412:
                return _failed(sandbox, name, remote.id, error)
            if attempt == 2:
                return ChangeOutcome(
                    sandbox,
                    name,
                    Status.FAILED,
                    remote.id,
                    f"connection {name!r} in sandbox {sandbox!r} changed again while it was "
                    "being updated (412 twice); nothing of ours was written: re-run apply "
                    "to plan it afresh",
                )
        else:
            done = Status.UPDATED if entry.action is Action.UPDATE else Status.ROTATED
            return ChangeOutcome(sandbox, name, done, remote.id)
        # Someone changed it since the plan: read it again and decide again, once.
        try:
            fresh = client.get_connection(org, sandbox, remote.id)
        except ApiError as error:
            gone = (
                " (it was deleted meanwhile; re-run apply to create it)"
                if error.status == 404
                else ""
            )
            return _failed(sandbox, name, remote.id, error, gone)
        if fresh.name != name:
            message = (
                f"renamed to {fresh.name!r} while being updated; re-run apply to plan it afresh"
            )
            return ChangeOutcome(sandbox, name, Status.FAILED, remote.id, message)
        entry = plan_one(desired, (fresh,), options)
        if entry.action in (Action.REPLACE, Action.FOREIGN):
            return ChangeOutcome(sandbox, name, Status.FAILED, remote.id, entry.reason)
        if not entry.patches:
            return ChangeOutcome(sandbox, name, Status.CURRENT, remote.id)
    raise AssertionError("unreachable")


def delete_one(client: FlowService, deletion: PlannedDeletion) -> ChangeOutcome:
    remote = deletion.remote
    try:
        # Read it once more: a mark changed since the plan (another owner adopted it, a
        # person cleared it) withdraws the permission to delete. The DELETE has no If-Match.
        fresh = client.get_connection(deletion.org, deletion.sandbox, remote.id)
        mark = ownermark.owner_of(fresh.description)
        if mark != deletion.owner:
            message = (
                f"not deleted: its owner mark changed since the plan ({ownermark.shown(mark)},"
                f" was owner={deletion.owner}); it is no longer this owner's to delete"
            )
            return ChangeOutcome(deletion.sandbox, remote.name, Status.FAILED, remote.id, message)
        client.delete_connection(deletion.org, deletion.sandbox, remote.id, name=remote.name)
    except ApiError as error:
        if error.status == 404:  # someone deleted it already: what we wanted
            return ChangeOutcome(deletion.sandbox, remote.name, Status.DELETED, remote.id)
        if error.code == IN_USE_CODE:
            message = (
                f"not deleted: a dataflow still uses it ({IN_USE_CODE}); delete or repoint "
                "its dataflows first, then apply --prune again"
            )
            return ChangeOutcome(deletion.sandbox, remote.name, Status.IN_USE, remote.id, message)
        return _failed(deletion.sandbox, remote.name, remote.id, error)
    return ChangeOutcome(deletion.sandbox, remote.name, Status.DELETED, remote.id)


def _failed(
    sandbox: str, name: str, conn_id: str, error: ApiError, more: str = ""
) -> ChangeOutcome:
    cause = server_cause(error)
    return ChangeOutcome(sandbox, name, Status.FAILED, conn_id, f"{error}{more}", cause)


def not_started(
    patches: Sequence[PlannedConnection], deletions: Sequence[PlannedDeletion]
) -> list[ChangeOutcome]:
    """How each change is reported when it never started (the run was interrupted)."""
    skipped = [
        ChangeOutcome(p.desired.sandbox, p.desired.name, Status.SKIPPED, p.remote[0].id)
        for p in patches
    ]
    return skipped + [
        ChangeOutcome(d.sandbox, d.remote.name, Status.SKIPPED, d.remote.id) for d in deletions
    ]


def apply_changes(
    client: FlowService,
    patches: Sequence[PlannedConnection],
    deletions: Sequence[PlannedDeletion],
    ops_for: OpsFor,
    *,
    options: PlanOptions,
    parallelism: int,
    progress: Progress,
    breaker: Breaker | None = None,
) -> tuple[list[ChangeOutcome], bool]:
    """Every patch and delete, concurrently; each failure stays with its connection. Also
    whether a signal stopped it: then nothing new starts, what runs finishes (an etag-guarded
    PATCH lands whole or not at all, a DELETE is idempotent), the rest is "not started"; a
    second signal stops the wait, and what still runs is reported in flight."""
    breaker = breaker or Breaker()
    orgs = [p.desired.org for p in patches] + [d.org for d in deletions]
    calls = [partial(patch_one, client, p, ops_for, options) for p in patches]
    calls += [partial(delete_one, client, d) for d in deletions]
    jobs = list(zip(not_started(patches, deletions), orgs, calls, strict=True))
    for skipped, _, _ in jobs:
        progress.start(skipped.sandbox, 1)

    def run(skipped: ChangeOutcome, org: str, job: Callable[[], ChangeOutcome]) -> ChangeOutcome:
        if not breaker.allows(org):  # the org's API keeps failing: start nothing there
            progress.finished(skipped.sandbox, failed=False, started=False)
            return skipped
        outcome = job()
        breaker.record(org, outcome.cause)
        progress.finished(outcome.sandbox, failed=outcome.status is Status.FAILED)
        return outcome

    pool = ThreadPoolExecutor(max_workers=max(1, parallelism))
    futures = [pool.submit(run, *job) for job in jobs]
    interrupted = abandoned = False
    try:
        for future in futures:
            future.exception()  # waits; a bug is raised below, from result()
    except KeyboardInterrupt:
        interrupted = True
    finally:
        pool.shutdown(wait=False, cancel_futures=True)  # nothing new starts
        try:  # as in apply_plan: a second signal anywhere here ends the wait, nothing else
            if interrupted:
                progress.note(stopping_note(sum(1 for f in futures if f.running())))
            pool.shutdown(wait=True)
        except KeyboardInterrupt:  # a second signal: stop waiting for what runs
            interrupted = abandoned = True

    outcomes = []
    for (skipped, _, _), future in zip(jobs, futures, strict=True):
        if future.done() and not future.cancelled():
            outcomes.append(future.result())
        elif abandoned and future.running():
            outcomes.append(replace(skipped, status=Status.IN_FLIGHT))
        else:
            outcomes.append(skipped)
    return outcomes, interrupted
