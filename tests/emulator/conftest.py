from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from provisioner.emulator import Emulator, EmulatorConfig

from .chain_helpers import Clock
from .emu_helpers import make_client


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    emu = Emulator(EmulatorConfig(seed=1))
    yield emu
    emu.close()


@pytest.fixture
def api(emulator: Emulator) -> Iterator[httpx.Client]:
    with make_client(emulator) as client:
        yield client


# The dataflow suites: an emulator on a clock the test moves (schedules, runs, start times).
@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def emu(clock: Clock) -> Iterator[Emulator]:
    emulator = Emulator(EmulatorConfig(seed=1), clock=clock)
    yield emulator
    emulator.close()


@pytest.fixture
def df(emu: Emulator) -> Iterator[httpx.Client]:
    with make_client(emu) as client:
        yield client
