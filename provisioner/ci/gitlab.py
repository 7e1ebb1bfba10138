"""The GitLab CI/CD components' script (`templates/plan.yml`, `templates/apply.yml`).

Run as `python -m provisioner.ci.gitlab` with the component's inputs in `PROVISION_*`
variables and GitLab's predefined ones. In a merge request pipeline the plan becomes one
merge-request note, edited on every push. A job token cannot write notes, so this needs a
project access token in `PROVISION_NOTE_TOKEN` (Reporter, `api` scope); without it, or when
it is refused (a fork's pipeline), the plan is still in the job log and the artifacts.

The note to edit is one the token's own user wrote: `GET /user` names it (a project or
group access token's bot user), and notes are compared by their author's id, which, unlike
a username, never changes.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import quote

import httpx

from provisioner import redact
from provisioner.ci import signals, sticky
from provisioner.ci.rest import MAX_PAGES, Rest
from provisioner.ci.steps import Result, inputs_from, report_text, run_steps
from provisioner.errors import ProvisionError

NOTE_LIMIT = 1_000_000


class MergeRequestNotes:
    """A merge request's notes, oldest first, 100 a page; `X-Next-Page` is empty at the end."""

    def __init__(self, rest: Rest, project: str, iid: int) -> None:
        self.path = f"/projects/{quote(project, safe='')}/merge_requests/{iid}/notes"
        self.rest = rest
        self._me = ""

    def identity(self) -> str:
        if not self._me:
            self._me = token_user_id(self.rest)
        return self._me

    def comments(self) -> Iterator[sticky.Comment]:
        for note in pages(self.rest, self.path, "sort=asc&order_by=created_at"):
            if not note.get("system"):  # "added 1 commit" and other events
                yield _note(note)

    def create(self, body: str) -> sticky.Comment:
        return _note(self.rest.call("POST", self.path, {"body": body}).data)

    def update(self, comment_id: int, body: str) -> sticky.Comment:
        return _note(self.rest.call("PUT", f"{self.path}/{comment_id}", {"body": body}).data)

    def delete(self, comment_id: int) -> None:
        self.rest.call("DELETE", f"{self.path}/{comment_id}")


def pages(rest: Rest, path: str, query: str) -> Iterator[Any]:
    """Every item of a listing, 100 a page; `X-Next-Page` is empty on the last (bounded)."""
    page = "1"
    for _ in range(MAX_PAGES):
        reply = rest.call("GET", f"{path}?per_page=100&page={page}&{query}")
        yield from reply.data or []
        page = quote(reply.headers.get("x-next-page", "").strip(), safe="")
        if not page:
            return
    raise sticky.ForgeError(f"GET {rest.base_url}{path}: more than {MAX_PAGES} pages; stopped")


def token_user_id(rest: Rest) -> str:
    """The id of the token's user (a project access token's bot user), which, unlike a
    username, never changes: what a note's or an issue's author is compared by."""
    user = rest.call("GET", "/user").data
    found = user.get("id") if isinstance(user, dict) else None
    if not isinstance(found, int) or isinstance(found, bool):
        raise sticky.ForgeError(
            f"GET {rest.base_url}/user: the answer names no user id, so the token's own note "
            "cannot be told from others; check PROVISION_NOTE_TOKEN is a project access "
            "token with the api scope"
        )
    return str(found)


def _note(item: Any) -> sticky.Comment:
    author = item.get("author") or {}
    return sticky.Comment(int(item["id"]), item.get("body") or "", str(author.get("id", "")))


def post_note(
    result: Result,
    environ: Mapping[str, str],
    log: TextIO,
    transport: httpx.BaseTransport | None = None,
) -> sticky.Outcome | None:
    iid = environ.get("CI_MERGE_REQUEST_IID", "")
    if not iid or environ.get("PROVISION_COMMENT", "true").lower() == "false":
        return None
    token = environ.get("PROVISION_NOTE_TOKEN", "")
    if not token:
        log.write("PROVISION_NOTE_TOKEN is not set: the plan is in the job log and artifacts.\n")
        return None
    job = environ.get("CI_JOB_URL", "")
    mode = "Applied" if result.mode == "apply" else "Planned"
    sha = environ.get("CI_COMMIT_SHORT_SHA", "")
    footer = f"<sub>{mode} at {sha} · [job]({job}) · provision</sub>"
    mark = sticky.marker(environ.get("PROVISION_COMMENT_KEY", ""))
    body = sticky.compose(mark, report_text(result, job), footer, NOTE_LIMIT)
    base = environ.get("CI_API_V4_URL", "")
    with Rest(base, {"PRIVATE-TOKEN": token}, token=token, transport=transport) as rest:
        notes = MergeRequestNotes(rest, environ.get("CI_PROJECT_ID", ""), int(iid))
        return sticky.upsert(notes, mark, body)


def main(environ: Mapping[str, str], log: TextIO = sys.stdout) -> int:
    try:
        result = run_steps(inputs_from(environ), environ, log)
    except ProvisionError as error:
        log.write(f"provision: {redact.scrub(str(error))}\n")
        return 1
    counts = {f"PROVISION_{k.upper()}": v for k, v in result.counts.as_outputs().items()}
    counts["PROVISION_EXITCODE"] = str(result.exitcode)
    # A dotenv report: later jobs of the pipeline read these as variables.
    Path("provision.env").write_text(
        "".join(f"{k}={v}\n" for k, v in counts.items()), encoding="utf-8"
    )
    # The merge request widget's counts; only for a plan that was made (GitLab says the
    # report failed when the file is missing, which is true then).
    report = Path(signals.TERRAFORM_REPORT)
    report.unlink(missing_ok=True)
    if result.ok and result.mode == "plan":
        report.write_text(json.dumps(signals.terraform_report(result.counts)), encoding="utf-8")
    code = 0 if result.ok else 1
    if result.mode == "drift":
        # Imported here: ci/drift.py uses this module's paging and token identity.
        from provisioner.ci import drift

        code = max(code, drift.on_gitlab(result, environ, log))
        log.write(f"provision drift: exit {result.exitcode} (0 no drift, 2 drift, 1 an error)\n")
        return code
    try:
        outcome = post_note(result, environ, log)
    except sticky.Forbidden as error:
        log.write(
            "WARNING: cannot write the merge request note (the token needs the Reporter role "
            f"and `api` scope on this project; a fork's pipeline has none): {error}\n"
        )
    except ProvisionError as error:
        log.write(f"ERROR: the merge request note: {redact.scrub(str(error))}\n")
        code = 1
    else:
        if outcome is not None:
            log.write(f"Plan note {outcome.action} (id {outcome.comment.id}).\n")
            log.write(sticky.ignored_note(outcome, "note"))
    log.write(f"provision {result.mode}: exit {result.exitcode} ")
    log.write("(0 no changes, 2 changes pending, 1 an error)\n")
    return code


if __name__ == "__main__":
    import os

    raise SystemExit(main(os.environ))
