"""A connection-string secret with a typo (a missing `;`) pulls the password into the value
before it. Every piece parsed out of a secret is secret: `verify --direct`, the emulator's
`/test`, `verify` and `apply --verify` name the field and what is wrong with it, never its
value; and a remote answer that quotes a secret the run knows is scrubbed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from provisioner.emulator import Emulator, EmulatorConfig, serve
from provisioner.emulator.http import Response
from tests.reconcile.recon_helpers import ORG, point_at, run_cli, write_manifest

CANARY = "CANARY-5e1f9a7c"
TYPOS = {
    "typo-port": f"Server=db.example.com;Database=orders;Port=46885Password={CANARY};UID=u",
    "typo-server": f"Server=db.example.com Password={CANARY};Database=orders;UID=u",
    "typo-database": f"Server=db.example.com;Database=orders Pwd={CANARY};UID=u;Port=5432",
}
MANIFEST = f"""\
version: 1
org: {ORG}
sandboxes:
  - {{name: prod, cloud: azure}}
connections:
""" + "".join(
    f"  - name: {name}\n    auth:\n      type: connection-string\n"
    f"      connection_string: {{env: {name.upper().replace('-', '_')}}}\n"
    for name in TYPOS
)


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    emu = Emulator(EmulatorConfig(sandboxes=("prod",), seed=5))
    yield emu
    emu.close()


@pytest.fixture
def manifest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, emulator: Emulator) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    write_manifest(tmp_path / "manifests", MANIFEST)
    secrets = {name.upper().replace("-", "_"): value for name, value in TYPOS.items()}
    with serve(emulator, port=0) as server:
        point_at(monkeypatch, server, emulator, secrets)
        yield Path("manifests/connections.yaml")


def test_verify_direct_names_the_field_never_its_value(
    manifest: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run_cli(capsys, ["verify", str(manifest), "--direct", "--format", "json"])
    assert result.code == 1
    assert CANARY not in result.out + result.err

    where = {name: f"{{env: {name.upper().replace('-', '_')}}}" for name in TYPOS}
    reasons = {e["name"]: e["reason"] for e in json.loads(result.out)["connections"]}
    assert reasons == {
        "typo-port": f"the connection string in {where['typo-port']} has a Port= that is not "
        "a port (a number from 1 to 65535; is a `;` missing after it?); fix the secret",
        "typo-server": f"the connection string in {where['typo-server']} has a Server= that is "
        "not a host name or address (is a `;` missing after it?); fix the secret",
        "typo-database": f"the connection string in {where['typo-database']} has a Database= "
        "that is not a database name (is a `;` missing after it?); fix the secret",
    }


def test_the_emulators_test_and_apply_verify_never_echo_a_fragment(
    manifest: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    applied = run_cli(capsys, ["apply", str(manifest), "--auto-approve", "--verify", "-q"])
    assert applied.code == 1
    assert CANARY not in applied.out + applied.err
    tail = applied.out[applied.out.index("Verifying") :]
    assert "typo-port (prod): unreachable: the connection string's Port= is not a TCP port" in tail
    assert "typo-server (prod): unreachable: the connection string's Server= is not a host" in tail
    verified = run_cli(capsys, ["verify", str(manifest), "--format", "json"])
    assert verified.code == 1
    assert CANARY not in verified.out + verified.err
    assert "the connection string's Database= is not a database name" in verified.out


def test_a_remote_reason_quoting_a_known_secret_is_scrubbed(
    manifest: Path,
    capsys: pytest.CaptureFixture[str],
    emulator: Emulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A platform that quotes what it was given: the run resolved these secrets to create
    # the connections, so it knows them and cuts them out of the API's words.
    def echo(record: dict[str, object]) -> Response:
        text = str(record["auth"]["params"]["connectionString"])  # type: ignore[index]
        return Response(200, {"result": False, "errorMessage": f"bad string {text} ({CANARY})"})

    monkeypatch.setattr(emulator.databases, "test", echo)
    applied = run_cli(capsys, ["apply", str(manifest), "--auto-approve", "--verify", "-q"])
    assert applied.code == 1
    assert CANARY not in applied.out + applied.err
    assert applied.out.count("unreachable: bad string (sensitive) ((sensitive))") == 3
