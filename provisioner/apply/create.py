"""Stage 5, apply: create what the plan says is missing, and nothing else.

Creates run concurrently, bounded by the parallelism. A create is never sent twice
blindly: when its outcome is unknown (timeout, dropped connection, 5xx) the sandbox is
listed again and the create is repeated only if the name is still absent. A failure
stays with its connection; other connections and sandboxes go on.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum

from provisioner import connectors
from provisioner.apply.breaker import Breaker, server_cause
from provisioner.apply.progress import Progress
from provisioner.apply.settle import duplicates_to_delete
from provisioner.apply.workqueue import WorkQueue, stopping_note
from provisioner.connectors import Payload
from provisioner.errors import ApiError
from provisioner.model import DesiredConnection
from provisioner.plan.make import Action, Plan, PlannedConnection, resolve_ambiguous
from provisioner.plan.observe import observe
from provisioner.remote.client import CreateOutcomeUnknown
from provisioner.remote.service import FlowService

MAX_CREATE_ATTEMPTS = 4
log = logging.getLogger("provisioner.apply")


class Status(StrEnum):
    CREATED = "created"
    # Created, then deleted again: an older connection of that name appeared meanwhile
    # (a concurrent apply, or our own earlier create whose answer was lost).
    YIELDED = "yielded to an older duplicate"
    UPDATED = "updated"
    ROTATED = "secret rotated"
    # A 412 showed someone else's change; read again, it already matched the manifests.
    CURRENT = "found up to date"
    DELETED = "deleted"
    IN_USE = "kept: in use by a dataflow"
    FAILED = "failed"
    # Never sent: the run was interrupted, or the org's API kept failing (apply/breaker.py).
    SKIPPED = "not started"
    # Running when a second signal said not to wait: it may or may not have landed.
    IN_FLIGHT = "in flight when stopped (outcome unknown)"


@dataclass(frozen=True)
class Outcome:
    planned: PlannedConnection
    status: Status
    connection_id: str | None = None
    message: str | None = None
    note: str | None = None
    cause: str | None = None  # a server failure's cause, alike across connections


@dataclass(frozen=True)
class ApplyResult:
    outcomes: tuple[Outcome, ...]
    interrupted: bool

    def count(self, status: Status) -> int:
        return sum(1 for o in self.outcomes if o.status is status)


def create_or_find(
    create: Callable[[], str],
    find: Callable[[], str | None],
    sleep: Callable[[float], None],
) -> tuple[str, bool]:
    """Create one object, never sending the POST again blindly: (its id, whether it was found
    by looking rather than created by an answered POST). After an unclear answer
    (CreateOutcomeUnknown) `find` lists for it; only when it is not there is the POST sent
    again. Raises the last unclear answer after MAX_CREATE_ATTEMPTS, or ApiError when the
    look itself fails."""
    last: CreateOutcomeUnknown | None = None
    for _ in range(MAX_CREATE_ATTEMPTS):
        try:
            return create(), False
        except CreateOutcomeUnknown as error:
            last = error
        # The create may have been committed: look before sending it again. One that timed
        # out may still be running; a listing taken before it lands would miss it.
        sleep(last.pending_for)
        try:
            found = find()
        except ApiError as error:
            raise ApiError(
                f"{last}; checking whether it was created failed too: {error}",
                status=error.status,
                code=error.code,
                retryable=error.retryable,
            ) from None
        if found is not None:
            return found, True
    assert last is not None
    raise last


def create_one(
    client: FlowService, desired: DesiredConnection, payload: Payload
) -> tuple[str, str | None]:
    """Create one connection; (id, note). Raises ApiError when it could not be created."""
    org, sandbox, name = desired.identity

    def find() -> str | None:
        spec_id = connectors.of(desired).spec_id
        remote = client.list_connections(org, sandbox, spec_id=spec_id)
        return next((r.id for r in remote if r.name == name), None)

    created, found = create_or_find(
        lambda: client.create_connection(org, sandbox, payload, name=name).id,
        find,
        lambda seconds: time.sleep(seconds),  # looked up per call: tests replace time.sleep
    )
    return created, "confirmed by listing after an unclear response" if found else None


def apply_plan(
    plan: Plan,
    client: FlowService,
    payload_for: Callable[[DesiredConnection], Payload],
    *,
    parallelism: int,
    progress: Progress,
    breaker: Breaker | None = None,
) -> ApplyResult:
    creates = plan.creates
    breaker = breaker or Breaker()
    for planned in creates:
        progress.start(planned.desired.sandbox, 1)
    stop = threading.Event()

    def create(planned: PlannedConnection) -> Outcome:
        desired = planned.desired
        if stop.is_set() or not breaker.allows(desired.org):
            progress.finished(desired.sandbox, failed=False, started=False)
            return Outcome(planned, Status.SKIPPED)
        try:
            connection_id, note = create_one(client, desired, payload_for(desired))
        except ApiError as error:
            cause = server_cause(error)
            breaker.record(desired.org, cause)
            progress.finished(desired.sandbox, failed=True)
            return Outcome(planned, Status.FAILED, message=str(error), cause=cause)
        breaker.record(desired.org, None)
        progress.finished(desired.sandbox, failed=False)
        return Outcome(planned, Status.CREATED, connection_id, note=note)

    # The queue is the record, not the threads: a signal can land anywhere in this thread
    # (apply/workqueue.py).
    work: WorkQueue[Outcome] = WorkQueue(len(creates))

    def worker() -> None:
        while (index := work.claim()) is not None:
            outcome = Outcome(creates[index], Status.FAILED, message="internal error")
            try:
                outcome = create(creates[index])
            except Exception as error:  # a bug: raised again in the main thread
                work.bug = error
            finally:
                work.done(index, outcome)

    interrupted = abandoned = False
    try:
        for n in range(min(max(1, parallelism), len(creates))):
            # Daemons: after a second signal the process leaves without waiting for them.
            threading.Thread(target=worker, name=f"apply-{n}", daemon=True).start()
        work.wait_until_finished()
    except KeyboardInterrupt:
        # Ctrl-C or SIGTERM: start nothing new, let in-flight creates finish so each has a
        # known end.
        interrupted = True
    finally:
        stop.set()
        work.stop()
        # Everything from the note on can meet a second signal: none of it may be skipped
        # by one, or the wait below would go on with nothing left to break it.
        try:
            if interrupted:
                progress.note(stopping_note(len(work.snapshot()[1])))
            work.wait_for_running()
        except KeyboardInterrupt:
            # A second signal: stop waiting; what runs is reported as in flight.
            interrupted = abandoned = True
    if work.bug is not None:
        raise work.bug
    recorded, running = work.snapshot()  # abandoned workers may still record
    outcomes = [
        recorded.get(i) or Outcome(p, Status.IN_FLIGHT if i in running else Status.SKIPPED)
        for i, p in enumerate(creates)
    ]
    if abandoned:
        return ApplyResult(tuple(outcomes), interrupted)
    try:
        outcomes = _settle_races(client, outcomes, parallelism)
    except KeyboardInterrupt:
        # Ctrl-C after the creates: report them unsettled; a re-run settles what is left.
        interrupted = True
    return ApplyResult(tuple(outcomes), interrupted)


def _settle_races(client: FlowService, outcomes: list[Outcome], parallelism: int) -> list[Outcome]:
    """List each sandbox we created in once more and remove the duplicates we lost."""
    ours: dict[tuple[str, str], dict[str, Outcome]] = {}
    for outcome in outcomes:
        # Only ids a create answered with are ours for sure; a connection found by listing
        # after an unclear response might be another run's, so it is never deleted.
        if outcome.status is Status.CREATED and outcome.note is None and outcome.connection_id:
            org, sandbox, name = outcome.planned.desired.identity
            ours.setdefault((org, sandbox), {})[name] = outcome

    def settle(key: tuple[str, str]) -> dict[int, Outcome]:
        org, sandbox = key
        created = {name: o.connection_id or "" for name, o in ours[key].items()}
        replaced: dict[int, Outcome] = {}
        try:
            remote = [
                item
                for spec_id in dict.fromkeys(
                    connectors.of(o.planned.desired).spec_id for o in ours[key].values()
                )
                for item in client.list_connections(org, sandbox, spec_id=spec_id)
            ]
        except ApiError as error:
            log.warning("could not check sandbox %s for concurrent duplicates: %s", sandbox, error)
            return replaced
        for loser in duplicates_to_delete(created, remote):
            outcome = ours[key][loser.name]
            try:
                client.delete_connection(org, sandbox, loser.id, name=loser.name)
            except ApiError as error:
                # Ours and a duplicate: say so plainly, a later run will not own it.
                message = (
                    f"created {loser.id}, a duplicate of an older connection of this "
                    f"name, and could not delete it ({error}); delete it by hand"
                )
                replaced[id(outcome)] = Outcome(outcome.planned, Status.FAILED, loser.id, message)
                continue
            replaced[id(outcome)] = Outcome(outcome.planned, Status.YIELDED, loser.id)
        return replaced

    replaced: dict[int, Outcome] = {}
    with ThreadPoolExecutor(max_workers=max(1, parallelism)) as pool:
        for result in pool.map(settle, list(ours)):
            replaced.update(result)
    return [replaced.get(id(o), o) for o in outcomes]


AMBIGUITY_WAITS = (0.5, 1.0, 2.0, 4.0)
# Duplicates this young may be a concurrent apply's race still in flight; older ones are
# real ambiguities a person must resolve, and waiting would only delay the error.
RACE_WINDOW_MS = 120_000


def _racing(planned: PlannedConnection, *, now_ms: float) -> bool:
    return planned.action is Action.AMBIGUOUS and any(
        r.created_at is not None and abs(now_ms - r.created_at) < RACE_WINDOW_MS
        for r in planned.remote
    )


def settle_ambiguous(
    client: FlowService,
    plan: Plan,
    *,
    parallelism: int,
    waits: Sequence[float] = AMBIGUITY_WAITS,
    sleep: Callable[[float], None] = time.sleep,
) -> Plan:
    """Give concurrent applies a moment to settle the duplicates they race into.

    A name shared by several connections may be another apply's race in flight: it deletes
    its own duplicates seconds later (provisioner/apply/settle.py). Re-list the sandboxes concerned
    a few times before reporting the ambiguity as an error.
    """
    for wait_seconds in waits:
        keys = {p.key for p in plan.connections if _racing(p, now_ms=time.time() * 1000)}
        if not keys:
            break
        sleep(wait_seconds)
        plan = resolve_ambiguous(plan, observe(client, keys, parallelism))
    return plan
