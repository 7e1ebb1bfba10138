"""Saying what a slow run is waiting for, before the silence makes a user wonder.

With IMS down a run used to retry for 20-30 s without a word, even with ``-v``; listing a
sandbox of 2,100 connections took 4 s of nothing. After ``AFTER`` seconds of waiting, the
transport says once what it waits for and retries (one line per distinct wait: many workers
retrying the same 503 say it once), and a long listing says how far it has got, every
``AFTER`` seconds. Lines go to the writer given (stderr; nothing under ``-q``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from provisioner import escape

# A couple of seconds: quicker retries go unsaid (the summary counts them), longer waits
# are explained before a user reaches for Ctrl-C.
AFTER = 2.0


class Notices:
    def __init__(
        self,
        write: Callable[[str], None],
        *,
        clock: Callable[[], float] = time.monotonic,
        after: float = AFTER,
    ) -> None:
        self.write = write  # apply routes it through its progress line (Progress.note)
        self._clock = clock
        self._after = after
        self._lock = threading.Lock()
        self._said: set[tuple[str, str]] = set()  # (what is waited for, why) already said
        self._progress_at: dict[str, float] = {}  # progress key -> when it was last said

    def retrying(
        self, target: str, why: str, detail: str, *, since: float, delay: float, attempt: int
    ) -> None:
        """A call to ``target`` failed (``why``: its status or error type; ``detail``: the
        whole one-line reason) and is sent again after ``delay`` s; the call started at
        ``since``. Said once per (target, why) once the wait reaches ``AFTER`` seconds."""
        if self._clock() - since + delay < self._after:
            return
        with self._lock:
            if (target, why) in self._said:
                return
            self._said.add((target, why))
        self.write(
            escape.line(
                f"provision: waiting for {target}: {detail}; retrying "
                f"(attempt {attempt + 1} in {delay:.1f} s)"
            )
        )

    def now(self) -> float:
        return self._clock()

    def progress(self, key: str, text: str, *, since: float) -> None:
        """Work under ``key`` (a listing) under way since ``since``: ``text`` is said once
        it has taken ``AFTER`` seconds, and then at most every ``AFTER`` seconds."""
        now = self._clock()
        if now - since < self._after:
            return
        with self._lock:
            last = self._progress_at.get(key)
            if last is not None and now - last < self._after:
                return
            self._progress_at[key] = now
        self.write(escape.line(f"provision: {text}"))

    def done(self, key: str) -> None:
        with self._lock:
            self._progress_at.pop(key, None)
