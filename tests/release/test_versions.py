"""Versions a user relies on: the package's, the manifest format's and the JSON plan's, each
written once, reported the same everywhere, and described in docs/versioning.md."""

from __future__ import annotations

import importlib.metadata
import json
import re
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest

from provisioner import DISTRIBUTION, __version__, schemas
from provisioner.cli import main as cli
from provisioner.commands.emulator import rehearsal
from provisioner.emulator import Emulator, EmulatorConfig, RunningServer, serve
from provisioner.emulator.rehearsal import preload
from provisioner.report.jsonplan import FORMAT_VERSION

ROOT = Path(__file__).resolve().parents[2]
MANIFEST_VERSION = schemas.load(schemas.MANIFEST)["properties"]["version"]["const"]


def test_the_installed_metadata_has_the_version_provision_reports(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert importlib.metadata.version(DISTRIBUTION) == __version__
    with pytest.raises(SystemExit) as done:
        cli.main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out == f"provision {__version__}\n"


def test_the_changelog_opens_with_this_version() -> None:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## (\S+)", text, flags=re.MULTILINE)
    assert headings[0] == __version__
    assert len(headings) == len(set(headings))


def test_the_versioning_doc_names_every_current_format_version() -> None:
    text = (ROOT / "docs" / "versioning.md").read_text(encoding="utf-8")
    assert f"`version: {MANIFEST_VERSION}`" in text
    assert f"`format_version: {FORMAT_VERSION}`" in text
    plan_schema = schemas.load(schemas.PLAN)
    assert plan_schema["properties"]["format_version"]["const"] == FORMAT_VERSION
    assert f"format version {FORMAT_VERSION}" in plan_schema["title"]
    assert f"version {MANIFEST_VERSION}" in schemas.load(schemas.MANIFEST)["title"]


@pytest.fixture
def server() -> Iterator[RunningServer]:
    emulator = Emulator(EmulatorConfig(any_sandbox=True, seed=1))
    # The datasets the examples' dataflows name, as `provision emulator configs/` preloads.
    preload(emulator, rehearsal([str(ROOT / "configs")]))
    with serve(emulator, port=0) as running:
        yield running
    emulator.close()


def test_a_real_json_plan_matches_the_published_plan_schema(
    server: RunningServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AEP_IMS_URL", server.url)
    monkeypatch.setenv("AEP_PLATFORM_URL", server.url)
    monkeypatch.setenv("AEP_CLIENT_ID", "emulator-client")
    monkeypatch.setenv("AEP_CLIENT_SECRET", "emulator-secret")
    capsys.readouterr()
    assert cli.main(["plan", str(ROOT / "configs"), "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert (document["format_version"], document["provision_version"]) == (2, __version__)
    jsonschema.validate(document, schemas.load(schemas.PLAN))
    assert {c["action"] for c in document["connections"]} == {"create"}
    flows = [d["action"] for c in document["connections"] for d in c.get("dataflows", [])]
    assert flows and set(flows) == {"create"}


# Where the docs and the CI files name a release of provision: a component or git ref, a
# pre-commit `rev:`, the comment beside a pinned commit, a wheel's file name.
RELEASE_MENTION = re.compile(
    r"provision(?:/[\w-]+)?(?:\.git)?@v?(\d+\.\d+\.\d+)\b"
    r"|provision@(?:<[^>]*>|\S+) # v(\d+\.\d+\.\d+)\b"
    r"|\brev: v(\d+\.\d+\.\d+)\b"
    r"|aep_provision-(\d+\.\d+\.\d+)-"
)


def test_every_release_the_docs_name_is_this_one() -> None:
    files = [
        ROOT / "README.md",
        ROOT / "action.yml",
        ROOT / ".pre-commit-hooks.yaml",
        *(ROOT / "docs").rglob("*.md"),
        *(ROOT / "docs" / "ci").iterdir(),
        *(ROOT / "templates").glob("*.yml"),
    ]
    found = []
    for path in files:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for match in RELEASE_MENTION.finditer(line):
                version = next(group for group in match.groups() if group)
                found.append((f"{path.relative_to(ROOT)}:{number}", version))
    wrong = [f"{where}: {version}" for where, version in found if version != __version__]
    assert not wrong, f"these name a release other than {__version__}: {wrong}"
    places = {where.split(":")[0] for where, _ in found}
    assert {"docs/ci/pre-commit-config.example.yaml", "README.md", "action.yml"} <= places
