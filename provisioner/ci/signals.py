"""The forges' own review signals, beside the comment: GitHub's `::error file=,line=,col=::`
workflow commands, which put each validate diagnostic on its line of the pull request's diff,
and GitLab's Terraform report, whose create/update/delete counts the merge request widget
shows without any token.

Workflow commands are lines of the job log that GitHub parses, so everything in one is
escaped as the runner's toolkit does (`escapeData`, `escapeProperty`): a newline would end
the command early and let the rest of a message start another.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from provisioner.ci.steps import Counts

# `FILE:LINE:COLUMN: message`, as `provision validate` prints a located diagnostic (secret
# references resolved later print the same after `error: `).
_DIAGNOSTIC = re.compile(
    r"^(?:error: )?(?P<file>\S.*?):(?P<line>\d+):(?P<column>\d+): (?P<message>.+)$"
)
# GitHub shows at most 10 error annotations a step and 50 a job; the log has them all.
MAX_ANNOTATIONS = 50
MAX_MESSAGE = 500
# The file templates/plan.yml names under `artifacts:reports:terraform`.
TERRAFORM_REPORT = "plan-report.json"


@dataclass(frozen=True)
class Diagnostic:
    file: str
    line: int
    column: int
    message: str


def diagnostics(log: str) -> list[Diagnostic]:
    found = []
    for text in log.splitlines():
        match = _DIAGNOSTIC.match(text)
        if match:
            message = match["message"]
            if len(message) > MAX_MESSAGE:
                message = message[: MAX_MESSAGE - 1] + "…"
            found.append(
                Diagnostic(match["file"], int(match["line"]), int(match["column"]), message)
            )
    return found


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_errors(log: str, title: str) -> str:
    """One `::error` command per located diagnostic in `log`, at most MAX_ANNOTATIONS."""
    lines = []
    for item in diagnostics(log)[:MAX_ANNOTATIONS]:
        where = f"file={escape_property(item.file)},line={item.line},col={item.column}"
        lines.append(f"::error {where},title={escape_property(title)}::")
        lines.append(escape_data(item.message) + "\n")
    return "".join(lines)


def terraform_report(counts: Counts) -> dict[str, int]:
    """GitLab's `artifacts:reports:terraform` format: what the plan creates, updates (in
    place, or a secret re-sent) and deletes."""
    return {"create": counts.add, "update": counts.change, "delete": counts.delete}
