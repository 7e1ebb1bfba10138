"""`apply --verify`: test, through the Flow Service, every connection the run wrote.

A create, an update (a new server or port) and a rotated secret can each break a working
connection, so each is tested. A run with nothing to change tests what the manifests
declare in the selection instead: a re-run must not say all is well while a connection it
could have tested stays broken. A failure names the connection and its manifest line and
leaves it in place (deleting it would hide the problem and lose its id).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from provisioner import escape
from provisioner.apply.change import ChangeOutcome
from provisioner.apply.create import ApplyResult, Status
from provisioner.commands.session import RemoteOptions
from provisioner.plan.make import Plan
from provisioner.remote.service import FlowService
from provisioner.verify.checks import Check, Verification, test_all, verify_remote
from provisioner.verify.checks import Status as VerifyStatus

_FIX = (
    "fix the database, or fix the secret and re-send it with `provision apply "
    "--rotate-secrets`; then `provision verify`"
)
_STAYS = {
    Status.CREATED: "it stays created (never deleted)",
    Status.UPDATED: "the update stays (never reverted)",
    Status.ROTATED: "the new secret stays (never reverted)",
}
_WRITTEN = {Status.CREATED: "created", Status.UPDATED: "updated", Status.ROTATED: "rotated"}


def verify_written(
    client: FlowService,
    plan: Plan,
    result: ApplyResult,
    changes: Sequence[ChangeOutcome],
    options: RemoteOptions,
    out: TextIO,
) -> bool:
    """Test what this run created, updated or rotated; True when each one works."""
    written = [
        (o.planned.desired, o.connection_id, Status.CREATED)
        for o in result.outcomes
        if o.status is Status.CREATED and o.connection_id
    ]
    # apply_changes answers the patches first, in the plan's order.
    for planned, change in zip(plan.patches, changes, strict=False):
        if change.status in (Status.UPDATED, Status.ROTATED):
            written.append((planned.desired, change.connection_id, change.status))
    if not written:
        out.write("Nothing was written, so nothing to verify.\n")
        return True
    kinds = {status: sum(1 for *_, s in written if s is status) for status in _WRITTEN}
    if set(s for *_, s in written) == {Status.CREATED}:
        out.write(f"Verifying the {len(written)} connection(s) created...\n")
    else:
        parts = ", ".join(f"{n} {_WRITTEN[s]}" for s, n in kinds.items() if n)
        out.write(f"Verifying the {len(written)} connection(s) written ({parts})...\n")
    pairs = [(desired, remote_id) for desired, remote_id, _ in written]
    checks = test_all(client, pairs, explore=False, parallelism=options.parallelism)
    stays = [_STAYS[status] for *_, status in written]
    return _report(Verification("api", tuple(checks)), stays, out)


def verify_declared(client: FlowService, plan: Plan, options: RemoteOptions, out: TextIO) -> bool:
    """Nothing changed: test every connection the selection declares that exists."""
    out.write(
        f"Nothing to change; verifying the {len(plan.connections)} connection(s) the manifests "
        "declare...\n"
    )
    verification = verify_remote(client, plan, explore=False, parallelism=options.parallelism)
    stays = ["it stays as it is"] * len(verification.checks)
    return _report(verification, stays, out)


def _report(verification: Verification, stays: Sequence[str], out: TextIO) -> bool:
    for check, stay in zip(verification.checks, stays, strict=True):
        if check.status not in (VerifyStatus.OK, VerifyStatus.MISSING):
            out.write(_failure(check, stay))
    out.write(verification.summary() + "\n")
    return verification.passed


def _failure(check: Check, stays: str) -> str:
    c = check.desired
    problem = (
        f"  ! {c.name} ({c.sandbox}): {check.status.value}: {check.reason} "
        f"({c.source.file}:{c.source.line}); {stays}: {_FIX}"
    )
    return escape.line(problem) + "\n"  # remote names and reasons are data
