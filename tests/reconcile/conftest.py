from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from provisioner.emulator import Emulator, EmulatorConfig, RunningServer

from .recon_helpers import SANDBOXES, Clock, point_at, write_manifest


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def emulator(clock: Clock) -> Iterator[Emulator]:
    emu = Emulator(EmulatorConfig(sandboxes=SANDBOXES, seed=7), clock=clock)
    yield emu
    emu.close()


@pytest.fixture
def aep_env(monkeypatch: pytest.MonkeyPatch, server: RunningServer, emulator: Emulator) -> None:
    """What a pipeline exports: the API credentials and every database secret."""
    point_at(monkeypatch, server, emulator)


@pytest.fixture
def manifest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The manifest, addressed relative to the working directory like a repository's."""
    monkeypatch.chdir(tmp_path)
    write_manifest(tmp_path / "manifests")
    return Path("manifests/connections.yaml")
