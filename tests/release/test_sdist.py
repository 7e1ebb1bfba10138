"""The source release: the sdist built from this tree holds everything its own suite, its
Makefile and its scripts read, so `make test` can run from the unpacked archive, and it
builds the same wheel. A full run of the suite from the sdist is too slow for the suite;
every tracked file being there is the check that stands in for it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from provisioner import __version__, schemas

ROOT = Path(__file__).resolve().parents[2]
# Tracked, and deliberately not in the source release: this repository's CI entry point.
NOT_SHIPPED = {".ci/run": "this repository's own CI entry point", ".gitignore": "git's"}


@pytest.fixture(scope="module")
def unpacked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sdist")
    build = "import sys; from hatchling.build import build_sdist; print(build_sdist(sys.argv[1]))"
    done = subprocess.run(
        [sys.executable, "-c", build, str(out)], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    archive = out / done.stdout.strip().splitlines()[-1]
    assert archive.name == f"aep_provision-{__version__}.tar.gz"
    with tarfile.open(archive) as tar:
        tar.extractall(out, filter="data")
    return out / f"aep_provision-{__version__}"


def tracked_files() -> list[str]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout (the suite runs from an sdist): nothing to compare with")
    done = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    found = []
    for name in filter(None, done.stdout.split("\0")):
        path = ROOT / name
        if path.is_symlink():
            target = path.resolve()
            if not target.is_relative_to(ROOT):
                continue  # a link out of the checkout means nothing in anyone else's copy
            if target.is_dir():  # schemas/ -> provisioner/schemas: the files it shows
                found += [f"{name}/{p.relative_to(target)}" for p in target.rglob("*")
                          if p.is_file() and "__pycache__" not in p.parts]  # fmt: skip
                continue
        found.append(name)
    return found


def test_the_sdist_holds_every_tracked_file_the_suite_and_makefile_need(
    unpacked: Path,
) -> None:
    missing = [
        name
        for name in tracked_files()
        if name not in NOT_SHIPPED and not (unpacked / name).is_file()
    ]
    assert not missing, f"not in the sdist: {missing}"
    # What `make test` runs first, and the licence that the metadata declares.
    for name in ("Makefile", "scripts/ensure-postgres.sh", ".pre-commit-hooks.yaml", "LICENSE"):
        assert (unpacked / name).is_file(), name
    assert os.access(unpacked / "scripts" / "ensure-postgres.sh", os.X_OK)
    assert (unpacked / "schemas" / schemas.MANIFEST).read_bytes() == (
        ROOT / "provisioner" / "schemas" / schemas.MANIFEST
    ).read_bytes()


def test_the_sdist_builds_the_wheel_with_its_metadata(unpacked: Path, tmp_path: Path) -> None:
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
    done = subprocess.run(
        [*build, "-w", str(tmp_path), str(unpacked)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    [wheel] = tmp_path.glob("aep_provision-*.whl")
    archive = zipfile.ZipFile(wheel)
    names = set(archive.namelist())
    assert {f"provisioner/schemas/{name}" for name in schemas.ALL} <= names
    info = f"aep_provision-{__version__}.dist-info"
    assert f"{info}/licenses/LICENSE" in names
    metadata = archive.read(f"{info}/METADATA").decode()
    assert "Name: aep-provision\n" in metadata and "License-Expression: MIT\n" in metadata
    assert "Classifier: Programming Language :: Python :: 3.11\n" in metadata
    assert "Project-URL: Changelog, " in metadata and "Keywords: " in metadata
