"""The completion script of each shell, written from the commands completion.py found.

Every word in a script comes from the parser (option names, choices, short help), and every
help text is quoted for its shell, so none can break the script's syntax.
"""

from __future__ import annotations

from provisioner.cli.completion import Command, Option


def bash(commands: list[Command], top: list[Option]) -> str:
    names = " ".join([*(c.name for c in commands), *(n for o in top for n in o.names)])
    lines = [
        "# bash completion for provision (`provision completion bash`)",
        "_provision() {",
        "    local cur prev cmd='' i",
        '    cur="${COMP_WORDS[COMP_CWORD]}"',
        '    prev="${COMP_WORDS[COMP_CWORD-1]}"',
        "    for ((i = 1; i < COMP_CWORD; i++)); do",
        '        case "${COMP_WORDS[i]}" in',
        "            -*) ;;",
        '            *) cmd="${COMP_WORDS[i]}"; break ;;',
        "        esac",
        "    done",
        '    case "$cmd" in',
        f"        '') mapfile -t COMPREPLY < <(compgen -W '{names}' -- \"$cur\") ;;",
    ]
    for command in commands:
        lines.append(f"        {command.name})")
        valued = [o for o in command.options if o.takes]
        if valued:
            lines.append('            case "$prev" in')
            for option in valued:
                lines.append(f"                {'|'.join(option.names)}) {_bash_value(option)}")
            lines.append("            esac")
        flags = " ".join(n for o in command.options for n in o.names)
        lines.append('            if [[ "$cur" == -* ]]; then')
        lines.append(
            f"                mapfile -t COMPREPLY < <(compgen -W '{flags}' -- \"$cur\"); return"
        )
        lines.append("            fi")
        if command.positional == "file":
            lines.append('            mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;')
        elif command.positional == "choices":
            words = " ".join(command.choices)
            lines.append(
                f"            mapfile -t COMPREPLY < <(compgen -W '{words}' -- \"$cur\") ;;"
            )
        else:
            lines.append("            COMPREPLY=() ;;")
    lines += ["    esac", "}", "complete -o filenames -F _provision provision", ""]
    return "\n".join(lines)


def _bash_value(option: Option) -> str:
    if option.takes == "choices":
        words = " ".join(option.choices)
        return f"mapfile -t COMPREPLY < <(compgen -W '{words}' -- \"$cur\"); return ;;"
    if option.takes == "file":
        return 'mapfile -t COMPREPLY < <(compgen -f -- "$cur"); return ;;'
    if option.takes == "dir":
        return 'mapfile -t COMPREPLY < <(compgen -d -- "$cur"); return ;;'
    return "COMPREPLY=(); return ;;  # free text: nothing to offer"


def _zsh_quote(text: str) -> str:
    # Inside '...': a quote is '\'' ; inside an _arguments spec, [ ] : are special.
    for char in "\\[]:":
        text = text.replace(char, "\\" + char)
    return text.replace("'", "'\\''")


def zsh(commands: list[Command], top: list[Option]) -> str:
    described = " ".join(f"'{c.name}:{_zsh_quote(c.help)}'" for c in commands)
    lines = [
        "#compdef provision",
        "# zsh completion for provision (`provision completion zsh`)",
        "_provision() {",
        "    local state line",
        "    _arguments -C \\",
        *(f"        {_zsh_spec(option, name)} \\" for option in top for name in option.names),
        "        '1: :->command' \\",
        "        '*:: :->args'",
        '    case "$state" in',
        "        command)",
        f"            local -a commands=({described})",
        "            _describe command commands ;;",
        "        args)",
        '            case "$line[1]" in',
    ]
    for command in commands:
        specs = [_zsh_spec(option, name) for option in command.options for name in option.names]
        if command.positional == "file":
            specs.append("'*:file:_files'")
        elif command.positional == "choices":
            specs.append(f"'1:{command.name}:({' '.join(command.choices)})'")
        lines.append(f"                {command.name})")
        if not specs:
            lines.append("                    ;;")
            continue
        lines.append("                    _arguments \\")
        lines += [f"                        {spec} \\" for spec in specs[:-1]]
        lines.append(f"                        {specs[-1]} ;;")
    lines += [
        "            esac ;;",
        "    esac",
        "}",
        'if [[ "${zsh_eval_context[-1]}" == loadautofunc ]]; then',
        '    _provision "$@"',
        "else",
        "    compdef _provision provision",
        "fi",
        "",
    ]
    return "\n".join(lines)


def _zsh_spec(option: Option, name: str) -> str:
    star = "*" if option.repeatable else ""
    spec = f"{star}{name}{'=' if option.takes and name.startswith('--') else ''}"
    spec += f"[{_zsh_quote(option.help)}]"
    if option.takes == "choices":
        spec += f":{option.takes}:({' '.join(option.choices)})"
    elif option.takes == "file":
        spec += ":file:_files"
    elif option.takes == "dir":
        spec += ":directory:_files -/"
    elif option.takes == "text":
        spec += ":value: "
    return f"'{spec}'"


def _fish_quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def fish(commands: list[Command], top: list[Option]) -> str:
    lines = [
        "# fish completion for provision (`provision completion fish`)",
        "complete -c provision -f",
    ]
    for option in top:
        lines.append(
            f"complete -c provision -n __fish_use_subcommand {_fish_flags(option)} "
            f"-d {_fish_quote(option.help)}"
        )
    for command in commands:
        lines.append(
            f"complete -c provision -n __fish_use_subcommand -a {command.name} "
            f"-d {_fish_quote(command.help)}"
        )
        when = f"-n '__fish_seen_subcommand_from {command.name}'"
        for option in command.options:
            lines.append(
                f"complete -c provision {when} {_fish_flags(option)}{_fish_value(option)} "
                f"-d {_fish_quote(option.help)}"
            )
        if command.positional == "file":
            lines.append(f"complete -c provision {when} -F")
        elif command.positional == "choices":
            lines.append(
                f"complete -c provision {when} -a {_fish_quote(' '.join(command.choices))}"
            )
    return "\n".join(lines) + "\n"


def _fish_flags(option: Option) -> str:
    return " ".join(f"-l {n[2:]}" if n.startswith("--") else f"-s {n[1:]}" for n in option.names)


def _fish_value(option: Option) -> str:
    if option.takes == "choices":
        return f" -x -a {_fish_quote(' '.join(option.choices))}"
    if option.takes == "file":
        return " -r -F"
    if option.takes == "dir":
        return " -x -a '(__fish_complete_directories)'"
    return " -x" if option.takes else ""
