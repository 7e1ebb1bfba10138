"""Progress of an apply: the live line on a terminal, plain lines in CI, the current rate."""

from __future__ import annotations

import io
import itertools
from unittest.mock import patch

import pytest

from provisioner.apply.progress import Progress


def test_ci_lines_every_tenth_with_the_rate() -> None:
    out = io.StringIO()
    progress = Progress(out, live=False, rate=lambda: "95 requests/s (paced at 96/s)")
    for sandbox in ("a", "b"):
        progress.start(sandbox, 50)
    for i in range(100):
        progress.finished("a" if i < 50 else "b", failed=i in (3, 70))
    lines = out.getvalue().splitlines()
    assert len(lines) == 10
    assert lines[0] == "  progress: 10/100 done (10%), 1 failed, 95 requests/s (paced at 96/s)"
    assert lines[-1] == "  progress: 100/100 done (100%), 2 failed, 95 requests/s (paced at 96/s)"


def test_a_small_run_prints_no_progress() -> None:
    out = io.StringIO()
    progress = Progress(out, live=False)
    progress.start("a", 3)
    for _ in range(3):
        progress.finished("a", failed=False)
    assert out.getvalue() == ""


def test_the_live_line_counts_complete_sandboxes() -> None:
    out = io.StringIO()
    progress = Progress(out, live=True, rate=lambda: "12 requests/s")
    for sandbox in ("a", "b", "c"):
        progress.start(sandbox, 2)
    for sandbox in ("a", "a", "b", "c", "c", "b"):
        progress.finished(sandbox, failed=sandbox == "c")
    final = out.getvalue().rsplit("\r", 1)[1]
    assert final == (
        "\033[K  creating: 6/6 done, 2 failed, 3/3 sandboxes complete, 12 requests/s\n"
    )


def test_quiet_prints_nothing() -> None:
    out = io.StringIO()
    progress = Progress(out, live=True, quiet=True)
    progress.start("a", 100)
    for _ in range(100):
        progress.finished("a", failed=False)
    assert out.getvalue() == ""


RATE = "95 requests/s (paced at 96/s: the API throttles), 3 requests in flight"


@pytest.mark.parametrize("width", [80, 40, 12])
def test_the_live_line_fits_the_terminal_and_redraws_in_place(width: int) -> None:
    out = io.StringIO()
    progress = Progress(out, live=True, rate=lambda: RATE, columns=lambda: width)
    sandboxes = [f"sandbox-with-a-long-name-{i:03d}" for i in range(120)]
    for sandbox in sandboxes:
        progress.start(sandbox, 2)
    with patch("provisioner.apply.progress.time.monotonic", side_effect=itertools.count(1)):
        for sandbox in sandboxes * 2:
            progress.finished(sandbox, failed=False)
    text = out.getvalue()
    draws = text.split("\r\033[K")[1:]
    assert text.startswith("\r\033[K") and len(draws) == 240  # every draw in place
    assert text.count("\n") == 1 and text.endswith("\n")  # one line, ended once, at the end
    assert all(len(draw.rstrip("\n")) < width for draw in draws), max(draws, key=len)
    assert (
        draws[-1]
        == {
            80: "  creating: 240/240 done, 0 failed, 120/120 sandboxes complete\n",
            40: "  creating: 240/240 done, 0 failed\n",
            12: "  creati...\n",
        }[width]
    )


def test_the_least_useful_parts_go_first() -> None:
    out = io.StringIO()
    progress = Progress(out, live=True, rate=lambda: RATE, columns=lambda: 80)
    progress.start("prod", 2)
    progress.finished("prod", failed=True)
    assert out.getvalue() == "\r\033[K  creating: 1/2 done, 1 failed, 0/1 sandboxes complete"


def test_a_note_and_the_summary_never_share_the_live_line() -> None:
    out = io.StringIO()
    progress = Progress(out, live=True, columns=lambda: 80)
    progress.start("prod", 3)
    progress.finished("prod", failed=False)
    progress.note("Stopping: waiting for the 2 writes in flight")
    assert out.getvalue() == (
        "\r\033[K  creating: 1/3 done, 0 failed, 0/1 sandboxes complete"
        "\r\033[KStopping: waiting for the 2 writes in flight\n"
        "\r\033[K  creating: 1/3 done, 0 failed, 0/1 sandboxes complete"
    )
    progress.close()  # before the summary: the line is erased, and never drawn again
    progress.finished("prod", failed=False)
    assert out.getvalue().endswith("sandboxes complete\r\033[K")


def test_work_never_started_is_counted_apart_as_the_summary_does() -> None:
    out = io.StringIO()
    progress = Progress(out, live=False)
    progress.start("prod", 60)
    for i in range(60):
        progress.finished("prod", failed=i < 5, started=i < 5)
    assert out.getvalue().splitlines()[-1] == (
        "  progress: 60/60 done (100%), 5 failed, 55 not started"
    )
