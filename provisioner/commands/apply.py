from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TextIO

from provisioner import escape
from provisioner.apply.breaker import Breaker
from provisioner.apply.change import not_started
from provisioner.apply.create import ApplyResult, Outcome, Status, apply_plan, settle_ambiguous
from provisioner.apply.dataflows import not_started as dataflows_not_started
from provisioner.apply.flow_state import Waiting
from provisioner.apply.progress import Progress
from provisioner.commands import load_manifests
from provisioner.commands.apply_stages import (
    REAL_TIME,
    after_creates,
    at_once,
    count_of,
    prepare,
    question,
    writes_after_creates,
)
from provisioner.commands.apply_verify import verify_declared, verify_written
from provisioner.commands.session import RemoteOptions, open_session, unclaimed_prune
from provisioner.errors import PlanFileError, UsageError
from provisioner.manifests.selection import Selection
from provisioner.plan import planfile
from provisioner.plan.make import DEFAULT_LIFECYCLE, Action, Plan, PlanOptions
from provisioner.plan.planfile import desired_digest
from provisioner.redact import scrub
from provisioner.remote.client.notices import Notices
from provisioner.remote.service import FlowService
from provisioner.report.apply_summary import failed, plan_problems, summarise
from provisioner.report.jsonapply import Applied, apply_document
from provisioner.report.text import write_text

# 128 + SIGINT; cli/main.py makes it 143 when the signal was SIGTERM.
EXIT_INTERRUPTED = 130


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
    lifecycle: PlanOptions | None = None,
    verify: bool = False,
    confirm: Callable[[str], str] = input,
    out: TextIO | None = None,
    err: TextIO | None = None,
    output_format: str = "text",
    applied: Applied | None = None,
    waiting: Waiting = REAL_TIME,
) -> int:
    """`lifecycle`: what may change besides creates (None: the command line's default,
    updates on); a saved plan brings its own. `applied` is filled with what was done.
    `waiting`: the clock dataflow starts and state polls use (tests inject their own)."""
    # Looked up per call, not bound at import: main() may run under another sys.stdout.
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    if output_format == "json":
        if plan_file is None and not auto_approve:
            raise UsageError(
                "--format json needs --auto-approve or --plan FILE: a question would mix "
                "with the JSON"
            )
        # The lines people read go to stderr; stdout holds the one JSON document.
        applied = Applied()
        code = run(
            paths,
            selection,
            secrets_dirs,
            plan_file=plan_file,
            auto_approve=auto_approve,
            options=options,
            environ=environ,
            colour=False,
            quiet=quiet,
            interactive=False,
            lifecycle=lifecycle,
            verify=verify,
            out=err,
            err=err,
            applied=applied,
            waiting=waiting,
        )
        out.write(escape.json_text(apply_document(applied, code)) + "\n")
        return code
    applied = Applied() if applied is None else applied
    saved = None
    if plan_file is not None:
        if paths or selection.sandboxes or selection.connections:
            raise UsageError(
                "give either manifest paths or --plan FILE, not both: a saved "
                "plan already names its manifests and selection"
            )
        if lifecycle is not None:
            raise UsageError(
                "--no-update, --rotate-secrets, --prune and --replace-dataflows cannot be given "
                "with --plan FILE: the saved plan already says what it changes; plan again with "
                "them instead"
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
    chosen = saved.options if saved else (lifecycle or DEFAULT_LIFECYCLE)

    manifests = load_manifests(paths, selection, secrets_dirs, prune=chosen.prune)
    desired = manifests.desired
    note = unclaimed_prune(manifests, chosen)
    if note and not quiet:
        err.write(note + "\n")
    # What a slow run waits for (IMS down, a long listing), on stderr; nothing under -q.
    notices = None if quiet else Notices(lambda line: print(line, file=err, flush=True))
    with open_session(environ, options, notices) as session:
        client = session.client
        plan = session.plan(manifests, chosen, selection.connections)
        refused = plan.refused  # orgs left alone: their credential was refused
        applied.plan, applied.refused = plan, refused
        if saved is not None:
            reasons = planfile.staleness(saved, desired_digest(desired, manifests.dataflows), plan)
            if reasons:
                raise PlanFileError(
                    f"{saved.path}: the plan is stale, nothing was changed; plan again:\n"
                    + "\n".join(f"  {reason}" for reason in reasons)
                )
        if not quiet:
            write_text(plan, out, colour=colour)
        if not plan.has_changes:
            plan = applied.plan = _settle(client, plan, options, out)
            plan_problems(plan, out, refused)
            if plan.has_errors or refused:
                # Not "nothing to change": what failed above may well need changes.
                out.write("Nothing was applied: fix the problems above, then re-run apply.\n")
                return 1
            if not verify:
                out.write("Nothing to change.\n")
                return 0
            return 0 if verify_declared(client, plan, options, out) else 1
        if saved is None and not auto_approve:
            answer = confirm(f"{question(plan)}? Type 'yes' to go on: ")
            if answer.strip().lower() != "yes":
                out.write("Cancelled; nothing was changed.\n")
                return 1
        payload_for, ops_for = prepare(plan, environ, secrets_dirs)
        if not quiet and plan.creates:  # -q: only errors
            n = len(plan.creates)
            err.write(f"Creating {count_of(n)}{at_once(n, options.parallelism)}...\n")
        pacer = client.pacer
        rate = pacer.describe if pacer is not None else None
        progress = Progress(err, live=err.isatty(), quiet=quiet, rate=rate)
        if notices is not None:
            notices.write = progress.note  # erases the live line first, draws it again
        # An outage is said once, not once per connection (apply/breaker.py).
        breaker = Breaker(lambda org, text: progress.note(scrub(text)))
        result = ApplyResult(tuple(_never_started(plan)), interrupted=True)
        changes = not_started(plan.patches, plan.deletions)
        flows = dataflows_not_started(plan.dataflows, plan.chain_deletions)
        interrupted = True
        try:
            result = apply_plan(
                plan,
                client,
                payload_for,
                parallelism=options.parallelism,
                progress=progress,
                breaker=breaker,
            )
            # Interrupted during the creates: the patches and deletes are not started.
            interrupted = result.interrupted
            if not interrupted and (plan.patches or plan.deletions or flows):
                if not quiet:
                    n = writes_after_creates(plan)
                    progress.note(
                        f"{question(plan, creates=False)}{at_once(n, options.parallelism)}..."
                    )
                changes, flows, interrupted = after_creates(
                    client,
                    plan,
                    result,
                    ops_for,
                    options=chosen,
                    parallelism=options.parallelism,
                    progress=progress,
                    breaker=breaker,
                    waiting=waiting,
                )
            if not interrupted:
                plan = applied.plan = _settle(client, plan, options, out)
        except KeyboardInterrupt:
            # Between the stages (apply_plan and apply_changes account for their own): what
            # is known so far is summarised, the rest as not started.
            interrupted = True
        progress.close()  # the summary starts on a line of its own
        applied.result, applied.changes, applied.interrupted = result, changes, interrupted
        applied.dataflows = flows
        try:
            plan_problems(plan, out, refused)
            summarise(
                result,
                changes,
                plan.has_errors,
                out,
                interrupted=interrupted,
                plan=plan,
                refused=refused,
                stopped=breaker.opened,
                dataflows=flows,
            )
            _throttling(client, err, quiet)
        except KeyboardInterrupt:  # a second signal while the summary is written
            err.write(
                "provision: stopped while writing the summary; re-run apply to see where "
                "things stand and converge (it never duplicates)\n"
            )
            return EXIT_INTERRUPTED

        if interrupted:
            return EXIT_INTERRUPTED
        works = verify_written(client, plan, result, changes, options, out) if verify else True
    return 1 if failed(result, changes, flows) or plan.has_errors or refused or not works else 0


def _never_started(plan: Plan) -> list[Outcome]:
    return [Outcome(planned, Status.SKIPPED) for planned in plan.creates]


def _settle(client: FlowService, plan: Plan, options: RemoteOptions, out: TextIO) -> Plan:
    settled = settle_ambiguous(client, plan, parallelism=options.parallelism)
    for before, after in zip(plan.connections, settled.connections, strict=True):
        if before.action is Action.AMBIGUOUS and after.action is not Action.AMBIGUOUS:
            settled_line = (
                f"  {after.desired.name} ({after.desired.sandbox}): now a single connection "
                f"({after.remote[0].id}); the duplicates were a concurrent apply's race, "
                "since settled"
            )
            out.write(escape.line(settled_line) + "\n")
    return settled


def _throttling(client: FlowService, err: TextIO, quiet: bool) -> None:
    pacer = client.pacer
    if quiet or pacer is None or not pacer.throttled:
        return
    # Worth knowing in a pipeline: a slower run was the API's limit, not the network.
    many, lowest = pacer.throttled != 1, round(pacer.lowest or 0)
    err.write(
        f"The API throttled {pacer.throttled} request{'s' if many else ''} (429, "
        f"{'each' if many else 'it was'} sent again); the pace went down to {lowest} "
        f"request{'s' if lowest != 1 else ''}/s at the lowest.\n"
    )
