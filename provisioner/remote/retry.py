"""When to try a request again, and how long to wait first.

Pure: no clock, no sleeping, no HTTP. The client asks the policy for a delay and does the
waiting itself, so every rule here is tested with literal values.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime

# Statuses Adobe documents as "try again"; 501 and 505 will not change on a retry.
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """Limits for retrying one call (a page, a token request, a delete, a create).

    ``deadline`` bounds the whole call, waits included, counted from its first attempt.
    """

    max_attempts: int = 8
    base_delay: float = 0.5
    max_delay: float = 20.0
    deadline: float = 120.0
    # A server's Retry-After is honoured up to this; beyond it we would rather give up
    # within the deadline than park a worker for an hour.
    max_retry_after: float = 60.0
    # A 429 is the gateway refusing the request before the Flow Service sees it, so a
    # create that got one has not been processed and is safe to send again. Adobe does
    # not document this; the flag exists so a pipeline can opt out of the judgement.
    retry_create_on_429: bool = True

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if min(self.base_delay, self.max_delay, self.deadline, self.max_retry_after) < 0:
            raise ValueError("delays and deadline must not be negative")

    def backoff_delay(self, attempt: int, rng: random.Random) -> float:
        """The wait after failed attempt number ``attempt`` (1-based): full-jitter exponential.

        Full jitter (a uniform draw below the capped exponential) spreads the retries of
        parallel workers that failed together, so they do not hit the API again in step.
        """
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** max(attempt - 1, 0))
        return rng.uniform(0.0, ceiling)

    def retry_after_delay(self, header: str | None, now: float) -> float | None:
        """The server's requested wait, capped, or None when absent or unreadable."""
        seconds = parse_retry_after(header, now)
        return None if seconds is None else min(seconds, self.max_retry_after)


def parse_retry_after(header: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After value: delta-seconds or an HTTP-date.

    ``now`` is wall-clock epoch seconds, used only for the date form. A date in the past
    means "now" (0); anything unreadable is None, so the caller falls back to backoff.
    """
    if header is None:
        return None
    value = header.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000" parses naive; HTTP dates are always GMT
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)
