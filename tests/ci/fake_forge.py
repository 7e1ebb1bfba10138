"""Fakes of the two forges' comment APIs on a real loopback socket, shaped like the real ones
(their issues endpoints, for the drift issue, are in fake_issues.py).

GitHub (REST v3): `GET/POST /repos/{owner}/{repo}/issues/{n}/comments` (`per_page` default
30, at most 100, `page`; a `Link` header with `rel="next"`/`"last"` in absolute URLs) and
`PATCH/DELETE /repos/{owner}/{repo}/issues/comments/{id}`; 401 "Bad credentials"; 403
"Resource not accessible by integration" for a read-only token (a fork's pull request).
Who a token is: `GET /user` answers a user's token (a PAT) and refuses an installation
token (the Actions `GITHUB_TOKEN`, a GitHub App's) with that same 403; GraphQL's
`POST /graphql` `{ viewer { login } }` answers both, an installation token as the bot it
writes as (`github-actions[bot]`, `<app-slug>[bot]`). A comment's `user` is
`{login, id, type}`, `type` "Bot" for bots.

GitLab (v4): `GET/POST /api/v4/projects/{id}/merge_requests/{iid}/notes` (`per_page`
default 20, at most 100; `X-Page`, `X-Next-Page` empty on the last page, `X-Total-Pages`),
`PUT/DELETE .../notes/{id}`; system notes in the list; `PRIVATE-TOKEN`; 401/403 bodies
`{"message": "401 Unauthorized"}` / `{"message": "403 Forbidden"}`. `GET /api/v4/user` is
the token's user (a project access token's bot user); a note's `author` is
`{id, username, name}`.

Rate limits are injected as faults (`Fault`): GitHub answers a secondary limit with a 403
or 429 and `Retry-After`, an exhausted primary limit with a 403 and
`x-ratelimit-remaining: 0` / `x-ratelimit-reset` (epoch seconds); GitLab with a 429 and
`Retry-After` / `RateLimit-*`.

Tests assert on the state (`comments`) and on `requests`, never on how the client built them.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from . import fake_issues


@dataclass
class User:
    login: str
    can_write: bool = True
    # GitHub: an installation token, writing as `login[bot]` (`GET /user` refuses it).
    bot: bool = True

    def writes_as(self, kind: str) -> str:
        return self.login + "[bot]" if kind == "github" and self.bot else self.login


@dataclass(frozen=True)
class Fault:
    """An answer given instead of the real one: a status, its headers and its message."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    message: str = "Server Error"


@dataclass
class Forge:
    kind: str  # "github" or "gitlab"
    tokens: dict[str, User]
    project: str = "acme/manifests"  # GitHub owner/repo, or GitLab project path
    project_id: int = 42
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    # The credential each request carried (Authorization or PRIVATE-TOKEN), in order.
    credentials: list[str] = field(default_factory=list)
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)
    next_id: int = 1000
    # Answers to give instead, one per coming request: a status (a 502 as GitHub's proxies
    # give) or a Fault (a rate limit with its headers); 0 lets that request through.
    faults: list[int | Fault] = field(default_factory=list)
    # Raw HTML answers with a 200, one per coming request, before the faults (a captive
    # proxy's page).
    html_pages: list[bytes] = field(default_factory=list)
    # GitHub: the origin the `Link` header's absolute URLs name (a proxy that rewrites them,
    # or a hostile server); empty for the forge's own.
    link_origin: str = ""
    # Account ids by login/username, given on first sight, as the forge's are stable.
    ids: dict[str, int] = field(default_factory=dict)
    # The repository's issues, oldest first (fake_issues.py serves them).
    issues: list[dict[str, Any]] = field(default_factory=list)

    def user_id(self, login: str) -> int:
        return self.ids.setdefault(login, 5000 + len(self.ids))

    def add(self, number: int, body: str, login: str, *, system: bool = False) -> dict[str, Any]:
        """A comment already on the pull request (from someone, or from an earlier run)."""
        with self.lock:
            self.next_id += 1
            item: dict[str, Any] = {"id": self.next_id, "body": body}
            if self.kind == "github":
                kind = "Bot" if login.endswith("[bot]") else "User"
                item["user"] = {"login": login, "id": self.user_id(login), "type": kind}
            else:
                author = {"id": self.user_id(login), "username": login, "name": login}
                item.update(author=author, system=system)
            self.comments.setdefault(number, []).append(item)
            return item

    def bodies(self, number: int) -> list[str]:
        return [c["body"] for c in self.comments.get(number, [])]

    def add_issue(self, title: str, text: str, login: str) -> dict[str, Any]:
        """An issue opened in the repository (GitHub: an open pull request is one too)."""
        with self.lock:
            self.next_id += 1
            number = len(self.issues) + 1
            item: dict[str, Any] = {"id": self.next_id, "title": title}
            if self.kind == "github":
                kind = "Bot" if login.endswith("[bot]") else "User"
                user = {"login": login, "id": self.user_id(login), "type": kind}
                item.update(number=number, body=text, state="open", state_reason=None, user=user)
            else:
                author = {"id": self.user_id(login), "username": login, "name": login}
                item.update(iid=number, project_id=self.project_id, description=text)
                item.update(state="opened", author=author)
            self.issues.append(item)
            return item

    def issue(self, number: int) -> dict[str, Any] | None:
        key = "number" if self.kind == "github" else "iid"
        return next((i for i in self.issues if i[key] == number), None)

    def open_issues(self) -> list[dict[str, Any]]:
        return [i for i in self.issues if i["state"] in ("open", "opened")]


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _reply(self, status: int, data: Any = None, headers: dict[str, str] | None = None) -> None:
        body = b"" if data is None else json.dumps(data).encode()
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if body:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        data = json.loads(self.rfile.read(length) or b"{}")
        return data if isinstance(data, dict) else {}

    def _route(self, method: str) -> None:
        forge = self.server.forge
        with forge.lock:
            forge.requests.append((method, self.path))
            credential = self.headers.get("Authorization") or self.headers.get("PRIVATE-TOKEN")
            forge.credentials.append(credential or "")
            fault = forge.faults.pop(0) if forge.faults else None
            page = forge.html_pages.pop(0) if forge.html_pages else None
        if page is not None:
            self._body()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)
            return
        if isinstance(fault, Fault):
            self._body()
            self._reply(fault.status, {"message": fault.message}, fault.headers)
            return
        if fault:
            self._body()
            self._reply(fault, {"message": "Server Error"})
            return
        if forge.kind == "github":
            _github(self, forge, method)
        else:
            _gitlab(self, forge, method)

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def do_PATCH(self) -> None:
        self._route("PATCH")

    def do_PUT(self) -> None:
        self._route("PUT")

    def do_DELETE(self) -> None:
        self._route("DELETE")


def _page(
    items: list[Any], query: dict[str, list[str]], default: int
) -> tuple[list[Any], int, int]:
    per_page = min(int(query.get("per_page", [default])[0]), 100)
    page = max(int(query.get("page", ["1"])[0]), 1)
    last = max(1, -(-len(items) // per_page))
    return items[(page - 1) * per_page : page * per_page], page, last


def _find(forge: Forge, comment_id: int) -> tuple[int, dict[str, Any]] | None:
    for number, items in forge.comments.items():
        for item in items:
            if item["id"] == comment_id:
                return number, item
    return None


def _github(h: _Handler, forge: Forge, method: str) -> None:
    auth = h.headers.get("Authorization", "")
    user = forge.tokens.get(auth.removeprefix("Bearer ")) if auth.startswith("Bearer ") else None
    if user is None:
        h._reply(
            401, {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"}
        )
        return
    parts = urlsplit(h.path)
    query = parse_qs(parts.query)
    if parts.path == "/user" and method == "GET":
        if user.bot:
            docs = "https://docs.github.com/rest/users/users#get-the-authenticated-user"
            refusal = "Resource not accessible by integration"
            h._reply(403, {"message": refusal, "documentation_url": docs, "status": "403"})
        else:
            h._reply(200, {"login": user.login, "id": forge.user_id(user.login), "type": "User"})
        return
    if parts.path == "/graphql" and method == "POST":  # a query: read-only tokens too
        text = str(h._body().get("query", ""))
        if re.search(r"\bviewer\s*\{\s*login\s*\}", text):
            h._reply(200, {"data": {"viewer": {"login": user.writes_as("github")}}})
        else:
            h._reply(200, {"errors": [{"message": "this fake answers { viewer { login } } only"}]})
        return
    if fake_issues.github(h, forge, method, user):
        return
    prefix = f"/repos/{forge.project}/issues/"
    listing = re.fullmatch(re.escape(prefix) + r"(\d+)/comments", parts.path)
    single = re.fullmatch(re.escape(prefix) + r"comments/(\d+)", parts.path)
    if method != "GET" and not user.can_write:
        h._reply(403, {"message": "Resource not accessible by integration", "status": "403"})
        return
    if listing and method == "GET":
        number = int(listing.group(1))
        items, page, last = _page(forge.comments.get(number, []), query, 30)
        per_page = min(int(query.get("per_page", ["30"])[0]), 100)
        links = []
        base = f"{forge.link_origin or forge.url}{parts.path}?per_page={per_page}&page="
        if page < last:
            links.append(f'<{base}{page + 1}>; rel="next"')
            links.append(f'<{base}{last}>; rel="last"')
        h._reply(200, items, {"Link": ", ".join(links)} if links else None)
    elif listing and method == "POST":
        h._reply(201, forge.add(int(listing.group(1)), h._body()["body"], user.writes_as("github")))
    elif single and method in ("PATCH", "DELETE"):
        found = _find(forge, int(single.group(1)))
        if found is None:
            h._reply(404, {"message": "Not Found"})
        elif method == "PATCH":
            with forge.lock:
                found[1]["body"] = h._body()["body"]
            h._reply(200, found[1])
        else:
            with forge.lock:
                forge.comments[found[0]].remove(found[1])
            h._reply(204)
    else:
        h._reply(404, {"message": "Not Found"})


def _gitlab(h: _Handler, forge: Forge, method: str) -> None:
    user = forge.tokens.get(h.headers.get("PRIVATE-TOKEN", ""))
    if user is None:
        h._reply(401, {"message": "401 Unauthorized"})
        return
    parts = urlsplit(h.path)
    query = parse_qs(parts.query)
    if parts.path == "/api/v4/user" and method == "GET":
        me = {"id": forge.user_id(user.login), "username": user.login, "name": user.login}
        h._reply(200, {**me, "bot": user.bot, "state": "active"})
        return
    project = re.match(r"/api/v4/projects/([^/]+)/", parts.path)
    if project and fake_issues.gitlab(h, forge, method, user, project.group(1)):
        return
    projects = {str(forge.project_id), forge.project.replace("/", "%2F")}
    match = re.fullmatch(
        r"/api/v4/projects/([^/]+)/merge_requests/(\d+)/notes(?:/(\d+))?", parts.path
    )
    if not match or match.group(1) not in projects:
        h._reply(404, {"message": "404 Project Not Found"})
        return
    number, note = int(match.group(2)), match.group(3)
    if method != "GET" and not user.can_write:
        h._reply(403, {"message": "403 Forbidden"})
        return
    if note is None and method == "GET":
        items, page, last = _page(forge.comments.get(number, []), query, 20)
        headers = {
            "X-Page": str(page),
            "X-Next-Page": str(page + 1) if page < last else "",
            "X-Total-Pages": str(last),
        }
        h._reply(200, items, headers)
    elif note is None and method == "POST":
        h._reply(201, forge.add(number, h._body()["body"], user.login))
    elif note is not None and method in ("PUT", "DELETE"):
        found = _find(forge, int(note))
        if found is None or found[0] != number:
            h._reply(404, {"message": "404 Not found"})
        elif method == "PUT":
            with forge.lock:
                found[1]["body"] = h._body()["body"]
            h._reply(200, found[1])
        else:
            with forge.lock:
                forge.comments[number].remove(found[1])
            h._reply(204)
    else:
        h._reply(404, {"message": "404 Not found"})


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, forge: Forge) -> None:
        self.forge = forge
        super().__init__(("127.0.0.1", 0), _Handler)


@contextmanager
def serve(forge: Forge) -> Iterator[Forge]:
    server = _Server(forge)
    forge.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield forge
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
