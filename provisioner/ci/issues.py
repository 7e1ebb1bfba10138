"""A repository's open issues on each forge, for the drift issue (`drift.py`): the same REST
seam, paging and token identity as the sticky comment, with an issue's number (GitHub) or
iid (GitLab) as its id and its body (GitLab: description) as its text.

GitHub: `GET /repos/{repo}/issues?state=open` (pull requests are issues there too: skipped),
`POST /repos/{repo}/issues`, `PATCH /repos/{repo}/issues/{number}` (`state: closed`).
GitLab: `GET /projects/{id}/issues?state=opened`, `POST /projects/{id}/issues`,
`PUT /projects/{id}/issues/{iid}` (`state_event: close`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol
from urllib.parse import quote

from provisioner.ci import github, gitlab
from provisioner.ci.rest import Rest
from provisioner.ci.sticky import Comment


class Tracker(Protocol):
    """The open issues of one repository, oldest first."""

    def identity(self) -> str:
        """Who the token writes as, as `Comment.author` names an issue's author."""
        ...

    def open_issues(self) -> Iterator[Comment]: ...

    def open(self, title: str, body: str) -> Comment: ...

    def update(self, number: int, body: str) -> Comment: ...

    def close(self, number: int, body: str) -> Comment: ...


class GitHubIssues:
    def __init__(self, rest: Rest, repository: str, *, author: str = "") -> None:
        self.rest, self.path = rest, f"/repos/{repository}/issues"
        self._author = author.strip().casefold()

    def identity(self) -> str:
        if not self._author:
            self._author = github.token_login(self.rest).casefold()
        return self._author

    def open_issues(self) -> Iterator[Comment]:
        query = "?state=open&sort=created&direction=asc&per_page=100"
        for item in github.pages(self.rest, self.path + query):
            if "pull_request" not in item:
                yield _github_issue(item)

    def open(self, title: str, body: str) -> Comment:
        return _github_issue(self.rest.call("POST", self.path, {"title": title, "body": body}).data)

    def update(self, number: int, body: str) -> Comment:
        return _github_issue(self.rest.call("PATCH", f"{self.path}/{number}", {"body": body}).data)

    def close(self, number: int, body: str) -> Comment:
        change = {"body": body, "state": "closed", "state_reason": "completed"}
        return _github_issue(self.rest.call("PATCH", f"{self.path}/{number}", change).data)


def _github_issue(item: Any) -> Comment:
    user = item.get("user") or {}
    login = str(user.get("login", "")).casefold()
    return Comment(int(item["number"]), item.get("body") or "", login)


class GitLabIssues:
    def __init__(self, rest: Rest, project: str) -> None:
        self.rest, self.path = rest, f"/projects/{quote(project, safe='')}/issues"
        self._me = ""

    def identity(self) -> str:
        if not self._me:
            self._me = gitlab.token_user_id(self.rest)
        return self._me

    def open_issues(self) -> Iterator[Comment]:
        query = "state=opened&sort=asc&order_by=created_at"
        yield from (_gitlab_issue(i) for i in gitlab.pages(self.rest, self.path, query))

    def open(self, title: str, body: str) -> Comment:
        reply = self.rest.call("POST", self.path, {"title": title, "description": body})
        return _gitlab_issue(reply.data)

    def update(self, number: int, body: str) -> Comment:
        reply = self.rest.call("PUT", f"{self.path}/{number}", {"description": body})
        return _gitlab_issue(reply.data)

    def close(self, number: int, body: str) -> Comment:
        change = {"description": body, "state_event": "close"}
        return _gitlab_issue(self.rest.call("PUT", f"{self.path}/{number}", change).data)


def _gitlab_issue(item: Any) -> Comment:
    author = item.get("author") or {}
    return Comment(int(item["iid"]), item.get("description") or "", str(author.get("id", "")))
