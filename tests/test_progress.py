"""Progress of an apply: the live line on a terminal, plain lines in CI, the current rate."""

from __future__ import annotations

import io

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
