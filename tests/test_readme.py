"""The README's rehearsal section, run as written: a newcomer's first ten minutes.

The commands run exactly as the README gives them, with one change: the emulator listens on
a free port instead of 8080 (a test machine may have 8080 busy), so every URL the README
shows is compared with that port put back.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README_PORT = "http://127.0.0.1:8080"


def section(title: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def blocks(text: str) -> list[tuple[str, str]]:
    """Every fenced block as (language, body)."""
    return re.findall(r"```(\w*)\n(.*?)```", text, flags=re.DOTALL)


REHEARSAL = blocks(section("Rehearsing on the emulator"))


def commands(body: str) -> list[str]:
    return [line.split("  #")[0].strip() for line in body.splitlines() if line.strip()]


def provision(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "provisioner", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def emulator_env() -> Iterator[tuple[dict[str, str], str]]:
    first = commands(REHEARSAL[0][1])
    assert first == [". .venv/bin/activate", "provision emulator configs/"]
    args = [*first[1].split()[1:], "--port", "0"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "provisioner", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    printed: list[str] = []
    while not printed or "Ctrl-C" not in printed[-1]:
        line = proc.stdout.readline()
        assert line, proc.communicate()[1]
        printed.append(line.rstrip("\n"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AEP_") and k != "CI"}
    exports = dict(
        line.removeprefix("export ").split("=", 1) for line in printed if line.startswith("export ")
    )
    env.update(exports)
    try:
        yield env, exports["AEP_IMS_URL"]
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


def test_the_export_lines_are_those_the_emulator_prints(
    emulator_env: tuple[dict[str, str], str],
) -> None:
    env, url = emulator_env
    shown = {}
    for line in commands(REHEARSAL[1][1]):
        if line.startswith("export "):
            shown.update(pair.split("=", 1) for pair in line.removeprefix("export ").split())
    printed = {k: env[k] for k in shown}
    assert {k: v.replace(README_PORT, url) for k, v in shown.items()} == printed


def test_plan_on_the_examples_works_with_no_other_flag(
    emulator_env: tuple[dict[str, str], str],
) -> None:
    env, _ = emulator_env
    assert commands(REHEARSAL[1][1])[-1] == "provision plan configs/"
    run = provision(["plan", "configs/"], env)
    assert (run.returncode, run.stderr) == (0, "")
    for sandbox in ("prod", "stage", "dev", "prod-aws"):
        assert f"sandbox {sandbox} (" in run.stdout
    expected = REHEARSAL[2][1].strip()
    assert run.stdout.rstrip("\n").splitlines()[-1] == expected


def test_a_wrong_secret_is_the_one_line_the_readme_shows(
    emulator_env: tuple[dict[str, str], str],
) -> None:
    env, url = emulator_env
    command = commands(REHEARSAL[3][1])
    assert command == ["AEP_CLIENT_SECRET=wrong provision plan configs/"]
    assignment, _, rest = command[0].partition(" ")
    name, value = assignment.split("=")
    run = provision(rest.split()[1:], {**env, name: value})
    assert run.returncode == 1
    assert run.stdout == ""
    assert run.stderr == REHEARSAL[4][1].replace(README_PORT, url)


def test_manifests_that_do_not_validate_are_reported_not_served(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\norg: nope\n", encoding="utf-8")
    run = provision(["emulator", str(bad), "--port", "0"], dict(os.environ))
    assert run.returncode == 1
    assert run.stdout == ""
    assert "Traceback" not in run.stderr
    assert run.stderr.endswith("nothing was done.\n")
