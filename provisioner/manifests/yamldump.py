"""A manifest as YAML text that reads exactly as it parses (for `provision import`).

Text with a character that does not print as itself is written double-quoted with YAML's
escapes, so a remote name holding a line break, a bidi control or a zero-width space shows
it in the file instead of making the file read differently than it parses.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from provisioner.escape import shown_as_is


class _Dumper(yaml.SafeDumper):
    """Text with a character that does not print as itself (a line break, a control or
    invisible character) is written double-quoted, where YAML escapes it."""


def _represent_text(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = None if all(shown_as_is(ch) for ch in text) else '"'
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(str, _represent_text)
_UNSHOWN = re.compile(r"[^\x20-\x7e\n]")


def dump(document: dict[str, Any]) -> str:
    text = yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100_000)
    # PyYAML leaves bidi controls and zero-width characters raw even in double quotes, where
    # they would make the file read differently than it parses: they are escaped too. Only
    # double-quoted text can hold them (the representer above), so an escape is valid there.
    return _UNSHOWN.sub(_yaml_escape, text)


def _yaml_escape(found: re.Match[str]) -> str:
    ch = found.group()
    if shown_as_is(ch):
        return ch
    code = ord(ch)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"
