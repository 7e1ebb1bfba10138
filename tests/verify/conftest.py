"""The verify suite's emulator connects for real, on a loopback socket, to the test servers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from provisioner.emulator import Emulator, RunningServer
from tests.reconcile.recon_helpers import point_at, write_manifest

from .pgserver import PgServer
from .verify_helpers import connecting_emulator, manifest_text, secrets_for


@pytest.fixture
def emulator(pg_tls: PgServer) -> Iterator[Emulator]:
    emu = connecting_emulator(pg_tls)
    yield emu
    emu.close()


@pytest.fixture
def workdir(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    server: RunningServer,
    emulator: Emulator,
    pg_tls: PgServer,
    pg_plain: PgServer,
) -> Path:
    """A repository-like folder with the manifest; the pipeline's environment exported."""
    monkeypatch.chdir(tmp_path)
    write_manifest(tmp_path / "manifests", manifest_text(pg_tls, pg_plain))
    point_at(monkeypatch, server, emulator, secrets_for(pg_tls, pg_plain))
    monkeypatch.delenv("PGSSLROOTCERT", raising=False)
    return Path("manifests/connections.yaml")
