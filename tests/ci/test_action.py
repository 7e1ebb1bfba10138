"""The GitHub Action (action.yml): its shape, and its step run as a runner runs it, against
the emulator and a fake GitHub on loopback sockets."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from provisioner import __version__
from provisioner.ci import sticky
from provisioner.emulator import Emulator, RunningServer

from .action_runner import ACTION, HEAD_SHA, ROOT, StepRun, action, run_step, step
from .conftest import GITHUB_TOKEN, READONLY_TOKEN, SECRETS, base_env
from .fake_forge import Fault, Forge

PR = 12
PINNED = re.compile(r"^[\w.-]+/[\w.-]+@[0-9a-f]{40}$")
MARK = sticky.marker()


def test_the_action_is_composite_with_pinned_dependencies() -> None:
    spec = action()
    assert spec["runs"]["using"] == "composite"
    uses = [s["uses"] for s in spec["runs"]["steps"] if "uses" in s]
    assert uses and all(PINNED.match(u) for u in uses), uses
    for line in ACTION.read_text(encoding="utf-8").splitlines():
        if re.match(r"\s*- uses:", line):
            assert re.search(r"@[0-9a-f]{40} # v\d+\.\d+\.\d+$", line), line
    install = step("install")["run"]
    assert '--constraint "$GITHUB_ACTION_PATH/constraints.txt"' in install
    assert '"${PROVISION_PACKAGE:-$GITHUB_ACTION_PATH}"' in install


def test_inputs_reach_scripts_only_through_env() -> None:
    # `${{ inputs.x }}` pasted into a script would run whatever a branch or path name holds.
    for s in action()["runs"]["steps"]:
        assert "${{" not in s.get("run", ""), s.get("name")
        for value in s.get("env", {}).values():
            assert str(value).count("${{") <= 1
    assert "secrets." not in ACTION.read_text(encoding="utf-8")


def test_every_output_is_one_the_step_writes() -> None:
    outputs = action()["outputs"]
    for name, spec in outputs.items():
        assert spec["value"] == f"${{{{ steps.provision.outputs.{name} }}}}"
        assert spec["description"]
    for name, spec in action()["inputs"].items():
        assert spec["description"], name


def plan(
    repo: Path,
    env: dict[str, str],
    tmp: Path,
    github: Forge,
    token: str = GITHUB_TOKEN,
    **inputs: str,
) -> StepRun:
    return run_step(
        "provision",
        cwd=repo,
        base_env=env,
        inputs=inputs,
        tmp=tmp,
        token=token,
        pull_request=PR,
        api_url=github.url,
    )


def no_secret_in(run: StepRun, github: Forge) -> None:
    for text in (run.log, run.summary, *github.bodies(PR), *run.outputs.values()):
        for value in (*SECRETS.values(), GITHUB_TOKEN, READONLY_TOKEN):
            assert value not in text


def test_a_pull_request_gets_one_comment_updated_on_every_push(
    repo: Path, tmp_path: Path, aep: RunningServer, emulator: Emulator, github: Forge
) -> None:
    env = base_env(aep, emulator, tmp_path)
    github.add(PR, "Please review", "alice")
    first = plan(repo, env, tmp_path / "run1", github)
    assert first.code == 0, first.log  # changes pending is not a failure
    assert first.outputs == {
        "add": "2",
        "change": "0",
        "delete": "0",
        "unchanged": "0",
        "drifted": "0",
        "errors": "0",
        "unmanaged": "0",
        "exitcode": "2",
        "has-changes": "true",
        "plan-json": str(repo / "plan.json"),
        "comment-id": first.outputs["comment-id"],
    }
    [_, comment] = github.comments[PR]
    assert comment["body"].startswith(
        MARK + "\n### provision plan\n\n**Plan: 2 to add, 0 unchanged"
    )
    assert comment["body"].endswith(
        f"<sub>Planned at {HEAD_SHA[:7]} · "
        "[run](https://github.example.test/acme/manifests/actions/runs/9001) · provision</sub>"
    )
    assert "| prod | azure | 1 | 0 | 0 | 0 | 0 |" in first.summary
    assert "Plan comment created" in first.log
    assert emulator.connections() == []  # plan is read-only

    # After merge: apply mode, a push event (no pull request, so no comment).
    applied = run_step(
        "provision",
        cwd=repo,
        base_env=env,
        inputs={"mode": "apply"},
        tmp=tmp_path / "apply",
        token=GITHUB_TOKEN,
        api_url=github.url,
    )
    assert applied.code == 0, applied.log
    assert (applied.outputs["exitcode"], applied.outputs["add"]) == ("0", "2")
    assert "Apply complete: 2 created." in applied.summary
    assert sorted(r["name"] for r in emulator.connections()) == ["orders-dev", "orders-prod"]

    # The next push to the pull request edits the same comment.
    second = plan(repo, env, tmp_path / "run2", github)
    assert second.code == 0, second.log
    assert (second.outputs["exitcode"], second.outputs["has-changes"]) == ("0", "false")
    assert second.outputs["comment-id"] == first.outputs["comment-id"]
    assert len(github.comments[PR]) == 2
    assert "**Plan: 0 to add, 2 unchanged, 0 drifted.**" in github.comments[PR][1]["body"]
    assert "Plan comment updated" in second.log
    for run in (first, applied, second):
        no_secret_in(run, github)


def test_a_fork_read_only_token_skips_the_comment_and_keeps_the_summary(
    repo: Path, tmp_path: Path, aep: RunningServer, emulator: Emulator, github: Forge
) -> None:
    run = plan(repo, base_env(aep, emulator, tmp_path), tmp_path / "run", github, READONLY_TOKEN)
    assert run.code == 0, run.log
    assert run.outputs["exitcode"] == "2" and "comment-id" not in run.outputs
    assert github.comments == {}
    [warning] = [line for line in run.log.splitlines() if line.startswith("::warning")]
    assert warning == (
        "::warning title=provision::cannot comment on this pull request (a pull request from "
        "a fork gets a read-only token; otherwise grant `pull-requests: write`): POST "
        f"{github.url}/repos/acme/manifests/issues/{PR}/comments: HTTP 403: Resource not "
        "accessible by integration. The plan is in the job summary."
    )
    assert "**Plan: 2 to add" in run.summary
    no_secret_in(run, github)


def test_an_invalid_manifest_fails_and_says_why_in_the_comment(
    repo: Path, tmp_path: Path, aep: RunningServer, emulator: Emulator, github: Forge
) -> None:
    manifest = repo / "configs" / "orders.yaml"
    manifest.write_text(manifest.read_text().replace("ssl: require", "ssl: sometimes"))
    run = plan(repo, base_env(aep, emulator, tmp_path), tmp_path / "run", github)
    assert run.code == 1
    assert run.outputs["exitcode"] == "1"
    [comment] = github.comments[PR]
    assert comment["body"].startswith(f"{MARK}\n### provision validate failed\n")
    assert "configs/orders.yaml:14:" in comment["body"]
    assert "::error title=provision validate::failed, see the lines above" in run.log


def test_missing_credentials_fail_the_plan_and_the_comment_names_them(
    repo: Path, tmp_path: Path, aep: RunningServer, emulator: Emulator, github: Forge
) -> None:
    env = base_env(aep, emulator, tmp_path)
    del env["AEP_CLIENT_SECRET"]
    run = plan(repo, env, tmp_path / "run", github)
    assert run.code == 1
    [comment] = github.comments[PR]
    assert "### provision plan failed" in comment["body"]
    assert "error: AEP_CLIENT_SECRET must be set" in comment["body"]


def test_a_wrong_mode_is_one_error_line(
    repo: Path, tmp_path: Path, aep: RunningServer, emulator: Emulator, github: Forge
) -> None:
    run = plan(repo, base_env(aep, emulator, tmp_path), tmp_path / "run", github, mode="deploy")
    assert (run.code, run.log) == (
        1,
        "::error title=provision::mode 'deploy' is not one of plan, apply, drift\n",
    )
    assert run.outputs == {"exitcode": "1"}


def test_selectors_and_a_comment_key(
    repo: Path, tmp_path: Path, aep: RunningServer, emulator: Emulator, github: Forge
) -> None:
    env = base_env(aep, emulator, tmp_path)
    inputs = {"comment-key": "prod", "lifecycle": "--no-update --prune"}
    run = plan(repo, env, tmp_path / "run", github, sandbox="prod", **inputs)
    assert run.code == 0, run.log
    assert run.outputs["add"] == "1"
    [comment] = github.comments[PR]
    assert comment["body"].startswith("<!-- provision-plan key=prod -->\n")
    assert (
        "$ provision plan configs/ --sandbox prod --no-update --prune --format markdown" in run.log
    )
    wrong = plan(repo, env, tmp_path / "wrong", github, lifecycle="--force")
    assert wrong.code == 1
    assert wrong.log == (
        "::error title=provision::lifecycle '--force': give any of --no-update, "
        "--rotate-secrets, --prune\n"
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
    subprocess.run([*build, "-w", str(out), str(ROOT)], check=True, capture_output=True)
    [built] = out.glob("aep_provision-*.whl")
    return built


def test_the_whole_action_installs_then_plans(
    wheel: Path,
    repo: Path,
    tmp_path: Path,
    aep: RunningServer,
    emulator: Emulator,
    github: Forge,
) -> None:
    """Both steps as a runner runs them: a venv of its own with the pinned dependencies
    (the release wheel as `package`, so no build backend is fetched), then the plan with
    the Python the install step reported."""
    env = base_env(aep, emulator, tmp_path)
    install = run_step(
        "install", cwd=repo, base_env=env, inputs={"package": str(wheel)}, tmp=tmp_path / "install"
    )
    assert install.code == 0, install.log
    venv_python = tmp_path / "install" / "provision-venv" / "bin" / "python"
    assert install.outputs == {"python": str(venv_python)}
    assert install.log.endswith(f"provision {__version__}\n")
    # Later steps of the job find `provision` on PATH, and only it: the caller's python and
    # pip stay the ones found first.
    [added] = (tmp_path / "install" / "path").read_text().splitlines()
    assert [p.name for p in Path(added).iterdir()] == ["provision"]
    later = {**env, "PATH": f"{added}{os.pathsep}{env['PATH']}"}
    expected = {
        "provision --version": f"provision {__version__}",
        "command -v python": str(tmp_path / "bin" / "python"),
        "command -v pip || echo none": shutil.which("pip", path=env["PATH"]) or "none",
    }
    for command, answer in expected.items():
        done = subprocess.run(["bash", "-c", command], env=later, capture_output=True, text=True)
        assert done.stdout.strip() == answer, command
    run = run_step(
        "provision",
        cwd=repo,
        base_env=env,
        inputs={},
        tmp=tmp_path / "plan",
        token=GITHUB_TOKEN,
        pull_request=PR,
        api_url=github.url,
        python=str(venv_python),
    )
    assert run.code == 0, run.log
    assert (run.outputs["exitcode"], run.outputs["add"]) == ("2", "2")
    [comment] = github.comments[PR]
    assert comment["body"].startswith(MARK + "\n### provision plan\n")


def test_a_multi_line_error_stays_one_workflow_command() -> None:
    import io

    from provisioner.ci import github as github_steps

    assert github_steps.command_data("100% sure\nsecond line\r\n") == (
        "100%25 sure%0Asecond line%0D%0A"
    )
    # An error of several lines (secrets listed one per line) is one ::error command.
    log = io.StringIO()
    env = {"INPUT_MODE": "plan", "INPUT_PATHS": "", "GITHUB_OUTPUT": ""}
    code = github_steps.main(env, log)
    assert code == 1
    assert log.getvalue().count("\n") == 1
    assert log.getvalue().startswith("::error title=provision::")


def test_a_planted_marker_does_not_capture_the_plan(
    repo: Path, tmp_path: Path, aep: RunningServer, emulator: Emulator, github: Forge
) -> None:
    """The pull request's author plants the marker in a comment older than the bot's."""
    planted = github.add(PR, f"{MARK}\n**Plan: 0 to add.** Safe to merge.", "mallory")
    env = base_env(aep, emulator, tmp_path)
    first = plan(repo, env, tmp_path / "run1", github)
    assert first.code == 0, first.log
    [_, mine] = github.comments[PR]
    assert mine["user"]["login"] == "github-actions[bot]"
    assert first.outputs["comment-id"] == str(mine["id"])
    assert f"Plan comment created (id {mine['id']}).\n" in first.log
    second = plan(repo, env, tmp_path / "run2", github)
    assert second.outputs["comment-id"] == str(mine["id"])
    assert (
        f"Plan comment unchanged (id {mine['id']}).\nLeft alone 1 other comment "
        f"(id {planted['id']}) that starts with the plan marker but was not written by this "
        "token.\n"
    ) in second.log
    assert github.comments[PR][0] == planted
    assert github.comments[PR][0]["body"] == f"{MARK}\n**Plan: 0 to add.** Safe to merge."
    assert "**Plan: 2 to add" in github.comments[PR][1]["body"]


def test_a_rate_limited_comment_is_posted_not_taken_for_a_fork(
    repo: Path, tmp_path: Path, aep: RunningServer, emulator: Emulator, github: Forge
) -> None:
    # GET /user (refused: an installation token), GraphQL's viewer, the listing, then the
    # create meets GitHub's secondary rate limit once (Retry-After: 0, so nothing sleeps).
    limit = Fault(403, {"Retry-After": "0"}, "You have exceeded a secondary rate limit.")
    github.faults = [0, 0, 0, limit]
    run = plan(repo, base_env(aep, emulator, tmp_path), tmp_path / "run", github)
    assert run.code == 0, run.log
    assert "::warning" not in run.log and "::error" not in run.log
    [comment] = github.comments[PR]
    assert run.outputs["comment-id"] == str(comment["id"])
    assert comment["body"].startswith(MARK + "\n### provision plan\n")
    create = f"/repos/acme/manifests/issues/{PR}/comments"
    posts = [path for method, path in github.requests if method == "POST"]
    assert posts == ["/graphql", create, create]  # the refused create, then the one that landed


def test_apply_runs_the_plan_the_pull_request_reviewed_and_refuses_a_stale_one(
    repo: Path, tmp_path: Path, aep: RunningServer, emulator: Emulator, github: Forge
) -> None:
    env = base_env(aep, emulator, tmp_path)
    for sandbox in ("prod", "dev"):  # the pull request's plan jobs, one per sandbox
        reviewed = plan(
            repo, env, tmp_path / f"plan-{sandbox}", github,
            sandbox=sandbox, **{"plan-file": f"plan-{sandbox}.json", "comment-key": sandbox},
        )  # fmt: skip
        assert reviewed.code == 0, reviewed.log
        assert reviewed.outputs["plan-json"] == str(repo / f"plan-{sandbox}.json")
    assert emulator.connections() == []

    def apply(sandbox: str, plan_file: str, name: str) -> StepRun:
        inputs = {"mode": "apply", "sandbox": sandbox, "plan-file": plan_file}
        return run_step(
            "provision", cwd=repo, base_env=env, inputs=inputs, tmp=tmp_path / name,
            token=GITHUB_TOKEN, api_url=github.url,
        )  # fmt: skip

    applied = apply("prod", "plan-prod.json", "apply-prod")
    assert applied.code == 0, applied.log
    assert "$ provision apply --plan plan-prod.json\n" in applied.log
    assert applied.summary.startswith(
        "### provision apply\n\nThe reviewed plan `plan-prod.json`: **Plan: 1 to add, "
    )
    assert (applied.outputs["add"], applied.outputs["plan-json"]) == (
        "1",
        str(repo / "plan-prod.json"),
    )
    assert [r["name"] for r in emulator.connections()] == ["orders-prod"]

    # Someone creates orders-dev after the review: the reviewed plan is stale, and refused.
    fresh = run_step(
        "provision", cwd=repo, base_env=env, inputs={"mode": "apply", "sandbox": "dev"},
        tmp=tmp_path / "by-hand", token=GITHUB_TOKEN, api_url=github.url,
    )  # fmt: skip
    assert fresh.code == 0, fresh.log
    stale = apply("dev", "plan-dev.json", "apply-dev")
    assert stale.code == 1
    assert (
        "error: plan-dev.json: the plan is stale, nothing was changed; plan again:\n"
        "error:   connection 'orders-dev' in sandbox 'dev' was absent and now exists ("
    ) in stale.log
    assert "the plan is stale, nothing was changed" in stale.summary
    assert stale.summary.startswith(
        "**provision apply failed**: see the [job log](https://github.example.test/acme/"
        "manifests/actions/runs/9001).\n\n### provision apply\n\nThe reviewed plan "
        "`plan-dev.json` was not applied.\n"
    )
    assert sorted(r["name"] for r in emulator.connections()) == ["orders-dev", "orders-prod"]

    # Another sandbox's plan handed to this job is refused before anything runs.
    wrong = apply("prod", "plan-dev.json", "apply-wrong")
    assert (wrong.code, wrong.log) == (
        1,
        "::error title=provision::plan-dev.json was planned for dev, but this job applies "
        "prod: give it the plan made for its sandbox\n",
    )


def test_validate_diagnostics_become_annotations_on_their_lines(
    repo: Path, tmp_path: Path, aep: RunningServer, emulator: Emulator, github: Forge
) -> None:
    """A file name holding `,` and `:` and a message holding `%` stay one command each, with
    the file, line and column GitHub needs to put the error on the diff."""
    manifest = repo / "configs" / "orders.yaml"
    text = manifest.read_text().replace("ssl: require", "ssl: sometimes")
    text = text.replace("database: orders\n", 'database: orders\n      "disk, 100%": full\n')
    manifest.unlink()
    (repo / "configs" / "orders, eu:west.yaml").write_text(text, encoding="utf-8")
    run = plan(repo, base_env(aep, emulator, tmp_path), tmp_path / "run", github)
    assert run.code == 1
    errors = [line for line in run.log.splitlines() if line.startswith("::error")]
    where = "file=configs/orders%2C eu%3Awest.yaml"
    assert errors == [
        f"::error {where},line=12,col=7,title=provision validate::$.connections[0].auth"
        "[\"disk, 100%25\"]: unknown key 'disk, 100%25'; expected one of: database, password, "
        "port, server, ssl, type, username",
        f"::error {where},line=15,col=12,title=provision validate::$.connections[0].auth.ssl: "
        '"sometimes" is not one of: disable, allow, prefer, require, verify-ca, verify-full',
        "::error title=provision validate::failed, see the lines above",
    ]
