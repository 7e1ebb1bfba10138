from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO

from provisioner.commands import load_manifests, warn_promises
from provisioner.commands.session import RemoteOptions, open_session, unclaimed_prune
from provisioner.escape import json_text, line
from provisioner.manifests.selection import Selection
from provisioner.plan import planfile
from provisioner.plan.make import CREATE_ONLY, PlanOptions
from provisioner.plan.planfile import desired_digest
from provisioner.redact import scrub
from provisioner.remote.client.notices import Notices
from provisioner.report.jsonplan import plan_document
from provisioner.report.markdown import render_markdown
from provisioner.report.text import write_text


def run(
    paths: Sequence[str],
    selection: Selection,
    secrets_dirs: Sequence[Path],
    *,
    output_format: str,
    out_file: Path | None,
    detailed_exitcode: bool,
    options: RemoteOptions,
    environ: Mapping[str, str],
    colour: bool,
    verbose: bool,
    lifecycle: PlanOptions = CREATE_ONLY,
    quiet: bool = False,
    out: TextIO | None = None,
) -> int:
    # Looked up per call, not bound at import: main() may run under another sys.stdout.
    out = sys.stdout if out is None else out
    manifests = load_manifests(paths, selection, secrets_dirs, prune=lifecycle.prune)
    desired = manifests.desired
    note = unclaimed_prune(manifests, lifecycle)
    if note and not quiet:
        sys.stderr.write(note + "\n")
    if verbose and not quiet:  # validate says it every time; plan only when asked for more
        warn_promises(desired, sys.stderr)
    notices = None if quiet else Notices(lambda line: print(line, file=sys.stderr, flush=True))
    with open_session(environ, options, notices) as session:
        plan = session.plan(manifests, lifecycle, selection.connections)
    if out_file is not None or output_format == "json":
        # Only these need the masked payloads; the text and markdown views do not.
        digest = desired_digest(desired, manifests.dataflows)
        document = plan_document(plan, paths=paths, selection=selection, digest=digest)
        if out_file is not None:
            planfile.write(out_file, document)
        if output_format == "json":
            out.write(json_text(document) + "\n")
    if output_format == "markdown":
        hint = f"the full plan in {out_file}" if out_file else "`provision plan --format json`"
        out.write(render_markdown(plan, full_plan_hint=hint))
    elif output_format == "text":
        write_text(plan, out, colour=colour, verbose=verbose)
        if out_file is not None:
            out.write(
                f"Saved the plan to {out_file}; apply it with "
                f"`provision apply --plan {out_file}`.\n"
            )
    # An org whose credential was refused (the others were planned): one line each, on
    # stderr, beside any format.
    for problem in plan.refused.values():
        sys.stderr.write("".join(f"error: {line(text)}\n" for text in scrub(problem).splitlines()))
    if plan.has_errors or plan.refused:
        return 1
    return 2 if detailed_exitcode and plan.has_changes else 0
