from __future__ import annotations

from collections.abc import Iterator

import pytest

from provisioner.emulator import Emulator, EmulatorConfig
from tests.emulator.chain_helpers import Clock


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    """The emulator on a clock the test holds still (runs and start times depend on it)."""
    emu = Emulator(EmulatorConfig(seed=7), clock=Clock())
    yield emu
    emu.close()
