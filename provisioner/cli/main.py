"""The `provision` command line: parse, dispatch to one function per subcommand, map errors.

Every subcommand returns an exit code: 0 success, 1 any error, 2 only from
`plan --detailed-exitcode` when changes are pending. User errors print one line per
problem; an unexpected error prints one line and where its details were written.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, TypedDict

if TYPE_CHECKING:
    import argparse
    from pathlib import Path
    from types import ModuleType

    from provisioner.manifests.selection import RemoteOptions, Selection

# Only argparse at import time: `provision --help` and `provision schema` load nothing else,
# and each command imports what it needs (httpx only for the commands that call the API).
from provisioner.cli import signals
from provisioner.cli.options import DEFAULT_CONNECT_TIMEOUT, lifecycle_options, path_argument
from provisioner.cli.parser import build_parser


def _configure_logging(verbosity: int, quiet: bool) -> None:
    import logging

    from provisioner import escape, redact

    level = (
        logging.ERROR
        if quiet
        else (logging.DEBUG if verbosity > 1 else logging.INFO if verbosity else logging.WARNING)
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(redact.ScrubFilter())
    handler.addFilter(escape.LineFilter())  # after scrubbing: a secret is cut as it was sent
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("provisioner")
    root.handlers[:] = [handler]
    root.setLevel(level)


def _dispatch(argv: list[str]) -> int:
    if argv and argv[0] == "emulator":
        from provisioner.commands.emulator import rehearsal
        from provisioner.emulator import main as emulator_main

        return emulator_main(argv[1:], prog="provision emulator", load_manifests=rehearsal)
    parser = build_parser()
    if not argv:
        # As git does: the help, and exit 1, so a pipeline step that lost its subcommand
        # (`provision $EMPTY`) fails instead of passing for a run that did nothing.
        parser.print_help()
        return 1
    args = parser.parse_args(argv)
    if args.command == "completion":
        from provisioner.cli.completion import script

        sys.stdout.write(script(args.shell, parser))
        return 0
    if args.command == "schema":
        # Read straight from the package folder (schemas.schema_text's file): importing
        # schemas.py would load the validation machinery just to print a file.
        here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        with open(os.path.join(here, "schemas", "manifest.schema.json"), encoding="utf-8") as f:
            sys.stdout.write(f.read())
        return 0
    _configure_logging(args.verbose, args.quiet)
    return _COMMANDS[args.command](args)


class _Manifests(TypedDict):
    """What every command that reads manifests takes, from its options."""

    paths: Sequence[str]
    selection: Selection
    secrets_dirs: Sequence[Path]


class _Remote(TypedDict):
    """What every command that calls the API takes, besides the manifests."""

    options: RemoteOptions
    environ: Mapping[str, str]
    colour: bool


def _manifests(args: argparse.Namespace) -> _Manifests:
    from provisioner.manifests.selection import Selection

    return _Manifests(
        paths=args.paths,
        selection=Selection(tuple(args.sandbox), tuple(args.connection)),
        secrets_dirs=[path_argument(d) for d in args.secrets_dir],
    )


def _remote(args: argparse.Namespace) -> _Remote:
    from provisioner.manifests.selection import RemoteOptions

    return _Remote(
        options=RemoteOptions(args.parallelism, args.timeout),
        environ=os.environ,
        colour=_colour(args.no_color),
    )


def _validate(args: argparse.Namespace) -> int:
    from provisioner.commands import validate

    return validate.run(
        **_manifests(args),
        out=sys.stdout,
        quiet=args.quiet,
        output_format=args.format,
        verbose=bool(args.verbose),
    )


def _render(args: argparse.Namespace) -> int:
    from provisioner.commands import render

    return render.run(**_manifests(args), show_secrets=args.show_secrets, out=sys.stdout)


def _plan(args: argparse.Namespace) -> int:
    # Plan's machinery loads only for the commands that plan: validate stays light.
    from provisioner.commands import plan
    from provisioner.plan.make import DEFAULT_LIFECYCLE

    return plan.run(
        **_manifests(args),
        **_remote(args),
        output_format=args.format,
        out_file=args.out,
        detailed_exitcode=args.detailed_exitcode,
        verbose=args.verbose > 0,
        lifecycle=lifecycle_options(args) or DEFAULT_LIFECYCLE,
        quiet=args.quiet,
    )


def _apply(args: argparse.Namespace) -> int:
    from provisioner.commands import apply

    return apply.run(
        **_manifests(args),
        **_remote(args),
        plan_file=args.plan_file,
        auto_approve=args.auto_approve,
        quiet=args.quiet,
        interactive=sys.stdin.isatty(),
        lifecycle=lifecycle_options(args),
        verify=args.verify,
        output_format=args.format,
    )


def _verify(args: argparse.Namespace) -> int:
    from provisioner.commands import verify

    if not args.direct and (args.ca_file or args.connect_timeout is not None):
        from provisioner.errors import UsageError

        raise UsageError("--ca-file and --connect-timeout apply to --direct only")
    if args.as_platform and not args.direct:
        from provisioner.errors import UsageError

        raise UsageError("--as-platform applies to --direct only")
    if args.since is not None and args.direct:
        from provisioner.errors import UsageError

        raise UsageError("--since applies to dataflows, which --direct does not check")
    return verify.run(
        **_manifests(args),
        **_remote(args),
        output_format=args.format,
        direct=args.direct,
        explore=args.explore,
        connect_timeout=args.connect_timeout or DEFAULT_CONNECT_TIMEOUT,
        ca_file=args.ca_file,
        quiet=args.quiet,
        fail_on_missing=args.fail_on_missing,
        as_platform=args.as_platform,
        since=args.since,
    )


def _import(args: argparse.Namespace) -> int:
    from provisioner.commands import importing
    from provisioner.manifests.selection import RemoteOptions

    return importing.run(
        org=args.org,
        sandboxes=args.sandbox,
        clouds=importing.parse_clouds(args.cloud),
        connection_globs=args.connection,
        out_file=args.out,
        force=args.force,
        options=RemoteOptions(args.parallelism, args.timeout),
        environ=os.environ,
        quiet=args.quiet,
    )


_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "validate": _validate,
    "render": _render,
    "plan": _plan,
    "apply": _apply,
    "verify": _verify,
    "import": _import,
}


def _colour(disabled: bool) -> bool:
    """--no-color, then NO_COLOR (no-color.org), then FORCE_COLOR or CLICOLOR_FORCE
    (force-color.org: CI logs render colour but are no terminal), then the terminal. An
    empty variable counts as unset, as both conventions say."""
    if disabled or os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR") or os.environ.get("CLICOLOR_FORCE"):
        return True
    return sys.stdout.isatty()


def main(argv: Sequence[str] | None = None) -> int:
    with signals.handled() as received:
        code = _run(list(sys.argv[1:] if argv is None else argv), received)
        if received.received and code == signals.EXIT_INTERRUPTED:
            code = received.exit_code  # the command stopped on SIGTERM: 143, not 130
    if received.insisted:
        # A second signal: what apply left in flight is said; do not wait for it on exit.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


def _run(argv: list[str], received: signals.Signals) -> int:
    # The error classes are imported only when an error happens (an except clause is
    # evaluated only when reached), so `--help`, which exits through SystemExit, never does.
    try:
        return _dispatch(argv)
    except SystemExit:
        raise
    except _errors().ManifestError as error:
        from provisioner import escape, redact

        for diagnostic in error.diagnostics:
            print(escape.line(redact.scrub(str(diagnostic))), file=sys.stderr)
        count = len(error.diagnostics)
        print(
            f"{count} problem{'s' if count != 1 else ''} found; nothing was done.", file=sys.stderr
        )
        return 1
    except _errors().ProvisionError as error:
        from provisioner import escape, redact

        # Each line escaped: a message quoting the API cannot print a control character.
        for line in redact.scrub(str(error)).splitlines():
            print(f"error: {escape.line(line)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        # Before any write (apply accounts for its own once it writes): plan, verify,
        # validate, or apply still reading.
        print(f"provision: stopped by {received.name}; nothing was changed.", file=sys.stderr)
        return received.exit_code
    except BrokenPipeError:
        # `provision render ... | head`: the reader left; not an error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as error:
        return _internal_error(error)


def _errors() -> ModuleType:
    from provisioner import errors

    return errors


def _internal_error(error: BaseException) -> int:
    import tempfile  # only on a crash: start-up stays lean
    import traceback

    from provisioner import escape, redact

    details = redact.scrub("".join(traceback.format_exception(error)))
    with tempfile.NamedTemporaryFile(
        "w", prefix="provision-crash-", suffix=".log", delete=False
    ) as handle:
        handle.write(details)
    summary = escape.line(redact.scrub(f"{type(error).__name__}: {error}"))
    print(
        f"provision: internal error ({summary}); this is a bug, details in {handle.name}",
        file=sys.stderr,
    )
    return 1
