from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from provisioner.emulator import Emulator, EmulatorConfig, RunningServer, serve

from .recon_helpers import SANDBOXES, SECRETS, write_manifest


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    emu = Emulator(EmulatorConfig(sandboxes=SANDBOXES, seed=7))
    yield emu
    emu.close()


@pytest.fixture
def server(emulator: Emulator) -> Iterator[RunningServer]:
    """The emulator on a real loopback socket."""
    with serve(emulator, port=0) as running:
        yield running


@pytest.fixture
def aep_env(monkeypatch: pytest.MonkeyPatch, server: RunningServer, emulator: Emulator) -> None:
    """What a pipeline exports: the API credentials and every database secret."""
    for name in ("CI", "NO_COLOR", "AEP_SCOPES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AEP_IMS_URL", server.url)
    monkeypatch.setenv("AEP_PLATFORM_URL", server.url)
    monkeypatch.setenv("AEP_CLIENT_ID", emulator.config.client_id)
    monkeypatch.setenv("AEP_CLIENT_SECRET", emulator.config.client_secret)
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def manifest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The manifest, addressed relative to the working directory like a repository's."""
    monkeypatch.chdir(tmp_path)
    write_manifest(tmp_path / "manifests")
    return Path("manifests/connections.yaml")
