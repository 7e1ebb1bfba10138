"""The pipeline examples in docs/ci/, the action and components they use, and
.pre-commit-hooks.yaml: their structure, and that every `provision` subcommand and option
they name exists in the real CLI parser. What the action's and components' scripts do is
run against fakes in tests/ci/."""

from __future__ import annotations

import argparse
import os
import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from provisioner.cli.main import build_parser
from provisioner.commands import load_desired
from provisioner.manifests.selection import Selection

ROOT = Path(__file__).resolve().parents[1]
GITHUB = ROOT / "docs" / "ci" / "github-actions.yml"
GITLAB = ROOT / "docs" / "ci" / "gitlab-ci.yml"
HOOKS = ROOT / ".pre-commit-hooks.yaml"
PRECOMMIT_EXAMPLE = ROOT / "docs" / "ci" / "pre-commit-config.example.yaml"
PIPELINES_DOC = ROOT / "docs" / "pipelines.md"
LIFECYCLE_DOC = ROOT / "docs" / "lifecycle.md"
VERIFY_DOC = ROOT / "docs" / "verify.md"
ACTION = ROOT / "action.yml"
COMPONENTS = sorted((ROOT / "templates").glob("*.yml"))
RECIPES = sorted((ROOT / "docs" / "ci").glob("*-*.yml"))  # docs/pipeline-recipes.md
YAML_FILES = [GITHUB, GITLAB, HOOKS, PRECOMMIT_EXAMPLE, ACTION, *COMPONENTS]
YAML_FILES += [path for path in RECIPES if path not in YAML_FILES]
ALL_FILES = [*YAML_FILES, PIPELINES_DOC, LIFECYCLE_DOC, VERIFY_DOC]

# The subcommands SPEC.md defines; a word after `provision` in prose is only a command if it
# is one of these. Scripts are stricter: there, any word after `provision` is a subcommand.
SPEC_COMMANDS = {"validate", "render", "plan", "apply", "schema", "emulator", "import", "verify"}
# Being finished while these docs are written: skipped, not failed, until registered.
PENDING_COMMANDS = {"plan", "apply"}
SECRET_NAME = re.compile(r"\$\{?[A-Z0-9_]*(SECRET|PASSWORD|TOKEN|DSN|KEY)[A-Z0-9_]*\}?")
PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")


def load(path: Path) -> Any:
    """The file's YAML; for a component (a spec header, `---`, the jobs), the jobs."""
    return list(yaml.safe_load_all(path.read_text(encoding="utf-8")))[-1]


def configs_secrets() -> dict[str, set[str]]:
    """Sandbox -> the {env: NAME} secrets its connections reference, per the real loader."""
    desired = load_desired([str(ROOT / "configs")], Selection(), [])
    found: dict[str, set[str]] = {c.sandbox: set() for c in desired}
    for connection in desired:
        found[connection.sandbox].update(r.name for r in connection.secrets if r.kind == "env")
    return found


def github() -> dict[str, Any]:
    workflow: dict[Any, Any] = load(GITHUB)
    # PyYAML reads the bare key `on` as the YAML 1.1 boolean True.
    if True in workflow:
        workflow["on"] = workflow.pop(True)
    return workflow


def gitlab() -> dict[str, Any]:
    pipeline: dict[str, Any] = load(GITLAB)
    return pipeline


def gitlab_scripts(job: dict[str, Any]) -> list[str]:
    return [
        line for key in ("before_script", "script", "after_script") for line in job.get(key, [])
    ]


def step_with(job: dict[str, Any], text: str) -> dict[str, Any]:
    steps = [s for s in job["steps"] if text in s.get("run", "")]
    assert len(steps) == 1, f"expected one step running {text!r}, found {len(steps)}"
    return steps[0]


def shell_scripts() -> Iterator[tuple[str, str]]:
    """(where, shell text) for every shell script in the pipeline files."""
    for name, job in github()["jobs"].items():
        for step in job["steps"]:
            if "run" in step:
                yield f"{GITHUB.name}:{name}", step["run"]
    for step in load(ACTION)["runs"]["steps"]:
        if "run" in step:
            yield f"{ACTION.name}:{step.get('id', '')}", step["run"]
    for path in (GITLAB, *COMPONENTS):
        for name, job in load(path).items():
            if isinstance(job, dict):
                for script in gitlab_scripts(job):
                    yield f"{path.name}:{name}", script


# --- provision invocations -------------------------------------------------------------


def invocations_in_shell(script: str) -> Iterator[tuple[str, list[str]]]:
    """(subcommand, arguments) for each `provision` command in a shell script."""
    for line in script.replace("\\\n", " ").splitlines():
        if not re.search(r"(?<![\w./-])provision\s+\S", line):
            continue
        try:
            lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
            lexer.whitespace_split = True
            tokens = list(lexer)
        except ValueError:  # not shell (a line of an embedded script)
            continue
        for index, token in enumerate(tokens[:-1]):
            # `provision --version` is a top-level option, not a subcommand.
            if token != "provision" or tokens[index + 1] in ("--version", "--help"):
                continue
            args: list[str] = []
            for arg in tokens[index + 2 :]:
                if set(arg) <= set("();<>|&"):
                    break
                args.append(arg)
            yield tokens[index + 1], args


def invocations_in_text(text: str) -> Iterator[tuple[str, list[str]]]:
    """`provision <command> ...` in comments and prose, up to a backtick, pipe or `#`."""
    for line in text.splitlines():
        for match in re.finditer(r"(?<![\w./-])provision ([a-z][\w-]*)([^`|#\n]*)", line):
            if match.group(1) in SPEC_COMMANDS:
                yield match.group(1), match.group(2).split()


def all_invocations() -> list[tuple[str, str, list[str]]]:
    """(where, subcommand, arguments) across every file, scripts and comments alike."""
    found = [
        (where, sub, args) for where, s in shell_scripts() for sub, args in invocations_in_shell(s)
    ]
    for hook in load(HOOKS):
        entry = shlex.split(hook["entry"]) + list(hook.get("args", []))
        if entry[0] == "provision":
            found.append((f"{HOOKS.name}:{hook['id']}", entry[1], entry[2:]))
    for path in ALL_FILES:
        text = path.read_text(encoding="utf-8")
        found += [(path.name, sub, args) for sub, args in invocations_in_text(text)]
    return found


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    for action in parser._subparsers._group_actions if parser._subparsers else []:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise AssertionError("build_parser() registers no subcommands")


USED_COMMANDS = sorted({sub for _, sub, _ in all_invocations()})


def test_the_files_use_the_main_commands() -> None:
    assert {"validate", "plan", "apply"} <= set(USED_COMMANDS)


@pytest.mark.parametrize("command", USED_COMMANDS)
def test_every_command_and_option_exists_in_the_cli(command: str) -> None:
    parsers = subcommands()
    if command not in parsers:
        if command in PENDING_COMMANDS:
            pytest.skip(
                f"`provision {command}` is not registered in provisioner.cli.parser.build_parser() "
                "yet; its options in docs/ci/ are checked once it is"
            )
        pytest.fail(f"`provision {command}` is used in the CI docs but is no subcommand")
    actions = {opt: a for a in parsers[command]._actions for opt in a.option_strings}
    problems = []
    for where, sub, args in all_invocations():
        if sub != command:
            continue
        for index, arg in enumerate(args):
            if not arg.startswith("-") or arg == "-":
                continue
            option, _, inline = arg.partition("=")
            if option not in actions:
                problems.append(f"{where}: provision {command} has no option {option}")
                continue
            action = actions[option]
            value = inline or (args[index + 1] if index + 1 < len(args) else "")
            checkable = action.choices and action.nargs != 0 and value and "$" not in value
            if checkable and value not in action.choices:
                problems.append(f"{where}: {option} {value} is not one of {action.choices}")
    assert not problems, "\n".join(problems)


# --- every file --------------------------------------------------------------------------


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: p.name)
def test_yaml_parses(path: Path) -> None:
    assert load(path)


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.name)
def test_secrets_are_never_shown(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert "--show-secrets" not in text
    assert not re.search(r"(?m)^\s*(-\s*)?(set\s+-\w*x|printenv|env\s*$)", text)


def test_no_script_prints_a_secret() -> None:
    for where, script in shell_scripts():
        for line in script.splitlines():
            if re.search(r"\b(echo|printf)\b", line):
                assert not SECRET_NAME.search(line), f"{where}: {line.strip()}"
            if re.search(r"\bprint\(", line):
                assert not re.search(r"\btoken\b", line), f"{where}: {line.strip()}"


def test_lifecycle_doc_is_linked_and_its_shell_commands_exist() -> None:
    assert "](lifecycle.md)" in PIPELINES_DOC.read_text(encoding="utf-8")
    text = LIFECYCLE_DOC.read_text(encoding="utf-8")
    found = [sub for block in re.findall(r"```sh\n(.*?)```", text, flags=re.DOTALL)
             for sub, _ in invocations_in_shell(block)]  # fmt: skip
    assert {"import", "plan", "apply"} <= set(found)
    # The flags the lifecycle needs are the ones the doc teaches.
    prose = {arg for _, sub, args in all_invocations() if sub in ("plan", "apply") for arg in args}
    assert {"--prune", "--rotate-secrets", "--plan", "--out"} <= prose


def test_pipelines_doc_links_every_file_and_stays_short() -> None:
    text = PIPELINES_DOC.read_text(encoding="utf-8")
    for path in YAML_FILES:
        link = os.path.relpath(path, PIPELINES_DOC.parent)
        assert f"]({link})" in text, f"docs/pipelines.md does not link {link}"
    assert len(text.splitlines()) < 150


# --- GitHub Actions ----------------------------------------------------------------------


def action_steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    """The steps of a job that run this repository's action (action.yml)."""
    return [s for s in job["steps"] if s.get("uses") == "./"]


def test_github_triggers() -> None:
    on = github()["on"]
    assert on["pull_request"]["paths"] == ["configs/**"]
    assert on["push"]["branches"] == ["main"]
    assert "configs/**" in on["push"]["paths"]


def test_github_permissions_are_least_privilege() -> None:
    workflow = github()
    assert workflow["permissions"] == {}
    jobs = workflow["jobs"]
    assert jobs["plan"]["permissions"] == {"contents": "read", "pull-requests": "write"}
    assert jobs["apply"]["permissions"] == {"contents": "read"}


def test_github_actions_are_pinned_to_commits() -> None:
    uses = [s["uses"] for job in github()["jobs"].values() for s in job["steps"] if "uses" in s]
    assert uses
    for action in uses:
        # "./" is this repository's own action, at the commit being built.
        assert action == "./" or PINNED.match(action), f"{action} is not pinned to a commit"
    for line in GITHUB.read_text(encoding="utf-8").splitlines():
        if "uses:" in line and "uses: ./" not in line and not line.lstrip().startswith("#"):
            assert re.search(r"@[0-9a-f]{40} # v\d+\.\d+\.\d+$", line), line


def test_github_jobs_use_only_inputs_the_action_declares() -> None:
    declared = set(load(ACTION)["inputs"])
    for job in github()["jobs"].values():
        for step in action_steps(job):
            assert set(step.get("with", {})) <= declared, step["with"]


def test_github_plan_job() -> None:
    job = github()["jobs"]["plan"]
    assert job["if"] == "github.event_name == 'pull_request'"
    [plan] = action_steps(job)
    assert plan["with"] == {"paths": "configs/", "mode": "plan"}
    # plan needs the API credentials and nothing else: no database secret.
    assert set(plan["env"]) == {"AEP_CLIENT_ID", "AEP_CLIENT_SECRET"}
    [upload] = [s for s in job["steps"] if "upload-artifact" in s.get("uses", "")]
    assert "plan.json" in upload["with"]["path"].split()
    assert f"steps.{plan['id']}.outputs.plan-json" in upload["if"]


def test_github_plan_job_never_sees_database_secrets() -> None:
    job = github()["jobs"]["plan"]
    referenced = set(re.findall(r"secrets\.(\w+)", yaml.safe_dump(job)))
    assert referenced == {"AEP_CLIENT_ID", "AEP_CLIENT_SECRET"}


def test_github_apply_job() -> None:
    job = github()["jobs"]["apply"]
    assert "github.ref == 'refs/heads/main'" in job["if"]
    assert "pull_request" not in job["if"]
    assert job["strategy"]["fail-fast"] is False
    assert sorted(job["strategy"]["matrix"]["sandbox"]) == sorted(configs_secrets())
    # One run per sandbox at a time, never cancelling the one that runs.
    assert "${{ matrix.sandbox }}" in job["concurrency"]["group"]
    assert job["concurrency"]["cancel-in-progress"] is False
    assert "${{ matrix.sandbox }}" in job["environment"]
    [apply] = action_steps(job)
    assert apply["with"] == {
        "paths": "configs/",
        "sandbox": "${{ matrix.sandbox }}",
        "mode": "apply",
    }


def test_github_apply_gets_every_secret_the_manifests_reference() -> None:
    [apply] = action_steps(github()["jobs"]["apply"])
    needed = {"AEP_CLIENT_ID", "AEP_CLIENT_SECRET"}.union(*configs_secrets().values())
    assert needed <= set(apply["env"]), f"missing: {sorted(needed - set(apply['env']))}"


def test_github_secrets_only_pass_through_env() -> None:
    for job in github()["jobs"].values():
        for step in job["steps"]:
            for key, value in step.get("env", {}).items():
                if "secrets." in str(value):
                    assert value == f"${{{{ secrets.{key} }}}}", f"{key}: {value}"
            for text in (step.get("run", ""), str(step.get("with", ""))):
                assert "secrets." not in text, "secrets go through env:, never inline"


# --- GitLab CI ---------------------------------------------------------------------------


def gitlab_includes() -> dict[str, dict[str, Any]]:
    """component name (plan, apply) -> the inputs the example gives it."""
    found = {}
    for item in gitlab()["include"]:
        component = item["component"]
        assert component.startswith("$CI_SERVER_FQDN/$CI_PROJECT_PATH/"), component
        name = component.rsplit("/", 1)[1].split("@")[0]
        assert (ROOT / "templates" / f"{name}.yml").is_file(), component
        found[name] = item.get("inputs", {})
    return found


def component_inputs(name: str) -> dict[str, Any]:
    text = (ROOT / "templates" / f"{name}.yml").read_text(encoding="utf-8")
    inputs: dict[str, Any] = yaml.safe_load(text.split("\n---\n", 1)[0])["spec"]["inputs"]
    return inputs


def test_gitlab_pipelines_run_for_merge_requests_and_the_default_branch() -> None:
    rules = [r.get("if") for r in gitlab()["workflow"]["rules"]]
    assert '$CI_PIPELINE_SOURCE == "merge_request_event"' in rules
    assert "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH" in rules


def test_gitlab_includes_give_every_mandatory_input_and_no_unknown_one() -> None:
    includes = gitlab_includes()
    assert set(includes) == {"plan", "apply"}
    for name, given in includes.items():
        spec = component_inputs(name)
        assert set(given) <= set(spec), f"{name}: {sorted(set(given) - set(spec))}"
        mandatory = {k for k, v in spec.items() if "default" not in v}
        assert mandatory <= set(given), f"{name} misses {sorted(mandatory - set(given))}"
        assert given["stage"] in gitlab()["stages"]


def test_gitlab_plan_job_gets_the_read_only_credential_only() -> None:
    override = gitlab()["provision-plan"]
    assert override == {
        "variables": {
            "AEP_CLIENT_ID": "$AEP_PLAN_CLIENT_ID",
            "AEP_CLIENT_SECRET": "$AEP_PLAN_CLIENT_SECRET",
        }
    }


def test_gitlab_apply_covers_every_sandbox() -> None:
    assert sorted(gitlab_includes()["apply"]["sandboxes"]) == sorted(configs_secrets())


# --- pre-commit --------------------------------------------------------------------------


def test_pre_commit_hook() -> None:
    [hook] = load(HOOKS)
    assert hook["id"] == "provision-validate"
    assert hook["entry"] == "provision validate"
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is True
    files = re.compile(hook["files"])
    manifests = sorted(
        p.relative_to(ROOT).as_posix() for p in (ROOT / "configs").rglob("*") if p.is_file()
    )
    assert manifests
    for path in manifests:
        assert files.search(path), path
    for path in ("configs/team/a.yml", "configs/b.yaml"):
        assert files.search(path), path
    for path in ("schemas/manifest.schema.json", "tests/x.yaml", "configs/README.md"):
        assert not files.search(path), path


def test_pre_commit_example_uses_the_hook() -> None:
    [repo] = load(PRECOMMIT_EXAMPLE)["repos"]
    assert [h["id"] for h in repo["hooks"]] == [h["id"] for h in load(HOOKS)]
    assert repo["rev"]
