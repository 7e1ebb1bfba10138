"""The `provision` argument parser: every subcommand, its options and the help that teaches.

The one home of every option and its default. Only argparse at import time: `provision
--help` builds this and loads nothing else.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported when used: building the parser must stay cheap (--help)
    from pathlib import Path
    from typing import NoReturn

    from provisioner.plan.make import PlanOptions

from provisioner import DEFAULT_PARALLELISM, __version__
from provisioner.cli import examples


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
    parser.add_argument(
        "--no-color",
        action="store_true",
        help="no colour (also a non-empty NO_COLOR; FORCE_COLOR or CLICOLOR_FORCE force it)",
    )


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
        # No "0 = wait forever": every wait here has a deadline.
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number of seconds: give more than 0, at most 3600"
        )
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


_FORMATS = {
    "text": "text for people",
    "json": "json for machines (docs/versioning.md)",
    "markdown": "markdown for a PR comment",
}


def _add_format(parser: argparse.ArgumentParser, *formats: str) -> None:
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


def _add_verify_options(parser: argparse.ArgumentParser) -> None:
    """The options of `provision verify` beyond the selection and the remote ones."""
    _add_format(parser)
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
        type=_seconds,
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
        "--ca-file",
        metavar="FILE",
        help="with --direct: CA certificates for ssl verify-ca/verify-full "
        "(default: $PGSSLROOTCERT, else the system's)",
    )


class _Formatter(argparse.HelpFormatter):
    # A text written in lines (the examples, verify's description) keeps them; a paragraph
    # in one line is wrapped to the terminal.
    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if "\n" in text:
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


def _examples(text: str) -> dict[str, Any]:
    """A subcommand's examples below its options."""
    return {"epilog": text, "formatter_class": _Formatter}


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
        epilog=examples.MAIN,
        formatter_class=_Formatter,
    )
    parser.add_argument("--version", action="version", version=f"provision {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    validate = commands.add_parser(
        "validate",
        help="check manifests offline (schema, templates, identities, references)",
        description="Check manifests without network or credentials: schema, templates, "
        "identities and secret-reference syntax. Secret values are never read.",
        **_examples(examples.VALIDATE),
    )
    _add_selection(validate)
    _add_format(validate, "text", "json")

    render = commands.add_parser(
        "render",
        help="print the payloads that would be sent",
        description="Print the Flow Service payloads as JSON. Secrets show as (sensitive).",
        **_examples(examples.RENDER),
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
        **_examples(examples.PLAN),
    )
    _add_selection(plan)
    _add_remote(plan)
    _add_format(plan)
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
    _add_lifecycle(plan)

    apply = commands.add_parser(
        "apply",
        help="create what is missing, update what drifted",
        description="Plan, then create what is missing and update drifted fields in place "
        "(PATCH with the etag the plan saw). Safe to re-run: it never creates a duplicate. "
        "Without a terminal it needs --auto-approve or --plan FILE.",
        **_examples(examples.APPLY),
    )
    _add_selection(apply, paths_required=False)
    _add_remote(apply)
    _add_format(apply, "text", "json")
    apply.add_argument("--auto-approve", action="store_true", help="do not ask for confirmation")
    apply.add_argument(
        "--plan",
        metavar="FILE",
        type=path_argument,
        dest="plan_file",
        help="apply a saved plan; refused if the manifests or remote changed (an etag "
        "moved, a deletion appeared); it brings its own --no-update/--rotate-secrets/--prune",
    )
    _add_lifecycle(apply)
    apply.add_argument(
        "--verify",
        action="store_true",
        help="then test what this run created (GET /connections/{id}/test); fail naming "
        "each that does not work (it stays created)",
    )

    _add_import(commands)

    verify = commands.add_parser(
        "verify",
        help="check that the connections work, not just exist",
        description="Ask the Flow Service to test every desired connection that exists\n"
        "(GET /connections/{id}/test): ok, or unreachable with the reason the API gives.\n"
        "Read-only; needs AEP_CLIENT_ID and AEP_CLIENT_SECRET, never a database secret.\n"
        "Connections not created yet are listed as missing, not tested.\n\n"
        "--direct connects from this machine to each PostgreSQL instead, with the resolved\n"
        "secrets and the manifest's TLS mode (needs aep-provision[postgres], no AEP call), and\n"
        "names why one fails: DNS, refused, timeout, TLS, certificate, password, database.\n\n"
        "Exit 0 when every tested connection works, 1 otherwise.",
        **_examples(examples.VERIFY),
    )
    _add_selection(verify)
    _add_remote(verify)
    _add_verify_options(verify)

    completion = commands.add_parser(
        "completion",
        help="print the tab-completion script for bash, zsh or fish",
        description="Print a script that teaches your shell to complete provision's "
        "subcommands, options, their choices and file names.",
        **_examples(examples.COMPLETION),
    )
    completion.add_argument("shell", choices=("bash", "zsh", "fish"), help="your shell")
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


def _add_lifecycle(parser: argparse.ArgumentParser) -> None:
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
    """The lifecycle flags as PlanOptions; None when none was given (then the saved plan's,
    or plan.make.DEFAULT_LIFECYCLE)."""
    if not (args.no_update or args.rotate_secrets or args.prune):
        return None
    from provisioner.plan.make import PlanOptions

    return PlanOptions(update=not args.no_update, rotate=args.rotate_secrets, prune=args.prune)


def _add_import(commands: Any) -> None:
    importer = commands.add_parser(
        "import",
        help="write a manifest from connections that exist (adopt hand-made ones)",
        description="List the PostgreSQL base connections of the given sandboxes and write "
        "a manifest that declares them: non-secret fields verbatim, secrets as {env: NAME} "
        "references (PG_<SANDBOX>_<NAME>_PASSWORD or _DSN; the API never returns secret "
        "values), one templated entry for a connection whose names differ only by the "
        "sandbox name. `provision plan FILE` right after shows 0 to add and 0 drifted.",
        **_examples(examples.IMPORT),
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
        "--out", required=True, type=path_argument, metavar="FILE", help="the manifest to write"
    )
    importer.add_argument(
        "--force", action="store_true", help="overwrite FILE if it exists (refused otherwise)"
    )
    _add_remote(importer)
    importer.add_argument("-v", "--verbose", action="count", default=0, help="more detail")
    importer.add_argument("-q", "--quiet", action="store_true", help="only errors")
