"""Keeps secret values out of every output.

Secret values are registered here the moment they are resolved; ``scrub`` replaces every
registered value in a text with the marker. The CLI's error printer and the logging filter
scrub everything they emit, so a secret echoed back by the API (a 400 that quotes the
payload) or carried by an exception never reaches a terminal, a log or a file.
"""

from __future__ import annotations

import json
import logging
import threading

SENSITIVE = "(sensitive)"

# Values shorter than this are not scrubbed: replacing "a" or "1" everywhere would mangle
# output without protecting anything worth protecting.
_MIN_LENGTH = 4

_lock = threading.Lock()
_secrets: set[str] = set()


def register_secret(value: str) -> None:
    # An API that echoes a refused body quotes the secret JSON-escaped (\" \\ \u00e9):
    # register those spellings too, so they are scrubbed wherever they appear.
    forms = {value, json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]}
    with _lock:
        _secrets.update(form for form in forms if len(form) >= _MIN_LENGTH)


def scrub(text: str) -> str:
    with _lock:
        values = sorted(_secrets, key=len, reverse=True)
    for value in values:
        if value in text:
            text = text.replace(value, SENSITIVE)
    return text


class ScrubFilter(logging.Filter):
    """A logging filter that scrubs registered secrets from every record it passes."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = scrub(record.getMessage())
        record.args = None
        return True
