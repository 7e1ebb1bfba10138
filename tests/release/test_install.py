"""The release as a user gets it: the wheel built from this tree, installed with its pinned
dependencies into a fresh virtual environment, gives a working `provision` with its schemas
and templates (nothing read from the source tree)."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import tomllib
import venv
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from provisioner import __version__, schemas

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
    subprocess.run([*build, "-w", str(out), str(ROOT)], check=True, capture_output=True)
    [built] = out.glob("aep_provision-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """bin/ of a fresh venv holding only the wheel and constraints.txt's dependencies."""
    home = tmp_path_factory.mktemp("venv") / "provision"
    venv.EnvBuilder(with_pip=True, clear=True).create(home)
    pip = [str(home / "bin" / "python"), "-m", "pip", "install", "-q"]
    subprocess.run(
        [*pip, "--constraint", str(ROOT / "constraints.txt"), str(wheel)],
        check=True,
        capture_output=True,
    )
    yield home / "bin"
    shutil.rmtree(home, ignore_errors=True)


def run(bin_dir: Path, *args: str, cwd: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    # A bare environment: no PYTHONPATH, no way to fall back on the source tree.
    env = {"PATH": f"{bin_dir}{os.pathsep}/usr/bin:/bin", "HOME": str(cwd), "NO_COLOR": "1"}
    env.update(extra)
    return subprocess.run(
        [str(bin_dir / "provision"), *args], cwd=cwd, env=env, capture_output=True, text=True
    )


def test_the_wheel_is_versioned_and_holds_every_data_file(wheel: Path) -> None:
    assert wheel.name == f"aep_provision-{__version__}-py3-none-any.whl"
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in schemas.ALL:
        assert f"provisioner/schemas/{name}" in names
    templates = {
        p.name for p in (ROOT / "provisioner" / "connectors" / "postgres" / "templates").iterdir()
    }
    assert {f"provisioner/connectors/postgres/templates/{t}" for t in templates} <= names
    assert "provisioner/py.typed" in names and "provisioner/ci/github.py" in names
    assert not [n for n in names if n.startswith("tests/") or "__pycache__" in n]
    metadata = zipfile.ZipFile(wheel).read(f"aep_provision-{__version__}.dist-info/METADATA")
    requires = sorted(
        line.split(":", 1)[1].strip()
        for line in metadata.decode().splitlines()
        if line.startswith("Requires-Dist:")
    )
    # The four runtime dependencies; anything else only behind an extra.
    runtime = [r for r in requires if "extra ==" not in r]
    assert runtime == ["httpx>=0.27", "jinja2>=3.1", "jsonschema>=4.20", "pyyaml>=6.0"]
    assert [r for r in requires if "extra ==" in r] == ["psycopg[binary]>=3.1; extra == 'postgres'"]


def test_installed_provision_reports_its_version(installed: Path, tmp_path: Path) -> None:
    done = run(installed, "--version", cwd=tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (0, f"provision {__version__}\n", "")


def test_installed_provision_validates_renders_and_prints_its_schema(
    installed: Path, tmp_path: Path
) -> None:
    shutil.copytree(ROOT / "configs", tmp_path / "configs")
    done = run(installed, "validate", "configs/", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.endswith("from 2 file(s).\n") and done.stdout.startswith("configs/")
    schema = run(installed, "schema", cwd=tmp_path)
    assert schema.returncode == 0
    assert json.loads(schema.stdout) == schemas.load(schemas.MANIFEST)
    # The templates ship too: render needs every one of them for these manifests.
    render = run(installed, "render", "configs/", cwd=tmp_path)
    assert render.returncode == 0, render.stderr
    assert {c["cloud"] for c in json.loads(render.stdout)} == {"azure", "aws"}


def test_installed_provision_runs_its_emulator_and_the_ci_step(
    installed: Path, tmp_path: Path
) -> None:
    done = run(installed, "emulator", "--help", cwd=tmp_path)
    assert done.returncode == 0 and "usage: provision emulator" in done.stdout
    check = subprocess.run(
        [str(installed / "python"), "-c", "import provisioner.ci.github, provisioner.ci.gitlab"],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stderr


def test_constraints_pin_every_runtime_dependency_within_its_range() -> None:
    # packaging comes with hatchling, the build backend in requirements-dev.txt.
    from packaging.requirements import Requirement

    pins = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[name.lower()] = version
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    for item in project["dependencies"]:
        requirement = Requirement(item)
        assert requirement.name.lower() in pins, f"{requirement.name} is not pinned"
        assert requirement.specifier.contains(pins[requirement.name.lower()]), item


def test_pipx_installs_the_wheel_as_an_application(wheel: Path, tmp_path: Path) -> None:
    home = tmp_path / "pipx"
    env = {
        **os.environ,
        "PIPX_HOME": str(home / "home"),
        "PIPX_BIN_DIR": str(home / "bin"),
        "PIPX_MAN_DIR": str(home / "man"),
    }
    constraints = f"--constraint {ROOT / 'constraints.txt'}"
    done = subprocess.run(
        [sys.executable, "-m", "pipx", "install", f"--pip-args={constraints}", str(wheel)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    version = run(home / "bin", "--version", cwd=tmp_path)
    assert (version.returncode, version.stdout) == (0, f"provision {__version__}\n")
    shutil.copytree(ROOT / "configs", tmp_path / "configs")
    assert run(home / "bin", "validate", "configs/", cwd=tmp_path).returncode == 0


# One connection to a port on this machine where nothing listens: verify --direct gets as far
# as connecting (a refusal, at once) only when the driver is there.
DIRECT_MANIFEST = """\
version: 1
org: 0123456789ABCDEF01234567@AdobeOrg
sandboxes:
  - {name: prod, cloud: azure}
connections:
  - name: orders
    auth:
      type: basic
      server: 127.0.0.1
      port: 1
      database: orders
      username: aep_reader
      password: {env: ORDERS_PG_PASSWORD}
      ssl: disable
"""


def verify_direct(bin_dir: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    (cwd / "direct.yaml").write_text(DIRECT_MANIFEST, encoding="utf-8")
    args = ("verify", "direct.yaml", "--direct", "--connect-timeout", "5")
    return run(bin_dir, *args, cwd=cwd, ORDERS_PG_PASSWORD="release-test-pw")


def hint(done: subprocess.CompletedProcess[str]) -> list[str]:
    prefix = "error: verify --direct needs the PostgreSQL driver psycopg 3: "
    assert (done.returncode, done.stderr[: len(prefix)]) == (1, prefix), done.stderr
    assert done.stderr.count("\n") == 1
    return shlex.split(done.stderr[len(prefix) :])


def test_pipx_users_are_told_to_inject_the_driver_and_that_works(
    wheel: Path, tmp_path: Path
) -> None:
    home = tmp_path / "pipx"
    env = {
        **os.environ,
        "PIPX_HOME": str(home / "home"),
        "PIPX_BIN_DIR": str(home / "bin"),
        "PIPX_MAN_DIR": str(home / "man"),
    }
    pipx = [sys.executable, "-m", "pipx"]
    constraints = f"--pip-args=--constraint {ROOT / 'constraints.txt'}"
    install = [*pipx, "install", constraints, str(wheel)]
    assert subprocess.run(install, env=env, capture_output=True).returncode == 0
    told = hint(verify_direct(home / "bin", tmp_path))
    assert told == ["pipx", "inject", "aep-provision", "psycopg[binary]"]
    injected = subprocess.run([*pipx, *told[1:]], env=env, capture_output=True, text=True)
    assert injected.returncode == 0, injected.stderr
    after = verify_direct(home / "bin", tmp_path)
    assert "psycopg" not in after.stderr, after.stderr
    assert "connection refused by 127.0.0.1:1" in after.stdout + after.stderr


def test_pip_users_are_told_to_install_the_extra_and_that_works(
    installed: Path, wheel: Path, tmp_path: Path
) -> None:
    """Last of the tests on `installed`: it adds the driver to that venv."""
    told = hint(verify_direct(installed, tmp_path))
    assert told == ["pip", "install", "aep-provision[postgres]"]
    # The name resolves to this release's wheel (as it would to the one on the index).
    pip = [str(installed / "python"), "-m", "pip", "--disable-pip-version-check", "-q"]
    done = subprocess.run(
        [*pip, *told[1:], "--find-links", str(wheel.parent), "--constraint",
         str(ROOT / "constraints.txt")],
        capture_output=True,
        text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    after = verify_direct(installed, tmp_path)
    assert "psycopg" not in after.stderr, after.stderr
    assert "connection refused by 127.0.0.1:1" in after.stdout + after.stderr
