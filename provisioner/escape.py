"""Text from outside made safe to print: one line of a terminal or a CI log, read as data.

Connection names, descriptions, API error messages and manifest values are chosen by
someone else: a remote name holding `\\n::error title=…::Approved` would otherwise become a
GitHub workflow command in the apply log, `\\x1b[2J` would clear a reviewer's terminal, a
right-to-left override or a zero-width space would make two different names read the same.
`line` is the one place that decides how such text is shown; every reporter passes the
lines it writes through it (the markdown `cell` escaping is a layer on top), the error
printer and the logging filter too, and `json_text` does the same for the JSON outputs.

Every character that does not print as itself becomes a visible escape (`\\n`, `\\x1b`,
`\\u200b`): C0, DEL, C1, line and paragraph separators, spaces other than ' ', Unicode
format characters (bidi controls, zero-width characters) and the other default-ignorable
code points, lone surrogates, unassigned code points. Backslashes are left as they are, so
a path or `DOMAIN\\user` reads naturally; a name that merely *reads* like another once
escaped is what `plan/lookalike.py` flags.
"""

from __future__ import annotations

import bisect
import json
import logging
import re
from typing import Any

# Default_Ignorable_Code_Point (Unicode's DerivedCoreProperties) that str.isprintable()
# still calls printable: they render as nothing, so they are shown escaped too. The rest of
# that property (U+00AD, U+200B-U+200F, U+202A-U+202E, U+2060-U+206F, U+FEFF, tags...) is
# format or unassigned, which isprintable() already refuses.
_INVISIBLE = (
    (0x034F, 0x034F),  # combining grapheme joiner
    (0x115F, 0x1160),  # Hangul choseong and jungseong fillers
    (0x17B4, 0x17B5),  # Khmer inherent vowels
    (0x180B, 0x180F),  # Mongolian free variation selectors
    (0x3164, 0x3164),  # Hangul filler
    (0xFE00, 0xFE0F),  # variation selectors
    (0xFFA0, 0xFFA0),  # halfwidth Hangul filler
    (0xE0100, 0xE01EF),  # variation selectors supplement
)
_STARTS = [start for start, _ in _INVISIBLE]

# The GitHub runner reads `::command::` at the start of a line (after leading spaces) and
# the legacy `##[command]` anywhere in one; Azure Pipelines reads `##vso[` anywhere.
_LOG_COMMAND = re.compile(r"#(?=#(?:vso)?\[)")
_LINE_COMMAND = re.compile(r"^(\s*):(?=:)")
# Everything but printable ASCII: the only characters that may need an escape.
_NOT_PLAIN = re.compile(r"[^\x20-\x7e]")
_NOT_PLAIN_JSON = re.compile(r"[^\x20-\x7e\n]")  # JSON's indentation keeps its line breaks


def shown_as_is(ch: str) -> bool:
    """Whether a character prints as itself, so a reader sees exactly what is there."""
    if not ch.isprintable():
        return False
    if ch.isascii():
        return True
    code = ord(ch)
    index = bisect.bisect_right(_STARTS, code) - 1
    return index < 0 or code > _INVISIBLE[index][1]


def _escaped(found: re.Match[str]) -> str:
    ch = found.group()
    # \n, \x1b, \u200b, \U000e0100, \ud800 for a lone surrogate
    return ch if shown_as_is(ch) else ascii(ch)[1:-1]


def line(text: str) -> str:
    """`text` as one line that shows every character and cannot start a CI log command."""
    if not (text.isascii() and text.isprintable()):
        text = _NOT_PLAIN.sub(_escaped, text)
    if "#" in text:
        text = _LOG_COMMAND.sub(r"\\x23", text)
    if "::" in text:
        text = _LINE_COMMAND.sub(r"\1\\x3a", text)
    return text


def quoted(text: str) -> str:
    """A value named inside a sentence: `'café-orders '`, its edges visible."""
    return "'" + line(text).replace("'", "\\'") + "'"


def json_text(document: Any) -> str:
    """`document` as indented JSON whose strings show every character escaped the way
    `line` would (as `\\uXXXX`, so a JSON reader gets the same values back)."""
    text = json.dumps(document, indent=2, ensure_ascii=False)
    # Outside strings JSON is printable ASCII and the indentation's own line breaks, so
    # every character replaced here is inside a string.
    text = _NOT_PLAIN_JSON.sub(_json_escaped, text)
    return _LOG_COMMAND.sub(r"\\u0023", text) if "#" in text else text


def _json_escaped(found: re.Match[str]) -> str:
    ch = found.group()
    if shown_as_is(ch):
        return ch
    code = ord(ch)
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


class LineFilter(logging.Filter):
    """A logging filter that makes every record one escaped line (`-v` logs quote URLs
    and API text)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = line(record.getMessage())
        record.args = None
        return True
