"""validate, render and schema as a user runs them."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from provisioner import __version__
from provisioner.cli.main import main

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = """\
version: 1
org: 0123456789ABCDEF01234567@AdobeOrg
sandboxes:
  - {name: prod, cloud: azure}
  - {name: dev, cloud: azure}
connections:
  - name: "orders-{{ sandbox.name }}"
    auth:
      type: basic
      server: pg.example.com
      database: orders
      username: reader
      password: {env: ORDERS_PW}
  - name: billing
    sandboxes: [prod]
    auth:
      type: connection-string
      server: billing.example.com
      database: billing
      username: reader
      password: {file: billing.txt}
"""
CANARY = "canary-4b1d-secret"


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    path = tmp_path / "m.yaml"
    path.write_text(MANIFEST)
    (tmp_path / "billing.txt").write_text(CANARY + "-file\n")
    return path


def test_validate_summarises(manifest: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(manifest)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"{manifest}: 3 connection(s) in dev, prod",
        "Valid: 3 connection(s) in 2 sandbox(es) from 1 file(s).",
    ]


def test_render_masks_secrets_and_reads_none(
    manifest: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ORDERS_PW", raising=False)
    (manifest.parent / "billing.txt").unlink()  # render must not need it
    assert main(["render", str(manifest)]) == 0
    rendered = json.loads(capsys.readouterr().out)
    assert [(r["sandbox"], r["name"]) for r in rendered] == [
        ("prod", "orders-prod"),
        ("dev", "orders-dev"),
        ("prod", "billing"),
    ]
    assert rendered[0]["payload"]["auth"]["params"]["password"] == "(sensitive)"
    assert rendered[2]["payload"]["auth"]["params"]["connectionString"] == (
        "Server=billing.example.com;Database=billing;Port=5432;UID=reader;"
        "Password=(sensitive);EncryptionMethod=1;ValidateServerCertificate=1"
    )
    assert rendered[0]["source"] == f"{manifest}:7:5"


def test_render_show_secrets(
    manifest: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("ORDERS_PW", CANARY)
    assert main(["render", str(manifest), "--show-secrets", "--sandbox", "prod"]) == 0
    out = capsys.readouterr().out
    assert CANARY in out and f"Password={CANARY}-file;" in out


def test_show_secrets_refused_in_ci(
    manifest: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("ORDERS_PW", CANARY)
    assert main(["render", str(manifest), "--show-secrets"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "error: --show-secrets is refused when CI is set: pipeline logs are kept and shared; "
        "run it on your own machine\n"
    )


def test_show_secrets_lists_every_missing_secret(
    manifest: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("ORDERS_PW", raising=False)
    (manifest.parent / "billing.txt").unlink()
    assert main(["render", str(manifest), "--show-secrets"]) == 1
    assert capsys.readouterr().err.splitlines() == [
        "error: 2 secret(s) cannot be resolved; nothing was rendered:",
        f"error: {manifest}:13:17: environment variable ORDERS_PW is not set",
        f"error: {manifest}:21:17: cannot read secret file 'billing.txt': "
        "No such file or directory",
    ]


def test_selectors(manifest: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", str(manifest), "--sandbox", "dev", "--connection", "orders-*"]) == 0
    assert [r["name"] for r in json.loads(capsys.readouterr().out)] == ["orders-dev"]
    assert main(["validate", str(manifest), "--sandbox", "qa", "--connection", "nope*"]) == 1
    assert capsys.readouterr().err.splitlines() == [
        "error: --sandbox qa matches no sandbox in the manifests (they define: dev, prod)",
        "error: --connection nope* matches no connection in the selected sandboxes; "
        "names are matched after rendering, e.g. 'orders-*'",
    ]


def test_schema_command_prints_the_manifest_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["title"] == "provision manifest, version 1"


def test_console_script_and_module_entry_points(manifest: Path) -> None:
    for command in (
        [str(Path(sys.executable).parent / "provision")],
        [sys.executable, "-m", "provisioner"],
    ):
        done = subprocess.run(
            [*command, "validate", str(manifest)], capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.endswith("from 1 file(s).\n")


def test_usage_errors_have_no_traceback(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "provisioner", "validate", str(tmp_path / "absent.yaml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr == f"error: {tmp_path / 'absent.yaml'}: no such file or directory\n"


def test_usage_errors_exit_1_never_2(capsys: pytest.CaptureFixture[str]) -> None:
    # 2 is reserved for `plan --detailed-exitcode` with pending changes.
    with pytest.raises(SystemExit) as caught:
        main(["plan", "configs/", "--bogus"])
    assert caught.value.code == 1
    assert capsys.readouterr().err.endswith("provision: error: unrecognized arguments: --bogus\n")


def test_a_zero_connect_timeout_is_refused_with_the_range_that_holds(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["verify", "configs/", "--direct", "--connect-timeout", "0"])
    assert caught.value.code == 1
    assert capsys.readouterr().err.endswith(
        "provision verify: error: argument --connect-timeout: '0' is not a number of seconds: "
        "give more than 0, at most 3600\n"
    )


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--parallelism", "0"], "argument --parallelism: '0' is not a whole number from 1 to 256"),
        (["--parallelism", "x"], "argument --parallelism: 'x' is not a whole number from 1 to 256"),
        # The range used to read "(0 to 3600)", and 0 was refused (issue 21).
        (
            ["--timeout", "-3"],
            "argument --timeout: '-3' is not a number of seconds: give more than 0, at most 3600",
        ),
    ],
)
def test_bad_option_values_are_one_line_errors(
    option: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["plan", "configs/", *option])
    assert caught.value.code == 1
    assert capsys.readouterr().err.endswith(f"provision plan: error: {message}\n")


def test_validate_quiet_prints_nothing_when_valid(
    manifest: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", "-q", str(manifest)]) == 0
    assert capsys.readouterr() == ("", "")
    # Errors still speak under -q.
    manifest.write_text(MANIFEST.replace("database: orders", "databse: orders"))
    assert main(["validate", "-q", str(manifest)]) == 1
    assert capsys.readouterr().err == (
        f"{manifest}:9:7: $.connections[0].auth: missing required key 'database'\n"
        f"{manifest}:11:7: $.connections[0].auth.databse: unknown key 'databse'; did you mean "
        "'database'?\n"
        "2 problems found; nothing was done.\n"
    )


def test_validate_reads_a_manifest_from_stdin(
    manifest: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(manifest.parent)
    monkeypatch.setattr("sys.stdin", io.StringIO(MANIFEST))
    assert main(["validate", "-"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "<stdin>: 3 connection(s) in dev, prod",
        "Valid: 3 connection(s) in 2 sandbox(es) from 1 file(s).",
    ]
    monkeypatch.setattr("sys.stdin", io.StringIO(MANIFEST.replace("version: 1", "version: 2")))
    assert main(["validate", "-"]) == 1
    assert capsys.readouterr().err == (
        "<stdin>:1:10: $.version: must be 1, got 2\n1 problem found; nothing was done.\n"
    )


def test_validate_json_lists_what_was_validated(
    manifest: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", str(manifest), "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document == {
        "format": "provision-validate",
        "format_version": 1,
        "provision_version": __version__,
        "valid": True,
        "files": [{"file": str(manifest), "connections": 3, "sandboxes": ["dev", "prod"]}],
        "connections": [
            {
                "org": "0123456789ABCDEF01234567@AdobeOrg",
                "sandbox": sandbox,
                "name": name,
                "source": {"file": str(manifest), "line": line, "column": 5},
            }
            for sandbox, name, line in (
                ("prod", "orders-prod", 7),
                ("dev", "orders-dev", 7),
                ("prod", "billing", 14),
            )
        ],
        "diagnostics": [],
    }


def test_validate_json_gives_every_diagnostic_located(
    manifest: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest.write_text(
        MANIFEST.replace("database: orders", "databse: orders").replace(
            "cloud: azure}", "cloud: gcp}", 1
        )
    )
    assert main(["validate", str(manifest), "--format", "json"]) == 1
    captured = capsys.readouterr()
    assert captured.err == ""
    document = json.loads(captured.out)
    assert (document["valid"], document["files"], document["connections"]) == (False, [], [])
    assert document["diagnostics"] == [
        {
            "file": str(manifest),
            "line": 4,
            "column": 25,
            "path": "$.sandboxes[0].cloud",
            "message": '"gcp" is not one of: azure, aws',
        },
        {
            "file": str(manifest),
            "line": 9,
            "column": 7,
            "path": "$.connections[0].auth",
            "message": "missing required key 'database'",
        },
        {
            "file": str(manifest),
            "line": 11,
            "column": 7,
            "path": "$.connections[0].auth.databse",
            "message": "unknown key 'databse'; did you mean 'database'?",
        },
    ]
