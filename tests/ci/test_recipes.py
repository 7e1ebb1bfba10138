"""The recipes of docs/pipeline-recipes.md, each a complete pipeline in docs/ci/: the parts
that must agree with each other (an artifact's name where it is uploaded and downloaded, a
plan file where it is saved and applied), with the manifests (every sandbox) and with the
action and components (only inputs they declare). The linters read them too
(test_linters.py), and the action's and components' steps run against fakes elsewhere."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.test_ci_docs import component_inputs, configs_secrets, load

ROOT = Path(__file__).resolve().parents[2]
GITHUB_REVIEWED = ROOT / "docs" / "ci" / "github-reviewed-plan.yml"
GITLAB_REVIEWED = ROOT / "docs" / "ci" / "gitlab-reviewed-plan.yml"
AEP_PAIR = {"AEP_CLIENT_ID", "AEP_CLIENT_SECRET"}


def workflow(path: Path) -> dict[str, Any]:
    data: dict[Any, Any] = load(path)
    if True in data:  # PyYAML reads the bare key `on` as the YAML 1.1 boolean True
        data["on"] = data.pop(True)
    return data


def own_action(job: dict[str, Any]) -> dict[str, Any]:
    [step] = [s for s in job["steps"] if s.get("uses") == "./"]
    return step


def uses(job: dict[str, Any], action: str) -> dict[str, Any]:
    [step] = [s for s in job["steps"] if s.get("uses", "").startswith(f"actions/{action}@")]
    return step


def test_github_reviewed_plan_applies_the_artifact_the_plan_job_uploaded() -> None:
    jobs = workflow(GITHUB_REVIEWED)["jobs"]
    declared = set(load(ROOT / "action.yml")["inputs"])
    sandboxes = sorted(configs_secrets())
    plan, apply = jobs["plan"], jobs["apply"]
    assert sorted(plan["strategy"]["matrix"]["sandbox"]) == sandboxes
    assert sorted(apply["strategy"]["matrix"]["sandbox"]) == sandboxes
    planned, applied = own_action(plan), own_action(apply)
    assert set(planned["with"]) <= declared and set(applied["with"]) <= declared
    assert planned["with"]["plan-file"] == "plan-${{ matrix.sandbox }}.json"
    assert planned["with"]["sandbox"] == applied["with"]["sandbox"] == "${{ matrix.sandbox }}"
    upload, download = uses(plan, "upload-artifact"), uses(apply, "download-artifact")
    assert upload["with"]["path"] == planned["with"]["plan-file"]
    assert download["with"]["name"] == upload["with"]["name"]
    assert download["with"]["run-id"] == "${{ steps.reviewed.outputs.run-id }}"
    assert applied["with"]["plan-file"] == planned["with"]["plan-file"]
    assert applied["with"]["mode"] == "apply" and "lifecycle" not in applied["with"]


def test_github_reviewed_plan_permissions_and_secrets() -> None:
    data = workflow(GITHUB_REVIEWED)
    assert data["permissions"] == {}
    plan, apply = data["jobs"]["plan"], data["jobs"]["apply"]
    assert plan["permissions"] == {"contents": "read", "pull-requests": "write"}
    assert apply["permissions"] == {"contents": "read", "pull-requests": "read", "actions": "read"}
    assert set(own_action(plan)["env"]) == AEP_PAIR  # plan never sees a database secret
    needed = AEP_PAIR.union(*configs_secrets().values())
    assert needed <= set(own_action(apply)["env"])
    assert apply["concurrency"] == {
        "group": "provision-apply-${{ matrix.sandbox }}",
        "cancel-in-progress": False,
    }


def test_gitlab_reviewed_plan_applies_its_sandboxs_plan_after_a_person_starts_it() -> None:
    pipeline = load(GITLAB_REVIEWED)
    includes = {}
    for item in pipeline["include"]:
        name = item["component"].rsplit("/", 1)[1].split("@")[0]
        given = item["inputs"]
        assert set(given) <= set(component_inputs(name)), given
        includes[given.get("job-prefix", "provision") + "-" + name] = given
    assert set(includes) == {"provision-plan", "provision-release-plan", "provision-apply"}
    release, apply = includes["provision-release-plan"], includes["provision-apply"]
    assert release["plan-file"] == apply["plan-file"] == "plan-$SANDBOX.json"
    assert release["sandbox"] == "$SANDBOX" and apply["when"] == "manual"
    sandboxes = sorted(configs_secrets())
    assert sorted(apply["sandboxes"]) == sandboxes
    [matrix] = pipeline["provision-release-plan"]["parallel"]["matrix"]
    assert sorted(matrix["SANDBOX"]) == sandboxes
    assert pipeline["provision-apply"] == {"needs": ["provision-release-plan"]}
    for job in ("provision-plan", "provision-release-plan"):
        assert pipeline[job]["variables"] == {
            "AEP_CLIENT_ID": "$AEP_PLAN_CLIENT_ID",
            "AEP_CLIENT_SECRET": "$AEP_PLAN_CLIENT_SECRET",
        }
    [rule] = pipeline["provision-release-plan"]["rules"]
    assert rule["if"] == "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH"


def test_github_drift_runs_on_a_schedule_with_only_what_it_needs() -> None:
    data = workflow(ROOT / "docs" / "ci" / "github-drift.yml")
    assert data["on"]["schedule"][0]["cron"] and "workflow_dispatch" in data["on"]
    assert data["permissions"] == {}
    job = data["jobs"]["drift"]
    assert job["permissions"] == {"contents": "read", "issues": "write"}
    step = own_action(job)
    assert step["with"]["mode"] == "drift"
    assert set(step["with"]) <= set(load(ROOT / "action.yml")["inputs"])
    assert set(step["env"]) == AEP_PAIR  # a plan: never a database secret


def test_gitlab_drift_includes_the_drift_component_with_the_read_only_credential() -> None:
    pipeline = load(ROOT / "docs" / "ci" / "gitlab-drift.yml")
    [item] = pipeline["include"]
    assert item["component"] == "$CI_SERVER_FQDN/$CI_PROJECT_PATH/drift@$CI_COMMIT_SHA"
    assert set(item["inputs"]) <= set(component_inputs("drift"))
    mandatory = {k for k, v in component_inputs("drift").items() if "default" not in v}
    assert mandatory <= set(item["inputs"])
    assert pipeline["provision-drift"]["variables"] == {
        "AEP_CLIENT_ID": "$AEP_PLAN_CLIENT_ID",
        "AEP_CLIENT_SECRET": "$AEP_PLAN_CLIENT_SECRET",
    }
