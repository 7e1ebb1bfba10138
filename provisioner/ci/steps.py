"""What the action and the components run: validate, plan (and apply), as a pipeline would.

Each command runs as `python -m provisioner` in a child process, with the output echoed to
the job log as it comes, so the exit codes and messages are exactly the CLI's. The forge
token is removed from the child's environment: provision never needs it.
"""

from __future__ import annotations

import contextlib
import html
import json
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TextIO

from provisioner import redact
from provisioner.errors import UsageError

# drift: a scheduled plan whose outcome opens, edits or closes one issue (ci/drift.py).
Mode = Literal["plan", "apply", "drift"]
MODES: tuple[Mode, ...] = ("plan", "apply", "drift")
# Variables that carry a forge token: the provision child never sees them.
FORGE_TOKENS = ("GITHUB_TOKEN", "GH_TOKEN", "PROVISION_NOTE_TOKEN", "CI_JOB_TOKEN")
LOG_LINES_IN_COMMENT = 40
LIFECYCLE_FLAGS = ("--no-update", "--rotate-secrets", "--prune")
PLAN_MD, PLAN_JSON = "plan.md", "plan.json"
EXIT_MEANING = {0: "no changes", 2: "changes pending"}


@dataclass(frozen=True)
class Inputs:
    paths: tuple[str, ...]
    sandboxes: tuple[str, ...] = ()
    connections: tuple[str, ...] = ()
    mode: Mode = "plan"
    lifecycle: tuple[str, ...] = ()  # plan and apply both get them (docs/lifecycle.md)
    # plan: where the saved plan goes; apply: a saved (reviewed) plan to apply instead of
    # planning afresh (`apply --plan`). Empty: plan.json, and apply plans afresh.
    plan_file: str = ""

    def selectors(self) -> list[str]:
        args = [arg for name in self.sandboxes for arg in ("--sandbox", name)]
        return args + [arg for glob in self.connections for arg in ("--connection", glob)]


@dataclass(frozen=True)
class Counts:
    add: int = 0
    change: int = 0  # updated in place, or a secret re-sent
    delete: int = 0
    unchanged: int = 0
    drifted: int = 0
    errors: int = 0
    unmanaged: int = 0

    @property
    def any_change(self) -> bool:
        return bool(self.add or self.change or self.delete)

    def as_outputs(self) -> dict[str, str]:
        return {name: str(value) for name, value in self.__dict__.items()}


@dataclass(frozen=True)
class Result:
    mode: Mode
    exitcode: int  # 0 no changes / applied, 1 error, 2 changes pending (plan only)
    failed_step: str = ""  # "validate", "plan" or "apply" when exitcode is 1
    counts: Counts = field(default_factory=Counts)
    markdown: str = ""  # the plan for the comment and the job summary
    log: str = ""  # what the failed step printed, scrubbed
    plan_file: str = PLAN_JSON  # the saved plan this run made or applied

    @property
    def ok(self) -> bool:
        return self.exitcode in (0, 2)


def split_list(text: str) -> tuple[str, ...]:
    """An input holding several values: one per line or separated by spaces or commas."""
    return tuple(item for item in text.replace(",", " ").split() if item)


def inputs_from(environ: Mapping[str, str]) -> Inputs:
    mode = environ.get("PROVISION_MODE", "plan").strip() or "plan"
    if mode not in MODES:
        raise UsageError(f"mode {mode!r} is not one of {', '.join(MODES)}")
    paths = split_list(environ.get("PROVISION_PATHS", ""))
    if not paths:
        raise UsageError("paths is empty: name the manifest files or folders, e.g. configs/")
    lifecycle = split_list(environ.get("PROVISION_LIFECYCLE", ""))
    unknown = [flag for flag in lifecycle if flag not in LIFECYCLE_FLAGS]
    if unknown:
        raise UsageError(
            f"lifecycle {' '.join(unknown)!r}: give any of {', '.join(LIFECYCLE_FLAGS)}"
        )
    inputs = Inputs(
        paths,
        split_list(environ.get("PROVISION_SANDBOXES", "")),
        split_list(environ.get("PROVISION_CONNECTIONS", "")),
        mode,
        lifecycle,
        environ.get("PROVISION_PLAN_FILE", "").strip(),
    )
    if mode == "apply" and inputs.plan_file and (inputs.connections or lifecycle):
        raise UsageError(
            "plan-file cannot be given with connection or lifecycle in apply mode: the saved "
            "plan names its own; give them to the plan job that made it"
        )
    return inputs


def _check_sandboxes(plan_file: Path, sandboxes: tuple[str, ...]) -> None:
    """A job that applies one sandbox (a matrix job, with that sandbox's secrets) must be
    handed that sandbox's plan, not another job's artifact."""
    try:
        planned = json.loads(plan_file.read_text(encoding="utf-8"))["manifests"]["sandboxes"]
    except (OSError, ValueError, KeyError, TypeError):
        return  # `apply --plan` says what is wrong with the file
    if sorted(map(str, planned)) != sorted(sandboxes):
        made = ", ".join(map(str, planned)) or "every sandbox"
        raise UsageError(
            f"{plan_file} was planned for {made}, but this job applies {', '.join(sandboxes)}: "
            "give it the plan made for its sandbox"
        )


def _child_env(environ: Mapping[str, str]) -> dict[str, str]:
    env = {k: v for k, v in environ.items() if k not in FORGE_TOKENS}
    env["NO_COLOR"] = "1"
    return env


def _run(
    argv: Sequence[str], environ: Mapping[str, str], log: TextIO, stdout: Path | None = None
) -> tuple[int, str]:
    """Run provision, echoing to the log as it comes; with `stdout`, its standard output
    goes to that file and only standard error is echoed. Returns the code and the echo."""
    log.write(f"$ provision {' '.join(argv)}\n")
    log.flush()
    with contextlib.ExitStack() as stack:
        sink = stack.enter_context(stdout.open("w", encoding="utf-8")) if stdout else None
        child = stack.enter_context(
            subprocess.Popen(
                [sys.executable, "-m", "provisioner", *argv],
                env=_child_env(environ),
                stdin=subprocess.DEVNULL,
                stdout=sink or subprocess.PIPE,
                stderr=subprocess.PIPE if sink else subprocess.STDOUT,
                text=True,
                encoding="utf-8",
                errors="replace",
            )
        )
        stream = child.stderr if sink else child.stdout
        lines = []
        for line in stream or ():
            log.write(line)
            lines.append(line)
        log.flush()
        code = child.wait()
    return code, redact.scrub("".join(lines))


def _summary_line(plan_json: Path) -> str:
    summary = json.loads(plan_json.read_text(encoding="utf-8")).get("summary", {})
    return str(summary.get("text", ""))


def counts_from(plan_json: Path) -> Counts:
    """The plan's counts for the step outputs; a dataflow counts as a connection does (its
    summary keys are the same with a `dataflows_` prefix)."""
    summary = json.loads(plan_json.read_text(encoding="utf-8"))["summary"]

    def n(*keys: str) -> int:
        return sum(summary.get(k, 0) + summary.get(f"dataflows_{k}", 0) for k in keys)

    return Counts(
        add=n("add"),
        change=n("update", "rotate", "recreate"),
        delete=n("delete"),
        unchanged=n("unchanged"),
        drifted=n("drift"),
        errors=n("ambiguous", "unknown", "replace", "owned-elsewhere"),
        unmanaged=summary.get("unmanaged", 0),
    )


def run_steps(inputs: Inputs, environ: Mapping[str, str], log: TextIO) -> Result:
    """validate, then plan, then apply if asked. plan.md and plan.json are saved in the
    working directory (the checkout), where artifact uploads look and the comment's
    "the full plan in plan.json" points."""
    saved = inputs.mode == "apply" and inputs.plan_file
    if saved and inputs.sandboxes:
        _check_sandboxes(Path(inputs.plan_file), inputs.sandboxes)
    paths, selectors = list(inputs.paths), inputs.selectors()
    code, output = _run(["validate", *paths, *selectors], environ, log)
    if code != 0:
        return Result(inputs.mode, 1, "validate", log=output)
    if saved:
        return apply_saved(Path(inputs.plan_file), environ, log)
    plan_md, plan_json = Path(PLAN_MD), Path(inputs.plan_file or PLAN_JSON)
    plan_json.unlink(missing_ok=True)
    changes = list(inputs.lifecycle)  # plan and apply, never validate
    argv = ["plan", *paths, *selectors, *changes, "--format", "markdown", "--out", str(plan_json)]
    code, output = _run([*argv, "--detailed-exitcode"], environ, log, stdout=plan_md)
    # 2 is also a usage error's status in many tools: trust it only with a saved plan.
    if code not in (0, 2) or not plan_json.is_file():
        return Result(inputs.mode, 1, "plan", log=output)
    counts = counts_from(plan_json)
    log.write(f"{_summary_line(plan_json)} (exit {code}: {EXIT_MEANING[code]})\n")
    markdown = plan_md.read_text(encoding="utf-8")
    if inputs.mode != "apply":
        return Result(inputs.mode, code, counts=counts, markdown=markdown, plan_file=str(plan_json))
    code, output = _run(["apply", *paths, *selectors, *changes, "--auto-approve"], environ, log)
    markdown += _apply_output(output)
    return Result("apply", 0 if code == 0 else 1, "" if code == 0 else "apply", counts, markdown)


def apply_saved(plan_file: Path, environ: Mapping[str, str], log: TextIO) -> Result:
    """`apply --plan`: the plan a reviewer read, applied as it was, or refused (changing
    nothing) when the manifests or the remote moved on since it was made."""
    code, output = _run(["apply", "--plan", str(plan_file)], environ, log)
    head = f"### provision apply\n\nThe reviewed plan `{html.escape(plan_file.name)}`"
    if code != 0:
        markdown = f"{head} was not applied.\n" + _apply_output(output)
        return Result("apply", 1, "apply", markdown=markdown, log=output, plan_file=str(plan_file))
    markdown = f"{head}: **{html.escape(_summary_line(plan_file))}**\n" + _apply_output(output)
    counts = counts_from(plan_file)
    return Result("apply", 0, counts=counts, markdown=markdown, plan_file=str(plan_file))


def _apply_output(output: str) -> str:
    return (
        "\n<details><summary>apply output</summary>\n\n<pre>\n"
        + html.escape(_tail(output), quote=False)
        + "</pre>\n</details>\n"
    )


def _tail(text: str, lines: int = LOG_LINES_IN_COMMENT) -> str:
    kept = text.splitlines()[-lines:]
    return "".join(line + "\n" for line in kept)


def report_text(result: Result, job_url: str) -> str:
    """The comment's and the summary's text: the plan, or what failed and its last lines."""
    if result.ok or (result.failed_step == "apply" and result.markdown):
        head = "" if result.ok else f"**provision apply failed**: see the [job log]({job_url}).\n\n"
        return head + result.markdown
    return (
        f"### provision {result.failed_step} failed\n\n"
        f"Nothing was planned for this commit; see the [job log]({job_url}). Last lines:\n\n"
        f"<pre>\n{html.escape(_tail(result.log), quote=False)}</pre>\n"
    )
