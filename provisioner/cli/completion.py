"""`provision completion bash|zsh|fish`: tab completion, generated from the one parser.

The parser (parser.py) is walked, never copied: a new option completes the day it is added.
Each option says what its value is: one of its choices, a file (PATH, FILE), a directory
(DIR), or free text (a sandbox NAME, a GLOB), for which nothing is offered. `emulator`
completes by name only: its options live in the emulator's own parser.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

_FILES = ("PATH", "FILE")
_NONE: tuple[str, ...] = ()
_DIRS = ("DIR",)


@dataclass(frozen=True)
class Option:
    names: tuple[str, ...]  # "-v", "--verbose"
    help: str
    takes: str  # "" (a flag), "choices", "file", "dir" or "text"
    choices: tuple[str, ...] = ()
    repeatable: bool = False


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    options: tuple[Option, ...]
    positional: str  # "", "file" or "choices"
    choices: tuple[str, ...] = ()  # of the positional


def _kind(action: argparse.Action) -> str:
    if action.nargs == 0:
        return ""
    if action.choices:
        return "choices"
    metavar = str(action.metavar or action.dest).upper()
    return "file" if metavar in _FILES else "dir" if metavar in _DIRS else "text"


def _choices(action: argparse.Action) -> tuple[str, ...]:
    return tuple(str(c) for c in action.choices or ())


def _help(text: str | None) -> str:
    """One short line: the first clause of an option's help."""
    line = " ".join((text or "").replace("%%", "%").split())
    line = line.split("; ")[0].split(" (")[0]
    return line if len(line) <= 60 else line[:57] + "..."


def commands(parser: argparse.ArgumentParser) -> list[Command]:
    """Every subcommand of `parser`, its options and what its positional takes."""
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    helps = {c.dest: c.help or "" for c in sub._choices_actions}
    found = []
    for name, command in sub.choices.items():
        options: list[Option] = []
        positional, choices = "", _NONE
        for action in command._actions:
            if not action.option_strings:
                positional = _kind(action)
                choices = _choices(action)
                continue
            repeatable = isinstance(action, argparse._AppendAction | argparse._CountAction)
            options.append(
                Option(
                    tuple(action.option_strings),
                    _help(action.help),
                    _kind(action),
                    _choices(action),
                    repeatable,
                )
            )
        found.append(Command(name, _help(helps.get(name)), tuple(options), positional, choices))
    return found


def top_options(parser: argparse.ArgumentParser) -> list[Option]:
    """The options before a subcommand (--help, --version)."""
    return [
        Option(tuple(a.option_strings), _help(a.help), "")
        for a in parser._actions
        if a.option_strings
    ]


def script(shell: str, parser: argparse.ArgumentParser) -> str:
    from provisioner.cli import completion_scripts

    write = {
        "bash": completion_scripts.bash,
        "zsh": completion_scripts.zsh,
        "fish": completion_scripts.fish,
    }[shell]
    return write(commands(parser), top_options(parser))


SHELLS = ("bash", "zsh", "fish")
