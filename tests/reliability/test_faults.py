"""Apply under injected faults ends with every connection exactly once, and nothing to do.

Each profile runs once per seed against a fresh emulator: 429s with and without Retry-After,
5xx, latency spikes, creates that commit and then fail (a 500 or a dropped connection),
responses slower than the client's timeout, and all of them mixed. A create whose outcome is
unknown must be settled by listing, never by sending it again blindly (SPEC section 5).

A run is one apply; when it reports failures (a create still unclear after every attempt, a
sandbox that could not be listed) it is applied again, which SPEC section 5 promises
converges. Those re-runs are counted, and the run must still end with no duplicate.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from provisioner.apply.create import Status
from provisioner.emulator import Emulator, EmulatorConfig, Faults, serve
from provisioner.model import Identity
from provisioner.remote.client import FlowServiceClient, build_http_client

from .soak import (
    CONNECTIONS,
    FIGURES,
    SANDBOXES,
    SEEDS,
    apply_once,
    assert_converged,
    census,
    client_for,
    desired_from,
    write_manifest,
)

PARALLELISM = 16
MAX_RUNS = 5


@dataclass(frozen=True)
class Profile:
    name: str
    faults: Faults
    # A per-request client timeout; set, the emulator is served on a loopback socket
    # (the in-process transport has no clock to time out on).
    timeout: float | None = None


PROFILES = [
    Profile("429", Faults(rate_429=0.3, rate_429_no_retry_after=0.5, retry_after_s=1)),
    Profile("5xx", Faults(rate_5xx=0.15)),
    Profile("latency", Faults(latency_ms=1.0, latency_jitter_ms=40.0)),
    Profile("commit-then-fail", Faults(rate_commit_then_500=0.1, rate_commit_then_drop=0.1)),
    # One request in five takes longer than the client waits; the server still finishes it.
    Profile("timeout", Faults(latency_jitter_ms=100.0), timeout=0.08),
    Profile(
        "mixed",
        Faults(
            latency_ms=2.0,
            latency_jitter_ms=60.0,
            rate_429=0.1,
            rate_429_no_retry_after=0.5,
            retry_after_s=1,
            rate_5xx=0.05,
            rate_commit_then_500=0.05,
            rate_commit_then_drop=0.05,
        ),
        timeout=0.055,
    ),
]


# How apply words a create whose answer was lost and whose listing afterwards failed too.
LOOK_FAILED = "checking whether it was created failed too"


@contextmanager
def client_on(emulator: Emulator, profile: Profile) -> Iterator[FlowServiceClient]:
    if profile.timeout is None:
        yield client_for(emulator)
        return
    with (
        serve(emulator, port=0) as server,
        build_http_client(profile.timeout, parallelism=PARALLELISM) as http,
    ):
        yield client_for(emulator, http=http, base=server.url)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.name)
def test_apply_under_faults_creates_each_connection_exactly_once(
    profile: Profile, seed: int, tmp_path: Path
) -> None:
    desired = desired_from(write_manifest(tmp_path))
    assert len(desired) == CONNECTIONS
    config = EmulatorConfig(sandboxes=SANDBOXES, seed=seed, faults=profile.faults)
    emulator = Emulator(config)
    started = time.monotonic()
    try:
        with client_on(emulator, profile) as client:
            runs, created, failed = 0, 0, 0
            made: Counter[Identity] = Counter()  # creates that stayed or yielded
            unclear: set[Identity] = set()  # a lost answer, and the look afterwards failed too
            while True:
                runs += 1
                plan, result = apply_once(client, desired, PARALLELISM)
                created += result.count(Status.CREATED)
                failed += result.count(Status.FAILED)
                for outcome in result.outcomes:
                    name = outcome.planned.desired.identity
                    if outcome.status in (Status.CREATED, Status.YIELDED):
                        made[name] += 1
                    elif outcome.status is Status.FAILED and LOOK_FAILED in (outcome.message or ""):
                        unclear.add(name)
                # Never a duplicate, not even on the way: a failed run leaves only gaps.
                assert census(emulator, desired)[1] == 0
                assert not result.interrupted
                if not (result.count(Status.FAILED) or plan.has_errors):
                    break
                assert runs < MAX_RUNS, [o.message for o in result.outcomes if o.message]
            emulator.set_faults(Faults())  # the verdict is read without faults
            assert_converged(emulator, client_for(emulator), desired)
            once, duplicates, lost = census(emulator, desired)
    finally:
        emulator.close()
    # Each one created by exactly one apply. Its answer says so (created), or, under load, the
    # answer was lost and the create sent again yielded to the first copy (yielded), or the
    # look after a lost answer failed too and the next run found it in place (unclear).
    assert max(made.values(), default=1) == 1, made
    assert set(made) | unclear == {c.identity for c in desired}
    assert sum(made.values()) + len(unclear - set(made)) == CONNECTIONS
    FIGURES.add(
        f"faults/{profile.name}",
        runs=1,
        connections_created=created,
        duplicates=duplicates,
        lost=lost,
        reruns_after_failures=runs - 1,
    )
    print(
        f"\nfaults/{profile.name} seed {seed}: {once}/{CONNECTIONS} present once, "
        f"{failed} failed on the way, {runs - 1} re-run(s), {time.monotonic() - started:.1f} s"
    )
