"""Progress of a long apply on stderr: a live line on a terminal, plain lines in CI.

The live line is redrawn in place (``\r`` and erase-line), so it must never be wider than
the terminal: a line that wraps leaves a copy of itself behind on every redraw. It is fit
to the width at each draw (a terminal can be resized), dropping its least useful parts
first. Other text (a note, the summary) first erases the line, so nothing is glued to it.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import TextIO

SMALL_RUN = 50
ERASE = "\r\033[K"


def terminal_columns(out: TextIO) -> Callable[[], int]:
    """The width of the terminal ``out`` writes to (COLUMNS first, as shutil does)."""

    def columns() -> int:
        if os.environ.get("COLUMNS", "").isdigit():
            return shutil.get_terminal_size().columns
        try:
            return os.get_terminal_size(out.fileno()).columns
        except (AttributeError, ValueError, OSError):
            return shutil.get_terminal_size().columns

    return columns


def fit(parts: list[str], width: int) -> str:
    """The parts joined by ", ", the last ones dropped until it fits in ``width - 1``
    columns (writing the last column wraps on some terminals); the first part is cut."""
    room = max(1, width - 1)
    while len(parts) > 1 and len(", ".join(parts)) > room:
        parts = parts[:-1]
    line = ", ".join(parts)
    if len(line) <= room:
        return line
    return line[: room - 3] + "..." if room > 3 else line[:room]


class Progress:
    def __init__(
        self,
        out: TextIO,
        *,
        live: bool,
        quiet: bool = False,
        rate: Callable[[], str] | None = None,
        columns: Callable[[], int] | None = None,
    ) -> None:
        self._out = out
        self._columns = columns or terminal_columns(out)
        self._shown = False  # a live line is on screen, without its newline
        self._closed = False
        self._rate = rate  # "95 requests/s (paced at 96/s: the API throttles)"
        self._live = live
        self._quiet = quiet
        self._lock = threading.Lock()
        self._totals: Counter[str] = Counter()
        self._done: Counter[str] = Counter()
        self._failed: Counter[str] = Counter()
        self._last_draw = 0.0
        # Running sums: summing 500 sandboxes' counters after each of 50,000 creates is
        # quadratic work.
        self._done_all = self._total_all = self._failed_all = self._complete = 0
        self._not_started = 0

    def start(self, sandbox: str, total: int) -> None:
        self._totals[sandbox] += total
        self._total_all += total

    def finished(self, sandbox: str, *, failed: bool, started: bool = True) -> None:
        """One unit of work ended; ``started=False``: it was never sent (interrupted, or
        the org's API kept failing), counted apart so the line agrees with the summary."""
        with self._lock:
            self._done[sandbox] += 1
            self._done_all += 1
            if self._done[sandbox] == self._totals[sandbox]:
                self._complete += 1
            if failed:
                self._failed[sandbox] += 1
                self._failed_all += 1
            if not started:
                self._not_started += 1
            if self._quiet or self._closed:
                return
            if not started and not self._live and self._done_all < self._total_all:
                return  # a burst of writes not started (an outage) is one line, at the end
            if self._live:
                self._draw()
            else:
                self._log_line()

    def note(self, text: str) -> None:
        """A line of its own (say, why writes stopped in an org), under -q too; the live
        line is erased first and drawn again below it."""
        with self._lock:
            self._out.write((ERASE if self._shown else "") + text + "\n")
            if self._shown:
                self._shown = False
                self._draw(force=True)
            self._out.flush()

    def close(self) -> None:
        """Erase an unfinished live line before the summary, and draw nothing after."""
        # Bounded: a second signal that lands as note() takes the lock can leave it taken,
        # and the summary must still be written.
        locked = self._lock.acquire(timeout=1.0)
        try:
            if self._shown:
                self._out.write(ERASE)
                self._out.flush()
                self._shown = False
            self._closed = True
        finally:
            if locked:
                self._lock.release()

    def _log_line(self) -> None:
        # Plain lines for CI logs: about every tenth of the work, and at the end.
        done, total = self._done_all, self._total_all
        if total < SMALL_RUN or (done % (total // 10) and done != total):
            return  # a small run needs no progress: the closing summary says it all
        failed = self._failed_all
        self._out.write(
            f"  progress: {done}/{total} done ({100 * done // total}%), {failed} failed"
            f"{self._not_started_text()}{self._rate_text()}\n"
        )
        self._out.flush()

    def _draw(self, *, force: bool = False) -> None:
        now = time.monotonic()
        done, total = self._done_all, self._total_all
        if not force and done < total and now - self._last_draw < 0.1:
            return
        self._last_draw = now
        parts = [
            f"  creating: {done}/{total} done",
            f"{self._failed_all} failed{self._not_started_text()}",
            f"{self._complete}/{len(self._totals)} sandboxes complete",
        ]
        if self._rate is not None:
            parts.append(self._rate())
        self._out.write(ERASE + fit(parts, self._columns()))
        self._shown = done < total
        if done == total:
            self._out.write("\n")
        self._out.flush()

    def _not_started_text(self) -> str:
        return f", {self._not_started} not started" if self._not_started else ""

    def _rate_text(self) -> str:
        return f", {self._rate()}" if self._rate is not None else ""
