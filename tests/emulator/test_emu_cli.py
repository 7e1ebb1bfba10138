from __future__ import annotations

import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from provisioner.emulator import main
from provisioner.emulator.cli import build_parser, config_from_args

ROOT = Path(__file__).resolve().parents[2]
START = "from provisioner.emulator import main; raise SystemExit(main())"


def start(*args: str) -> tuple[subprocess.Popen[str], dict[str, str], list[str]]:
    proc = subprocess.Popen(
        [sys.executable, "-c", START.replace("main()", f"main({list(args)!r})")],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    lines: list[str] = []
    while not lines or "Ctrl-C" not in lines[-1]:
        line = proc.stdout.readline()
        assert line, proc.communicate()[1]
        lines.append(line.rstrip("\n"))
    env = dict(
        line.removeprefix("export ").split("=", 1) for line in lines if line.startswith("export ")
    )
    return proc, env, lines


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_prints_environment_serves_and_stops_cleanly(sig: signal.Signals, tmp_path: Path) -> None:
    proc, env, lines = start(
        "--port", "0", "--state", str(tmp_path / "s.db"), "--sandboxes", "prod,qa"
    )
    try:
        assert set(env) == {"AEP_IMS_URL", "AEP_PLATFORM_URL", "AEP_CLIENT_ID", "AEP_CLIENT_SECRET"}
        assert env["AEP_IMS_URL"] == env["AEP_PLATFORM_URL"]
        assert env["AEP_CLIENT_ID"] == "emulator-client"
        assert "not a real secret" in lines[1]
        assert "# sandboxes: prod, qa" in lines
        token = httpx.post(
            f"{env['AEP_IMS_URL']}/ims/token/v3",
            data={
                "grant_type": "client_credentials",
                "client_id": env["AEP_CLIENT_ID"],
                "client_secret": env["AEP_CLIENT_SECRET"],
            },
        )
        assert token.status_code == 200
    finally:
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert "Traceback" not in err
    assert out.strip().endswith("# provision emulator stopped")


def test_help_teaches() -> None:
    text = build_parser("provision emulator").format_help()
    for needle in ("--state FILE", "--rate-commit-then-drop", "/__emulator/faults", "examples:"):
        assert needle in text


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--page-size", "500"], "page size must be between 1 and the maximum (100), got 500"),
        (["--token-lifetime", "0"], "token lifetime must be at least 1 second, got 0"),
        (["--fault-page-size", "0"], "page_size must be at least 1, got 0"),
    ],
)
def test_bad_values_are_one_line_errors(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 1
    assert capsys.readouterr().err == f"provision emulator: error: {message}\n"


def test_syntax_errors_use_argparse_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--rate-429", "1.5"])
    assert exc.value.code == 2
    assert "a rate is between 0 and 1, got 1.5" in capsys.readouterr().err


def test_port_in_use_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["--port", str(port)], prog="emu") == 1
    err = capsys.readouterr().err
    assert err.startswith(f"emu: error: cannot listen on 127.0.0.1:{port}:")
    assert err.count("\n") == 1


def test_options_reach_the_config() -> None:
    args = build_parser("p").parse_args(
        [
            "--org",
            "A@AdobeOrg",
            "--org",
            "B@AdobeOrg",
            "--ssl-modes",
            "true,false",
            "--mask-style",
            "drop",
            "--port-type",
            "string-or-integer",
            "--any-sandbox",
            "--latency-ms",
            "50",
            "--rate-429",
            "0.1",
            "--rate-429-no-retry-after",
            "0.5",
            "--retry-after",
            "3",
            "--rate-5xx",
            "0.2",
            "--rate-commit-then-500",
            "0.01",
            "--rate-commit-then-drop",
            "0.02",
            "--fault-page-size",
            "5",
            "--faults-on-token",
            "--seed",
            "9",
        ]
    )
    config = config_from_args(args)
    assert config.orgs == ("A@AdobeOrg", "B@AdobeOrg")
    assert config.ssl_modes == ("true", "false")
    assert (config.mask_style, config.port_type, config.any_sandbox) == (
        "drop",
        "string-or-integer",
        True,
    )
    f = config.faults
    assert (f.latency_ms, f.rate_429, f.rate_429_no_retry_after, f.retry_after_s) == (
        50,
        0.1,
        0.5,
        3,
    )
    assert (f.rate_5xx, f.rate_commit_then_500, f.rate_commit_then_drop) == (0.2, 0.01, 0.02)
    assert (f.page_size, f.apply_to_token, config.seed) == (5, True, 9)


def test_unusable_state_file_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    not_a_db = tmp_path / "notes.txt"
    not_a_db.write_text("hello, this is not SQLite " * 100)
    assert main(["--state", str(not_a_db)]) == 1
    assert capsys.readouterr().err == (
        f"provision emulator: error: file is not a database (state file {not_a_db})\n"
    )
    assert main(["--state", str(tmp_path / "missing" / "x.db")]) == 1
    assert "unable to open database file" in capsys.readouterr().err
