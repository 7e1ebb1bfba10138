from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from provisioner.emulator import Emulator, EmulatorConfig

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
