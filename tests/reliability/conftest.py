from __future__ import annotations

import os
from pathlib import Path

import pytest

from .soak import FIGURES, FULL

ROOT = Path(__file__).resolve().parents[2]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not FIGURES.by_suite:
        return
    terminalreporter.section(f"reliability figures ({'full' if FULL else 'default'} size)")
    terminalreporter.write_line(FIGURES.table())
    if FULL:
        out = Path(os.environ.get("PROVISION_SOAK_OUT") or ROOT / "bench" / "out" / "soak.json")
        FIGURES.write(out)
        terminalreporter.write_line(f"written to {out}")
