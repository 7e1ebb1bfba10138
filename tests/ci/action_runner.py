"""Runs action.yml's own step scripts the way a GitHub runner does, against local fakes."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
ACTION = ROOT / "action.yml"
EXPRESSION = re.compile(r"\$\{\{\s*([\w.-]+)\s*\}\}")
HEAD_SHA = "3f9c2e1d8b7a6954e3f2a1b0c9d8e7f6a5b4c3d2"


def action() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    return data


def step(step_id: str) -> dict[str, Any]:
    [found] = [s for s in action()["runs"]["steps"] if s.get("id") == step_id]
    return found


@dataclasses.dataclass(frozen=True)
class StepRun:
    code: int
    log: str
    outputs: dict[str, str]
    summary: str


def evaluate(text: str, inputs: Mapping[str, str], context: Mapping[str, str]) -> str:
    """GitHub's `${{ }}` for the expressions the action uses: inputs, github.*, steps.*."""
    defaults = {k: str(v.get("default", "")) for k, v in action()["inputs"].items()}

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("inputs."):
            key = name.removeprefix("inputs.")
            return inputs.get(key, context.get(name, defaults[key]))
        return context[name]

    # An input's default may itself be an expression (github-token: ${{ github.token }}).
    return EXPRESSION.sub(value, EXPRESSION.sub(value, text))


def run_step(
    step_id: str,
    *,
    cwd: Path,
    base_env: Mapping[str, str],
    inputs: Mapping[str, str],
    tmp: Path,
    token: str = "",
    pull_request: int | None = None,
    api_url: str = "http://127.0.0.1:9",
    python: str = sys.executable,
) -> StepRun:
    tmp.mkdir(parents=True, exist_ok=True)
    event = tmp / "event.json"
    payload: dict[str, Any] = {}
    if pull_request is not None:
        payload = {"pull_request": {"number": pull_request, "head": {"sha": HEAD_SHA}}}
    event.write_text(json.dumps(payload), encoding="utf-8")
    (tmp / "output").write_text("", encoding="utf-8")
    (tmp / "summary").write_text("", encoding="utf-8")
    context = {
        "github.token": token,
        "steps.python.outputs.python-path": sys.executable,  # what setup-python gives
        "steps.install.outputs.python": python,  # what the install step gives
    }
    spec = step(step_id)
    env = {
        **base_env,
        "GITHUB_ACTIONS": "true",
        "CI": "true",
        "GITHUB_EVENT_NAME": "pull_request" if pull_request is not None else "push",
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_OUTPUT": str(tmp / "output"),
        "GITHUB_STEP_SUMMARY": str(tmp / "summary"),
        "GITHUB_PATH": str(tmp / "path"),
        "GITHUB_API_URL": api_url,
        "GITHUB_SERVER_URL": "https://github.example.test",
        "GITHUB_REPOSITORY": "acme/manifests",
        "GITHUB_RUN_ID": "9001",
        "GITHUB_ACTION_PATH": str(ROOT),
        "RUNNER_TEMP": str(tmp),
        **{k: evaluate(str(v), inputs, context) for k, v in spec.get("env", {}).items()},
    }
    script = tmp / "step.sh"
    script.write_text(spec["run"], encoding="utf-8")
    # What `shell: bash` runs on a GitHub runner.
    command = ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)]
    done = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL
    )
    outputs = dict(
        line.split("=", 1)
        for line in (tmp / "output").read_text(encoding="utf-8").splitlines()
        if line
    )
    summary = (tmp / "summary").read_text(encoding="utf-8")
    return StepRun(done.returncode, done.stdout + done.stderr, outputs, summary)
