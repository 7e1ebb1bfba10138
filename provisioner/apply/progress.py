"""Progress of a long apply on stderr: a live line on a terminal, plain lines in CI."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import TextIO

SMALL_RUN = 50


class Progress:
    def __init__(
        self,
        out: TextIO,
        *,
        live: bool,
        quiet: bool = False,
        rate: Callable[[], str] | None = None,
    ) -> None:
        self._out = out
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

    def start(self, sandbox: str, total: int) -> None:
        self._totals[sandbox] += total
        self._total_all += total

    def finished(self, sandbox: str, *, failed: bool) -> None:
        with self._lock:
            self._done[sandbox] += 1
            self._done_all += 1
            if self._done[sandbox] == self._totals[sandbox]:
                self._complete += 1
            if failed:
                self._failed[sandbox] += 1
                self._failed_all += 1
            if self._quiet:
                return
            if self._live:
                self._draw()
            else:
                self._log_line()

    def _log_line(self) -> None:
        # Plain lines for CI logs: about every tenth of the work, and at the end.
        done, total = self._done_all, self._total_all
        if total < SMALL_RUN or (done % (total // 10) and done != total):
            return  # a small run needs no progress: the closing summary says it all
        failed = self._failed_all
        self._out.write(
            f"  progress: {done}/{total} done ({100 * done // total}%), {failed} failed"
            f"{self._rate_text()}\n"
        )
        self._out.flush()

    def _draw(self) -> None:
        now = time.monotonic()
        done, total = self._done_all, self._total_all
        if done < total and now - self._last_draw < 0.1:
            return
        self._last_draw = now
        failed, complete = self._failed_all, self._complete
        self._out.write(
            f"\r\033[K  creating: {done}/{total} done, {failed} failed, "
            f"{complete}/{len(self._totals)} sandboxes complete{self._rate_text()}"
        )
        if done == total:
            self._out.write("\n")
        self._out.flush()

    def _rate_text(self) -> str:
        return f", {self._rate()}" if self._rate is not None else ""
