from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from provisioner.commands import load_desired, load_selected, warn_promises
from provisioner.errors import ManifestError
from provisioner.escape import json_text
from provisioner.manifests.selection import Selection


def run(
    paths: Sequence[str],
    selection: Selection,
    secrets_dirs: Sequence[Path],
    out: TextIO,
    *,
    quiet: bool = False,
    output_format: str = "text",
    err: TextIO | None = None,
    verbose: bool = False,
) -> int:
    """`quiet`: print nothing when the manifests are valid (the errors still). With
    `output_format` json, diagnostics go to `out` as one document (report/jsonvalidate.py)."""
    if output_format == "json":
        from provisioner.report.jsonvalidate import validate_document

        try:
            document = validate_document(load_desired(paths, selection, secrets_dirs))
        except ManifestError as error:
            document = validate_document([], error.diagnostics)
        out.write(json_text(document) + "\n")
        return 0 if document["valid"] else 1
    desired, dataflows = load_selected(paths, selection, secrets_dirs)
    if quiet:
        return 0
    if verbose:  # asked for: AWS's default verify-full would warn on every run
        warn_promises(desired, sys.stderr if err is None else err)
    files = sorted({c.source.file for c in desired})
    sandboxes = sorted({(c.org, c.sandbox) for c in desired})
    for file in files:
        in_file = [c for c in desired if c.source.file == file]
        names = ", ".join(sorted({c.sandbox for c in in_file}))
        out.write(f"{file}: {len(in_file)} connection(s) in {names}\n")
    if dataflows:  # a line of its own before the last: scripts read that one as before
        connections = {(d.org, d.sandbox, d.connection) for d in dataflows}
        out.write(
            f"Dataflows: {len(dataflows)} on {len(connections)} connection(s) in "
            f"{len({(d.org, d.sandbox) for d in dataflows})} sandbox(es).\n"
        )
    out.write(
        f"Valid: {len(desired)} connection(s) in {len(sandboxes)} sandbox(es) "
        f"from {len(files)} file(s).\n"
    )
    return 0
