"""What a diagnostic may say about a value taken from input.

A manifest is data from a pull request, and its diagnostics reach terminals, CI logs and
pull-request comments: a message once quoted a whole `~/.netrc` behind a symlink as "got
"machine github.com login ... password ghp_..."". So a message names a value's type and
size (`describe`); it shows the value itself only when it is short and sits in a field that
is never secret (an enum, a name, a number: `excerpt`), always escaped to one line.
Free-form text built from input, such as a YAML or template error, goes through `bounded`.
"""

from __future__ import annotations

import json
import re
from typing import Any

# Long enough for every enum value, sandbox and key name a user mistypes; too short to
# carry a credential whole.
SHORT = 32
MAX_MESSAGE = 200
_LONG = "{" + str(SHORT + 1) + ",}"
_LONG_QUOTED = re.compile(f"'([^'\\n]{_LONG})'|\"([^\"\\n]{_LONG})\"")


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def describe(value: Any) -> str:
    """The value's type and size, never its content: `a string (57 characters)`."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return f"a string ({_plural(len(value), 'character')})"
    if isinstance(value, list):
        return f"a list ({_plural(len(value), 'item')})"
    if isinstance(value, dict):
        return f"a mapping ({_plural(len(value), 'key')})"
    return "a value of another kind"


def excerpt(value: Any) -> str:
    """The value as JSON, escaped to one line, when that is at most SHORT characters;
    otherwise `describe(value)`. Only for fields that are never secret."""
    from provisioner.manifests.load import printable

    if isinstance(value, (str, int, float, bool)) or value is None:
        text = printable(json.dumps(value, ensure_ascii=False))
        if len(text) <= SHORT:
            return text
    return describe(value)


def name(text: str, limit: int = SHORT) -> str:
    """A key, tag or other name from input, quoted like repr() and cut at `limit` characters."""
    if len(text) <= limit:
        return repr(text)
    return repr(text[:limit]) + f"... ({_plural(len(text), 'character')})"


def bounded(message: str) -> str:
    """A message a library built from input (a YAML or template error): each quoted part
    longer than SHORT is cut, line breaks escaped, and the whole kept to MAX_MESSAGE."""
    from provisioner.manifests.load import printable

    def cut(match: re.Match[str]) -> str:
        quoted = match.group(1) if match.group(1) is not None else match.group(2)
        return name(quoted)

    text = printable(_LONG_QUOTED.sub(cut, message))
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 3] + "..."
