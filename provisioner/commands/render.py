from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from provisioner import connectors
from provisioner.commands import load_desired
from provisioner.errors import UsageError
from provisioner.escape import json_text
from provisioner.manifests.secrets import SecretResolver
from provisioner.manifests.selection import Selection
from provisioner.redact import SENSITIVE


def running_in_ci(environ: Mapping[str, str]) -> bool:
    return environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def run(
    paths: Sequence[str],
    selection: Selection,
    secrets_dirs: Sequence[Path],
    show_secrets: bool,
    out: TextIO,
    environ: Mapping[str, str] = os.environ,
) -> int:
    if show_secrets and running_in_ci(environ):
        raise UsageError(
            "--show-secrets is refused when CI is set: pipeline logs are kept and shared; "
            "run it on your own machine"
        )
    desired = load_desired(paths, selection, secrets_dirs)
    if show_secrets:
        values = SecretResolver(environ, secrets_dirs).resolve_all(
            (ref for connection in desired for ref in connection.secrets),
            outcome="nothing was rendered",
        )
        lookup = values.__getitem__
    else:
        lookup = lambda ref: SENSITIVE  # noqa: E731 - the masked view needs no secret at all
    rendered: list[dict[str, Any]] = [
        {
            "org": c.org,
            "sandbox": c.sandbox,
            "cloud": c.cloud,
            "name": c.name,
            "source": str(c.source),
            "payload": connectors.render_payload(c, lookup),
        }
        for c in desired
    ]
    out.write(json_text(rendered) + "\n")
    return 0
