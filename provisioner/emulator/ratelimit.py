"""Adobe's gateway throttling: a token bucket per org, in front of the Flow Service routes.

Adobe publishes no budget and usually answers ``429`` ``429050`` with no ``Retry-After`` and
no rate-limit headers, so that is the default here; ``Faults.rate_limit_retry_after`` adds the
header for clients that want to see it honoured. The bucket holds ``burst`` requests and
refills at ``rate_limit`` per second. Rate and burst are read from the current faults on every
request, so a change through ``/__emulator/faults`` takes effect on the next request; lifting
the limit forgets the buckets, so setting one again starts them full.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass

from provisioner.emulator.config import Faults
from provisioner.emulator.errors import gateway_error


@dataclass
class _Bucket:
    tokens: float
    updated_at: float


def burst_of(faults: Faults) -> int:
    """The bucket size: as set, else a tenth of a second of requests (a small burst), >= 1."""
    if faults.rate_limit_burst is not None:
        return faults.rate_limit_burst
    return max(1, math.ceil((faults.rate_limit or 0.0) / 10))


class RateLimiter:
    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock  # monotonic seconds
        self._lock = threading.Lock()
        self._buckets: dict[str, _Bucket] = {}
        self._throttled = 0

    @property
    def throttled(self) -> int:
        """Requests refused with a 429 by the limiter (injected 429s not counted)."""
        with self._lock:
            return self._throttled

    def reset_counts(self) -> None:
        with self._lock:
            self._throttled = 0

    def enforce(self, org: str, faults: Faults) -> None:
        """Raise the gateway's 429 ``429050`` if ``org`` is over its rate."""
        wait = self.admit(org, faults)
        if wait is not None:
            header = {"Retry-After": retry_after_header(wait)}
            raise gateway_error("429050", headers=header if faults.rate_limit_retry_after else None)

    def admit(self, org: str, faults: Faults) -> float | None:
        """None if the request may pass; else the seconds until ``org``'s next token."""
        rate = faults.rate_limit
        with self._lock:
            if rate is None:
                self._buckets.clear()
                return None
            burst = burst_of(faults)
            now = self._clock()
            bucket = self._buckets.get(org)
            if bucket is None:
                bucket = self._buckets[org] = _Bucket(float(burst), now)
            elapsed = max(0.0, now - bucket.updated_at)
            bucket.tokens = min(float(burst), bucket.tokens + elapsed * rate)
            bucket.updated_at = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return None
            self._throttled += 1
            return (1.0 - bucket.tokens) / rate


def retry_after_header(wait: float) -> str:
    """Whole seconds, rounded up (Retry-After has no fractions), never 0: "come back later"."""
    return str(max(1, math.ceil(wait)))
