"""The small request/response records the handlers work with (no WSGI details in them)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from provisioner.emulator.errors import flow_error


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: list[tuple[str, str]]  # in order, repeats kept
    headers: dict[str, str]  # lower-case names
    body: bytes = b""

    def params(self, name: str) -> list[str]:
        return [value for key, value in self.query if key == name]

    def param(self, name: str) -> str | None:
        # Some clients repeat a parameter already in the next-page href (aepp re-sends
        # `limit`); the first occurrence wins.
        values = self.params(name)
        return values[0] if values else None

    def json(self) -> Any:
        if not self.body.strip():
            raise flow_error("1405-400")
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise flow_error("1100-400", f"The request body is not valid JSON: {exc}.") from None


@dataclass
class Response:
    status: int
    body: Any = None  # JSON-serialisable, or None for an empty body
    headers: dict[str, str] = field(default_factory=dict)
