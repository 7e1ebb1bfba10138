from __future__ import annotations

import pytest

from .client_fakes import FakeAdobe, FakeClock


@pytest.fixture
def adobe() -> FakeAdobe:
    return FakeAdobe()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
