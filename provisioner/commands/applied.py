"""What apply prints at the end: the problems that make it exit 1, and the per-sandbox tally.

Shown under -q too: a run that exits 1 must say why. Every line names the connection and
its sandbox.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from provisioner.apply import ApplyResult, Status
from provisioner.modify import ChangeOutcome
from provisioner.plan import Action, Plan


def plan_problems(plan: Plan, out: TextIO) -> None:
    for state in plan.sandboxes:
        if state.error:
            out.write(f"  ? {state.sandbox}: cannot list connections: {state.error}\n")
    for planned in plan.connections:
        where = f"{planned.desired.name} ({planned.desired.sandbox})"
        if planned.action is Action.AMBIGUOUS:
            ids = ", ".join(r.id for r in planned.remote)
            out.write(
                f"  ! {where}: {len(planned.remote)} connections share this name ({ids}); "
                "nothing is done for it until only one remains\n"
            )
        elif planned.action is Action.REPLACE:
            out.write(f"  ! {where}: {planned.reason}\n")


def summarise(
    result: ApplyResult,
    changes: Sequence[ChangeOutcome],
    plan_errors: bool,
    out: TextIO,
    *,
    interrupted: bool = False,
) -> None:
    rows = [
        (o.planned.desired.sandbox, o.planned.desired.name, o.status, o.message)
        for o in result.outcomes
    ]
    rows += [(c.sandbox, c.name, c.status, c.message) for c in changes]
    by_sandbox: dict[str, dict[Status, int]] = {}
    for sandbox, _, status, _ in rows:
        counts = by_sandbox.setdefault(sandbox, {})
        counts[status] = counts.get(status, 0) + 1
    for sandbox, name, status, message in rows:
        if status in (Status.FAILED, Status.IN_USE):
            out.write(f"  ! {name} ({sandbox}): {message}\n")
    for sandbox, counts in by_sandbox.items():
        parts = [f"{counts[s]} {s.value}" for s in Status if counts.get(s)]
        out.write(f"  {sandbox}: {', '.join(parts)}\n")
    total = {s: sum(1 for row in rows if row[2] is s) for s in Status}
    ended = "interrupted" if interrupted or result.interrupted else "complete"
    line = f"Apply {ended}: {total[Status.CREATED]} created"
    if total[Status.YIELDED]:
        line += (
            f", {total[Status.YIELDED]} found made already (a concurrent run or an unclear "
            "response)"
        )
    for status in (Status.UPDATED, Status.ROTATED, Status.CURRENT, Status.DELETED, Status.IN_USE):
        line += f", {total[status]} {status.value}" if total[status] else ""
    line += f", {total[Status.FAILED]} failed" if total[Status.FAILED] else ""
    line += f", {total[Status.SKIPPED]} not started" if total[Status.SKIPPED] else ""
    trouble = total[Status.FAILED] or total[Status.IN_USE] or plan_errors
    line += "; re-run apply to converge (it never duplicates)." if trouble else "."
    out.write(line + "\n")


def failed(result: ApplyResult, changes: Sequence[ChangeOutcome]) -> bool:
    return bool(result.count(Status.FAILED)) or any(
        c.status in (Status.FAILED, Status.IN_USE) for c in changes
    )
