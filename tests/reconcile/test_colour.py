"""Colour in the plan: the NO_COLOR and FORCE_COLOR conventions, where an empty value is
unset (no-color.org, force-color.org). CI logs render colour but are no terminal."""

from __future__ import annotations

from pathlib import Path

import pytest

from .recon_helpers import run_cli

pytestmark = pytest.mark.usefixtures("aep_env")
GREEN = "\033[32m"


@pytest.mark.parametrize(
    ("environ", "coloured"),
    [
        ({}, False),  # not a terminal
        ({"FORCE_COLOR": "1"}, True),
        ({"CLICOLOR_FORCE": "1"}, True),
        ({"FORCE_COLOR": ""}, False),
        ({"NO_COLOR": "", "FORCE_COLOR": "1"}, True),  # an empty NO_COLOR disables nothing
        ({"NO_COLOR": "1", "FORCE_COLOR": "1"}, False),
    ],
)
def test_colour_follows_the_conventions(
    manifest: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    environ: dict[str, str],
    coloured: bool,
) -> None:
    for name in ("NO_COLOR", "FORCE_COLOR", "CLICOLOR_FORCE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    run = run_cli(capsys, ["plan", str(manifest)])
    assert run.code == 0, run.err
    first_create = next(line for line in run.out.splitlines() if "+ orders-prod" in line)
    assert first_create.startswith(f"{GREEN}  + orders-prod") is coloured
    # --no-color wins over everything.
    plain = run_cli(capsys, ["plan", str(manifest), "--no-color"])
    assert "\033[" not in plain.out
