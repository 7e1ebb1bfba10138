"""`provision completion bash|zsh|fish`: scripts from the one parser that the shells accept
and that complete what a user types."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from provisioner.cli.main import main


def script(shell: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["completion", shell]) == 0
    return capsys.readouterr().out


def needs(shell: str) -> str:
    found = shutil.which(shell)
    if found is None:
        pytest.skip(f"{shell} is not installed (apt-get install {shell})")
    return found


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_each_shell_accepts_its_script(
    shell: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / f"provision.{shell}"
    path.write_text(script(shell, capsys))
    checked = subprocess.run([needs(shell), "-n", str(path)], capture_output=True, text=True)
    assert (checked.returncode, checked.stderr) == (0, "")


def bash_completes(tmp_path: Path, capsys: pytest.CaptureFixture[str], *words: str) -> list[str]:
    """What bash offers after `provision WORDS...` (the last word being typed)."""
    (tmp_path / "provision.bash").write_text(script("bash", capsys))
    quoted = " ".join(f"'{w}'" for w in ("provision", *words))
    program = (
        "source provision.bash\n"
        f"COMP_WORDS=({quoted}); COMP_CWORD={len(words)}\n"
        "_provision\n"
        'for word in "${COMPREPLY[@]}"; do echo "$word"; done\n'
    )
    run = subprocess.run(
        [needs("bash"), "-c", program], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    return run.stdout.splitlines()


def test_bash_completes_subcommands_options_choices_and_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "plan.json").write_text("{}")
    (tmp_path / "teams").mkdir()
    assert bash_completes(tmp_path, capsys, "") == [
        "validate",
        "render",
        "plan",
        "apply",
        "import",
        "verify",
        "completion",
        "schema",
        "emulator",
        "-h",
        "--help",
        "--version",
    ]
    assert bash_completes(tmp_path, capsys, "pl") == ["plan"]
    assert bash_completes(tmp_path, capsys, "plan", "--fo") == ["--format"]
    assert bash_completes(tmp_path, capsys, "plan", "--format", "") == ["text", "json", "markdown"]
    assert bash_completes(tmp_path, capsys, "validate", "--format", "") == ["text", "json"]
    assert bash_completes(tmp_path, capsys, "apply", "--plan", "pl") == ["plan.json"]
    assert bash_completes(tmp_path, capsys, "apply", "--secrets-dir", "") == ["teams"]
    assert bash_completes(tmp_path, capsys, "plan", "--sandbox", "") == []  # free text
    assert bash_completes(tmp_path, capsys, "validate", "te") == ["teams"]
    assert bash_completes(tmp_path, capsys, "completion", "") == ["bash", "zsh", "fish"]


def test_bash_registers_the_function(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "provision.bash").write_text(script("bash", capsys))
    run = subprocess.run(
        [needs("bash"), "-c", "source provision.bash; complete -p provision"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert run.stdout == "complete -o filenames -F _provision provision\n"


def test_fish_completes_options_and_choices(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "provision.fish").write_text(script("fish", capsys))

    def offered(line: str) -> list[str]:
        program = f"source provision.fish; complete -C '{line}'"
        run = subprocess.run(
            [needs("fish"), "--no-config", "-c", program],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=True,
        )
        return [entry.split("\t")[0] for entry in run.stdout.splitlines()]

    assert offered("provision plan --format ") == ["json", "markdown", "text"]
    assert offered("provision comp") == ["completion"]
    assert "--detailed-exitcode" in offered("provision plan --de")


def test_an_unknown_shell_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["completion", "tcsh"])
    assert exit_.value.code == 1
    assert capsys.readouterr().err.endswith(
        "provision completion: error: argument shell: invalid choice: 'tcsh' (choose from "
        "'bash', 'zsh', 'fish')\n"
    )
