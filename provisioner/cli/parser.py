"""The `provision` argument parser: every subcommand, its options and the help that teaches.

Only argparse at import time: `provision --help` builds this and loads nothing else.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path
    from typing import NoReturn

from provisioner import DEFAULT_PARALLELISM, __version__
from provisioner.cli.lifecycle_args import add_import_parser, add_lifecycle

EPILOG = """\
examples:
  provision validate configs/                 check manifests offline
  provision render configs/ --sandbox prod    the payloads that would be sent (secrets masked)
  provision plan configs/ --format markdown   what apply would create (read-only)
  provision apply configs/ --auto-approve     create what is missing, update what drifted
  provision apply configs/ --auto-approve --rotate-secrets --sandbox prod --connection 'orders-*'
                                              re-send rotated database passwords
  provision apply configs/ --auto-approve --prune
                                              also delete what the manifests' prune: claims
  provision import --org ORG --sandbox prod --out teams/imported.yaml
                                              adopt connections made by hand
  provision verify configs/ --explore         do the connections work? (API /test)
  provision verify configs/ --direct          connect to each database from here

environment: AEP_CLIENT_ID, AEP_CLIENT_SECRET (plan/apply), AEP_SCOPES, AEP_IMS_URL,
AEP_PLATFORM_URL. `provision emulator` prints the values that point at a local emulator.
Manifests in several orgs: AEP_CLIENT_ID__<ORG> / AEP_CLIENT_SECRET__<ORG> give one org its
own credential (<ORG>: the org id before @AdobeOrg); the others use AEP_CLIENT_ID/SECRET.
"""


def _add_selection(parser: argparse.ArgumentParser, *, paths_required: bool = True) -> None:
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
    parser.add_argument("--no-color", action="store_true", help="no colour (also NO_COLOR)")


def _parallelism(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 256:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number from 1 to 256")
    return int(text)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds (0 to 3600)")
    return value


def _add_remote(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--parallelism",
        type=_parallelism,
        default=DEFAULT_PARALLELISM,
        metavar="N",
        help=f"most concurrent API requests (default {DEFAULT_PARALLELISM}); when the API "
        "answers 429, requests slow to the rate it allows and speed up again after",
    )
    parser.add_argument(
        "--timeout",
        type=_seconds,
        default=30.0,
        metavar="SECONDS",
        help="per-request timeout (default 30)",
    )


def path_argument(text: str) -> Path:
    from pathlib import Path  # pathlib only once a command runs

    return Path(text)


class _Parser(argparse.ArgumentParser):
    # argparse exits 2 on a usage error; here 2 means "plan has changes", so usage errors
    # must exit 1 like every other error, or a pipeline would read a typo as "changes".
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(1, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="provision",
        description="Declarative provisioner for Adobe Experience Platform PostgreSQL base "
        "connections: manifests in git, plan in review, apply in pipelines.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"provision {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    validate = commands.add_parser(
        "validate",
        help="check manifests offline (schema, templates, identities, references)",
        description="Check manifests without network or credentials: schema, templates, "
        "identities and secret-reference syntax. Secret values are never read.",
    )
    _add_selection(validate)

    render = commands.add_parser(
        "render",
        help="print the payloads that would be sent",
        description="Print the Flow Service payloads as JSON. Secrets show as (sensitive).",
    )
    _add_selection(render)
    render.add_argument(
        "--show-secrets",
        action="store_true",
        help="resolve and show secret values (refused when CI is set)",
    )

    plan = commands.add_parser(
        "plan",
        help="show what apply would create, update, rotate or delete (read-only)",
        description="Read the remote state (GET only) and print the plan. Needs "
        "AEP_CLIENT_ID and AEP_CLIENT_SECRET, never the connections' secrets.",
    )
    _add_selection(plan)
    _add_remote(plan)
    plan.add_argument(
        "--format",
        choices=("text", "json", "markdown"),
        default="text",
        help="text for people, json for machines, markdown for a PR comment",
    )
    plan.add_argument(
        "--out",
        metavar="FILE",
        type=path_argument,
        help="save the plan (JSON, no secrets) for `apply --plan FILE`",
    )
    plan.add_argument(
        "--detailed-exitcode",
        action="store_true",
        help="exit 2 when there are changes to apply (0 none, 1 error)",
    )
    add_lifecycle(plan)

    apply = commands.add_parser(
        "apply",
        help="create what is missing, update what drifted",
        description="Plan, then create what is missing and update drifted fields in place "
        "(PATCH with the etag the plan saw). Safe to re-run: it never creates a duplicate. "
        "Without a terminal it needs --auto-approve or --plan FILE.",
    )
    _add_selection(apply, paths_required=False)
    _add_remote(apply)
    apply.add_argument("--auto-approve", action="store_true", help="do not ask for confirmation")
    apply.add_argument(
        "--plan",
        metavar="FILE",
        type=path_argument,
        dest="plan_file",
        help="apply a saved plan; refused if the manifests or remote changed (an etag "
        "moved, a deletion appeared); it brings its own --no-update/--rotate-secrets/--prune",
    )
    add_lifecycle(apply)
    apply.add_argument(
        "--verify",
        action="store_true",
        help="then test what this run created (GET /connections/{id}/test); fail naming "
        "each that does not work (it stays created)",
    )

    add_import_parser(commands, _add_remote)

    verify = commands.add_parser(
        "verify",
        help="check that the connections work, not just exist",
        description="Ask the Flow Service to test every desired connection that exists\n"
        "(GET /connections/{id}/test): ok, or unreachable with the reason the API gives.\n"
        "Read-only; needs AEP_CLIENT_ID and AEP_CLIENT_SECRET, never a database secret.\n"
        "Connections not created yet are listed as missing, not tested.\n\n"
        "--direct connects from this machine to each PostgreSQL instead, with the resolved\n"
        "secrets and the manifest's TLS mode (needs provision[postgres], no AEP call), and\n"
        "names why one fails: DNS, refused, timeout, TLS, certificate, password, database.\n\n"
        "Exit 0 when every tested connection works, 1 otherwise.",
        epilog="examples:\n"
        "  provision verify configs/ --sandbox prod --format markdown\n"
        "  provision verify configs/ --explore        # and the tables each one sees\n"
        "  provision verify configs/ --direct --ca-file corp-ca.pem --connect-timeout 3\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_selection(verify)
    _add_remote(verify)
    from provisioner.commands import verify as verify_command  # argparse only, no network

    verify_command.add_arguments(verify, _seconds)

    commands.add_parser(
        "schema",
        help="print the manifest JSON Schema (for editors)",
        description="Print the manifest JSON Schema.",
    )
    commands.add_parser(
        "emulator",
        help="run the local Flow Service + IMS emulator",
        description="Run the emulator; see `provision emulator --help`.",
        add_help=False,
    )
    return parser
