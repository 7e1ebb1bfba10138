"""`provision import` on the odd connections people make by hand, end to end on the emulator:
each is imported when a manifest can declare it (and plans back to no change), or left out
with its own escaped reason, and never ends the whole run. `--out` naming a folder is one
line, and nothing is left behind."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from provisioner.emulator import Emulator, EmulatorConfig, serve
from tests.reconcile.recon_helpers import ORG, basic, create_remote, point_at

from .hostile import check, run_cli

CLOUDS = {"prod": "azure", "dev": "azure"}


def odd(name: str, description: str | None = None, server: str = "pg.example.test") -> Any:
    return basic(
        name,
        description=description,
        server=server,
        port="5432",
        database="orders",
        username="reader",
        password="CANARY-never-written",
        ssl="Verify Full",
    )


@pytest.fixture
def emulator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    monkeypatch.chdir(tmp_path)
    emu = Emulator(EmulatorConfig(sandboxes=tuple(CLOUDS), clouds=tuple(CLOUDS.items()), seed=3))
    with serve(emu, port=0) as running:
        point_at(monkeypatch, running, emu, secrets={})
        yield emu
    emu.close()


def argv(*extra: str) -> list[str]:
    return ["import", "--org", ORG, "--sandbox", "prod", "--sandbox", "dev", *extra]


def test_odd_connections_import_and_plan_back_to_no_change(emulator: Emulator) -> None:
    # A `{` just before the sandbox part, in two sandboxes: one entry `a{{{ sandbox.name }}`
    # was an invalid template. A lone surrogate, descriptions written with line breaks.
    create_remote(emulator, "prod", odd("a{prod", description="Orders\nfor prod\r\n"))
    create_remote(emulator, "dev", odd("a{dev", description="Orders\nfor dev\r\n"))
    create_remote(emulator, "prod", odd("lone\ud800surrogate"))
    create_remote(emulator, "dev", odd("notes", description="line one\n\nline two\n"))
    create_remote(emulator, "dev", odd("rtl\u202eredro", description="\u200bhidden"))
    # What no manifest can declare (validate refuses a control character in a name or a
    # server): left out, each with its reason, the rest imported.
    create_remote(emulator, "prod", odd("bell\x07name"))
    create_remote(emulator, "dev", odd("tabbed", server="pg\t.example.test"))

    imported = run_cli(argv("--out", "odd.yaml"))
    check(imported)
    assert imported.code == 1  # something was left out: said, and the rest written
    assert imported.err == (
        "error: 2 connection(s) could not be imported and were left out of odd.yaml (listed "
        "above); declare them by hand or fix them in AEP\n"
    )
    assert imported.out.splitlines()[:2] == [
        "  skipped connection 'bell\\x07name' in sandbox 'prod': the name holds a control "
        "character (U+0000-U+001F); a manifest cannot declare that",
        "  skipped connection 'tabbed' in sandbox 'dev': server, database or username holds a "
        "control character (C0 or DEL)",
    ]
    assert "Imported 5 connection(s) from 2 sandbox(es) as 4 manifest entries" in imported.out
    text = Path("odd.yaml").read_text(encoding="utf-8")
    assert "CANARY" not in text + imported.out + imported.err
    assert "- name: '{{ \"a{\" ~ sandbox.name }}'\n" in text
    assert """  description: '{{ "Orders\\nfor " ~ sandbox.name ~ "\\r\\n" }}'\n""" in text
    assert """- name: '{{ "lone\\ud800surrogate" }}'\n""" in text
    assert '  description: "line one\\n\\nline two\\n"\n' in text
    assert "\u202e" not in text and "\u200b" not in text  # written escaped, read back whole
    assert '- name: "rtl\\u202eredro"\n  description: "\\u200bhidden"\n' in text

    plan = run_cli(["plan", "odd.yaml", "--detailed-exitcode"])
    check(plan)
    assert (plan.code, plan.err) == (0, "")
    assert plan.out.splitlines()[-1] == "Plan: 0 to add, 5 unchanged, 0 drifted."
    assert "1 unmanaged, left alone" in plan.out  # the two left out, one per sandbox


def test_out_naming_a_folder_is_one_line_and_leaves_nothing(emulator: Emulator) -> None:
    create_remote(emulator, "prod", odd("orders"))
    Path("manifests").mkdir()
    for extra in ((), ("--force",)):
        run = run_cli(argv("--out", "manifests", *extra))
        check(run)
        assert (run.code, run.out) == (1, "")
        assert run.err == (
            "error: --out manifests is a folder; nothing was written: give a file name, e.g. "
            "--out manifests/imported.yaml\n"
        )
        assert list(Path(".").rglob("*")) == [Path("manifests")]
