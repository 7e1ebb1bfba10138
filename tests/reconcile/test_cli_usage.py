"""Usage errors of plan and apply, whole, before any request; the confirmation prompt."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import pytest

from provisioner.commands import apply as apply_command
from provisioner.commands.session import RemoteOptions
from provisioner.emulator import Emulator
from provisioner.manifests.selection import Selection

from .recon_helpers import TOTAL, run_cli, stored

pytestmark = pytest.mark.usefixtures("aep_env")
M = "manifests/connections.yaml"
CREDENTIALS_HINT = (
    "must be set: the OAuth server-to-server credentials of your Adobe Developer Console "
    "project (for a local rehearsal, `provision emulator` prints values to export)\n"
)


@pytest.fixture(autouse=True)
def no_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO())  # as in CI: stdin is not a TTY


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["plan", M, "--sandbox", "nope", "--sandbox", "PROD", "--connection", "zz*"],
            "error: --sandbox nope matches no sandbox in the manifests (they define: dev, prod, "
            "prod-aws)\n"
            "error: --connection zz* matches no connection in the selected sandboxes; names are "
            "matched after rendering, e.g. 'orders-*'\n",
        ),
        (
            ["apply", M, "--auto-approve", "--connection", "orders-*", "--connection", "crm"],
            "error: --connection crm matches no connection; names are matched after rendering, "
            "e.g. 'orders-*'\n",
        ),
        (
            ["apply", M, "--auto-approve", "--sandbox", "dev", "--connection", "billing"],
            "error: --connection billing matches no connection in the selected sandboxes; names "
            "are matched after rendering, e.g. 'orders-*'\n",
        ),
        (
            ["apply", M],
            "error: not running on a terminal: pass --auto-approve, or apply a reviewed plan "
            "with --plan FILE\n",
        ),
        (
            ["apply", "--plan", "plan.json", M],
            "error: give either manifest paths or --plan FILE, not both: a saved plan already "
            "names its manifests and selection\n",
        ),
        (
            ["apply", "--plan", "plan.json", "--sandbox", "prod"],
            "error: give either manifest paths or --plan FILE, not both: a saved plan already "
            "names its manifests and selection\n",
        ),
        (
            ["apply", "--auto-approve"],
            "error: give the manifests to apply (PATH...) or a saved plan (--plan FILE)\n",
        ),
    ],
)
def test_usage_errors(
    manifest: Path,
    emulator: Emulator,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    result = run_cli(capsys, argv)
    assert (result.code, result.out, result.err) == (1, "", message)
    assert emulator.request_count == 0


@pytest.mark.parametrize(
    ("unset", "message"),
    [
        (["AEP_CLIENT_ID"], "error: AEP_CLIENT_ID " + CREDENTIALS_HINT),
        (["AEP_CLIENT_SECRET"], "error: AEP_CLIENT_SECRET " + CREDENTIALS_HINT),
        (
            ["AEP_CLIENT_ID", "AEP_CLIENT_SECRET"],
            "error: AEP_CLIENT_ID and AEP_CLIENT_SECRET " + CREDENTIALS_HINT,
        ),
    ],
)
@pytest.mark.parametrize("command", [["plan", M], ["apply", M, "--auto-approve"]])
def test_missing_credentials(
    manifest: Path,
    emulator: Emulator,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    command: list[str],
    unset: list[str],
    message: str,
) -> None:
    for name in unset:
        monkeypatch.delenv(name)
    result = run_cli(capsys, command)
    assert (result.code, result.out, result.err) == (1, "", message)
    assert emulator.request_count == 0


def test_a_url_that_is_not_http(
    manifest: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AEP_PLATFORM_URL", "ftp://platform.example.test")
    result = run_cli(capsys, ["plan", M])
    assert (result.code, result.out, result.err) == (
        1,
        "",
        "error: AEP_PLATFORM_URL='ftp://platform.example.test' is not an http(s) URL\n",
    )


@pytest.mark.parametrize(("answer", "code", "created"), [("no", 1, 0), (" YES\n", 0, TOTAL)])
def test_on_a_terminal_apply_asks_first(
    manifest: Path, emulator: Emulator, answer: str, code: int, created: int
) -> None:
    prompts: list[str] = []
    out, err = io.StringIO(), io.StringIO()

    def confirm(prompt: str) -> str:
        prompts.append(prompt)
        return answer

    result = apply_command.run(
        [M],
        Selection(),
        [],
        plan_file=None,
        auto_approve=False,
        options=RemoteOptions(),
        environ=os.environ,
        colour=False,
        quiet=False,
        interactive=True,
        confirm=confirm,
        out=out,
        err=err,
    )
    assert prompts == ["Create 7 connections? Type 'yes' to go on: "]
    assert result == code
    assert len(stored(emulator)) == created
    if not created:
        assert out.getvalue().endswith(
            "Plan: 7 to add, 0 unchanged, 0 drifted.\nCancelled; nothing was changed.\n"
        )


def test_a_usage_error_exits_1_never_2(capsys: pytest.CaptureFixture[str]) -> None:
    # docs/pipelines.md: a 2 from plan --detailed-exitcode always means changes.
    with pytest.raises(SystemExit) as exit_:
        run_cli(capsys, ["plan", M, "--detailed-exitcode", "--no-such-option"])
    assert exit_.value.code == 1
    assert capsys.readouterr().err.endswith(
        "provision: error: unrecognized arguments: --no-such-option\n"
    )
