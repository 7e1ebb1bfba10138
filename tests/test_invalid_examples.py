"""Every invalid example exits 1 with exactly the diagnostics pinned beside it."""

from __future__ import annotations

from pathlib import Path

import pytest

from provisioner.cli.main import main

EXAMPLES = Path(__file__).parent / "examples"
INVALID = sorted((EXAMPLES / "invalid").glob("*.yaml"))


@pytest.mark.parametrize("manifest", INVALID, ids=lambda p: p.stem)
def test_invalid_manifest_is_reported_exactly(
    manifest: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(manifest.parent)
    assert main(["validate", manifest.name]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == manifest.with_suffix(".expected").read_text(encoding="utf-8")
    assert "Traceback" not in captured.err


def test_directory_without_manifests(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(EXAMPLES)
    assert main(["validate", "no-manifests"]) == 1
    assert capsys.readouterr().err == (
        "error: no-manifests: no manifests found (no *.yaml or *.yml files inside); "
        "pass a manifest file or a directory that holds some\n"
    )


def test_missing_path(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "does/not/exist.yaml"]) == 1
    assert capsys.readouterr().err == "error: does/not/exist.yaml: no such file or directory\n"


def test_all_problems_of_all_files_are_reported_together_sorted(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(EXAMPLES / "invalid")
    assert main(["validate", "typo-key.yaml", "duplicate-key.yaml", "empty.yaml"]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(":")[0] for line in lines[:-1]] == [
        "duplicate-key.yaml",
        "empty.yaml",
        "typo-key.yaml",
        "typo-key.yaml",
    ]
    assert lines[-1] == "4 problems found; nothing was done."
