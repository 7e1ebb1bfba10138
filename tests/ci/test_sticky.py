"""The sticky comment against fake GitHub and GitLab APIs on a real socket: create, find,
update, paginate, 403, and never a second comment."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from provisioner.ci import rest, sticky
from provisioner.ci.github import IssueThread, github_rest
from provisioner.ci.gitlab import MergeRequestNotes
from provisioner.ci.rest import Rest

from .conftest import GITHUB_TOKEN, GITLAB_TOKEN, READONLY_TOKEN
from .fake_forge import Forge, User

MARK = sticky.marker()
PR = 7


OPEN: list[Rest] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while OPEN:
        OPEN.pop().__exit__(None, None, None)


def github_thread(forge: Forge, token: str = GITHUB_TOKEN) -> IssueThread:
    rest = github_rest({"GITHUB_TOKEN": token, "GITHUB_API_URL": forge.url})
    OPEN.append(rest)
    return IssueThread(rest, forge.project, PR)


def gitlab_notes(forge: Forge, token: str = GITLAB_TOKEN) -> MergeRequestNotes:
    rest = Rest(f"{forge.url}/api/v4", {"PRIVATE-TOKEN": token}, token=token)
    OPEN.append(rest)
    return MergeRequestNotes(rest, forge.project, PR)


@pytest.fixture(params=["github", "gitlab"])
def forge(request: pytest.FixtureRequest) -> Forge:
    value: Forge = request.getfixturevalue(request.param)
    return value


def thread(forge: Forge, token: str | None = None) -> sticky.Thread:
    if forge.kind == "github":
        return github_thread(forge, token or GITHUB_TOKEN)
    return gitlab_notes(forge, token or GITLAB_TOKEN)


def bot(forge: Forge) -> str:
    """Who the default token writes as (conftest: GitHub's Actions token, a GitLab bot)."""
    return "github-actions[bot]" if forge.kind == "github" else "project_42_bot"


def pages_read(forge: Forge) -> int:
    pages = [urlsplit(path).path for method, path in forge.requests if method == "GET"]
    return sum(1 for path in pages if path.endswith(("/comments", "/notes")))


def test_first_run_creates_later_runs_edit_the_same_comment(forge: Forge) -> None:
    forge.add(PR, "LGTM", "alice")
    first = sticky.upsert(thread(forge), MARK, f"{MARK}\nPlan: 2 to add")
    assert first.action == "created"
    second = sticky.upsert(thread(forge), MARK, f"{MARK}\nPlan: 3 to add")
    assert (second.action, second.comment.id) == ("updated", first.comment.id)
    third = sticky.upsert(thread(forge), MARK, f"{MARK}\nPlan: 3 to add")
    assert (third.action, third.comment.id) == ("unchanged", first.comment.id)
    assert forge.bodies(PR) == ["LGTM", f"{MARK}\nPlan: 3 to add"]
    writes = [m for m, path in forge.requests if m != "GET" and path != "/graphql"]
    assert writes == ["POST", "PATCH" if forge.kind == "github" else "PUT"]


def test_the_comment_is_found_past_the_first_pages(forge: Forge) -> None:
    for i in range(230):
        forge.add(PR, f"review comment {i}", "alice")
    mine = forge.add(PR, f"{MARK}\nold plan", bot(forge))
    forge.add(PR, "one more", "bob")
    outcome = sticky.upsert(thread(forge), MARK, f"{MARK}\nnew plan")
    assert (outcome.action, outcome.comment.id) == ("updated", mine["id"])
    assert forge.bodies(PR).count(f"{MARK}\nnew plan") == 1 and len(forge.bodies(PR)) == 232
    assert pages_read(forge) == 3  # 100 a page


def test_a_reply_quoting_the_marker_is_not_ours(forge: Forge) -> None:
    forge.add(PR, f"> {MARK}\n> Plan: 1 to add\nWhy is this added?", "alice")
    outcome = sticky.upsert(thread(forge), MARK, f"{MARK}\nPlan: 1 to add")
    assert outcome.action == "created"
    assert len(forge.bodies(PR)) == 2


def test_gitlab_system_notes_are_skipped(gitlab: Forge) -> None:
    gitlab.add(PR, f"{MARK}\nadded 1 commit", "alice", system=True)
    outcome = sticky.upsert(gitlab_notes(gitlab), MARK, f"{MARK}\nPlan")
    assert outcome.action == "created"


def test_duplicates_from_a_race_converge_on_the_oldest(forge: Forge) -> None:
    oldest = forge.add(PR, f"{MARK}\nplan A", bot(forge))
    forge.add(PR, f"{MARK}\nplan B", bot(forge))
    forge.add(PR, f"{MARK}\nsomeone else's copy", "mallory")
    outcome = sticky.upsert(thread(forge), MARK, f"{MARK}\nplan C")
    assert outcome.comment.id == oldest["id"] and len(outcome.removed) == 1
    assert forge.bodies(PR) == [f"{MARK}\nplan C", f"{MARK}\nsomeone else's copy"]


def test_keys_keep_two_jobs_apart(forge: Forge) -> None:
    prod, nonprod = sticky.marker("prod"), sticky.marker("nonprod")
    sticky.upsert(thread(forge), prod, f"{prod}\nprod plan")
    sticky.upsert(thread(forge), nonprod, f"{nonprod}\nnonprod plan")
    sticky.upsert(thread(forge), prod, f"{prod}\nprod plan 2")
    assert forge.bodies(PR) == [f"{prod}\nprod plan 2", f"{nonprod}\nnonprod plan"]


def test_a_read_only_token_is_forbidden_and_writes_nothing(forge: Forge) -> None:
    token = READONLY_TOKEN if forge.kind == "github" else "glpat-reader"
    with pytest.raises(sticky.Forbidden) as caught:
        sticky.upsert(thread(forge, token), MARK, f"{MARK}\nplan")
    assert caught.value.status == 403
    where = (
        f"POST {forge.url}/repos/acme/manifests/issues/7/comments: HTTP 403: "
        "Resource not accessible by integration"
        if forge.kind == "github"
        else f"POST {forge.url}/api/v4/projects/acme%2Fmanifests/merge_requests/7/notes: "
        "HTTP 403: 403 Forbidden"
    )
    assert str(caught.value) == where
    assert forge.bodies(PR) == []


def test_a_bad_token_is_named_without_showing_it(forge: Forge) -> None:
    with pytest.raises(sticky.ForgeError) as caught:
        sticky.upsert(thread(forge, "not-a-valid-token-123"), MARK, "x")
    assert caught.value.status == 401
    assert "not-a-valid-token-123" not in str(caught.value)
    assert "HTTP 401" in str(caught.value)


def test_an_unreachable_forge_is_one_line() -> None:
    rest = Rest("http://127.0.0.1:9", {}, token="tok-unreachable-1", timeout=2)
    OPEN.append(rest)
    with pytest.raises(sticky.ForgeError) as caught:
        list(IssueThread(rest, "acme/manifests", PR).comments())
    assert str(caught.value).startswith(
        "GET http://127.0.0.1:9/repos/acme/manifests/issues/7/comments: ConnectError:"
    )


def test_compose_keeps_the_marker_and_cuts_the_text() -> None:
    body = sticky.compose(MARK, "x" * 70_000, "<sub>footer</sub>")
    assert len(body) <= sticky.GITHUB_BODY_LIMIT
    assert body.startswith(MARK + "\nxxx") and body.endswith("<sub>footer</sub>")
    assert "cut here" in body
    short = sticky.compose(MARK, "Plan: 1 to add\n", "<sub>f</sub>")
    assert short == f"{MARK}\nPlan: 1 to add\n\n<sub>f</sub>"


@pytest.mark.parametrize("key", ["a b", "x" * 65, "-->", ""])
def test_comment_keys_are_checked(key: str) -> None:
    if key:
        with pytest.raises(sticky.ProvisionError, match="comment key"):
            sticky.marker(key)
    else:
        assert sticky.marker(key) == "<!-- provision-plan -->"


def test_a_passing_server_error_is_retried_but_a_create_is_not(
    forge: Forge, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rest, "RETRY_DELAYS", (0.0, 0.0))
    forge.add(PR, f"{MARK}\nold", bot(forge))
    comments = thread(forge)
    comments.identity()  # known before the faults: they hit the listing
    forge.faults = [502, 503]  # the listing fails twice, then answers
    outcome = sticky.upsert(comments, MARK, f"{MARK}\nnew")
    assert outcome.action == "updated"
    assert forge.bodies(PR) == [f"{MARK}\nnew"]
    assert pages_read(forge) == 3

    forge.comments.clear()
    forge.faults = [0, 502]  # the listing answers, the create fails
    with pytest.raises(sticky.ForgeError, match=r"^POST .*: HTTP 502: Server Error$"):
        sticky.upsert(comments, MARK, f"{MARK}\nnew")
    assert forge.bodies(PR) == []


def test_a_server_error_that_stays_is_one_line(
    forge: Forge, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rest, "RETRY_DELAYS", (0.0, 0.0))
    forge.faults = [504, 504, 504]
    with pytest.raises(sticky.ForgeError) as caught:
        sticky.upsert(thread(forge), MARK, "x")
    assert str(caught.value).startswith("GET ") and str(caught.value).endswith(
        ": HTTP 504: Server Error"
    )


def test_a_page_that_is_not_json_is_one_line(forge: Forge) -> None:
    forge.html_pages = [b"<html><body>\n<h1>Sign in to the proxy</h1>\n</body></html>"]
    with pytest.raises(sticky.ForgeError) as caught:
        sticky.upsert(thread(forge), MARK, "x")
    message = str(caught.value)
    assert message.startswith("GET ")
    assert message.endswith(
        ": HTTP 200 with a body that is not JSON: <html><body> <h1>Sign in to the proxy</h1> "
        "</body></html>"
    )
    assert forge.bodies(PR) == []


@pytest.mark.parametrize(
    ("api", "graphql"),
    [
        ("https://api.github.com", "https://api.github.com/graphql"),
        ("https://ghe.example.test/api/v3/", "https://ghe.example.test/api/graphql"),
        ("https://api.acme.ghe.com", "https://api.acme.ghe.com/graphql"),
    ],
)
def test_graphql_sits_beside_the_rest_api(api: str, graphql: str) -> None:
    from provisioner.ci.github import graphql_url_for

    assert graphql_url_for(api) == graphql


def test_a_token_the_forge_names_no_one_for_is_one_line(github: Forge) -> None:
    github.tokens["ghs_nobody"] = User("", bot=False)  # GET /user answers no login
    with pytest.raises(sticky.ForgeError) as caught:
        sticky.upsert(thread(github, "ghs_nobody"), MARK, "x")
    assert str(caught.value) == (
        "the forge did not say who the token is, so its own comment cannot be told from "
        "others: set the action's comment-author input (e.g. github-actions[bot])"
    )
    assert github.comments == {}
