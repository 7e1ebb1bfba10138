"""What apply prints at the end: the problems that make it exit 1, and the per-sandbox tally.

Shown under -q too: a run that exits 1 must say why. Every line names the connection and
its sandbox. Names and API messages are someone else's text: each line goes through
`escape.line`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TextIO

from provisioner import escape
from provisioner.apply.chain_result import DataflowOutcome, DataflowStatus
from provisioner.apply.change import ChangeOutcome
from provisioner.apply.create import ApplyResult, Status
from provisioner.plan.make import PROBLEMS, Action, Plan
from provisioner.redact import scrub


def plan_problems(plan: Plan, out: TextIO, refused: Mapping[str, str] | None = None) -> None:
    # An org whose credential was refused: its one line, not one per sandbox.
    for problem in (refused or {}).values():
        out.write("".join(f"  ? {escape.line(line)}\n" for line in scrub(problem).splitlines()))
    for state in plan.sandboxes:
        if state.error and state.org not in (refused or {}):
            out.write(
                escape.line(f"  ? {state.sandbox}: cannot list connections: {state.error}") + "\n"
            )
    for planned in plan.connections:
        where = f"{planned.desired.name} ({planned.desired.sandbox})"
        if planned.action is Action.AMBIGUOUS:
            ids = ", ".join(r.id for r in planned.remote)
            out.write(
                escape.line(
                    f"  ! {where}: {len(planned.remote)} connections share this name ({ids}); "
                    "nothing is done for it until only one remains"
                )
                + "\n"
            )
        elif planned.action is Action.REPLACE:
            out.write(escape.line(f"  ! {where}: {planned.reason}") + "\n")
    for flow in plan.dataflows:
        if flow.action in PROBLEMS:
            d = flow.desired
            line = f"  ! dataflow {escape.quoted(d.name)} ({d.sandbox}): {flow.reason}"
            out.write(escape.line(line) + "\n")


def summarise(
    result: ApplyResult,
    changes: Sequence[ChangeOutcome],
    plan_errors: bool,
    out: TextIO,
    *,
    interrupted: bool = False,
    plan: Plan | None = None,
    refused: Mapping[str, str] | None = None,
    stopped: Mapping[str, str] | None = None,
    dataflows: Sequence[DataflowOutcome] = (),
) -> None:
    """`plan` says which org each change is in; with several orgs the tally is grouped by
    org, and an org in `refused` (its credential was refused) says nothing was done there.
    `stopped`: the orgs where writes stopped because the API kept failing, and why."""
    refused, stopped = refused or {}, stopped or {}
    org_of = _orgs_by_connection_id(plan)
    rows = [
        (o.planned.key, o.planned.desired.name, o.status, o.message, o.cause)
        for o in result.outcomes
    ]
    fallback = plan.sandboxes[0].org if plan and plan.sandboxes else ""
    rows += [
        ((org_of.get(c.connection_id, fallback), c.sandbox), c.name, c.status, c.message, c.cause)
        for c in changes
    ]
    by_sandbox: dict[tuple[str, str], dict[Status, int]] = {}
    for key, _, status, _, _ in rows:
        counts = by_sandbox.setdefault(key, {})
        counts[status] = counts.get(status, 0) + 1
    _failures(rows, out)
    dataflow_failures(dataflows, out)
    for org, why in stopped.items():
        left = sum(1 for (o, _), _, s, _, _ in rows if o == org and s is Status.SKIPPED)
        stop = f"  ! org {org}: stopped writing there after {why}; {left} not started"
        out.write(escape.line(stop) + "\n")
    orgs = list(dict.fromkeys([*(org for org, _ in by_sandbox), *refused]))
    several = len(orgs) > 1
    for org in orgs:
        if several:
            state = " credential refused, nothing done" if org in refused else ""
            out.write(f"  org {org}:{state}\n")
        for (in_org, sandbox), counts in by_sandbox.items():
            if in_org == org:
                parts = [_tally(counts[s], s) for s in Status if counts.get(s)]
                out.write(f"{'    ' if several else '  '}{sandbox}: {', '.join(parts)}\n")
    dataflow_tally(dataflows, out)
    total = {s: sum(1 for row in rows if row[2] is s) for s in Status}
    ended = "complete"
    if interrupted or result.interrupted:
        ended = "interrupted"
    elif stopped:
        ended = "stopped early (the API kept failing)"
    line = f"Apply {ended}: {total[Status.CREATED]} created"
    if total[Status.YIELDED]:
        line += (
            f", {total[Status.YIELDED]} found made already (a concurrent run or an unclear "
            "response)"
        )
    for status in (Status.UPDATED, Status.ROTATED, Status.CURRENT, Status.DELETED, Status.IN_USE):
        line += f", {_tally(total[status], status)}" if total[status] else ""
    line += f", {total[Status.FAILED]} failed" if total[Status.FAILED] else ""
    for status in (Status.SKIPPED, Status.IN_FLIGHT):
        line += f", {total[status]} {status.value}" if total[status] else ""
    # Something left to do (failed, not started, unknown): the next run finishes it.
    trouble = (
        plan_errors
        or stopped
        or any(total[s] for s in (Status.FAILED, Status.IN_USE, Status.SKIPPED, Status.IN_FLIGHT))
        or any(d.status in _UNFINISHED for d in dataflows)
    )
    if refused:
        line += f"; {len(refused)} org(s) not applied: fix the credential named above, "
        line += "then re-run apply."
    else:
        line += "; re-run apply to converge (it never duplicates)." if trouble else "."
    out.write(line + "\n")


Row = tuple[tuple[str, str], str, Status, str | None, str | None]
SHOWN_NAMES = 3


def _failures(rows: Sequence[Row], out: TextIO) -> None:
    """A line per failure, except that a server failure shared by several connections
    (an outage: the same 503 for each) is one line naming its cause and a few of them."""
    grouped: dict[str, list[str]] = {}
    for (_, sandbox), name, status, _, cause in rows:
        if status is Status.FAILED and cause is not None:
            grouped.setdefault(cause, []).append(f"{name} ({sandbox})")
    for (_, sandbox), name, status, message, cause in rows:
        if status in (Status.FAILED, Status.IN_USE) and len(grouped.get(cause or "", ())) < 2:
            out.write(escape.line(f"  ! {name} ({sandbox}): {message}") + "\n")
    for cause, names in grouped.items():
        if len(names) > 1:
            shown = ", ".join(names[:SHOWN_NAMES])
            more = f" and {len(names) - SHOWN_NAMES} more" if len(names) > SHOWN_NAMES else ""
            out.write(escape.line(f"  ! {len(names)} connections: {cause}: {shown}{more}") + "\n")


def _tally(count: int, status: Status) -> str:
    """'2 created', '1 secret rotated', '2 secrets rotated'."""
    if status is Status.ROTATED and count != 1:
        return f"{count} secrets rotated"
    return f"{count} {status.value}"


def _orgs_by_connection_id(plan: Plan | None) -> dict[str, str]:
    # A patch or delete outcome names its sandbox and connection id; the id says the org.
    if plan is None:
        return {}
    found = {r.id: p.desired.org for p in plan.connections for r in p.remote}
    found.update((d.remote.id, d.org) for d in plan.deletions)
    return found


def failed(
    result: ApplyResult, changes: Sequence[ChangeOutcome], dataflows: Sequence[DataflowOutcome] = ()
) -> bool:
    return (
        bool(result.count(Status.FAILED))
        or any(c.status in (Status.FAILED, Status.IN_USE) for c in changes)
        or any(d.status is DataflowStatus.FAILED for d in dataflows)
    )


_UNFINISHED = (DataflowStatus.FAILED, DataflowStatus.SKIPPED)
_DATAFLOW_TALLY = (
    (DataflowStatus.CREATED, "created"),
    (DataflowStatus.YIELDED, "found made already by a concurrent run"),
    (DataflowStatus.UPDATED, "updated"),
    (DataflowStatus.CURRENT, "found up to date"),
    (DataflowStatus.REPLACED, "replaced"),
    (DataflowStatus.DELETED, "deleted"),
    (DataflowStatus.FAILED, "failed"),
    (DataflowStatus.SKIPPED, "not started"),
)
SHOWN_IDS = 10


def dataflow_failures(outcomes: Sequence[DataflowOutcome], out: TextIO) -> None:
    """A line per dataflow that failed or did not start, naming it and its sandbox."""
    for o in outcomes:
        if o.status in _UNFINISHED and o.message:
            what = "dataflow" if o.kind == "dataflow" else "deleting dataflow"
            line = f"  ! {what} {escape.quoted(o.name)} ({o.sandbox}): {scrub(o.message)}"
            out.write(escape.line(line) + "\n")


def dataflow_tally(outcomes: Sequence[DataflowOutcome], out: TextIO) -> None:
    """The mapping sets left behind per sandbox, by id; then what was done to dataflows."""
    if not outcomes:
        return
    left: dict[str, list[str]] = {}
    for o in outcomes:
        left.setdefault(o.sandbox, []).extend(o.left_behind)
    for sandbox, ids in left.items():
        if ids:
            shown = ", ".join(ids[:SHOWN_IDS])
            more = f" and {len(ids) - SHOWN_IDS} more" if len(ids) > SHOWN_IDS else ""
            many = "s" if len(ids) != 1 else ""
            line = (
                f"  {sandbox}: {len(ids)} mapping set{many} left behind, unused (Adobe "
                f"documents no delete for them): {shown}{more}"
            )
            out.write(escape.line(line) + "\n")
    counts = {status: sum(1 for o in outcomes if o.status is status) for status in DataflowStatus}
    parts = [f"{counts[status]} {words}" for status, words in _DATAFLOW_TALLY if counts[status]]
    out.write(f"Dataflows: {', '.join(parts)}.\n")
