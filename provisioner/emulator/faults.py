"""Seeded fault injection: latency, 429s, 5xxs, and creates that commit but fail to answer.

Every request draws the same number of random values whatever the configuration, so one seed
and one sequence of requests give the same faults even after rates are changed at run time.
"""

from __future__ import annotations

import dataclasses
import random
import threading
from dataclasses import dataclass
from typing import Any, Literal

from provisioner.emulator.config import Faults

CommitFailure = Literal["500", "drop"]


class ConnectionDropped(ConnectionResetError):
    """Raised by the WSGI app to mean "close the socket without any response"."""


@dataclass(frozen=True)
class Decision:
    delay_s: float = 0.0
    status: int | None = None  # 429, 500, 503 or 504 instead of handling the request
    retry_after_s: int | None = None  # only with status 429; None: no Retry-After header
    commit_then: CommitFailure | None = None  # only for creates


class FaultInjector:
    def __init__(self, faults: Faults, seed: int | None) -> None:
        faults.validate()
        self._faults = faults
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    @property
    def faults(self) -> Faults:
        return self._faults

    def set(self, faults: Faults, seed: int | None = None) -> None:
        faults.validate()
        with self._lock:
            self._faults = faults
            if seed is not None:
                self._random.seed(seed)

    def update(self, changes: dict[str, Any]) -> Faults:
        """Replace some fields; unknown names or bad values raise ValueError/TypeError."""
        known = {f.name for f in dataclasses.fields(Faults)}
        unknown = sorted(set(changes) - known - {"seed"})
        if unknown:
            raise ValueError(f"unknown fault setting(s): {', '.join(unknown)}")
        seed = changes.pop("seed", None)
        if seed is not None and not isinstance(seed, int):
            raise TypeError("seed must be an integer")
        new = dataclasses.replace(self._faults, **_typed(changes))
        self.set(new, seed)
        return new

    def decide(self, is_create: bool, *, is_write: bool = False) -> Decision:
        with self._lock:
            f = self._faults
            draws = [self._random.random() for _ in range(6)]
        jitter = f.latency_jitter_ms * draws[0]
        delay = (f.latency_ms + jitter) / 1000.0
        if draws[1] < f.rate_429:
            retry = None if draws[2] < f.rate_429_no_retry_after else f.retry_after_s
            return Decision(delay, 429, retry)
        if draws[3] < max(f.rate_5xx, f.rate_5xx_writes if is_write else 0.0):
            return Decision(delay, (500, 503, 504)[min(int(draws[4] * 3), 2)])
        if is_create:
            if draws[5] < f.rate_commit_then_500:
                return Decision(delay, commit_then="500")
            if draws[5] < f.rate_commit_then_500 + f.rate_commit_then_drop:
                return Decision(delay, commit_then="drop")
        return Decision(delay)


_BOOLEANS = ("apply_to_token", "rate_limit_retry_after")
_INTEGERS = ("retry_after_s",)
_OPTIONAL_INTEGERS = ("page_size", "rate_limit_burst")
_OPTIONAL_NUMBERS = ("rate_limit",)


def _typed(changes: dict[str, Any]) -> dict[str, Any]:
    """Check JSON values against the field types (JSON has no int/float distinction)."""
    out: dict[str, Any] = {}
    for name, value in changes.items():
        if value is None and name in _OPTIONAL_INTEGERS + _OPTIONAL_NUMBERS:
            out[name] = None
        elif name in _BOOLEANS:
            if not isinstance(value, bool):
                raise TypeError(f"{name} must be true or false")
            out[name] = value
        elif name in _INTEGERS + _OPTIONAL_INTEGERS:
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{name} must be an integer")
            out[name] = value
        elif isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(f"{name} must be a number")
        else:
            out[name] = float(value)
    return out
