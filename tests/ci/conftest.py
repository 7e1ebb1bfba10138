from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from provisioner.emulator import Emulator, EmulatorConfig, RunningServer, serve

from . import fake_forge
from .fake_forge import Forge, User

ORG = "0123456789ABCDEF01234567@AdobeOrg"
SECRETS = {"ORDERS_PG_PASSWORD": "orders-pw-ci-8b2e"}
GITHUB_TOKEN = "ghs_fakeInstallationToken0123456789"
READONLY_TOKEN = "ghs_forkReadOnlyToken9876543210"
GITLAB_TOKEN = "glpat-fakeProjectToken-0123"
MANIFEST = f"""\
version: 1
org: {ORG}
sandboxes:
  - {{name: prod, cloud: azure}}
  - {{name: dev, cloud: azure}}
connections:
  - name: "orders-{{{{ sandbox.name }}}}"
    auth:
      type: basic
      server: pg-orders.db.example.test
      database: orders
      username: aep_reader
      password: {{env: ORDERS_PG_PASSWORD}}
      ssl: require
"""


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    emu = Emulator(EmulatorConfig(sandboxes=("prod", "dev"), seed=3))
    yield emu
    emu.close()


@pytest.fixture
def aep(emulator: Emulator) -> Iterator[RunningServer]:
    """The emulator on a real loopback socket."""
    with serve(emulator, port=0) as running:
        yield running


@pytest.fixture
def github() -> Iterator[Forge]:
    tokens = {GITHUB_TOKEN: User("github-actions"), READONLY_TOKEN: User("github-actions", False)}
    with fake_forge.serve(Forge("github", tokens)) as forge:
        yield forge


@pytest.fixture
def gitlab() -> Iterator[Forge]:
    tokens = {GITLAB_TOKEN: User("project_42_bot"), "glpat-reader": User("guest", False)}
    with fake_forge.serve(Forge("gitlab", tokens, project="acme/manifests")) as forge:
        yield forge


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A checkout holding the manifests, as the job's working directory."""
    folder = tmp_path / "repo"
    (folder / "configs").mkdir(parents=True)
    (folder / "configs" / "orders.yaml").write_text(MANIFEST, encoding="utf-8")
    return folder


def base_env(aep: RunningServer, emulator: Emulator, tmp_path: Path) -> dict[str, str]:
    """A bare runner's environment: PATH, the AEP credentials and the database secret."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    # `python` as the runner's image has it: this venv's interpreter (a symlink would lose
    # the venv's packages).
    wrapper = bin_dir / "python"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n', encoding="utf-8")
    wrapper.chmod(0o755)
    return {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(tmp_path),
        "AEP_IMS_URL": aep.url,
        "AEP_PLATFORM_URL": aep.url,
        "AEP_CLIENT_ID": emulator.config.client_id,
        "AEP_CLIENT_SECRET": emulator.config.client_secret,
        **SECRETS,
    }
