"""Finding the request rate Adobe's gateway allows, and keeping just under it.

Adobe throttles with ``429`` ``429050``, usually without ``Retry-After`` or rate headers,
and publishes no budget; the workers (``--parallelism``) are only the ceiling. The gateway
limits a *rate* (a token bucket per org), so the pacer controls a rate, not a count:

- **Decrease, anchored to what was admitted.** On a 429 the pacer measures how many
  requests the gateway let through lately (over the last second, or the last 20 answers
  when a second holds fewer): under a saturated token bucket that *is* the allowed rate.
  It paces at 95% of it, and always at least 5% below its current pace; with fewer than
  5 answers to measure (the first burst) it halves. Plain AIMD on a concurrency limit
  halves every time and oscillates between half and all of the allowed rate, about 75% on
  average: less than a pipeline should get, and no fewer 429s.
- **One decrease per window.** A 429 for a request sent before the last decrease says
  nothing about the new pace, so it changes nothing (TCP reacts once per window too);
  slots handed out at the old pace are void, and their requests queue again.
- **Binary search back, then probing.** The pace that drew the 429 is an upper bound on
  the limit and the new pace a lower one: each busy second without a 429 closes half of the
  gap (2% to 25% of the upper bound a step, as BIC-TCP does), so an estimate that came out
  low is corrected in a few seconds. Past the upper bound with still no 429, the step
  starts at 2% and doubles every quiet second, so a lifted limit is found in seconds, not
  minutes. When the pace is twice what the workers manage to send, it limits nothing and
  is dropped: from then on the run is exactly as fast as an unpaced one.
- **Only busy time counts.** Rates are measured since the client last had a request out
  (a pause between plan and apply is not a slow API), and idle seconds raise nothing.
  Low demand inside the measured second still makes the estimate low; the search above
  is what recovers from that.
- **Retry-After** is honoured for everyone: no request leaves before it has passed.
- **Slow start.** Before the first 429 the limit is unknown, and an unpaced start sends
  every worker at once: at 32 workers against 40 requests/s, most of a run's 429s came in its
  first second. So the pace starts at ``START`` requests/s and doubles every quarter of a
  window of busy time (TCP's slow start), continuously: a slot booked ahead is spaced at the
  pace of its own time, so the workers' first requests do not queue at the first pace. A 429
  ends it (the rules above take over, from no less than half the pace that drew it); so does
  a quarter window in which no request waited for its slot: the workers, not the API, are
  the limit, and the pace is dropped. Without a limit that costs under a second; under
  one, the overshoot lasts a round trip.

One pacer per org (``pacers.OrgPacers``): Adobe's bucket is per org, so one org's 429s must
not slow another's requests.

Sends are spaced evenly (no bursts): a token bucket refills evenly. IMS is another service
and is never paced. Thread-safe; no lock is held while waiting.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

DECREASE_TO = 0.95  # of the admitted rate, and of the current pace at most
MIN_STEP = 0.02  # of the pace that drew the last 429: the smallest increase
MAX_STEP = 0.25  # and the largest, while searching back towards that pace
FLOOR = 0.5  # requests per second: never stop altogether
MIN_SAMPLES = 20  # a slow pace measures over more than one window, up to HISTORY
MIN_TO_MEASURE = 5  # fewer answers than this and a decrease halves instead
HISTORY = 5  # windows of answers kept
START = 20.0  # requests per second: the first pace, while the limit is unknown
RAMP_EVERY = 0.25  # of a window: slow start doubles the pace this often
log = logging.getLogger("provisioner.client")
IDLE_GAP = 0.1  # of a window: nothing out for longer than this, and the client was idle


class PaceReport(Protocol):
    """What reports read of the pacing: one org's Pacer, or the run's (routing.OrgPacers)."""

    @property
    def throttled(self) -> int: ...  # 429s seen

    @property
    def lowest(self) -> float | None: ...  # the lowest pace set

    def describe(self) -> str: ...


@dataclass(frozen=True)
class Slot:
    leave: float  # when the request may leave
    generation: int  # the pace it was given under


class Pacer:
    def __init__(
        self,
        *,
        window: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        start: float | None = START,
    ) -> None:
        """`start`: the slow start's first pace; None starts unpaced."""
        self._window = window
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._rate: float | None = start  # None: not paced; in slow start, its first pace
        self._ramping = start is not None  # slow start: the pace doubles every RAMP_EVERY
        self._ramp_from: float | None = None  # busy since (set by begin): the ramp's origin
        self._unbooked_since: float | None = None  # slow start: no request has waited since
        self._next_slot = 0.0
        self._paused_until = 0.0
        self._generation = 0  # bumped at every decrease
        self._step = 0.0  # while probing past _throttled_at
        self._throttled_at = 0.0  # the pace that drew the last 429: the limit is below
        self._window_end: float | None = None
        self._in_flight = 0
        self._busy_since: float | None = None  # None: nothing out
        self._first_begin: float | None = None
        self._idle_since: float | None = None  # when the last request out ended
        self._sends: deque[float] = deque()
        self._admitted: deque[float] = deque()
        self.throttled = 0  # 429s seen
        self.decreases = 0
        self.lowest: float | None = None  # the lowest pace set, for reports

    @property
    def rate(self) -> float | None:
        """The current pace in requests per second; None while it limits nothing."""
        with self._lock:
            return self._pace_at(self._clock())

    @property
    def in_flight(self) -> int:
        """Requests begun and not yet answered (or failed), waiting for a slot included."""
        with self._lock:
            return self._in_flight

    def before_send(self) -> Slot:
        """Wait for this request's turn; give the slot back with ``on_response``/``on_failure``."""
        self.begin()
        while True:
            slot = self.reserve()
            now = self._clock()
            if slot.leave > now:
                self._sleep(slot.leave - now)
            if self.still_valid(slot):
                return slot
            # The pace dropped (or a Retry-After came) while we waited: queue at the new one.

    def begin(self) -> None:
        """A request is out from now until its answer (or failure): the client is busy."""
        with self._lock:
            now = self._clock()
            idle_for = now - self._idle_since if self._idle_since is not None else float("inf")
            if self._in_flight == 0 and idle_for > IDLE_GAP * self._window:
                self._busy_since = now
            if self._first_begin is None:
                self._first_begin = now
            self._in_flight += 1
            if self._window_end is None:
                self._window_end = now + self._window
            if self._ramping and self._busy_since == now:
                # Busy again (or for the first time): the ramp goes on from where it stopped.
                if self._first_begin != now:
                    self._rate = self._pace_at(self._idle_since or now)
                self._ramp_from = now

    def reserve(self) -> Slot:
        """The next free time to send at the current pace, taken; nothing waits here."""
        with self._lock:
            now = self._clock()
            self._forget(now)
            leave = max(now, self._paused_until)
            if self._ramping:
                self._ramp(leave, now)
            if self._rate is not None:
                leave = max(leave, self._next_slot)
                self._next_slot = leave + 1.0 / (self._pace_at(leave) or self._rate)
            self._sends.append(leave)
            return Slot(leave, self._generation)

    def still_valid(self, slot: Slot) -> bool:
        """Whether a slot taken earlier still keeps the pace and any Retry-After."""
        with self._lock:
            return slot.generation == self._generation and slot.leave >= self._paused_until

    def on_failure(self, slot: Slot) -> None:
        """No answer at all (a transport error): nothing learnt, the request is over."""
        with self._lock:
            self._end()

    def on_response(self, slot: Slot, status: int, retry_after: float | None) -> None:
        with self._lock:
            now = self._clock()
            self._tick(now)
            if status != 429:
                self._admitted.append(now)
            else:
                self.throttled += 1
                if retry_after is not None:
                    self._paused_until = max(self._paused_until, now + retry_after)
                if slot.generation == self._generation:  # else: sent at the old pace
                    # Out of slow start, half the pace that drew it was admitted a quarter
                    # window earlier: the ramp's slow start would make the measure too low.
                    at_least = FLOOR
                    if self._ramping:
                        at_least = (self._pace_at(slot.leave) or FLOOR) / 2
                        self._rate, self._ramping = self._pace_at(now), False
                    self._decrease(now, at_least=at_least)
                self._ramping = False  # the limit shows: the rules of a known limit from now
            self._end()  # after measuring: this request's time counts as busy

    def describe(self) -> str:
        """'42 requests/s' or '95 requests/s (paced at 96/s: the API throttles)', for progress."""
        answered, pace, starting = self.state()
        return describe(answered, pace, starting)

    def state(self) -> tuple[float, float | None, bool]:
        """Answers per second over the last window, the pace (None: unpaced), and whether
        the pace is still the slow start's."""
        with self._lock:
            now = self._clock()
            began = self._first_begin if self._first_begin is not None else now
            span = max(min(self._window, now - began), self._window / 20)
            answered = sum(1 for at in self._admitted if at > now - self._window)
            return answered / span, self._pace_at(now), self._ramping

    # --- under the lock ---------------------------------------------------------------

    def _pace_at(self, when: float) -> float | None:
        """The pace at `when`: in slow start, doubled every RAMP_EVERY since it began."""
        if not self._ramping or self._rate is None:
            return self._rate
        origin = when if self._ramp_from is None else self._ramp_from
        ramped = max(0.0, when - origin) / (RAMP_EVERY * self._window)
        return self._rate * 2 ** min(ramped, 30.0)

    def _ramp(self, leave: float, now: float) -> None:
        """Slow start ends when no request has waited for its slot for a quarter window."""
        if max(leave, self._next_slot) > now:
            self._unbooked_since = None  # this one waits: the pace is what holds it
            return
        if self._unbooked_since is None:
            self._unbooked_since = now
        elif now - self._unbooked_since >= RAMP_EVERY * self._window:
            self._rate, self._ramping = None, False  # the workers are the limit, not the API

    def _end(self) -> None:
        self._in_flight = max(0, self._in_flight - 1)
        if self._in_flight == 0:
            self._idle_since = self._clock()

    def _busy(self, since: float, now: float) -> bool:
        """Whether some request was out all the time from ``since`` to ``now``."""
        if self._busy_since is None or self._busy_since > since:
            return False
        idle = self._in_flight == 0 and self._idle_since is not None
        return not idle or now - (self._idle_since or now) <= IDLE_GAP * self._window

    def _decrease(self, now: float, at_least: float = FLOOR) -> None:
        current = self._rate if self._rate is not None else self._sent_rate(now)
        admitted, answers = self._admitted_rate(now)
        # With too few answers to measure (the first burst), plain halving.
        target = DECREASE_TO * admitted if answers >= MIN_TO_MEASURE else current / 2
        self._throttled_at = current
        self._rate = max(FLOOR, at_least, min(target, DECREASE_TO * current))
        # Slots taken at the old pace are void (their holders queue again), so the next
        # one is a step of the new pace from now.
        self._next_slot = now + 1.0 / self._rate
        self._generation += 1
        self._step = MIN_STEP * current
        self._window_end = now + self._window
        self.decreases += 1
        self.lowest = self._rate if self.lowest is None else min(self.lowest, self._rate)
        log.info(
            "429: pacing at %.1f requests/s (was %.1f; %.1f/s admitted over %d answers)",
            self._rate,
            current,
            admitted,
            answers,
        )

    def _tick(self, now: float) -> None:
        """Close the windows that ended: each busy one without a 429 raises the pace."""
        while self._window_end is not None and now >= self._window_end:
            started = self._window_end - self._window
            self._window_end += self._window
            if self._rate is None or self._ramping or not self._busy(started, now):
                continue
            gap = self._throttled_at - self._rate
            if gap > 0:  # binary search back towards the pace that drew the 429
                low, high = MIN_STEP * self._throttled_at, MAX_STEP * self._throttled_at
                self._rate += min(max(gap / 2, low), high)
            else:  # past it and still no 429: probe, faster every quiet window
                self._rate += self._step
                self._step *= 2
            if self._rate >= 2 * self._sent_rate(now):
                self._rate = None  # the workers send less than half of it: not a limit

    def _since(self, now: float) -> float:
        """Where measuring may start: not before the client last became busy."""
        return max(now - HISTORY * self._window, self._busy_since or now)

    def _forget(self, now: float) -> None:
        """Drop the times no rate reads any more: every request passes here, so the deques
        stay a few windows long (describe() scans them under the lock) however long the run."""
        while self._sends and self._sends[0] <= now - self._window:
            self._sends.popleft()
        while self._admitted and self._admitted[0] <= now - HISTORY * self._window:
            self._admitted.popleft()

    def _sent_rate(self, now: float) -> float:
        self._forget(now)
        span = now - max(now - self._window, self._since(now))
        return len(self._sends) / max(span, self._window / 20)

    def _admitted_rate(self, now: float) -> tuple[float, int]:
        """Answers per second lately, and how many answers that is measured on.

        Measured from the first answer in the span, not its start: a busy spell's first
        round trip has no answers yet, and counting it would underrate the API.
        """
        self._forget(now)
        since = self._since(now)
        answers = [at for at in self._admitted if at > since]
        picked = [at for at in answers if at > now - self._window]
        if len(picked) < MIN_SAMPLES:  # a slow pace: the last MIN_SAMPLES while busy
            picked = answers[-MIN_SAMPLES:]
        if len(picked) < 2:
            return 0.0, len(picked)
        return (len(picked) - 1) / max(now - picked[0], 1e-9), len(picked)


def describe(answered: float, pace: float | None, starting: bool) -> str:
    rate = round(answered)
    text = f"{rate} request{'s' if rate != 1 else ''}/s"
    if pace is not None:
        why = "starting up" if starting else "the API throttles"
        text += f" (paced at {pace:.0f}/s: {why})"
    return text
