"""The help a user reads first: bare `provision`, and the examples of every subcommand."""

from __future__ import annotations

import re
import shlex

import pytest

from provisioner.cli.main import main
from provisioner.cli.parser import build_parser

EXAMPLES = ["validate", "render", "plan", "apply", "import", "verify", "completion"]


def test_bare_provision_prints_the_help_and_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 1  # as git: a pipeline step that lost its subcommand must not pass
    captured = capsys.readouterr()
    assert captured.err == ""
    assert captured.out == build_parser().format_help()
    assert captured.out.startswith("usage: provision [-h] [--version] COMMAND ...\n")
    assert "\nexamples:\n  provision validate configs/" in captured.out


@pytest.mark.parametrize("command", EXAMPLES)
def test_each_subcommand_help_ends_with_examples_that_parse(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    examples = text.split("\nexamples:\n", 1)[1]
    commands = _commands(examples)
    assert commands and all(argv[0] == command for argv in commands)
    for argv in commands:
        build_parser().parse_args(argv)  # SystemExit (a failure here) if an option is gone


def test_the_main_help_examples_parse() -> None:
    commands = _commands((build_parser().epilog or "").split("\nenvironment:")[0])
    assert len(commands) >= 10
    for argv in commands:
        build_parser().parse_args(argv)


def _commands(examples: str) -> list[list[str]]:
    """Every `provision ...` in an examples block, without the text beside it."""
    logical = re.sub(r"\s*\\\n\s*", " ", examples)
    found = []
    for line in logical.splitlines():
        for match in re.finditer(r"provision ((?:[^|&>)#\s]|\s(?!\s))+)", line):
            found.append(shlex.split(match.group(1)))
    return found
