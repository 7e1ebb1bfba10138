from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from provisioner.commands.session import RemoteOptions
    from provisioner.manifests.selection import Selection

DEFAULT_CONNECT_TIMEOUT = 5.0


def add_arguments(parser: argparse.ArgumentParser, seconds: Callable[[str], float]) -> None:
    """The options of `provision verify` beyond the selection and the remote ones."""
    parser.add_argument(
        "--format",
        choices=("text", "json", "markdown"),
        default="text",
        help="text for people, json for machines, markdown for a PR comment",
    )
    parser.add_argument(
        "--explore", action="store_true", help="also list the tables each connection sees"
    )
    parser.add_argument(
        "--direct",
        action="store_true",
        help="connect from this machine with the resolved secrets; no AEP call",
    )
    parser.add_argument(
        "--connect-timeout",
        type=seconds,
        default=None,
        metavar="SECONDS",
        help="with --direct: give up on a database after this long (default 5)",
    )
    parser.add_argument(
        "--ca-file",
        metavar="FILE",
        help="with --direct: CA certificates for ssl verify-ca/verify-full "
        "(default: $PGSSLROOTCERT, else the system's)",
    )


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
    colour: bool,
    out: TextIO | None = None,
) -> int:
    # Imported here: the CLI builds this command's options on every start, and `validate`
    # should not pay for the HTTP client.
    from provisioner.commands import load_manifests
    from provisioner.commands.session import open_session
    from provisioner.errors import UsageError
    from provisioner.manifests.secrets import SecretResolver
    from provisioner.report import verify as report
    from provisioner.verify.checks import Verification, verify_direct, verify_remote

    # Looked up per call, not bound at import: main() may run under another sys.stdout.
    out = sys.stdout if out is None else out
    if ca_file is not None and not Path(ca_file).is_file():
        raise UsageError(f"--ca-file {ca_file}: no such file; give a PEM file of CA certificates")
    manifests = load_manifests(paths, selection, secrets_dirs, prune=False)
    desired = manifests.desired
    result: Verification
    if direct:
        # Every secret before the first connection: one list of what is missing, not a
        # trickle of failures that each look like a broken database.
        values = SecretResolver(environ, secrets_dirs).resolve_all(
            ref for connection in desired for ref in connection.secrets
        )
        result = verify_direct(
            desired,
            values.__getitem__,
            parallelism=options.parallelism,
            timeout=connect_timeout,
            explore=explore,
            ca_file=ca_file,
        )
    else:
        with open_session(environ, options) as session:
            plan = session.plan(manifests)
            result = verify_remote(
                session.client, plan, explore=explore, parallelism=options.parallelism
            )
    if output_format == "json":
        json.dump(report.document(result), out, indent=2, ensure_ascii=False)
        out.write("\n")
    elif output_format == "markdown":
        out.write(report.render_markdown(result))
    else:
        report.write_text(result, out, colour=colour)
    return 0 if result.passed else 1
