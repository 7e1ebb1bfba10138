"""The pacer: the rate rule on a fake clock, then whole runs against the emulator's bucket.

The runs are a discrete-event simulation (one thread, simulated time): workers, latency and
the emulator's own token bucket (``provisioner.emulator.ratelimit``), so the assertions are
about behaviour (rates, shares, concurrency) and are exact on every machine.
"""

from __future__ import annotations

import heapq
import itertools
import random
from dataclasses import dataclass, field

import pytest

from provisioner.emulator.config import Faults
from provisioner.emulator.ratelimit import RateLimiter
from provisioner.remote.client.pacing import FLOOR, Pacer, Slot
from provisioner.remote.retry import RetryPolicy


class Ticks:
    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def ticks() -> Ticks:
    return Ticks()


def pacer(ticks: Ticks) -> Pacer:
    """A pacer past its slow start: the rules of a known limit, from an unpaced client."""
    return Pacer(clock=ticks, sleep=ticks.sleep, start=None)


def admit(p: Pacer, ticks: Ticks, count: int, every: float) -> None:
    """``count`` requests answered 200, one each ``every`` seconds."""
    for _ in range(count):
        sent = p.before_send()
        ticks.now += every
        p.on_response(sent, 200, None)


def test_nothing_waits_until_the_api_throttles(ticks: Ticks) -> None:
    p = pacer(ticks)
    admit(p, ticks, 500, 0.001)
    assert (p.rate, ticks.sleeps, p.throttled) == (None, [], 0)


def test_the_start_is_paced_then_doubles_every_quarter_second(ticks: Ticks) -> None:
    # Issue 22: unpaced, 32 workers sent at once and most 429s of a run came in its first
    # second. Now the first requests leave at 20/s, and faster every quarter second.
    p = Pacer(clock=ticks, sleep=ticks.sleep)
    start = ticks.now
    for _ in range(32):  # 32 workers, all at once
        p.begin()
    leaves = [p.reserve().leave - start for _ in range(32)]
    assert leaves[:2] == pytest.approx([0.0, 1 / 20])  # 20/s, then faster
    gaps = [b - a for a, b in itertools.pairwise(leaves)]
    assert all(later < earlier for earlier, later in itertools.pairwise(gaps))
    assert gaps[-1] < 1 / 80 and leaves[-1] < 0.65  # not 32 / 20 = 1.6 s at the first pace
    assert p.describe() == "0 requests/s (paced at 20/s: starting up)"


def test_without_a_limit_the_slow_start_ends_within_a_second(ticks: Ticks) -> None:
    p = Pacer(clock=ticks, sleep=ticks.sleep)
    admit(p, ticks, 500, 0.01)  # one worker, 100 a second if nothing held it
    assert (p.rate, p.throttled) == (None, 0)
    assert sum(ticks.sleeps) < 1.0


def test_a_429_in_slow_start_keeps_half_the_pace_that_drew_it(ticks: Ticks) -> None:
    p = Pacer(clock=ticks, sleep=ticks.sleep)
    begun = ticks.now
    slots = []
    while ticks.now < begun + 0.5:  # two doublings: 80/s by now
        slots.append(p.before_send())
    sent_at = p.rate
    assert sent_at == pytest.approx(80, rel=0.1)
    p.on_response(slots[-1], 429, None)
    assert p.rate is not None and 0.5 * sent_at <= p.rate <= 0.95 * sent_at
    assert p.describe().endswith(": the API throttles)")


def test_a_429_paces_just_under_what_was_admitted(ticks: Ticks) -> None:
    p = pacer(ticks)
    admit(p, ticks, 300, 0.01)  # 100 a second over the last second
    p.on_response(p.before_send(), 429, None)
    assert p.rate == pytest.approx(95.0)
    assert (p.throttled, p.decreases, p.lowest) == (1, 1, p.rate)
    # Sends are now spaced evenly at that pace.
    first = p.before_send().leave
    later = [p.before_send().leave - first for _ in range(3)]
    assert later == pytest.approx([1 / 95, 2 / 95, 3 / 95])


def test_429s_sent_before_the_decrease_change_nothing(ticks: Ticks) -> None:
    p = pacer(ticks)
    admit(p, ticks, 300, 0.01)
    in_flight = [p.before_send() for _ in range(5)]  # left at the old (unpaced) rate
    ticks.now += 0.05
    for sent in in_flight:
        p.on_response(sent, 429, None)
    assert (p.decreases, p.throttled) == (1, 5)
    # A 429 for a request sent after the decrease is news: the pace drops again.
    rate = p.rate
    assert rate is not None
    ticks.now += 0.01
    p.on_response(p.before_send(), 429, None)
    assert p.decreases == 2
    assert p.rate is not None and p.rate <= 0.95 * rate


def test_nothing_admitted_halves_the_send_rate_and_never_stops(ticks: Ticks) -> None:
    p = pacer(ticks)
    for _ in range(40):
        sent = p.before_send()
        ticks.now += 0.025  # 40 a second, every one refused
        p.on_response(sent, 429, None)
    assert p.rate == FLOOR
    assert p.decreases > 1


def test_retry_after_holds_every_sender(ticks: Ticks) -> None:
    p = pacer(ticks)
    admit(p, ticks, 10, 0.01)
    p.on_response(p.before_send(), 429, 3.0)
    start = ticks.now
    p.before_send()
    assert ticks.now == pytest.approx(start + 3.0)


def test_quiet_windows_raise_the_pace_then_drop_it(ticks: Ticks) -> None:
    p = pacer(ticks)
    admit(p, ticks, 200, 0.01)
    p.on_response(p.before_send(), 429, None)
    assert p.rate == pytest.approx(95.0)
    paces = []
    for _ in range(8):  # keep sending as fast as the pace allows, one window at a time
        end = ticks.now + 1.0
        while ticks.now < end:
            p.on_response(p.before_send(), 200, None)
        paces.append(p.rate)
    # Half way back to the pace that drew the 429 (100) each quiet window, by 2% of it at
    # least; past it, probing by 2, 4, 8... (the step doubles every quiet window).
    expected = [97.5, 99.5, 101.5, 103.5, 107.5, 115.5, 131.5, 163.5]
    assert paces == pytest.approx(expected, rel=0.02)
    # Workers busy all along but sending less than half the pace: it limits nothing.
    admit(p, ticks, 60, 0.02)
    assert p.rate is None


def test_idle_time_is_neither_a_slow_api_nor_a_quiet_window(ticks: Ticks) -> None:
    p = pacer(ticks)
    admit(p, ticks, 200, 0.01)
    p.on_response(p.before_send(), 429, None)
    assert p.rate == pytest.approx(95.0)
    ticks.now += 5.0  # between plan and apply: nothing out
    admit(p, ticks, 1, 0.01)
    assert p.rate == pytest.approx(95.0)  # five idle seconds raised nothing
    ticks.now += 2.0
    admit(p, ticks, 50, 0.0125)  # 80 a second since the client became busy again
    p.on_response(p.before_send(), 429, None)
    assert p.rate == pytest.approx(0.95 * 80, rel=0.03)  # not diluted by the idle time


def test_describe_says_the_rate_and_why_it_is_paced(ticks: Ticks) -> None:
    p = pacer(ticks)
    admit(p, ticks, 100, 0.01)
    p.on_response(p.before_send(), 429, None)
    assert p.describe() == "100 requests/s (paced at 95/s: the API throttles)"
    slow = pacer(ticks)
    admit(slow, ticks, 3, 1.0)
    assert slow.describe() == "1 request/s"  # not "1 requests/s"


# --- whole runs, simulated -----------------------------------------------------------------


@dataclass
class Run:
    """What a simulated apply saw: responses by status, in-flight samples, the pace."""

    ok: int = 0
    throttled: int = 0
    created: list[int] = field(default_factory=list)
    throttled_at: list[float] = field(default_factory=list)  # when each 429 came back
    in_flight: list[tuple[float, int]] = field(default_factory=list)  # (since, how many)
    finished_at: float = 0.0

    def concurrency(self, start: float, end: float) -> float:
        """Requests on the wire, averaged over time from ``start`` to ``end``."""
        total = 0.0
        marks = [*self.in_flight, (end, 0)]
        for (since, count), (until, _) in itertools.pairwise(marks):
            total += count * max(0.0, min(until, end) - max(since, start))
        return total / (end - start)


def simulate(
    p: Pacer,
    ticks: Ticks,
    limiter: RateLimiter,
    faults: Faults,
    *,
    creates: int,
    workers: int = 8,
    latency: float = 0.05,
) -> Run:
    """``workers`` threads creating ``creates`` connections: each sends, is admitted or refused
    by the bucket half way, and hears back after ``latency``; a 429 is retried after the
    client's own backoff, exactly as the transport does."""
    run, rng, policy = Run(), random.Random(5), RetryPolicy()
    jobs = iter(range(creates))
    order = itertools.count()
    events: list[tuple[float, int, str, int, int, Slot]] = []
    flying = 0

    def start(worker_job: int, attempt: int, attempt_starts: bool = True) -> None:
        nonlocal flying
        if attempt_starts:
            p.begin()
        slot = p.reserve()  # what before_send does, as events: wait, then check the slot
        heapq.heappush(events, (slot.leave, next(order), "leave", worker_job, attempt, slot))

    def next_job() -> None:
        job = next(jobs, None)
        if job is not None:
            start(job, 1)

    for _ in range(workers):
        next_job()
    verdicts: dict[tuple[int, int], int] = {}
    while events:
        at, _, kind, job, attempt, slot = heapq.heappop(events)
        ticks.now = at
        if kind == "retry":
            start(job, attempt)
            continue
        if kind == "leave" and not p.still_valid(slot):
            start(job, attempt, attempt_starts=False)  # the pace dropped: queue again
            continue
        if kind == "leave":  # on the wire from now on (the wait for its turn is over)
            flying += 1
            run.in_flight.append((at, flying))
            heapq.heappush(events, (at + latency / 2, next(order), "arrive", job, attempt, slot))
            continue
        if kind == "arrive":
            verdicts[job, attempt] = 200 if limiter.admit("org", faults) is None else 429
            heapq.heappush(events, (at + latency / 2, next(order), "answer", job, attempt, slot))
            continue
        flying -= 1
        run.in_flight.append((at, flying))
        status = verdicts.pop((job, attempt))
        p.on_response(slot, status, None)
        if status == 200:
            run.ok += 1
            run.created.append(job)
            run.finished_at = at
            next_job()
        else:
            run.throttled += 1
            run.throttled_at.append(at)
            retry_at = at + policy.backoff_delay(attempt, rng)
            heapq.heappush(events, (retry_at, next(order), "retry", job, attempt + 1, slot))
    return run


def no_sleep(ticks: Ticks) -> Pacer:
    return Pacer(clock=ticks, sleep=lambda seconds: None)


def test_an_apply_finds_the_allowed_rate_then_recovers_when_the_limit_lifts(
    ticks: Ticks,
) -> None:
    p, limiter = no_sleep(ticks), RateLimiter(ticks)
    limited = Faults(rate_limit=100)  # 8 workers at 50 ms could send 160 a second
    start = ticks.now
    first = simulate(p, ticks, limiter, limited, creates=2000)
    assert sorted(first.created) == list(range(2000))  # every one created, exactly once
    achieved = first.ok / (first.finished_at - start)
    assert achieved >= 90.0  # of the 100 allowed
    assert first.throttled / (first.ok + first.throttled) <= 0.05
    assert p.lowest is not None and 80 <= p.lowest <= 100
    # Concurrency dropped below the ceiling: about rate x latency = 5 of 8 on the wire.
    assert first.concurrency(start + 5, first.finished_at - 1) < 6.0

    start = ticks.now
    second = simulate(p, ticks, limiter, Faults(), creates=2000)
    assert sorted(second.created) == list(range(2000)) and second.throttled == 0
    assert p.rate is None  # the pace was found to limit nothing and dropped
    # Back at the ceiling for the last third of the run.
    third = (second.finished_at - start) / 3
    assert second.concurrency(second.finished_at - third, second.finished_at - 0.1) > 7.5
    assert second.ok / (second.finished_at - start) > 1.2 * achieved


def test_without_a_limit_nothing_is_paced_after_the_slow_start(ticks: Ticks) -> None:
    p, limiter = no_sleep(ticks), RateLimiter(ticks)
    run = simulate(p, ticks, limiter, Faults(), creates=500)
    assert (run.throttled, p.rate, p.decreases) == (0, None, 0)
    began = run.in_flight[0][0]
    assert run.concurrency(began + 1.0, run.finished_at - 0.1) == pytest.approx(8)


def test_a_low_limit_with_no_burst_and_twice_the_workers(ticks: Ticks) -> None:
    # Ten answers a second measure the limit coarsely: slower to settle, still well behaved.
    p, limiter = no_sleep(ticks), RateLimiter(ticks)
    faults = Faults(rate_limit=10, rate_limit_burst=1)
    start = ticks.now
    run = simulate(p, ticks, limiter, faults, creates=1000, workers=16)
    assert sorted(run.created) == list(range(1000))
    assert run.ok / (run.finished_at - start) >= 8.0
    assert run.throttled / (run.ok + run.throttled) <= 0.06


@pytest.mark.parametrize("workers", [16, 64])
def test_more_workers_than_the_limit_needs(ticks: Ticks, workers: int) -> None:
    p, limiter = no_sleep(ticks), RateLimiter(ticks)
    start = ticks.now
    run = simulate(p, ticks, limiter, Faults(rate_limit=100), creates=2000, workers=workers)
    assert sorted(run.created) == list(range(2000))
    assert run.ok / (run.finished_at - start) >= 90.0
    assert run.throttled / (run.ok + run.throttled) <= 0.05


def test_a_long_run_keeps_only_the_recent_times(ticks: Ticks) -> None:
    # Unpaced, nothing measured them: the send and answer times grew with the run, and
    # describe() scanned them all under the lock on every progress draw.
    p = pacer(ticks)
    admit(p, ticks, 5_000, 0.01)  # 50 s at 100 a second
    assert len(p._sends) < 110  # a window of them, not 5,000
    assert len(p._admitted) < 510  # HISTORY windows


@pytest.mark.parametrize("workers", [4, 16, 32, 64])
def test_a_40_per_second_limit_draws_few_429s_at_any_parallelism(
    ticks: Ticks, workers: int
) -> None:
    # Issue 22: 40/s without headers drew 5.4-7.1% 429s at --parallelism 32, 39 of 42 of them
    # in the first second, while the pacer started unpaced.
    p, limiter = no_sleep(ticks), RateLimiter(ticks)
    start = ticks.now
    run = simulate(p, ticks, limiter, Faults(rate_limit=40), creates=800, workers=workers)
    assert sorted(run.created) == list(range(800))
    assert run.throttled / (run.ok + run.throttled) <= 0.02
    assert sum(1 for at in run.throttled_at if at < start + 1.0) <= 8
    assert run.ok / (run.finished_at - start) >= 38.0  # of the 40 allowed
