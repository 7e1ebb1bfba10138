"""The GitLab CI/CD components (templates/plan.yml, templates/apply.yml): their spec, and
their job scripts run as a runner runs them, against the emulator and a fake GitLab."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from provisioner.ci import signals, sticky
from provisioner.emulator import Emulator, RunningServer

from .conftest import GITLAB_TOKEN, SECRETS, base_env
from .fake_forge import Forge

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"
INPUT = re.compile(r"\$\[\[\s*inputs\.([\w-]+)\s*\]\]")
MR = 5
MARK = sticky.marker()


def header_and_body(name: str) -> tuple[dict[str, Any], str]:
    text = (TEMPLATES / f"{name}.yml").read_text(encoding="utf-8")
    header, body = text.split("\n---\n", 1)
    return yaml.safe_load(header)["spec"]["inputs"], body


def interpolate(name: str, **given: Any) -> dict[str, Any]:
    """What GitLab does at pipeline creation: `$[[ inputs.x ]]` replaced, then parsed."""
    spec, body = header_and_body(name)
    missing = [k for k, v in spec.items() if "default" not in v and k not in given]
    assert not missing, f"mandatory inputs not given: {missing}"

    def value(match: re.Match[str]) -> str:
        key = match.group(1)
        found = given.get(key, spec[key].get("default"))
        return json.dumps(found) if isinstance(found, list) else str(found)

    jobs: dict[str, Any] = yaml.safe_load(INPUT.sub(value, body))
    return jobs


@pytest.mark.parametrize("name", ["plan", "apply", "drift"])
def test_every_input_is_declared_described_and_used(name: str) -> None:
    spec, body = header_and_body(name)
    assert set(INPUT.findall(body)) == set(spec)
    for key, item in spec.items():
        assert item["description"], key


@pytest.mark.parametrize("name", ["plan", "apply", "drift"])
def test_dependencies_are_pinned_as_in_constraints_txt(name: str) -> None:
    pins = [
        line
        for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    ]
    [job] = interpolate(name, package=".", sandboxes=["prod"]).values()
    [install] = job["before_script"]
    listed = install.split("<<'PINS'\n", 1)[1].split("\nPINS\n", 1)[0].splitlines()
    assert listed == pins
    assert (
        '--constraint "${TMPDIR:-/tmp}/provision-constraints.txt" "$PROVISION_PACKAGE"' in install
    )


def test_plan_runs_in_merge_requests_and_apply_on_the_default_branch() -> None:
    [(plan_name, plan)] = interpolate("plan", package=".").items()
    assert plan_name == "provision-plan"
    [rule] = plan["rules"]
    assert rule == {
        "if": '$CI_PIPELINE_SOURCE == "merge_request_event"',
        "changes": ["configs/**/*"],
    }
    assert plan["artifacts"]["reports"] == {
        "dotenv": "provision.env",
        "terraform": signals.TERRAFORM_REPORT,
    }
    assert plan["artifacts"]["when"] == "always"
    [(apply_name, apply)] = interpolate("apply", package=".", sandboxes=["prod", "dev"]).items()
    assert apply_name == "provision-apply"
    for rule in apply["rules"]:
        assert rule["if"].startswith("$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH && ")
    assert apply["parallel"]["matrix"] == [{"SANDBOX": ["prod", "dev"]}]
    assert apply["resource_group"] == "provision-$SANDBOX"
    assert apply["environment"] == {"name": "aep/$SANDBOX"}
    assert apply["variables"]["PROVISION_SANDBOXES"] == "$SANDBOX"


@dataclasses.dataclass(frozen=True)
class JobRun:
    code: int
    log: str
    dotenv: dict[str, str]


def run_job(
    job: Mapping[str, Any], *, cwd: Path, env: Mapping[str, str], extra: Mapping[str, str]
) -> JobRun:
    """The job's `script`, as a shell runner runs it (before_script installs; not here)."""
    variables = {**env, **extra}
    for key, value in job["variables"].items():
        # GitLab expands $VAR in job variables from the ones already defined (the matrix's).
        variables[key] = re.sub(r"\$(\w+)", lambda m: variables.get(m.group(1), ""), str(value))
    script = cwd / ".job.sh"
    script.write_text("\n".join(job["script"]) + "\n", encoding="utf-8")
    command = ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)]
    done = subprocess.run(
        command, cwd=cwd, env=variables, capture_output=True, text=True, stdin=subprocess.DEVNULL
    )
    dotenv_file = cwd / "provision.env"
    dotenv = (
        dict(line.split("=", 1) for line in dotenv_file.read_text().splitlines())
        if dotenv_file.exists()
        else {}
    )
    return JobRun(done.returncode, done.stdout + done.stderr, dotenv)


def gitlab_env(forge: Forge, token: str | None = GITLAB_TOKEN) -> dict[str, str]:
    env = {
        "CI": "true",
        "GITLAB_CI": "true",
        "CI_API_V4_URL": f"{forge.url}/api/v4",
        "CI_PROJECT_ID": "42",
        "CI_PIPELINE_SOURCE": "merge_request_event",
        "CI_MERGE_REQUEST_IID": str(MR),
        "CI_JOB_URL": "https://gitlab.example.test/acme/manifests/-/jobs/77",
        "CI_COMMIT_SHORT_SHA": "9e8d7c6b",
        "CI_JOB_TOKEN": "job-token-never-used-1234",
    }
    if token:
        env["PROVISION_NOTE_TOKEN"] = token
    return env


def test_a_merge_request_gets_one_note_updated_on_every_push(
    repo: Path, tmp_path: Path, aep: RunningServer, emulator: Emulator, gitlab: Forge
) -> None:
    [job] = interpolate("plan", package=".").values()
    env = base_env(aep, emulator, tmp_path)
    gitlab.add(MR, "added 3 commits", "alice", system=True)
    for i in range(25):  # more than one page of notes (20 by default, 100 asked)
        gitlab.add(MR, f"thread {i}", "bob")
    first = run_job(job, cwd=repo, env=env, extra=gitlab_env(gitlab))
    assert first.code == 0, first.log
    assert first.dotenv == {
        "PROVISION_ADD": "2",
        "PROVISION_CHANGE": "0",
        "PROVISION_DELETE": "0",
        "PROVISION_UNCHANGED": "0",
        "PROVISION_DRIFTED": "0",
        "PROVISION_ERRORS": "0",
        "PROVISION_UNMANAGED": "0",
        "PROVISION_EXITCODE": "2",
    }
    assert (repo / "plan.md").is_file() and (repo / "plan.json").is_file()
    note = gitlab.comments[MR][-1]
    assert note["body"].startswith(f"{MARK}\n### provision plan\n\n**Plan: 2 to add")
    assert note["body"].endswith(
        "<sub>Planned at 9e8d7c6b · [job](https://gitlab.example.test/acme/manifests/-/jobs/77)"
        " · provision</sub>"
    )
    assert "Plan note created" in first.log
    assert "provision plan: exit 2 (0 no changes, 2 changes pending, 1 an error)" in first.log

    [apply_job] = interpolate("apply", package=".", sandboxes=["prod", "dev"]).values()
    for sandbox in ("prod", "dev"):
        applied = run_job(
            apply_job,
            cwd=repo,
            env=env,
            extra={"CI": "true", "SANDBOX": sandbox, "CI_PIPELINE_SOURCE": "push"},
        )
        assert applied.code == 0, applied.log
        assert applied.dotenv["PROVISION_ADD"] == "1"
        assert f"$ provision apply configs/ --sandbox {sandbox} --auto-approve" in applied.log
    assert sorted(r["name"] for r in emulator.connections()) == ["orders-dev", "orders-prod"]

    second = run_job(job, cwd=repo, env=env, extra=gitlab_env(gitlab))
    assert second.code == 0, second.log
    report = json.loads((repo / signals.TERRAFORM_REPORT).read_text(encoding="utf-8"))
    assert report == {"create": 0, "update": 0, "delete": 0}
    assert second.dotenv["PROVISION_EXITCODE"] == "0"
    assert [n["id"] for n in gitlab.comments[MR]].count(note["id"]) == 1
    assert len(gitlab.comments[MR]) == 27
    assert "**Plan: 0 to add, 2 unchanged, 0 drifted.**" in gitlab.comments[MR][-1]["body"]
    assert "Plan note updated" in second.log
    for text in (first.log, second.log, *gitlab.bodies(MR)):
        for secret in (*SECRETS.values(), GITLAB_TOKEN):
            assert secret not in text


def test_without_a_note_token_the_plan_stays_in_the_job(
    repo: Path, tmp_path: Path, aep: RunningServer, emulator: Emulator, gitlab: Forge
) -> None:
    [job] = interpolate("plan", package=".").values()
    run = run_job(
        job, cwd=repo, env=base_env(aep, emulator, tmp_path), extra=gitlab_env(gitlab, None)
    )
    assert run.code == 0, run.log
    assert "PROVISION_NOTE_TOKEN is not set: the plan is in the job log and artifacts." in run.log
    assert gitlab.requests == []
    # The merge request widget still shows the counts: a report needs no token.
    report = json.loads((repo / signals.TERRAFORM_REPORT).read_text(encoding="utf-8"))
    assert report == {"create": 2, "update": 0, "delete": 0}


def test_a_token_that_may_not_write_notes_is_a_warning(
    repo: Path, tmp_path: Path, aep: RunningServer, emulator: Emulator, gitlab: Forge
) -> None:
    [job] = interpolate("plan", package=".").values()
    env = base_env(aep, emulator, tmp_path)
    run = run_job(job, cwd=repo, env=env, extra=gitlab_env(gitlab, "glpat-reader"))
    assert run.code == 0, run.log
    assert (
        "WARNING: cannot write the merge request note (the token needs the Reporter role and "
        "`api` scope on this project; a fork's pipeline has none): POST "
        f"{gitlab.url}/api/v4/projects/42/merge_requests/5/notes: HTTP 403: 403 Forbidden"
    ) in run.log
    assert gitlab.comments == {}


def test_a_failing_plan_fails_the_job_and_the_note_says_so(
    repo: Path, tmp_path: Path, aep: RunningServer, emulator: Emulator, gitlab: Forge
) -> None:
    [job] = interpolate("plan", package=".", sandbox="staging").values()
    (repo / signals.TERRAFORM_REPORT).write_text('{"create": 9}')  # an earlier job's
    run = run_job(job, cwd=repo, env=base_env(aep, emulator, tmp_path), extra=gitlab_env(gitlab))
    assert run.code == 1
    assert not (repo / signals.TERRAFORM_REPORT).exists()  # GitLab shows the report failed
    assert run.dotenv["PROVISION_EXITCODE"] == "1"
    [note] = gitlab.comments[MR]
    assert note["body"].startswith(f"{MARK}\n### provision validate failed\n")
    assert "staging" in note["body"]


def test_a_manual_apply_of_the_saved_plan_for_its_sandbox(
    repo: Path, tmp_path: Path, aep: RunningServer, emulator: Emulator, gitlab: Forge
) -> None:
    """The GitLab idiom (as its Terraform template): a plan job per sandbox keeps
    plan-$SANDBOX.json as an artifact, and the manual apply job that `needs:` it applies that
    plan, refused if anything moved since."""
    [planner] = interpolate(
        "plan", package=".", sandbox="$SANDBOX", **{"plan-file": "plan-$SANDBOX.json"}
    ).values()
    assert "$PROVISION_PLAN_FILE" in planner["artifacts"]["paths"]
    [applier] = interpolate(
        "apply", package=".", sandboxes=["prod", "dev"], when="manual",
        **{"plan-file": "plan-$SANDBOX.json"},
    ).values()  # fmt: skip
    assert {rule["when"] for rule in applier["rules"]} == {"manual"}
    env = base_env(aep, emulator, tmp_path)
    planned = run_job(planner, cwd=repo, env=env, extra={"CI": "true", "SANDBOX": "prod"})
    assert planned.code == 0, planned.log
    assert (repo / "plan-prod.json").is_file() and emulator.connections() == []
    applied = run_job(
        applier, cwd=repo, env=env,
        extra={"CI": "true", "SANDBOX": "prod", "CI_PIPELINE_SOURCE": "push"},
    )  # fmt: skip
    assert applied.code == 0, applied.log
    assert "$ provision apply --plan plan-prod.json\n" in applied.log
    assert applied.dotenv["PROVISION_ADD"] == "1"
    assert [r["name"] for r in emulator.connections()] == ["orders-prod"]
    again = run_job(
        applier, cwd=repo, env=env,
        extra={"CI": "true", "SANDBOX": "prod", "CI_PIPELINE_SOURCE": "push"},
    )  # fmt: skip
    assert again.code == 1
    assert "error: plan-prod.json: the plan is stale, nothing was changed; plan again:" in again.log
    assert [r["name"] for r in emulator.connections()] == ["orders-prod"]
