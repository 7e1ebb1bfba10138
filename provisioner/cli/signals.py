"""SIGINT and SIGTERM end a run the same way; only the exit code tells them apart.

SIGTERM is what CI cancellations and job timeouts send. Python's default for it kills the
process on the spot: no summary, and whatever stdout still held in its buffer (the plan,
in a pipeline's log file) is lost. So both signals raise in the main thread, where apply
catches it, starts nothing new, lets the requests in flight finish and says what was done.

    first signal    KeyboardInterrupt (``Terminated`` for SIGTERM): stop starting, settle,
                    summarise; exit 130 (143 for SIGTERM, 128 + its number, as shells do)
    second signal   raised again: apply stops waiting for the requests in flight, reports
                    them as in flight (outcome unknown) and summarises; the process then
                    exits without waiting for them
    third signal    one line and an immediate exit: the user insists
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

EXIT_INTERRUPTED = 130  # 128 + SIGINT
EXIT_TERMINATED = 143  # 128 + SIGTERM


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that every ``except KeyboardInterrupt`` settles it."""


class Signals:
    """The SIGINT/SIGTERM received during one run, in order."""

    def __init__(self) -> None:
        self.received: list[int] = []

    @property
    def terminated(self) -> bool:
        return bool(self.received) and self.received[0] == signal.SIGTERM

    @property
    def exit_code(self) -> int:
        return EXIT_TERMINATED if self.terminated else EXIT_INTERRUPTED

    @property
    def insisted(self) -> bool:
        """A second signal came: the run must not wait for anything on its way out."""
        return len(self.received) > 1

    @property
    def name(self) -> str:
        return "SIGTERM" if self.terminated else "Ctrl-C (SIGINT)"

    def handle(self, signum: int, frame: FrameType | None) -> None:
        self.received.append(signum)
        if len(self.received) > 2:
            # os.write, not sys.stderr: the main thread may be inside a write to it, and a
            # buffered stream refuses a reentrant call.
            os.write(
                2,
                b"provision: stopped at once; requests in flight may have landed: "
                b"re-run to converge (apply never duplicates)\n",
            )
            os._exit(self.exit_code)
        raise Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()


@contextmanager
def handled() -> Iterator[Signals]:
    """SIGINT and SIGTERM raise in the main thread for the duration (and are restored)."""
    signals = Signals()
    if threading.current_thread() is not threading.main_thread():
        yield signals  # signal.signal works only in the main thread; a test may call main()
        return
    previous = {sig: signal.signal(sig, signals.handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield signals
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
