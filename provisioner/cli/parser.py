"""The `provision` argument parser: every subcommand, its options and the help that teaches.

With cli/options.py (the options several subcommands share), the one home of every option
and its default. Only argparse at import time: `provision
--help` builds this and loads nothing else.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported when used: building the parser must stay cheap (--help)
    from typing import NoReturn

from provisioner import __version__
from provisioner.cli import examples, options


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
    options.add_selection(validate)
    options.add_format(validate, "text", "json")

    render = commands.add_parser(
        "render",
        help="print the payloads that would be sent",
        description="Print the Flow Service payloads as JSON. Secrets show as (sensitive).",
        **_examples(examples.RENDER),
    )
    options.add_selection(render)
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
    options.add_selection(plan)
    options.add_remote(plan)
    options.add_format(plan)
    plan.add_argument(
        "--out",
        metavar="FILE",
        type=options.path_argument,
        help="save the plan (JSON, no secrets) for `apply --plan FILE`",
    )
    plan.add_argument(
        "--detailed-exitcode",
        action="store_true",
        help="exit 2 when there are changes to apply (0 none, 1 error)",
    )
    options.add_lifecycle(plan)

    apply = commands.add_parser(
        "apply",
        help="create what is missing, update what drifted",
        description="Plan, then create what is missing and update drifted fields in place "
        "(PATCH with the etag the plan saw). Safe to re-run: it never creates a duplicate. "
        "Without a terminal it needs --auto-approve or --plan FILE.",
        **_examples(examples.APPLY),
    )
    options.add_selection(apply, paths_required=False)
    options.add_remote(apply)
    options.add_format(apply, "text", "json")
    apply.add_argument("--auto-approve", action="store_true", help="do not ask for confirmation")
    apply.add_argument(
        "--plan",
        metavar="FILE",
        type=options.path_argument,
        dest="plan_file",
        help="apply a saved plan; refused if the manifests or remote changed (an etag "
        "moved, a deletion appeared); it brings its own --no-update/--rotate-secrets/--prune",
    )
    options.add_lifecycle(apply)
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
        "Each declared dataflow shows its flow's state and last run (status; records read,\n"
        "written, failed; the first errors) from the runs API; a failed last run fails the\n"
        "verify. --since 24h (or 7d, or 2026-12-01T00:00:00Z) looks only at runs since then.\n\n"
        "--direct connects from this machine to each PostgreSQL instead, with the resolved\n"
        "secrets and the manifest's TLS mode (needs aep-provision[postgres], no AEP call), and\n"
        "names why one fails: DNS, refused, timeout, TLS, certificate, password, database.\n\n"
        "Exit 0 when every tested connection works and no dataflow's last run failed,\n"
        "1 otherwise.",
        **_examples(examples.VERIFY),
    )
    options.add_selection(verify)
    options.add_remote(verify)
    options.add_verify_options(verify)

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
        "--out",
        required=True,
        type=options.path_argument,
        metavar="FILE",
        help="the manifest to write",
    )
    importer.add_argument(
        "--force", action="store_true", help="overwrite FILE if it exists (refused otherwise)"
    )
    options.add_remote(importer)
    importer.add_argument("-v", "--verbose", action="count", default=0, help="more detail")
    importer.add_argument("-q", "--quiet", action="store_true", help="only errors")
