"""Stop starting writes in an org whose API keeps failing: an outage is said once, not 200 times.

A write that still fails after the client's own retries with a server error (a 5xx, or no
answer at all: a timeout, a dropped connection) counts against its org. ``THRESHOLD`` such
failures in a row open the org's breaker: no new write starts there, the writes already
running finish, and what never started is reported as not started. Any other outcome in
between (a success, a 4xx refusal of that one request) resets the count, so one broken
connection among good ones never stops a run. A re-run converges as ever: creates look
before sending again after an unclear answer, so nothing is duplicated.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from provisioner.errors import ApiError

# Five in a row: past the odd bad request (each failure has already been retried up to 8
# times over as long as two minutes), and early enough that an outage costs seconds of
# requests, not the whole queue. A parallel run stops within THRESHOLD + parallelism - 1.
THRESHOLD = 5


def server_cause(error: ApiError) -> str | None:
    """Why the server failed a write, worded alike for every connection so the summary can
    group them; None when the request itself was refused (the server is up)."""
    if error.status is not None and error.status >= 500:
        # The class, not the code: an outage answers 500, 503 and 504 by turns, and the
        # summary should read as one cause.
        return "the API answered a server error (5xx) to every attempt"

    if error.status is None and error.retryable:
        return "the API did not answer (timeouts or dropped connections) to every attempt"
    return None


class Breaker:
    """Consecutive server failures per org; ``on_open(org, text)`` says why, once per org."""

    def __init__(
        self,
        on_open: Callable[[str, str], None] = lambda org, text: None,
        threshold: int = THRESHOLD,
    ) -> None:
        self._threshold = threshold
        self._on_open = on_open
        self._lock = threading.Lock()
        self._streak: dict[str, list[str]] = {}
        self.opened: dict[str, str] = {}  # org -> why no write starts there any more

    def allows(self, org: str) -> bool:
        with self._lock:
            return org not in self.opened

    def record(self, org: str, cause: str | None) -> None:
        """One write's end in ``org``: ``cause`` from server_cause, None for anything else."""
        with self._lock:
            if cause is None:
                self._streak.pop(org, None)
                return
            streak = self._streak.setdefault(org, [])
            streak.append(cause)
            if len(streak) < self._threshold or org in self.opened:
                return
            causes = "; ".join(dict.fromkeys(streak))
            why = f"{len(streak)} writes in a row failed after retries ({causes})"
            self.opened[org] = why
        self._on_open(
            org,
            f"org {org}: {why}; the API looks down there, so no other write starts in this "
            "org (those running finish). Re-run apply once it is back: it never duplicates.",
        )
