"""The verify result as text for people, versioned JSON for machines, markdown for a PR.

Reasons and table names come from the API or a database: every line is written through
`escape.line` (the markdown `cell` escaping is a layer on top).
"""

from __future__ import annotations

import html
from typing import Any, TextIO

from provisioner import escape
from provisioner.report import verify_dataflows as dataflows
from provisioner.report.markdown import GITHUB_COMMENT_LIMIT, cell
from provisioner.verify.checks import Check, Status, Verification
from provisioner.verify.runs import rfc3339

FORMAT_VERSION = 1
_WIDTH = 100  # of a wrapped list of tables
_BUDGET = GITHUB_COMMENT_LIMIT - 2_000
_COLOURS = {
    Status.OK: "\033[32m",
    Status.MISSING: "\033[33m",
    Status.UNREACHABLE: "\033[31m",
    Status.AMBIGUOUS: "\033[31m",
    Status.ERROR: "\033[31m",
}
_SEVERITY = (Status.ERROR, Status.AMBIGUOUS, Status.UNREACHABLE, Status.MISSING, Status.OK)
_HOW = {
    "api": "through the Flow Service (GET /connections/{id}/test)",
    "direct": "directly from this machine",
}


def _sandboxes(result: Verification) -> dict[tuple[str, str], list[Check]]:
    grouped: dict[tuple[str, str], list[Check]] = {}
    for check in result.checks:
        grouped.setdefault((check.desired.org, check.desired.sandbox), []).append(check)
    return grouped


def write_text(result: Verification, out: TextIO, *, colour: bool) -> None:
    out.write(f"Verifying {len(result.checks)} connection(s) {_HOW[result.mode]}\n")
    width = max((len(c.status.value) for c in result.checks), default=0)
    for (org, sandbox), checks in _sandboxes(result).items():
        out.write(escape.line(f"sandbox {sandbox} ({checks[0].desired.cloud}, {org})") + "\n")
        for check in checks:
            line = f"  {check.status.value:<{width}}  {check.desired.name}"
            if check.reason:
                line += f": {check.reason}"
            if check.status is not Status.OK:
                line += f"  ({check.desired.source.file}:{check.desired.source.line})"
            line = escape.line(line)
            if colour:
                line = f"{_COLOURS[check.status]}{line}\033[0m"
            out.write(line + "\n")
            if check.tables is not None:
                out.write(_tables(check.tables, indent=f"  {'':<{width}}    "))
    dataflows.write_text(result, out, colour=colour)
    out.write(result.summary() + "\n")


def _tables(tables: tuple[str, ...], indent: str) -> str:
    """The tables, wrapped between names (a quoted name may hold a space): thousands of them
    must not make one line of many kilobytes."""
    if not tables:
        return f"{indent}tables: (no tables visible to this user)\n"
    lines, line = [], f"{indent}tables: "
    for i, name in enumerate(tables):
        item = escape.line(name) + ("," if i < len(tables) - 1 else "")  # remote text
        if len(line) + len(item) > _WIDTH and not line.endswith(": "):
            lines.append(line.rstrip())
            line = indent + " " * len("tables: ")
        line += item + " "
    lines.append(line.rstrip())
    return "".join(text + "\n" for text in lines)


def document(result: Verification) -> dict[str, Any]:
    return {
        "format": "provision-verify",
        "format_version": FORMAT_VERSION,
        "mode": result.mode,
        "passed": result.passed,
        "summary": {
            **{status.value: result.count(status) for status in Status},
            "text": result.summary(),
        },
        "connections": [_entry(check) for check in result.checks],
        "dataflows": dataflows.entries(result),
        "runs_since": None if result.since_ms is None else rfc3339(result.since_ms),
    }


def _entry(check: Check) -> dict[str, Any]:
    c = check.desired
    entry: dict[str, Any] = {
        "org": c.org,
        "sandbox": c.sandbox,
        "cloud": c.cloud,
        "name": c.name,
        "source": f"{c.source.file}:{c.source.line}",
        "status": check.status.value,
        "reason": check.reason or None,
        "id": check.remote_id,
    }
    if check.tables is not None:
        entry["tables"] = list(check.tables)
    return entry


def render_markdown(result: Verification) -> str:
    lines = [
        "### provision verify",
        "",
        f"**{cell(result.summary())}** Checked {_HOW[result.mode]}.",
        "",
        "| sandbox | connection | status | reason |",
        "|---|---|---|---|",
    ]
    text = "\n".join(lines) + "\n"
    left_out = 0
    # Failures first: in a long comment they are what a reviewer must not miss.
    ordered = sorted(result.checks, key=lambda c: _SEVERITY.index(c.status))
    for check in ordered:
        row = (
            f"| {cell(check.desired.sandbox)} | {cell(check.desired.name)} | "
            f"{check.status.value} | {cell(check.reason)} |\n"
        )
        if len(text) + len(row) > _BUDGET:
            left_out += 1
            continue
        text += row
    for row in dataflows.markdown_rows(result):
        if len(text) + len(row) + 1 > _BUDGET:
            left_out += 1
            continue
        text += row + "\n"
    explored = [c for c in result.checks if c.tables]
    for check in explored:
        block = (
            f"\n<details><summary>{cell(check.desired.name)} ({cell(check.desired.sandbox)}): "
            f"{len(check.tables or ())} table(s)</summary>\n\n<pre>\n"
            + "".join(html.escape(escape.line(t), quote=False) + "\n" for t in check.tables or ())
            + "</pre>\n</details>\n"
        )
        if len(text) + len(block) > _BUDGET:
            left_out += 1
            continue
        text += block
    if left_out:
        text += (
            f"\n_{left_out} more entr(ies) not shown: the comment would exceed GitHub's limit. "
            "See `provision verify --format json` for every entry._\n"
        )
    return text
