"""The dataflow part of the verify result: text, JSON and markdown.

Flow names, states, run statuses and run errors come from the API: every line goes through
`escape.line` (JSON through `escape.json_text` at the end), and each run error is cut: the
first `MAX_ERRORS` of a run, each at most `MAX_MESSAGE` characters, before escaping.
"""

from __future__ import annotations

from typing import Any, TextIO

from provisioner import escape
from provisioner.dataflow import FlowRun
from provisioner.report.markdown import cell
from provisioner.verify.checks import Verification
from provisioner.verify.runs import DataflowCheck, FlowStatus, rfc3339

MAX_ERRORS = 3
MAX_MESSAGE = 300
_COLOURS = {
    FlowStatus.OK: "\033[32m",
    FlowStatus.NO_RUN: "\033[33m",
    FlowStatus.MISSING: "\033[33m",
    FlowStatus.FAILED: "\033[31m",
    FlowStatus.AMBIGUOUS: "\033[31m",
    FlowStatus.ERROR: "\033[31m",
}


def window(result: Verification) -> str:
    if result.since_ms is None:
        return "last runs (any time)"
    return f"last runs since {rfc3339(result.since_ms)}"


def cut(text: str, limit: int = MAX_MESSAGE) -> str:
    """Outside text bounded (then escaped where it is shown)."""
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} characters)"


def errors_of(run: FlowRun) -> tuple[list[tuple[str, str]], int]:
    """The first errors of a run, cut, and how many more it has."""
    shown = [(cut(code, 80), cut(message)) for code, message in run.errors[:MAX_ERRORS]]
    return shown, max(0, len(run.errors) - MAX_ERRORS)


def run_line(run: FlowRun) -> str:
    when = rfc3339(run.started_at) if run.started_at is not None else "(no start time)"
    counts = ", ".join(
        f"{label} {'?' if value is None else value}"
        for label, value in (
            ("read", run.records_read),
            ("written", run.records_written),
            ("failed", run.records_failed),
        )
    )
    return f"last run {when} {cut(run.status or 'unknown', 80)}: records {counts}"


def write_text(result: Verification, out: TextIO, *, colour: bool) -> None:
    if not result.dataflows:
        return
    out.write(f"Dataflows: {len(result.dataflows)}, {window(result)}\n")
    width = max(len(d.status.value) for d in result.dataflows)
    sandboxes: dict[tuple[str, str], list[DataflowCheck]] = {}
    for check in result.dataflows:
        sandboxes.setdefault(check.key, []).append(check)
    for (org, sandbox), checks in sandboxes.items():
        out.write(escape.line(f"sandbox {sandbox} ({org})") + "\n")
        for check in checks:
            d = check.desired
            line = f"  {check.status.value:<{width}}  {d.name} ({d.connection}, {d.table})"
            if check.flow is not None:
                line += f": flow {cut(check.flow.state or 'in an unknown state', 80)}"
            if check.reason:
                line += f"{',' if check.flow is not None else ':'} {cut(check.reason)}"
            if check.last_run is not None:
                line += f", {run_line(check.last_run)}"
            if check.status is not FlowStatus.OK:
                line += f"  ({d.source.file}:{d.source.line})"
            line = escape.line(line)
            if colour:
                line = f"{_COLOURS[check.status]}{line}\033[0m"
            out.write(line + "\n")
            if check.last_run is not None:
                shown, more = errors_of(check.last_run)
                indent = " " * (width + 6)
                for code, message in shown:
                    out.write(indent + escape.line(f"{code}: {message}") + "\n")
                if more:
                    out.write(f"{indent}... and {more} more error(s)\n")


def entries(result: Verification) -> list[dict[str, Any]]:
    return [_entry(check) for check in result.dataflows]


def _entry(check: DataflowCheck) -> dict[str, Any]:
    d = check.desired
    entry: dict[str, Any] = {
        "org": d.org,
        "sandbox": d.sandbox,
        "connection": d.connection,
        "table": d.table,
        "name": d.name,
        "source": f"{d.source.file}:{d.source.line}",
        "status": check.status.value,
        "reason": cut(check.reason) if check.reason else None,
        "flow_id": check.flow.id if check.flow else None,
        "state": check.flow.state if check.flow else None,
        "last_run": None,
    }
    run = check.last_run
    if run is not None:
        shown, more = errors_of(run)
        entry["last_run"] = {
            "id": run.id,
            "status": run.status,
            "started_at": rfc3339(run.started_at) if run.started_at is not None else None,
            "completed_at": rfc3339(run.completed_at) if run.completed_at is not None else None,
            "records_read": run.records_read,
            "records_written": run.records_written,
            "records_failed": run.records_failed,
            "errors": [{"code": code, "message": message} for code, message in shown],
            "more_errors": more,
        }
    return entry


def markdown_rows(result: Verification) -> list[str]:
    """The dataflows' table for a pull request comment (failures first)."""
    if not result.dataflows:
        return []
    rows = [
        "",
        f"**Dataflows**, {window(result)}:",
        "",
        "| sandbox | dataflow | status | flow | last run |",
        "|---|---|---|---|---|",
    ]
    order = (FlowStatus.FAILED, FlowStatus.ERROR, FlowStatus.AMBIGUOUS)
    for check in sorted(result.dataflows, key=lambda c: c.status not in order):
        run = check.last_run
        last = run_line(run) if run is not None else check.reason
        if run is not None and run.errors:
            code, message = errors_of(run)[0][0]
            last += f"; {code}: {message}"
        state = (check.flow.state or "") if check.flow is not None else ""
        rows.append(
            f"| {cell(check.desired.sandbox)} | {cell(check.desired.name)} | "
            f"{check.status.value} | {cell(state)} | {cell(last)} |"
        )
    return rows
