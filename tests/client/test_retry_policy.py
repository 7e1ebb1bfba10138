from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from provisioner.remote.retry import RetryPolicy, parse_retry_after

NOW = 1_700_000_000.0


@given(attempt=st.integers(min_value=1, max_value=200), seed=st.integers())
def test_backoff_is_full_jitter_below_the_capped_exponential(attempt: int, seed: int) -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=20.0)
    delay = policy.backoff_delay(attempt, random.Random(seed))
    assert 0.0 <= delay <= min(20.0, 0.5 * 2 ** (attempt - 1))


def test_backoff_ceiling_doubles_then_caps() -> None:
    class Top(random.Random):
        def uniform(self, a: float, b: float) -> float:
            return b

    policy = RetryPolicy(base_delay=0.5, max_delay=20.0)
    assert [policy.backoff_delay(n, Top()) for n in range(1, 9)] == [
        0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 20.0, 20.0,
    ]  # fmt: skip


def test_backoff_spreads_parallel_workers() -> None:
    policy = RetryPolicy()
    delays = {policy.backoff_delay(4, random.Random(seed)) for seed in range(16)}
    assert len(delays) == 16


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("7", 7.0),
        (" 12 ", 12.0),
        ("0", 0.0),
        ("-3", None),
        ("1.5", None),
        ("soon", None),
        ("", None),
        (format_datetime(datetime.fromtimestamp(NOW + 30, UTC), usegmt=True), 30.0),
        (format_datetime(datetime.fromtimestamp(NOW - 30, UTC), usegmt=True), 0.0),
        ("Tue, 14 Nov 2023 22:13:50 -0000", 30.0),
    ],
)
def test_parse_retry_after(header: str | None, expected: float | None) -> None:
    assert parse_retry_after(header, NOW) == expected


def test_retry_after_is_capped() -> None:
    policy = RetryPolicy(max_retry_after=60.0)
    assert policy.retry_after_delay("3600", NOW) == 60.0
    assert policy.retry_after_delay("5", NOW) == 5.0
    assert policy.retry_after_delay("nonsense", NOW) is None


def test_defaults() -> None:
    policy = RetryPolicy()
    assert (policy.max_attempts, policy.base_delay, policy.max_delay, policy.deadline) == (
        8, 0.5, 20.0, 120.0,
    )  # fmt: skip
    assert policy.retry_create_on_429 is True


@pytest.mark.parametrize("bad", [{"max_attempts": 0}, {"base_delay": -1.0}, {"deadline": -5.0}])
def test_rejects_nonsense(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(**bad)  # type: ignore[arg-type]
