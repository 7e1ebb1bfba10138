"""The fake forges' issues endpoints (`fake_forge.py` routes to them), shaped like the real:

GitHub: `GET /repos/{owner}/{repo}/issues` (`state` open by default, `sort`, `direction`,
`per_page` default 30, a `Link` header; pull requests are listed too, with a
`pull_request` key), `POST /repos/{owner}/{repo}/issues` (`title`, `body`; 201),
`PATCH /repos/{owner}/{repo}/issues/{number}` (`body`, `state`, `state_reason`). An issue
is `{id, number, title, body, state, state_reason, user}`.

GitLab: `GET /api/v4/projects/{id}/issues` (`state` opened/closed, `per_page` default 20,
`X-Next-Page`), `POST .../issues` (`title`, `description`; 201), `PUT .../issues/{iid}`
(`description`, `state_event` close/reopen). An issue is `{id, iid, project_id, title,
description, state, author}`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

if TYPE_CHECKING:
    from .fake_forge import Forge, User, _Handler


def github(h: _Handler, forge: Forge, method: str, user: User) -> bool:
    """Answers an issues request; False when the path is not one."""
    parts = urlsplit(h.path)
    base = f"/repos/{forge.project}/issues"
    match = re.fullmatch(re.escape(base) + r"(?:/(\d+))?", parts.path)
    if not match:
        return False
    number = match.group(1)
    if method != "GET" and not user.can_write:
        h._reply(403, {"message": "Resource not accessible by integration", "status": "403"})
    elif number is None and method == "GET":
        query = parse_qs(parts.query)
        state = query.get("state", ["open"])[0]
        items = [i for i in forge.issues if state == "all" or i["state"] == state]
        from .fake_forge import _page

        page_items, page, last = _page(items, query, 30)
        per_page = min(int(query.get("per_page", ["30"])[0]), 100)
        link = f"{forge.url}{base}?state={state}&per_page={per_page}&page="
        headers = {"Link": f'<{link}{page + 1}>; rel="next"'} if page < last else None
        h._reply(200, page_items, headers)
    elif number is None and method == "POST":
        body = h._body()
        h._reply(
            201, forge.add_issue(body["title"], body.get("body", ""), user.writes_as("github"))
        )
    elif number is not None and method == "PATCH":
        issue = forge.issue(int(number))
        if issue is None:
            h._reply(404, {"message": "Not Found"})
            return True
        change = h._body()
        with forge.lock:
            for key in ("body", "title", "state", "state_reason"):
                if key in change:
                    issue[key] = change[key]
        h._reply(200, issue)
    else:
        h._reply(404, {"message": "Not Found"})
    return True


def gitlab(h: _Handler, forge: Forge, method: str, user: User, project: str) -> bool:
    parts = urlsplit(h.path)
    match = re.fullmatch(r"/api/v4/projects/[^/]+/issues(?:/(\d+))?", parts.path)
    if not match:
        return False
    if project not in {str(forge.project_id), forge.project.replace("/", "%2F")}:
        h._reply(404, {"message": "404 Project Not Found"})
        return True
    number = match.group(1)
    if method != "GET" and not user.can_write:
        h._reply(403, {"message": "403 Forbidden"})
    elif number is None and method == "GET":
        from .fake_forge import _page

        query = parse_qs(parts.query)
        state = query.get("state", ["all"])[0]
        items = [i for i in forge.issues if state == "all" or i["state"] == state]
        page_items, page, last = _page(items, query, 20)
        headers = {"X-Page": str(page), "X-Next-Page": str(page + 1) if page < last else ""}
        h._reply(200, page_items, headers)
    elif number is None and method == "POST":
        body = h._body()
        h._reply(201, forge.add_issue(body["title"], body.get("description", ""), user.login))
    elif number is not None and method == "PUT":
        issue = forge.issue(int(number))
        if issue is None:
            h._reply(404, {"message": "404 Not found"})
            return True
        change: dict[str, Any] = h._body()
        with forge.lock:
            for key in ("description", "title"):
                if key in change:
                    issue[key] = change[key]
            event = change.get("state_event")
            if event in ("close", "reopen"):
                issue["state"] = "closed" if event == "close" else "opened"
        h._reply(200, issue)
    else:
        h._reply(404, {"message": "404 Not found"})
    return True
