from __future__ import annotations

import pytest

from . import hostile


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if hostile.tried:
        mode = "soak" if hostile.SOAK else "default"
        terminalreporter.write_line(
            f"hostile inputs tried: {hostile.tried} ({mode} size, "
            f"{hostile.EXAMPLES} examples per property)"
        )
