"""The pull-request comment against a hostile pull-request author and a hostile or busy
forge, on the fake GitHub and GitLab of tests/ci (real loopback sockets).

- A pull request's author plants the plan marker in a comment of their own, older than
  the bot's: the bot's own comment is updated, theirs is never edited nor deleted.
- A `Link: rel="next"` names another origin: nothing is sent there, least of all the token.
- A 429 or a secondary rate limit: the plan is still posted once the forge's wait has
  passed (waits recorded, never slept); only a real permission refusal is the fork case.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from email.utils import formatdate
from pathlib import Path

import httpx
import pytest

from provisioner.ci import github, gitlab, sticky
from provisioner.ci.rest import Rest
from provisioner.ci.steps import Result
from tests.ci import fake_forge
from tests.ci.fake_forge import Fault, Forge, User

PR = 7
MARK = sticky.marker()
PLAN = Result("plan", 2, markdown="### provision plan\n\n**Plan: 2 to add, 0 unchanged.**\n")
PLANTED = f"{MARK}\n### provision plan\n\n**Plan: 0 to add.** Nothing to see here, merge away."
ACTIONS_TOKEN = "ghs_actionsInstallationToken0123456789"
APP_TOKEN = "ghs_appInstallationToken0123456789ab"
PAT = "github_pat_0123456789abcdefghijklmnop"
NOTE_TOKEN = "glpat-projectNoteToken-0123456789"
NOW = 1_800_000_000.0  # the fake clock's epoch seconds


@pytest.fixture
def hub() -> Iterator[Forge]:
    tokens = {
        ACTIONS_TOKEN: User("github-actions"),  # the Actions GITHUB_TOKEN
        APP_TOKEN: User("acme-provisioner"),  # a GitHub App's installation token
        PAT: User("acme-ops", bot=False),  # a machine user's personal access token
    }
    with fake_forge.serve(Forge("github", tokens)) as forge:
        yield forge


@pytest.fixture
def lab() -> Iterator[Forge]:
    with fake_forge.serve(Forge("gitlab", {NOTE_TOKEN: User("project_42_bot")})) as forge:
        yield forge


@pytest.fixture
def elsewhere() -> Iterator[Forge]:
    """Another server on loopback that would gladly take the same tokens."""
    tokens = {ACTIONS_TOKEN: User("github-actions")}
    with fake_forge.serve(Forge("github", tokens)) as forge:
        yield forge


def on_github(hub: Forge, tmp_path: Path, token: str, **env: str) -> sticky.Outcome | None:
    """The action's comment step, as `main` calls it, for pull request PR."""
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": PR, "head": {"sha": "3f9c2e1"}}}))
    environ = {
        "GITHUB_TOKEN": token,
        "GITHUB_API_URL": hub.url,
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_REPOSITORY": hub.project,
        **env,
    }
    return github.post_comment(PLAN, environ, _Log())


def on_gitlab(lab: Forge) -> sticky.Outcome | None:
    environ = {
        "CI_MERGE_REQUEST_IID": str(PR),
        "PROVISION_NOTE_TOKEN": NOTE_TOKEN,
        "CI_API_V4_URL": f"{lab.url}/api/v4",
        "CI_PROJECT_ID": str(lab.project_id),
    }
    return gitlab.post_note(PLAN, environ, _Log())


class _Log:
    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


def body_of(forge: Forge, comment_id: int) -> str:
    [body] = [c["body"] for c in forge.comments[PR] if c["id"] == comment_id]
    return body


# --- 3. the sticky comment cannot be hijacked ------------------------------------------


@pytest.mark.parametrize(
    ("token", "bot", "env"),
    [
        (ACTIONS_TOKEN, "github-actions[bot]", {}),
        (APP_TOKEN, "acme-provisioner[bot]", {}),
        (PAT, "acme-ops", {}),
        (ACTIONS_TOKEN, "github-actions[bot]", {"PROVISION_COMMENT_AUTHOR": "github-actions[bot]"}),
    ],
    ids=["actions-token", "app-token", "personal-token", "comment-author-input"],
)
def test_a_planted_marker_on_github_is_left_alone_and_the_bots_comment_updated(
    hub: Forge, tmp_path: Path, token: str, bot: str, env: dict[str, str]
) -> None:
    planted = hub.add(PR, PLANTED, "mallory")  # the pull request's author, first
    hub.add(PR, "LGTM once the plan is green", "alice")
    mine = hub.add(PR, f"{MARK}\nthe plan of the previous push", bot)
    outcome = on_github(hub, tmp_path, token, **env)
    assert outcome is not None
    assert (outcome.action, outcome.comment.id, outcome.ignored) == (
        "updated",
        mine["id"],
        (planted["id"],),
    )
    assert body_of(hub, mine["id"]).startswith(f"{MARK}\n### provision plan\n\n**Plan: 2 to add")
    assert body_of(hub, planted["id"]) == PLANTED
    assert len(hub.comments[PR]) == 3
    edits = [(m, p) for m, p in hub.requests if m in ("PATCH", "DELETE")]
    assert edits == [("PATCH", f"/repos/acme/manifests/issues/comments/{mine['id']}")]


def test_a_planted_marker_alone_gets_the_bot_a_comment_of_its_own(
    hub: Forge, tmp_path: Path
) -> None:
    planted = hub.add(PR, PLANTED, "mallory")
    outcome = on_github(hub, tmp_path, ACTIONS_TOKEN)
    assert outcome is not None and outcome.action == "created"
    assert hub.bodies(PR)[0] == PLANTED
    [created] = hub.comments[PR][1:]
    assert created["user"]["login"] == "github-actions[bot]"
    assert outcome.ignored == (planted["id"],)


def test_a_user_named_like_the_app_is_not_the_app(hub: Forge, tmp_path: Path) -> None:
    # `acme-provisioner` can be a person's login; the app writes as `acme-provisioner[bot]`.
    planted = hub.add(PR, PLANTED, "acme-provisioner")
    outcome = on_github(hub, tmp_path, APP_TOKEN)
    assert outcome is not None and outcome.action == "created"
    assert body_of(hub, planted["id"]) == PLANTED


def test_planted_duplicates_are_never_deleted(hub: Forge, tmp_path: Path) -> None:
    mine = hub.add(PR, f"{MARK}\nold plan", "github-actions[bot]")
    planted = [hub.add(PR, PLANTED, "mallory") for _ in range(2)]
    outcome = on_github(hub, tmp_path, ACTIONS_TOKEN)
    assert outcome is not None
    assert (outcome.action, outcome.comment.id, outcome.removed) == ("updated", mine["id"], ())
    assert [body_of(hub, p["id"]) for p in planted] == [PLANTED, PLANTED]


def test_a_planted_marker_on_gitlab_is_left_alone_and_the_bots_note_updated(lab: Forge) -> None:
    planted = lab.add(PR, PLANTED, "mallory")
    mine = lab.add(PR, f"{MARK}\nthe plan of the previous push", "project_42_bot")
    outcome = on_gitlab(lab)
    assert outcome is not None
    assert (outcome.action, outcome.comment.id, outcome.ignored) == (
        "updated",
        mine["id"],
        (planted["id"],),
    )
    assert body_of(lab, planted["id"]) == PLANTED
    assert body_of(lab, mine["id"]).startswith(f"{MARK}\n### provision plan\n")


def test_gitlab_tells_notes_apart_by_author_id_not_username(lab: Forge) -> None:
    # The bot's username, held by another account (the bot was renamed, the name taken).
    impostor = lab.add(PR, PLANTED, "mallory")
    impostor["author"]["username"] = "project_42_bot"
    outcome = on_gitlab(lab)
    assert outcome is not None and outcome.action == "created"
    assert body_of(lab, impostor["id"]) == PLANTED


def test_the_log_names_what_was_left_alone() -> None:
    kept = sticky.Comment(1003, "plan", "github-actions[bot]")
    one = sticky.Outcome("updated", kept, ignored=(1001,))
    two = sticky.Outcome("created", kept, ignored=(1001, 1002))
    assert sticky.ignored_note(one, "comment") == (
        "Left alone 1 other comment (id 1001) that starts with the plan marker but was not "
        "written by this token.\n"
    )
    assert sticky.ignored_note(two, "note") == (
        "Left alone 2 other notes (id 1001, 1002) that start with the plan marker but were "
        "not written by this token.\n"
    )
    assert sticky.ignored_note(sticky.Outcome("created", kept), "comment") == ""


# --- 8. the forge client: foreign links, rate limits ------------------------------------


class Clock:
    """The client's sleep and clock: waits are recorded and pass at once."""

    def __init__(self) -> None:
        self.now = NOW
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def time(self) -> float:
        return self.now


OPEN: list[Rest] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while OPEN:
        OPEN.pop().__exit__(None, None, None)


def thread(forge: Forge, clock: Clock) -> sticky.Thread:
    if forge.kind == "github":
        headers = {"Authorization": f"Bearer {ACTIONS_TOKEN}"}
        rest = Rest(forge.url, headers, token=ACTIONS_TOKEN, sleep=clock.sleep, clock=clock.time)
        OPEN.append(rest)
        return github.IssueThread(rest, forge.project, PR)
    headers = {"PRIVATE-TOKEN": NOTE_TOKEN}
    base = f"{forge.url}/api/v4"
    rest = Rest(base, headers, token=NOTE_TOKEN, sleep=clock.sleep, clock=clock.time)
    OPEN.append(rest)
    return gitlab.MergeRequestNotes(rest, forge.project, PR)


def test_a_next_link_to_another_origin_is_refused_before_the_token_goes_there(
    hub: Forge, elsewhere: Forge
) -> None:
    for i in range(150):  # two pages: the first one's Link names the other server
        hub.add(PR, f"review comment {i}", "alice")
    hub.link_origin = elsewhere.url
    with pytest.raises(sticky.ForgeError) as caught:
        sticky.upsert(thread(hub, Clock()), MARK, f"{MARK}\nplan")
    assert str(caught.value) == (
        f"GET {elsewhere.url}/repos/acme/manifests/issues/{PR}/comments: refused to follow a "
        f"link to {elsewhere.url}, another origin than the API's ({hub.url}), which would "
        "receive the token; check the API URL and any proxy that rewrites links"
    )
    assert (elsewhere.requests, elsewhere.credentials) == ([], [])
    assert len(hub.comments[PR]) == 150  # a listing read short posts nothing


@pytest.mark.parametrize(
    "href",
    [
        "https://127.0.0.1:{port}/page2",  # same host, another scheme
        "http://127.0.0.1:{other}/page2",  # same host, another port
        "http://127.0.0.1:{port}@collector.test/page2",  # userinfo: the host is collector.test
        "http://localhost:{port}/page2",  # the same machine, but not the same origin
        "http://collector.test/page2\r\nX-Injected: 1",
    ],
)
def test_every_other_origin_is_refused(href: str) -> None:
    seen: list[str] = []

    def forge(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        if request.url.path == "/user":
            return httpx.Response(200, json={"login": "acme-ops"})
        link = f'<{href.format(port=8443, other=8444)}>; rel="next"'
        return httpx.Response(200, json=[], headers={"Link": link.replace("\r\n", " ")})

    rest = Rest(
        "http://127.0.0.1:8443", {}, token="tok-elsewhere-1", transport=httpx.MockTransport(forge)
    )
    OPEN.append(rest)
    with pytest.raises(sticky.ForgeError, match=r"refused to follow a link to \S+, another"):
        sticky.upsert(github.IssueThread(rest, "acme/manifests", PR), MARK, "x")
    assert all(url.startswith("http://127.0.0.1:8443/") for url in seen), seen


SECONDARY = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
)


@pytest.mark.parametrize(
    ("fault", "waited"),
    [
        (Fault(429, {"Retry-After": "7"}, "Too Many Requests"), 7.0),
        (Fault(403, {"Retry-After": "30"}, SECONDARY), 30.0),
        (Fault(403, {}, SECONDARY), 60.0),  # no header: GitHub says wait a minute
        (Fault(429, {"Retry-After": formatdate(NOW + 20, usegmt=True)}, "Slow down"), 20.0),
        (
            Fault(
                403,
                {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) + 42)},
                "API rate limit exceeded for installation ID 4242.",
            ),
            42.0,
        ),
    ],
    ids=[
        "429-retry-after",
        "secondary-403-retry-after",
        "secondary-403-bare",
        "429-retry-after-date",
        "primary-403",
    ],
)
def test_a_rate_limited_create_is_posted_after_the_wait(
    hub: Forge, fault: Fault, waited: float
) -> None:
    clock = Clock()
    comments = thread(hub, clock)
    comments.identity()
    hub.faults = [0, fault]  # the listing answers; the create is refused once
    outcome = sticky.upsert(comments, MARK, f"{MARK}\nplan")
    assert outcome.action == "created"
    assert hub.bodies(PR) == [f"{MARK}\nplan"]
    assert clock.slept == [waited]


def test_a_gitlab_429_on_the_listing_is_waited_out(lab: Forge) -> None:
    clock = Clock()
    reset = {"RateLimit-Remaining": "0", "RateLimit-Reset": str(int(NOW) + 12)}
    lab.faults = [0, Fault(429, {"Retry-After": "12", **reset}, "429 Too Many Requests")]
    outcome = sticky.upsert(thread(lab, clock), MARK, f"{MARK}\nplan")
    assert outcome.action == "created" and lab.bodies(PR) == [f"{MARK}\nplan"]
    assert clock.slept == [12.0]


def test_a_permission_refusal_is_the_fork_case_at_once(hub: Forge) -> None:
    hub.tokens[ACTIONS_TOKEN].can_write = False
    clock = Clock()
    with pytest.raises(sticky.Forbidden) as caught:
        sticky.upsert(thread(hub, clock), MARK, f"{MARK}\nplan")
    assert str(caught.value) == (
        f"POST {hub.url}/repos/acme/manifests/issues/{PR}/comments: HTTP 403: "
        "Resource not accessible by integration"
    )
    assert clock.slept == []


def test_a_limit_that_resets_in_an_hour_fails_now_and_says_so(hub: Forge) -> None:
    clock = Clock()
    comments = thread(hub, clock)
    comments.identity()
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) + 3600)}
    hub.faults = [Fault(403, headers, "API rate limit exceeded for installation ID 4242.")]
    with pytest.raises(sticky.ForgeError) as caught:
        sticky.upsert(comments, MARK, f"{MARK}\nplan")
    assert not isinstance(caught.value, sticky.Forbidden)  # not "a pull request from a fork"
    assert str(caught.value) == (
        f"GET {hub.url}/repos/acme/manifests/issues/{PR}/comments: HTTP 403: API rate limit "
        "exceeded for installation ID 4242. (rate limited for 3600 s more; provision waits at "
        "most 180 s in one run); run the job again later"
    )
    assert clock.slept == [] and hub.comments == {}


def test_rate_limit_retries_are_bounded(hub: Forge) -> None:
    clock = Clock()
    comments = thread(hub, clock)
    comments.identity()
    hub.faults = [Fault(429, {"Retry-After": "1"}, "Too Many Requests")] * 5
    with pytest.raises(sticky.ForgeError) as caught:
        sticky.upsert(comments, MARK, f"{MARK}\nplan")
    assert str(caught.value) == (
        f"GET {hub.url}/repos/acme/manifests/issues/{PR}/comments: HTTP 429: Too Many "
        "Requests (still rate limited after 3 waits); run the job again later"
    )
    assert clock.slept == [1.0, 1.0, 1.0]


def test_the_wait_budget_is_for_the_whole_run(hub: Forge) -> None:
    clock = Clock()
    comments = thread(hub, clock)
    comments.identity()
    limit = Fault(429, {"Retry-After": "100"}, "Too Many Requests")
    hub.faults = [limit, 0, limit]  # the listing waits 100 s; the create cannot, 80 s are left
    with pytest.raises(sticky.ForgeError) as caught:
        sticky.upsert(comments, MARK, f"{MARK}\nplan")
    assert str(caught.value) == (
        f"POST {hub.url}/repos/acme/manifests/issues/{PR}/comments: HTTP 429: Too Many "
        "Requests (rate limited for 100 s more; provision waits at most 180 s in one run, "
        "80 s of it left); run the job again later"
    )
    assert clock.slept == [100.0] and hub.comments == {}


def test_a_forge_that_pages_forever_is_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(github, "MAX_PAGES", 5)
    served: list[str] = []

    def forge(request: httpx.Request) -> httpx.Response:
        served.append(request.url.path)
        if request.url.path == "/user":
            return httpx.Response(200, json={"login": "acme-ops"})
        link = f'<http://127.0.0.1:8443/p/{len(served)}>; rel="next"'  # a new page, always
        return httpx.Response(200, json=[], headers={"Link": link})

    rest = Rest(
        "http://127.0.0.1:8443", {}, token="tok-paging-1", transport=httpx.MockTransport(forge)
    )
    OPEN.append(rest)
    with pytest.raises(sticky.ForgeError) as caught:
        sticky.upsert(github.IssueThread(rest, "acme/manifests", PR), MARK, "x")
    assert str(caught.value) == "GET http://127.0.0.1:8443/p/6: more than 5 pages; stopped"
    assert len(served) == 6  # /user and five pages; nothing posted


def test_a_next_link_that_loops_is_stopped() -> None:
    def forge(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/user":
            return httpx.Response(200, json={"login": "acme-ops"})
        link = '<http://127.0.0.1:8443/repos/acme/manifests/issues/7/comments?page=1>; rel="next"'
        return httpx.Response(200, json=[], headers={"Link": link})

    rest = Rest(
        "http://127.0.0.1:8443", {}, token="tok-loop-1", transport=httpx.MockTransport(forge)
    )
    OPEN.append(rest)
    with pytest.raises(sticky.ForgeError) as caught:
        sticky.upsert(github.IssueThread(rest, "acme/manifests", PR), MARK, "x")
    assert str(caught.value) == (
        "GET http://127.0.0.1:8443/repos/acme/manifests/issues/7/comments?page=1: "
        "the next page link loops back"
    )
