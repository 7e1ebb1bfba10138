from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TextIO

from provisioner import planfile
from provisioner.apply import ApplyResult, Status, apply_plan, settle_ambiguous
from provisioner.client import FlowServiceClient
from provisioner.commands import load_with_identities
from provisioner.commands.remote import RemoteOptions, connect, plan_for
from provisioner.errors import PlanFileError, ProvisionError, UsageError
from provisioner.payloads import render_payload
from provisioner.plan import Action, Plan
from provisioner.progress import Progress
from provisioner.report.jsonplan import desired_digest
from provisioner.report.text import write_text
from provisioner.secrets import SecretResolver
from provisioner.select import Selection


def run(
    paths: Sequence[str],
    selection: Selection,
    secrets_dirs: Sequence[Path],
    *,
    plan_file: Path | None,
    auto_approve: bool,
    options: RemoteOptions,
    environ: Mapping[str, str],
    colour: bool,
    quiet: bool,
    interactive: bool,
    confirm: Callable[[str], str] = input,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    # Looked up per call, not bound at import: main() may run under another sys.stdout.
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    saved = None
    if plan_file is not None:
        if paths or selection.sandboxes or selection.connections:
            raise UsageError(
                "give either manifest paths or --plan FILE, not both: a saved "
                "plan already names its manifests and selection"
            )
        saved = planfile.read(plan_file)
        paths, selection = saved.paths, saved.selection
    elif not paths:
        raise UsageError("give the manifests to apply (PATH...) or a saved plan (--plan FILE)")
    elif not auto_approve and not interactive:
        raise UsageError(
            "not running on a terminal: pass --auto-approve, or apply a reviewed "
            "plan with --plan FILE"
        )

    desired, managed = load_with_identities(paths, selection, secrets_dirs)
    with connect(environ, options) as client:
        plan = plan_for(client, desired, options.parallelism, managed)
        if saved is not None:
            reasons = planfile.staleness(saved, desired_digest(desired), plan)
            if reasons:
                raise PlanFileError(
                    f"{saved.path}: the plan is stale, nothing was changed; plan again:\n"
                    + "\n".join(f"  {reason}" for reason in reasons)
                )
        if not quiet:
            write_text(plan, out, colour=colour)
        if not plan.creates:
            plan = _settle(client, plan, options, out)
            _plan_problems(plan, out)
            out.write("Nothing to create.\n")
            return 1 if plan.has_errors else 0
        if saved is None and not auto_approve:
            answer = confirm(f"Create {len(plan.creates)} connection(s)? Type 'yes' to go on: ")
            if answer.strip().lower() != "yes":
                out.write("Cancelled; nothing was changed.\n")
                return 1
        # Every secret before the first write: a missing one must not leave half a rollout.
        resolver = SecretResolver(environ, secrets_dirs)
        values = resolver.resolve_all(ref for p in plan.creates for ref in p.desired.secrets)
        # Rendered before the first write too: a secret the payload cannot carry (a control
        # character in an ODBC password) must not stop a rollout half way.
        payloads, problems = {}, []
        for planned in plan.creates:
            try:
                payloads[id(planned.desired)] = render_payload(planned.desired, values.__getitem__)
            except ProvisionError as error:
                problems.append(str(error))
        if problems:
            raise ProvisionError(
                f"{len(problems)} payload(s) cannot be built; nothing was changed:\n"
                + "\n".join(problems)
            )
        if not quiet:  # -q: only errors
            err.write(
                f"Creating {len(plan.creates)} connection(s), {options.parallelism} at a time...\n"
            )
        progress = Progress(err, live=err.isatty(), quiet=quiet)
        result = apply_plan(
            plan,
            client,
            lambda c: payloads[id(c)],
            parallelism=options.parallelism,
            progress=progress,
        )
        plan = _settle(client, plan, options, out)
    _plan_problems(plan, out)
    _summarise(result, plan.has_errors, out)
    if result.interrupted:
        return 130
    return 1 if result.count(Status.FAILED) or plan.has_errors else 0


def _settle(client: FlowServiceClient, plan: Plan, options: RemoteOptions, out: TextIO) -> Plan:
    settled = settle_ambiguous(client, plan, parallelism=options.parallelism)
    for before, after in zip(plan.connections, settled.connections, strict=True):
        if before.action is Action.AMBIGUOUS and after.action is not Action.AMBIGUOUS:
            out.write(
                f"  {after.desired.name} ({after.desired.sandbox}): now a single connection "
                f"({after.remote[0].id}); the duplicates were a concurrent apply's race, "
                "since settled\n"
            )
    return settled


def _plan_problems(plan: Plan, out: TextIO) -> None:
    # Repeated at the end, and shown under -q: a run that exits 1 must say why.
    for state in plan.sandboxes:
        if state.error:
            out.write(f"  ? {state.sandbox}: cannot list connections: {state.error}\n")
    for planned in plan.connections:
        if planned.action is Action.AMBIGUOUS:
            ids = ", ".join(r.id for r in planned.remote)
            out.write(
                f"  ! {planned.desired.name} ({planned.desired.sandbox}): "
                f"{len(planned.remote)} connections share this name ({ids}); nothing is done "
                "for it until only one remains\n"
            )


def _summarise(result: ApplyResult, plan_errors: bool, out: TextIO) -> None:
    by_sandbox: dict[str, dict[Status, int]] = {}
    for outcome in result.outcomes:
        counts = by_sandbox.setdefault(outcome.planned.desired.sandbox, {})
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
    for outcome in result.outcomes:
        if outcome.status is Status.FAILED:
            out.write(
                f"  ! {outcome.planned.desired.name} ({outcome.planned.desired.sandbox}): "
                f"{outcome.message}\n"
            )
    for sandbox, counts in by_sandbox.items():
        parts = [f"{counts[s]} {s.value}" for s in Status if counts.get(s)]
        out.write(f"  {sandbox}: {', '.join(parts)}\n")
    created, failed = result.count(Status.CREATED), result.count(Status.FAILED)
    skipped = result.count(Status.SKIPPED)
    yielded = result.count(Status.YIELDED)
    line = f"Apply {'interrupted' if result.interrupted else 'complete'}: {created} created"
    line += (
        f", {yielded} found made already (a concurrent run or an unclear response)"
        if yielded
        else ""
    )
    line += f", {failed} failed" if failed else ""
    line += f", {skipped} not started" if skipped else ""
    line += (
        "." if not (failed or plan_errors) else "; re-run apply to converge (it never duplicates)."
    )
    out.write(line + "\n")
