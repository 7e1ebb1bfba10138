"""The options several subcommands share, with their types and defaults: the selection, the
remote ones, --format, verify's, and the lifecycle flags of plan and apply.

Only argparse at import time, like the parser that uses them.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported when used: building the parser must stay cheap (--help)
    from pathlib import Path

    from provisioner.plan.make import PlanOptions

from provisioner import DEFAULT_PARALLELISM


def add_selection(parser: argparse.ArgumentParser, *, paths_required: bool = True) -> None:
    parser.add_argument(
        "paths",
        nargs="+" if paths_required else "*",
        metavar="PATH",
        help="manifest files or directories (every *.yaml/*.yml inside)",
    )
    parser.add_argument(
        "--sandbox",
        action="append",
        default=[],
        metavar="NAME",
        help="only this sandbox (repeatable)",
    )
    parser.add_argument(
        "--connection",
        action="append",
        default=[],
        metavar="GLOB",
        help="only connections whose rendered name matches (repeatable)",
    )
    parser.add_argument(
        "--secrets-dir",
        action="append",
        default=[],
        metavar="DIR",
        help="also allow {file: ...} secrets under DIR (repeatable)",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more detail")
    parser.add_argument("-q", "--quiet", action="store_true", help="only errors")
    parser.add_argument(
        "--no-color",
        action="store_true",
        help="no colour (also a non-empty NO_COLOR; FORCE_COLOR or CLICOLOR_FORCE force it)",
    )


def parallelism(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 256:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number from 1 to 256")
    return int(text)


def seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 3600:
        # No "0 = wait forever": every wait here has a deadline.
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number of seconds: give more than 0, at most 3600"
        )
    return value


def add_remote(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--parallelism",
        type=parallelism,
        default=DEFAULT_PARALLELISM,
        metavar="N",
        help=f"most concurrent API requests (default {DEFAULT_PARALLELISM}); when the API "
        "answers 429, requests slow to the rate it allows and speed up again after",
    )
    parser.add_argument(
        "--timeout",
        type=seconds,
        default=30.0,
        metavar="SECONDS",
        help="per-request timeout (default 30)",
    )


_FORMATS = {
    "text": "text for people",
    "json": "json for machines (docs/versioning.md)",
    "markdown": "markdown for a PR comment",
}


def add_format(parser: argparse.ArgumentParser, *formats: str) -> None:
    """The one --format option; `formats`: the ones this command writes (default all)."""
    chosen = formats or tuple(_FORMATS)
    parser.add_argument(
        "--format",
        choices=chosen,
        default="text",
        help=", ".join(_FORMATS[f] for f in chosen),
    )


# `verify --direct` gives up on a database after this long unless --connect-timeout says.
DEFAULT_CONNECT_TIMEOUT = 5.0


def add_verify_options(parser: argparse.ArgumentParser) -> None:
    """The options of `provision verify` beyond the selection and the remote ones."""
    add_format(parser)
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
        help=f"with --direct: give up on a database after this long "
        f"(default {DEFAULT_CONNECT_TIMEOUT:g})",
    )
    parser.add_argument(
        "--as-platform",
        action="store_true",
        help="with --direct: check only what the payload asks the platform to check (AWS "
        'sends verify-full as "true": encrypt only); default: the manifest as written',
    )
    parser.add_argument(
        "--fail-on-missing",
        action="store_true",
        help="a connection not created yet fails the run (default: listed, not failed)",
    )
    parser.add_argument(
        "--since",
        metavar="DURATION|TIME",
        help="dataflows: judge the last run started in this window, a duration back from now "
        "(30m, 24h, 7d, 2w) or an RFC 3339 time with its offset (2026-12-01T00:00:00Z); "
        "a failed one fails the run, none is listed as no-run (default: the last run ever)",
    )
    parser.add_argument(
        "--ca-file",
        metavar="FILE",
        help="with --direct: CA certificates for ssl verify-ca/verify-full "
        "(default: $PGSSLROOTCERT, else the system's)",
    )


def path_argument(text: str) -> Path:
    from pathlib import Path  # pathlib only once a command runs

    return Path(text)


def add_lifecycle(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "changing existing connections and dataflows",
        "Creates are always planned. Drifted readable fields (description, server, port, "
        "database, username, sslMode; a dataflow's description, schedule, mapping and "
        "enabled) are updated in place with PATCH unless --no-update; secrets, deletions and "
        "dataflow replacements change only when asked.",
    )
    group.add_argument(
        "--no-update",
        action="store_true",
        help="report drift (~ ... drifted) without changing it; apply then only creates",
    )
    group.add_argument(
        "--rotate-secrets",
        action="store_true",
        help="re-send the password or connection string of every selected existing "
        "connection (secrets read back masked, so their drift is invisible); narrow it with "
        "--sandbox/--connection. Plan shows '~ rotate' lines and needs no secret",
    )
    group.add_argument(
        "--prune",
        action="store_true",
        help="delete remote connections no manifest of the repository declares, but only "
        "those a prune: {owner: NAME, names: [glob]} claims in its own sandboxes and that "
        "carry that owner's mark (written by apply); hand-made and other owners' "
        "connections are never deleted, and a dataflow's connection is refused by the API "
        "and reported. Without it nothing is ever deleted (docs/lifecycle.md)",
    )
    group.add_argument(
        "--replace-dataflows",
        action="store_true",
        help="replace a dataflow whose table, columns, dataset, incremental column or schedule "
        "kind (once <-> periodic) changed, or whose start has passed, which the API cannot "
        "change in place: the old flow is disabled, a new chain (source, target, mapping set, "
        "flow) is made, then the old one is deleted. With backfill the new flow re-ingests "
        "the table's history into the same dataset (duplicate rows unless it upserts). "
        "Without it such a change is an error (!) and nothing is done for that dataflow",
    )


def lifecycle_options(args: argparse.Namespace) -> PlanOptions | None:
    """The lifecycle flags as PlanOptions; None when none was given (then the saved plan's,
    or plan.make.DEFAULT_LIFECYCLE)."""
    if not (args.no_update or args.rotate_secrets or args.prune or args.replace_dataflows):
        return None
    from provisioner.plan.make import PlanOptions

    return PlanOptions(
        update=not args.no_update,
        rotate=args.rotate_secrets,
        prune=args.prune,
        replace_dataflows=args.replace_dataflows,
    )
