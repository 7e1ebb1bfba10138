"""Scheduled drift detection: the Action's `mode: drift` and the GitLab drift component, run
as a runner runs them against the emulator and the fake forges. One issue opens when the
sandboxes differ from the manifests, stays one while they do, and closes when they match;
a failed plan leaves it alone; issues someone else opened are never touched."""

from __future__ import annotations

from pathlib import Path

from provisioner.ci import drift
from provisioner.emulator import Emulator, RunningServer

from .action_runner import StepRun, run_step
from .conftest import GITHUB_TOKEN, GITLAB_TOKEN, SECRETS, base_env
from .fake_forge import Forge
from .test_gitlab_component import gitlab_env, interpolate, run_job

MARK = drift.marker()
RUN = "https://github.example.test/acme/manifests/actions/runs/9001"


def scheduled(repo: Path, env: dict[str, str], tmp: Path, github: Forge, **inputs: str) -> StepRun:
    return run_step(
        "provision",
        cwd=repo,
        base_env=env,
        inputs={"mode": "drift", **inputs},
        tmp=tmp,
        token=GITHUB_TOKEN,
        api_url=github.url,
    )


def test_github_drift_opens_one_issue_keeps_it_and_closes_it_when_gone(
    repo: Path, tmp_path: Path, aep: RunningServer, emulator: Emulator, github: Forge
) -> None:
    env = base_env(aep, emulator, tmp_path)
    planted = github.add_issue("Drift!", f"{MARK}\nnothing to see", "mallory")
    github.add_issue("A pull request", "", "alice")["pull_request"] = {"url": "x"}
    first = scheduled(repo, env, tmp_path / "run1", github)
    assert first.code == 0, first.log  # drift is reported by the issue, not a red run
    assert (first.outputs["exitcode"], first.outputs["add"]) == ("2", "2")
    [mine] = [i for i in github.open_issues() if i["user"]["login"] == "github-actions[bot]"]
    assert first.outputs["drift-issue"] == str(mine["number"])
    assert f"Drift issue opened (#{mine['number']}).\n" in first.log
    assert mine["title"] == "provision: the AEP sandboxes differ from the manifests"
    assert mine["body"].startswith(
        f"{MARK}\nA scheduled `provision plan --detailed-exitcode` found the sandboxes differ "
        "from the manifests"
    )
    assert "**Plan: 2 to add, 0 unchanged" in mine["body"]
    assert mine["body"].endswith(f"<sub>Seen by [this run]({RUN}) · provision</sub>")

    again = scheduled(repo, env, tmp_path / "run2", github)
    assert again.code == 0, again.log
    assert f"Drift issue unchanged (#{mine['number']}).\n" in again.log
    assert len(github.open_issues()) == 3  # still one of ours; the others untouched

    applied = run_step(
        "provision", cwd=repo, base_env=env, inputs={"mode": "apply"},
        tmp=tmp_path / "apply", token=GITHUB_TOKEN, api_url=github.url,
    )  # fmt: skip
    assert applied.code == 0, applied.log
    gone = scheduled(repo, env, tmp_path / "run3", github)
    assert gone.code == 0, gone.log
    assert gone.outputs["exitcode"] == "0" and "drift-issue" not in gone.outputs
    assert f"Drift issue closed (#{mine['number']}).\n" in gone.log
    closed = github.issue(mine["number"])
    assert closed is not None
    assert (closed["state"], closed["state_reason"]) == ("closed", "completed")
    assert closed["body"].startswith(
        f"{MARK}\n**Resolved: [this run]({RUN}) found the sandboxes match the manifests.**\n\n"
        "A scheduled `provision plan"
    )
    assert github.issue(planted["number"]) == planted  # someone else's, never edited

    quiet = scheduled(repo, env, tmp_path / "run4", github)
    assert quiet.code == 0 and "No drift, and no drift issue open.\n" in quiet.log
    for run in (first, again, gone, quiet):
        for secret in (*SECRETS.values(), GITHUB_TOKEN):
            assert secret not in run.log
    writes = [r for r in github.requests if r[0] in ("POST", "PATCH")]
    assert [m for m, _ in writes].count("PATCH") == 1  # only the closing edit


def test_github_drift_reopens_with_a_new_issue_and_a_failed_plan_touches_nothing(
    repo: Path, tmp_path: Path, aep: RunningServer, emulator: Emulator, github: Forge
) -> None:
    env = base_env(aep, emulator, tmp_path)
    first = scheduled(repo, env, tmp_path / "run1", github, lifecycle="--no-update")
    assert first.code == 0, first.log
    [issue] = github.open_issues()
    broken = {k: v for k, v in env.items() if k != "AEP_CLIENT_SECRET"}
    failed = scheduled(repo, broken, tmp_path / "run2", github)
    assert failed.code == 1
    assert "Drift issue" not in failed.log
    assert github.open_issues() == [issue]  # not knowing is not "no drift"
    assert "::error title=provision plan::failed, see the lines above" in failed.log


def test_a_token_that_may_not_open_issues_fails_the_drift_run(
    repo: Path, tmp_path: Path, aep: RunningServer, emulator: Emulator, github: Forge
) -> None:
    from .conftest import READONLY_TOKEN

    run = run_step(
        "provision", cwd=repo, base_env=base_env(aep, emulator, tmp_path),
        inputs={"mode": "drift"}, tmp=tmp_path / "run", token=READONLY_TOKEN,
        api_url=github.url,
    )  # fmt: skip
    assert run.code == 1
    [error] = [line for line in run.log.splitlines() if line.startswith("::error")]
    assert error == (
        f"::error title=provision drift issue::POST {github.url}/repos/acme/manifests/issues: "
        "HTTP 403: Resource not accessible by integration (needs `issues: write`)"
    )
    assert github.issues == []


def test_gitlab_drift_component_on_a_schedule(
    repo: Path, tmp_path: Path, aep: RunningServer, emulator: Emulator, gitlab: Forge
) -> None:
    [job] = interpolate("drift", package=".").values()
    assert job["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "schedule"'}]
    env = base_env(aep, emulator, tmp_path)
    extra = {**gitlab_env(gitlab), "CI_PIPELINE_SOURCE": "schedule"}
    del extra["CI_MERGE_REQUEST_IID"]
    first = run_job(job, cwd=repo, env=env, extra=extra)
    assert first.code == 0, first.log
    [issue] = gitlab.open_issues()
    assert issue["author"]["username"] == "project_42_bot"
    assert issue["description"].startswith(f"{MARK}\nA scheduled `provision plan")
    assert f"Drift issue opened (#{issue['iid']}).\n" in first.log
    assert "provision drift: exit 2 (0 no drift, 2 drift, 1 an error)" in first.log
    assert gitlab.comments == {}  # no merge request note

    [apply_job] = interpolate("apply", package=".", sandboxes=["prod", "dev"]).values()
    for sandbox in ("prod", "dev"):
        done = run_job(
            apply_job, cwd=repo, env=env,
            extra={"CI": "true", "SANDBOX": sandbox, "CI_PIPELINE_SOURCE": "push"},
        )  # fmt: skip
        assert done.code == 0, done.log
    gone = run_job(job, cwd=repo, env=env, extra=extra)
    assert gone.code == 0, gone.log
    assert gitlab.open_issues() == []
    assert issue["state"] == "closed"
    assert issue["description"].startswith(f"{MARK}\n**Resolved: [this run](")
    for text in (first.log, gone.log, issue["description"]):
        for secret in (*SECRETS.values(), GITLAB_TOKEN):
            assert secret not in text


def test_two_racing_first_runs_converge_on_one_drift_issue(
    repo: Path, tmp_path: Path, aep: RunningServer, emulator: Emulator, github: Forge
) -> None:
    first = github.add_issue(drift.ISSUE_TITLE, f"{MARK}\nfrom run A", "github-actions[bot]")
    second = github.add_issue(drift.ISSUE_TITLE, f"{MARK}\nfrom run B", "github-actions[bot]")
    run = scheduled(repo, base_env(aep, emulator, tmp_path), tmp_path / "run", github)
    assert run.code == 0, run.log
    assert github.open_issues() == [first]  # the oldest kept, and brought up to date
    assert "**Plan: 2 to add" in first["body"]
    assert second["state"] == "closed"
    assert second["body"] == f"{MARK}\n**Duplicate of #{first['number']}.**\n\nfrom run B"
    assert run.log.count("Drift issue") == 2
    assert f"Drift issue closed (#{second['number']}).\n" in run.log
