"""The command-line options of the lifecycle: the flags that let plan and apply change
existing connections, and the `import` subcommand. Kept beside arguments.py so the parser
there stays the map of every subcommand."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported when used: building the parser must stay cheap (--help)
    from pathlib import Path

    from provisioner.plan.make import PlanOptions


def _path(text: str) -> Path:
    from pathlib import Path

    return Path(text)


def add_lifecycle(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "changing existing connections",
        "Creates are always planned. Drifted readable fields (description, server, port, "
        "database, username, sslMode) are updated in place with PATCH unless --no-update; "
        "secrets and deletions change only when asked.",
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
        help="delete remote connections no manifest declares, but only those a manifest's "
        "prune: {names: [glob]} claims in its own sandboxes; a dataflow's connection is "
        "refused by the API and reported. Without it nothing is ever deleted "
        "(docs/lifecycle.md)",
    )


def lifecycle_options(args: argparse.Namespace) -> PlanOptions | None:
    if not (args.no_update or args.rotate_secrets or args.prune):
        return None
    from provisioner.plan.make import PlanOptions

    return PlanOptions(update=not args.no_update, rotate=args.rotate_secrets, prune=args.prune)


def add_import_parser(commands: Any, add_remote: Callable[[argparse.ArgumentParser], None]) -> None:
    importer = commands.add_parser(
        "import",
        help="write a manifest from connections that exist (adopt hand-made ones)",
        description="List the PostgreSQL base connections of the given sandboxes and write "
        "a manifest that declares them: non-secret fields verbatim, secrets as {env: NAME} "
        "references (PG_<SANDBOX>_<NAME>_PASSWORD or _DSN; the API never returns secret "
        "values), one templated entry for a connection whose names differ only by the "
        "sandbox name. `provision plan FILE` right after shows 0 to add and 0 drifted.",
    )
    importer.add_argument("--org", required=True, help="IMS org id (…@AdobeOrg)")
    importer.add_argument(
        "--sandbox",
        action="append",
        required=True,
        metavar="NAME",
        help="a sandbox to import from (repeatable)",
    )
    importer.add_argument(
        "--cloud",
        action="append",
        default=[],
        metavar="SANDBOX=CLOUD",
        help="azure or aws for a sandbox whose connections do not show it (repeatable; "
        "otherwise read from sslMode and the auth types)",
    )
    importer.add_argument(
        "--connection",
        action="append",
        default=[],
        metavar="GLOB",
        help="only connections whose name matches (repeatable)",
    )
    importer.add_argument(
        "--out", required=True, type=_path, metavar="FILE", help="the manifest to write"
    )
    importer.add_argument(
        "--force", action="store_true", help="overwrite FILE if it exists (refused otherwise)"
    )
    add_remote(importer)
    importer.add_argument("-v", "--verbose", action="count", default=0, help="more detail")
    importer.add_argument("-q", "--quiet", action="store_true", help="only errors")
