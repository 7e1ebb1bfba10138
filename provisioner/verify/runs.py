"""Verify, dataflows: each declared dataflow's flow, its state and its last run.

A dataflow's flow is the one the plan found for it (name, flow spec and base connection id;
`Plan.dataflows`). Its runs come from the runs API, one listing per sandbox for all of its
flows (page reads, never a GET per flow). The last run is the latest started inside the
window (`--since`); a failed one fails the verify, as an unreachable connection does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from provisioner import redact
from provisioner.dataflow import (
    DesiredDataflow,
    FlowRun,
    RemoteFlow,
)
from provisioner.errors import ApiError, UsageError
from provisioner.plan.dataflows import PlannedDataflow
from provisioner.plan.make import Action, Plan, SandboxKey
from provisioner.remote.service import FlowService


class FlowStatus(StrEnum):
    OK = "ok"  # the last run in the window did not fail (it succeeded or still runs)
    FAILED = "failed"  # the last run in the window failed
    NO_RUN = "no-run"  # the flow exists and has not run in the window
    MISSING = "missing"  # no flow yet: apply creates it
    AMBIGUOUS = "ambiguous"  # several flows answer to it
    ERROR = "error"  # the check could not run (listing failed, connection unknown...)


FAILING = (FlowStatus.FAILED, FlowStatus.AMBIGUOUS, FlowStatus.ERROR)


@dataclass(frozen=True)
class DataflowCheck:
    desired: DesiredDataflow
    status: FlowStatus
    reason: str = ""  # why it is not ok (outside text in it: escape to show)
    flow: RemoteFlow | None = None  # its name and state are outside text too
    last_run: FlowRun | None = None

    @property
    def key(self) -> SandboxKey:
        return (self.desired.org, self.desired.sandbox)


_DURATION = re.compile(r"([1-9][0-9]{0,5})([mhdw])")
_UNIT = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
SINCE_HELP = (
    "a duration back from now (30m, 24h, 7d, 2w) or an RFC 3339 time with its offset "
    "(2026-12-01T00:00:00Z)"
)


def window_start(text: str, now_s: float) -> int:
    """`--since` as epoch milliseconds: a duration back from `now_s`, or an RFC 3339 time."""
    found = _DURATION.fullmatch(text.strip())
    if found is not None:
        delta = timedelta(**{_UNIT[found[2]]: int(found[1])})
        return int((now_s - delta.total_seconds()) * 1000)
    try:
        when = datetime.fromisoformat(text.strip().replace("z", "Z"))
    except ValueError:
        when = None
    if when is None or "T" not in text.upper():
        raise UsageError(f"--since {text!r}: give {SINCE_HELP}")
    if when.tzinfo is None:
        raise UsageError(
            f"--since {text!r}: the time has no offset; add Z for UTC or one like +02:00 "
            f"(e.g. {text.strip()}Z)"
        )
    if when.timestamp() > now_s:
        raise UsageError(f"--since {text!r} is in the future; give a time already past")
    return int(when.timestamp() * 1000)


def rfc3339(ms: int) -> str:
    """Epoch milliseconds as RFC 3339 UTC; a time the API sent out of any calendar's range
    is shown as the number it is."""
    try:
        return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, OSError, ValueError):
        return f"{ms} ms"


def last_runs(runs: Sequence[FlowRun], since_ms: int | None) -> dict[str, FlowRun]:
    """The latest run of each flow that started inside the window (by start, then id)."""
    latest: dict[str, FlowRun] = {}
    for run in runs:
        started = run.started_at if run.started_at is not None else -1
        if since_ms is not None and started < since_ms:
            continue  # the API filters too; a run it lets through is still outside
        held = latest.get(run.flow_id)
        if held is None or (started, run.id) > (held.started_at or -1, held.id):
            latest[run.flow_id] = run
    return latest


def judged(
    check: DataflowCheck, runs: Mapping[str, FlowRun], since_ms: int | None
) -> DataflowCheck:
    """A found flow's check from its last run in the window."""
    if check.flow is None:
        return check
    run = runs.get(check.flow.id)
    if run is None:
        when = f"since {rfc3339(since_ms)}" if since_ms is not None else "yet"
        return DataflowCheck(check.desired, FlowStatus.NO_RUN, f"no run {when}", check.flow)
    failed = (run.status or "").lower() == "failed"
    status = FlowStatus.FAILED if failed else FlowStatus.OK
    return DataflowCheck(check.desired, status, "", check.flow, run)


def found_flow(planned: PlannedDataflow) -> DataflowCheck:
    """What the plan found for a dataflow: its flow (status OK until its runs are read), or
    why there is none to read."""
    desired = planned.desired
    if planned.action is Action.UNKNOWN:
        return DataflowCheck(desired, FlowStatus.ERROR, planned.reason or "it could not be planned")
    if planned.action is Action.AMBIGUOUS:
        ids = ", ".join(flow.id for flow in planned.matches)
        reason = f"{len(planned.matches)} flows answer to it ({ids})"
        return DataflowCheck(desired, FlowStatus.AMBIGUOUS, reason)
    if planned.chain is None:
        return DataflowCheck(desired, FlowStatus.MISSING, "not created yet; apply creates it")
    return DataflowCheck(desired, FlowStatus.OK, "", planned.chain.flow)


def verify_dataflows(
    client: FlowService,
    plan: Plan,
    *,
    since_ms: int | None,
    parallelism: int,
) -> tuple[DataflowCheck, ...]:
    """One check per dataflow the plan holds (each declared one), in manifest order."""
    checks = [found_flow(planned) for planned in plan.dataflows]
    flow_ids: dict[SandboxKey, list[str]] = {}
    for check in checks:
        if check.flow is not None:
            flow_ids.setdefault(check.key, []).append(check.flow.id)

    def read(key: SandboxKey) -> dict[str, FlowRun] | str:
        try:
            return last_runs(client.list_runs(*key, flow_ids[key], since_ms=since_ms), since_ms)
        except ApiError as error:
            return redact.scrub(str(error))

    keys = list(flow_ids)
    with ThreadPoolExecutor(max_workers=max(1, min(parallelism, len(keys) or 1))) as pool:
        answers = dict(zip(keys, pool.map(read, keys), strict=True))
    return tuple(_with_runs(check, answers, since_ms) for check in checks)


def _with_runs(
    check: DataflowCheck,
    answers: Mapping[SandboxKey, dict[str, FlowRun] | str],
    since_ms: int | None,
) -> DataflowCheck:
    if check.flow is None:
        return check
    answer = answers[check.key]
    if isinstance(answer, str):
        return replace(check, status=FlowStatus.ERROR, reason=f"cannot list runs: {answer}")
    return judged(check, answer, since_ms)
