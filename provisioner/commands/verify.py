from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from provisioner.commands.session import RemoteOptions
    from provisioner.manifests.selection import Selection


def run(
    paths: Sequence[str],
    selection: Selection,
    secrets_dirs: Sequence[Path],
    *,
    output_format: str,
    direct: bool,
    explore: bool,
    options: RemoteOptions,
    connect_timeout: float,
    ca_file: str | None,
    environ: Mapping[str, str],
    fail_on_missing: bool = False,
    as_platform: bool = False,
    colour: bool,
    quiet: bool = False,
    out: TextIO | None = None,
    since: str | None = None,
    clock: Callable[[], float] = time.time,
) -> int:
    # Imported here: the CLI builds this command's options on every start, and `validate`
    # should not pay for the HTTP client.
    from provisioner.commands import load_manifests
    from provisioner.commands.session import open_session
    from provisioner.escape import json_text
    from provisioner.manifests.secrets import SecretResolver
    from provisioner.remote.client.notices import Notices
    from provisioner.report import verify as report
    from provisioner.verify.checks import Verification, verify_direct, verify_remote
    from provisioner.verify.runs import verify_dataflows, window_start

    # Looked up per call, not bound at import: main() may run under another sys.stdout.
    out = sys.stdout if out is None else out
    if ca_file is not None:
        _check_ca_file(ca_file)
    # Checked before anything is read: a mistyped window is one line, not a run's worth.
    since_ms = None if since is None else window_start(since, clock())
    manifests = load_manifests(paths, selection, secrets_dirs, prune=False)
    desired = manifests.desired
    result: Verification
    if direct:
        # Every secret before the first connection: one list of what is missing, not a
        # trickle of failures that each look like a broken database.
        values = SecretResolver(environ, secrets_dirs).resolve_all(
            (ref for connection in desired for ref in connection.secrets),
            outcome="no database was connected to",
        )
        result = verify_direct(
            desired,
            values.__getitem__,
            parallelism=options.parallelism,
            timeout=connect_timeout,
            explore=explore,
            ca_file=ca_file,
            as_platform=as_platform,
        )
    else:
        notices = None if quiet else Notices(lambda line: print(line, file=sys.stderr, flush=True))
        with open_session(environ, options, notices) as session:
            plan = session.plan(manifests)
            result = verify_remote(
                session.client, plan, explore=explore, parallelism=options.parallelism
            )
            flows = verify_dataflows(
                session.client,
                plan,
                since_ms=since_ms,
                parallelism=options.parallelism,
            )
            result = replace(result, dataflows=flows, since_ms=since_ms)
    if fail_on_missing:
        result = result.missing_failing()
    if output_format == "json":
        out.write(json_text(report.document(result)) + "\n")
    elif output_format == "markdown":
        out.write(report.render_markdown(result))
    else:
        report.write_text(result, out, colour=colour)
    return 0 if result.passed else 1


def _check_ca_file(path: str) -> None:
    """Once, up front: a file that holds no CA certificate (a key, say) would otherwise fail
    every connection's handshake, one by one."""
    import ssl

    from provisioner.errors import UsageError

    if not Path(path).is_file():
        raise UsageError(f"--ca-file {path}: no such file; give a PEM file of CA certificates")
    try:
        ssl.create_default_context(cafile=path)
    except (ssl.SSLError, OSError, ValueError):
        text = Path(path).read_text(errors="replace")
        held = " (it holds a private key)" if "PRIVATE KEY" in text else ""
        raise UsageError(
            f"--ca-file {path}: no CA certificate in it{held}; give a PEM file of CA "
            "certificates (-----BEGIN CERTIFICATE-----)"
        ) from None
