"""The `provision` command line: parse, dispatch to one function per subcommand, map errors.

Every subcommand returns an exit code: 0 success, 1 any error, 2 only from
`plan --detailed-exitcode` when changes are pending. User errors print one line per
problem; an unexpected error prints one line and where its details were written.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from types import ModuleType

# Only argparse at import time: `provision --help` and `provision schema` load nothing else,
# and each command imports what it needs (httpx only for the commands that call the API).
from provisioner.cli.parser import build_parser, path_argument


def _configure_logging(verbosity: int, quiet: bool) -> None:
    import logging

    from provisioner import redact

    level = (
        logging.ERROR
        if quiet
        else (logging.DEBUG if verbosity > 1 else logging.INFO if verbosity else logging.WARNING)
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(redact.ScrubFilter())
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("provisioner")
    root.handlers[:] = [handler]
    root.setLevel(level)


def _dispatch(argv: list[str]) -> int:
    if argv and argv[0] == "emulator":
        from provisioner.commands.emulator import scopes
        from provisioner.emulator import main as emulator_main

        return emulator_main(argv[1:], prog="provision emulator", load_scopes=scopes)
    args = build_parser().parse_args(argv)
    if args.command == "schema":
        # Read straight from the package folder (schemas.schema_text's file): importing
        # schemas.py would load the validation machinery just to print a file.
        here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        with open(os.path.join(here, "schemas", "manifest.schema.json"), encoding="utf-8") as f:
            sys.stdout.write(f.read())
        return 0
    from provisioner.manifests.selection import RemoteOptions, Selection

    _configure_logging(args.verbose, args.quiet)
    if args.command == "import":
        from provisioner.commands import importing

        return importing.run(
            org=args.org,
            sandboxes=args.sandbox,
            clouds=importing.parse_clouds(args.cloud),
            connection_globs=args.connection,
            out_file=args.out,
            force=args.force,
            options=RemoteOptions(args.parallelism, args.timeout),
            environ=os.environ,
        )
    selection = Selection(tuple(args.sandbox), tuple(args.connection))
    secrets_dirs = [path_argument(d) for d in args.secrets_dir]
    if args.command == "validate":
        from provisioner.commands import validate

        return validate.run(args.paths, selection, secrets_dirs, sys.stdout)
    if args.command == "render":
        from provisioner.commands import render

        return render.run(args.paths, selection, secrets_dirs, args.show_secrets, sys.stdout)
    colour = _colour(args.no_color)
    options = RemoteOptions(args.parallelism, args.timeout)
    # Plan's machinery loads only for the commands that plan: validate stays light.
    from provisioner.cli.lifecycle_args import lifecycle_options

    if args.command == "plan":
        from provisioner.commands import plan
        from provisioner.plan.make import PlanOptions

        return plan.run(
            args.paths,
            selection,
            secrets_dirs,
            output_format=args.format,
            out_file=args.out,
            detailed_exitcode=args.detailed_exitcode,
            options=options,
            environ=os.environ,
            colour=colour,
            verbose=args.verbose > 0,
            lifecycle=lifecycle_options(args) or PlanOptions(update=True),
        )
    if args.command == "apply":
        from provisioner.commands import apply

        return apply.run(
            args.paths,
            selection,
            secrets_dirs,
            plan_file=args.plan_file,
            auto_approve=args.auto_approve,
            options=options,
            environ=os.environ,
            colour=colour,
            quiet=args.quiet,
            interactive=sys.stdin.isatty(),
            lifecycle=lifecycle_options(args),
            verify=args.verify,
        )
    if args.command == "verify":
        from provisioner.commands import verify as verify_command

        if not args.direct and (args.ca_file or args.connect_timeout is not None):
            from provisioner.errors import UsageError

            raise UsageError("--ca-file and --connect-timeout apply to --direct only")
        return verify_command.run(
            args.paths,
            selection,
            secrets_dirs,
            output_format=args.format,
            direct=args.direct,
            explore=args.explore,
            options=options,
            connect_timeout=args.connect_timeout or verify_command.DEFAULT_CONNECT_TIMEOUT,
            ca_file=args.ca_file,
            environ=os.environ,
            colour=colour,
        )
    raise AssertionError(f"unhandled command {args.command}")


def _colour(disabled: bool) -> bool:
    return not disabled and "NO_COLOR" not in os.environ and sys.stdout.isatty()


def main(argv: Sequence[str] | None = None) -> int:
    # The error classes are imported only when an error happens (an except clause is
    # evaluated only when reached), so `--help`, which exits through SystemExit, never does.
    try:
        return _dispatch(list(sys.argv[1:] if argv is None else argv))
    except SystemExit:
        raise
    except _errors().ManifestError as error:
        from provisioner import redact

        for diagnostic in error.diagnostics:
            print(redact.scrub(str(diagnostic)), file=sys.stderr)
        count = len(error.diagnostics)
        print(
            f"{count} problem{'s' if count != 1 else ''} found; nothing was done.", file=sys.stderr
        )
        return 1
    except _errors().ProvisionError as error:
        from provisioner import redact

        for line in redact.scrub(str(error)).splitlines():
            print(f"error: {line}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
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

    from provisioner import redact

    details = redact.scrub("".join(traceback.format_exception(error)))
    with tempfile.NamedTemporaryFile(
        "w", prefix="provision-crash-", suffix=".log", delete=False
    ) as handle:
        handle.write(details)
    summary = redact.scrub(f"{type(error).__name__}: {error}")
    print(
        f"provision: internal error ({summary}); this is a bug, details in {handle.name}",
        file=sys.stderr,
    )
    return 1
