"""The GitHub Action's step (`action.yml`): plan or apply, outputs, job summary, one comment.

Run as `python -m provisioner.ci.github` with the action's inputs in `PROVISION_*`
variables and GitHub's own (`GITHUB_EVENT_PATH`, `GITHUB_OUTPUT`, ...). On a pull request
the plan becomes one sticky comment; a token that may not comment (a pull request from a
fork gets a read-only one) is a warning, not a failure: the plan is still in the summary.

The comment to edit is one this token's identity wrote (`sticky`). GitHub tells it two
ways: `GET /user` for a user's token (a personal access token, an OAuth or user-to-server
token); an installation token (the Actions `GITHUB_TOKEN`, a GitHub App's) is refused
there with a 403, and GraphQL's `viewer` names the bot it writes as instead:
`github-actions[bot]`, or `<app-slug>[bot]`. The `comment-author` input skips the lookup.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, TextIO

import httpx

from provisioner import redact
from provisioner.ci import signals, sticky
from provisioner.ci.rest import MAX_PAGES, Rest, printable
from provisioner.ci.steps import Result, inputs_from, report_text, run_steps
from provisioner.errors import ProvisionError

_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')


class IssueThread:
    """A pull request's conversation: issue comments, 100 a page, `Link: rel="next"`."""

    def __init__(self, rest: Rest, repository: str, number: int, *, author: str = "") -> None:
        self.rest, self.repo, self.number = rest, repository, number
        self._author = author.strip().casefold()

    def identity(self) -> str:
        if not self._author:
            self._author = token_login(self.rest).casefold()
        return self._author

    def comments(self) -> Iterator[sticky.Comment]:
        url = f"/repos/{self.repo}/issues/{self.number}/comments?per_page=100"
        yield from (_comment(item) for item in pages(self.rest, url))

    def create(self, body: str) -> sticky.Comment:
        path = f"/repos/{self.repo}/issues/{self.number}/comments"
        return _comment(self.rest.call("POST", path, {"body": body}).data)

    def update(self, comment_id: int, body: str) -> sticky.Comment:
        path = f"/repos/{self.repo}/issues/comments/{comment_id}"
        return _comment(self.rest.call("PATCH", path, {"body": body}).data)

    def delete(self, comment_id: int) -> None:
        self.rest.call("DELETE", f"/repos/{self.repo}/issues/comments/{comment_id}")


def pages(rest: Rest, url: str) -> Iterator[Any]:
    """Every item of a listing, following `Link: rel="next"` (bounded, never in a loop)."""
    seen: set[str] = set()
    for _ in range(MAX_PAGES):
        seen.add(url)
        reply = rest.call("GET", url)
        yield from reply.data or []
        found = _NEXT.search(reply.headers.get("link", ""))
        if found is None:
            return
        url = found.group(1)
        if url in seen:
            raise sticky.ForgeError(f"GET {printable(url)}: the next page link loops back")
    raise sticky.ForgeError(f"GET {printable(url)}: more than {MAX_PAGES} pages; stopped")


def _comment(item: Any) -> sticky.Comment:
    user = item.get("user") or {}
    login = str(user.get("login", "")).casefold()  # logins are unique case-insensitively
    return sticky.Comment(int(item["id"]), item.get("body") or "", login)


def graphql_url_for(api_url: str) -> str:
    """GitHub's GraphQL endpoint beside its REST one: api.github.com/graphql, or
    HOST/api/graphql on GitHub Enterprise Server (REST at HOST/api/v3)."""
    base = api_url.rstrip("/")
    return base.removesuffix("/v3") + "/graphql" if base.endswith("/api/v3") else base + "/graphql"


def token_login(rest: Rest) -> str:
    """The login the token writes comments as (see the module's docstring)."""
    graphql_url = graphql_url_for(rest.base_url)
    try:
        login = dig(rest.call("GET", "/user").data, "login")
    except sticky.Forbidden:  # an installation token: "Resource not accessible by integration"
        reply = rest.call("POST", graphql_url, {"query": "query { viewer { login } }"})
        errors = dig(reply.data, "errors")
        if errors:
            first = errors[0] if isinstance(errors, list) and errors else errors
            problem = str(dig(first, "message") or first)[:300]
            raise sticky.ForgeError(redact.scrub(f"POST {graphql_url}: {problem}")) from None
        login = dig(reply.data, "data", "viewer", "login")
    if not isinstance(login, str) or not login.strip():
        raise sticky.ForgeError(
            "the forge did not say who the token is, so its own comment cannot be told from "
            "others: set the action's comment-author input (e.g. github-actions[bot])"
        )
    return login


def dig(data: Any, *keys: str) -> Any:
    """data[k1][k2]..., or None where an answer lacks a key or is not an object."""
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def github_rest(environ: Mapping[str, str], transport: httpx.BaseTransport | None = None) -> Rest:
    token = environ.get("GITHUB_TOKEN", "")
    headers = {
        "Accept": "application/vnd.github+json",
        "Authorization": f"Bearer {token}",
        "X-GitHub-Api-Version": "2022-11-28",
    }
    base = environ.get("GITHUB_API_URL") or "https://api.github.com"
    return Rest(base, headers, token=token, transport=transport)


def _pull_request(environ: Mapping[str, str]) -> dict[str, Any] | None:
    path = environ.get("GITHUB_EVENT_PATH")
    if not path or not Path(path).is_file():
        return None
    event = json.loads(Path(path).read_text(encoding="utf-8"))
    pull = event.get("pull_request")
    return pull if isinstance(pull, dict) else None


def _write(path: str | None, text: str) -> None:
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(text)


def post_comment(
    result: Result,
    environ: Mapping[str, str],
    log: TextIO,
    transport: httpx.BaseTransport | None = None,
) -> sticky.Outcome | None:
    """The sticky comment on the pull request, if this run is for one and may comment."""
    pull = _pull_request(environ)
    if pull is None or environ.get("PROVISION_COMMENT", "true").lower() == "false":
        return None
    if not environ.get("GITHUB_TOKEN"):
        log.write("::warning title=provision::no github-token: the plan is in the summary only\n")
        return None
    run = run_url(environ)
    sha = str((pull.get("head") or {}).get("sha", ""))[:7]
    mode = "Applied" if result.mode == "apply" else "Planned"
    footer = f"<sub>{mode} at {sha} · [run]({run}) · provision</sub>"
    mark = sticky.marker(environ.get("PROVISION_COMMENT_KEY", ""))
    body = sticky.compose(mark, report_text(result, run), footer)
    author = environ.get("PROVISION_COMMENT_AUTHOR", "")
    with github_rest(environ, transport) as rest:
        thread = IssueThread(rest, environ["GITHUB_REPOSITORY"], int(pull["number"]), author=author)
        return sticky.upsert(thread, mark, body)


def run_url(environ: Mapping[str, str]) -> str:
    server = environ.get("GITHUB_SERVER_URL", "https://github.com")
    repository, run = environ.get("GITHUB_REPOSITORY", ""), environ.get("GITHUB_RUN_ID", "")
    return f"{server}/{repository}/actions/runs/{run}"


def command_data(text: str) -> str:
    """``text`` escaped for a workflow command's message: GitHub ends the command at the first
    newline, so a multi-line error would show only its first line (and could start another
    command on the next)."""
    return signals.escape_data(text)


def main(environ: Mapping[str, str], log: TextIO = sys.stdout) -> int:
    try:
        inputs = inputs_from(environ)
        result = run_steps(inputs, environ, log)
    except ProvisionError as error:
        log.write(f"::error title=provision::{command_data(redact.scrub(str(error)))}\n")
        _write(environ.get("GITHUB_OUTPUT"), "exitcode=1\n")
        return 1
    outputs = {**result.counts.as_outputs(), "exitcode": str(result.exitcode)}
    outputs["has-changes"] = "true" if result.counts.any_change else "false"
    saved = Path(result.plan_file).resolve()
    outputs["plan-json"] = str(saved) if result.failed_step in ("", "apply") else ""
    _write(environ.get("GITHUB_STEP_SUMMARY"), report_text(result, run_url(environ)) + "\n")
    code = 0 if result.ok else 1
    if result.mode == "drift":
        code = max(code, _drift_issue(result, environ, log, outputs))
    else:
        code = max(code, _plan_comment(result, environ, log, outputs))
    _write(environ.get("GITHUB_OUTPUT"), "".join(f"{k}={v}\n" for k, v in outputs.items()))
    if result.failed_step == "validate":  # each diagnostic on its line of the diff
        log.write(signals.github_errors(result.log, "provision validate"))
    if not result.ok:
        log.write(f"::error title=provision {result.failed_step}::failed, see the lines above\n")
    return code


def _drift_issue(
    result: Result, environ: Mapping[str, str], log: TextIO, outputs: dict[str, str]
) -> int:
    # Imported here: ci/drift.py uses this module's REST client and token identity.
    from provisioner.ci import drift

    status, found = drift.on_github(result, environ, log)
    if found is not None and found.issue is not None:
        outputs["drift-issue"] = str(found.issue)
    return status


def _plan_comment(
    result: Result, environ: Mapping[str, str], log: TextIO, outputs: dict[str, str]
) -> int:
    code = 0
    try:
        outcome = post_comment(result, environ, log)
    except sticky.Forbidden as error:
        log.write(
            "::warning title=provision::cannot comment on this pull request (a pull request "
            "from a fork gets a read-only token; otherwise grant `pull-requests: write`): "
            f"{command_data(str(error))}. The plan is in the job summary.\n"
        )
    except ProvisionError as error:
        log.write(f"::error title=provision comment::{command_data(redact.scrub(str(error)))}\n")
        code = 1
    else:
        if outcome is not None:
            outputs["comment-id"] = str(outcome.comment.id)
            log.write(f"Plan comment {outcome.action} (id {outcome.comment.id}).\n")
            log.write(sticky.ignored_note(outcome, "comment"))
    return code


if __name__ == "__main__":
    import os

    raise SystemExit(main(os.environ))
