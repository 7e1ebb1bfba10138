"""Scheduled drift detection: one issue, opened when a scheduled plan finds the sandboxes no
longer match the manifests (changes pending, or drift it may not change), edited on every
run while they still differ, closed by the first run that finds them matching again.

The issue is found as the sticky comment is (`sticky`): a hidden marker on its first line,
among the open issues the token's own identity opened; a key keeps two schedules' issues
apart. A run whose plan failed leaves the issue as it is: not knowing is not "no drift".
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, TextIO

import httpx

from provisioner import redact
from provisioner.ci import github, gitlab, sticky
from provisioner.ci.issues import GitHubIssues, GitLabIssues, Tracker
from provisioner.ci.rest import Rest
from provisioner.ci.steps import Result, report_text
from provisioner.errors import ProvisionError

ISSUE_TITLE = "provision: the AEP sandboxes differ from the manifests"


@dataclass(frozen=True)
class Outcome:
    action: Literal["opened", "updated", "unchanged", "closed", "none"]
    issue: int | None = None
    closed: tuple[int, ...] = ()  # duplicates from two racing first runs, or the resolved one


def marker(key: str = "") -> str:
    return sticky.marker(key).replace("provision-plan", "provision-drift", 1)


def drifting(result: Result) -> bool:
    return result.counts.any_change or result.counts.drifted > 0


def track(tracker: Tracker, mark: str, body: str, *, drift: bool, resolved: str) -> Outcome:
    """Open, edit or close the one drift issue; `resolved` heads the body of a closed one."""
    me = tracker.identity()
    ours = [i for i in tracker.open_issues() if sticky.is_marked(i, mark) and i.author == me]
    if not drift:
        closed = tuple(tracker.close(i.id, _resolved(i.body, resolved)).id for i in ours)
        return Outcome("closed" if closed else "none", closed=closed)
    if not ours:
        return Outcome("opened", tracker.open(ISSUE_TITLE, body).id)
    first, extra = ours[0], ours[1:]
    closed = tuple(tracker.close(i.id, _resolved(i.body, f"Duplicate of #{first.id}.")).id
                   for i in extra)  # fmt: skip
    if first.body == body:
        return Outcome("unchanged", first.id, closed)
    return Outcome("updated", tracker.update(first.id, body).id, closed)


def _resolved(body: str, note: str) -> str:
    mark, _, rest = body.partition("\n")
    return f"{mark}\n**{note}**\n\n{rest}"


def compose(result: Result, mark: str, run_url: str, limit: int) -> tuple[str, str]:
    """The open issue's body, and the line a closed one is headed with."""
    text = (
        "A scheduled `provision plan --detailed-exitcode` found the sandboxes differ from the "
        "manifests: apply the manifests (or change them to what the sandboxes hold). This "
        "issue is edited by every scheduled run and closed by the first that finds no "
        "drift.\n\n" + report_text(result, run_url)
    )
    body = sticky.compose(
        mark, text, f"<sub>Seen by [this run]({run_url}) · provision</sub>", limit
    )
    return body, f"Resolved: [this run]({run_url}) found the sandboxes match the manifests."


def _log(outcome: Outcome, log: TextIO) -> None:
    if outcome.issue is not None:
        log.write(f"Drift issue {outcome.action} (#{outcome.issue}).\n")
    for number in outcome.closed:
        log.write(f"Drift issue closed (#{number}).\n")
    if outcome.action == "none":
        log.write("No drift, and no drift issue open.\n")


def on_github(
    result: Result,
    environ: Mapping[str, str],
    log: TextIO = sys.stdout,
    transport: httpx.BaseTransport | None = None,
) -> tuple[int, Outcome | None]:
    """The exit code and what was done, for the Action's step; plan failures leave it."""
    if not result.ok:
        return 1, None
    if not environ.get("GITHUB_TOKEN"):
        log.write("::error title=provision drift::no github-token: the drift issue is untouched\n")
        return 1, None
    run_url = github.run_url(environ)
    mark = marker(environ.get("PROVISION_COMMENT_KEY", ""))
    body, resolved = compose(result, mark, run_url, sticky.GITHUB_BODY_LIMIT)
    author = environ.get("PROVISION_COMMENT_AUTHOR", "")
    try:
        with github.github_rest(environ, transport) as rest:
            tracker = GitHubIssues(rest, environ["GITHUB_REPOSITORY"], author=author)
            outcome = track(tracker, mark, body, drift=drifting(result), resolved=resolved)
    except ProvisionError as error:
        message = github.command_data(redact.scrub(str(error)))
        log.write(f"::error title=provision drift issue::{message} (needs `issues: write`)\n")
        return 1, None
    _log(outcome, log)
    return 0, outcome


def on_gitlab(
    result: Result,
    environ: Mapping[str, str],
    log: TextIO = sys.stdout,
    transport: httpx.BaseTransport | None = None,
) -> int:
    if not result.ok:
        return 1
    token = environ.get("PROVISION_NOTE_TOKEN", "")
    if not token:
        log.write("ERROR: PROVISION_NOTE_TOKEN is not set: the drift issue is untouched.\n")
        return 1
    run_url = environ.get("CI_JOB_URL", "")
    mark = marker(environ.get("PROVISION_COMMENT_KEY", ""))
    body, resolved = compose(result, mark, run_url, gitlab.NOTE_LIMIT)
    base = environ.get("CI_API_V4_URL", "")
    try:
        with Rest(base, {"PRIVATE-TOKEN": token}, token=token, transport=transport) as rest:
            tracker = GitLabIssues(rest, environ.get("CI_PROJECT_ID", ""))
            outcome = track(tracker, mark, body, drift=drifting(result), resolved=resolved)
    except ProvisionError as error:
        log.write(
            f"ERROR: the drift issue: {redact.scrub(str(error))} (the token needs the "
            "Reporter role and the api scope)\n"
        )
        return 1
    _log(outcome, log)
    return 0
