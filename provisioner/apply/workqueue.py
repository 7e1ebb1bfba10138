"""The creates' work queue: what each worker claims, and what a signal may interrupt.

Ctrl-C or SIGTERM can land anywhere in the main thread, even inside a Thread.start() whose
worker already runs, so no thread or future is the record: each worker claims an index and
records its outcome under one condition, and the count of work running is the only thing
waited on. Once stopped, nothing new is claimed. The waits are timed, so a signal is seen
at once on every platform.
"""

from __future__ import annotations

import threading
from typing import Generic, TypeVar

T = TypeVar("T")


def stopping_note(in_flight: int) -> str:
    # Short enough for an 80-column terminal: nothing new starts, and what to do to leave.
    return f"Stopping: waiting for the {in_flight} writes in flight; interrupt again not to wait"


class WorkQueue(Generic[T]):
    """Indexes of work handed out to workers, and their outcomes, under one condition."""

    def __init__(self, total: int) -> None:
        self.recorded: dict[int, T] = {}
        self.bug: Exception | None = None
        self._total = total
        self._next = 0
        self._running = 0
        self.running: set[int] = set()  # claimed, not yet recorded
        self._stopped = False
        self._changed = threading.Condition()

    def claim(self) -> int | None:
        with self._changed:
            if self._stopped or self._next >= self._total:
                return None
            self._next += 1
            self._running += 1
            self.running.add(self._next - 1)
            return self._next - 1

    def done(self, index: int, outcome: T) -> None:
        with self._changed:
            self.recorded[index] = outcome
            self.running.discard(index)
            self._running -= 1
            self._changed.notify_all()

    def snapshot(self) -> tuple[dict[int, T], set[int]]:
        """The outcomes recorded so far, and the work claimed but not yet recorded."""
        with self._changed:
            return dict(self.recorded), set(self.running)

    def wait_until_finished(self) -> None:
        with self._changed:
            # A timed wait, so Ctrl-C is seen at once on every platform.
            while len(self.recorded) < self._total:
                self._changed.wait(0.5)

    def stop(self) -> None:
        with self._changed:
            self._stopped = True

    def wait_for_running(self) -> None:
        with self._changed:
            while self._running:
                self._changed.wait(0.5)
