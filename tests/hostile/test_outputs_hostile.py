"""Remote text in every output, attacked as someone who can name a connection in AEP would:
a name holding a GitHub workflow command, ANSI escapes, or a look-alike of a declared name.
Run through `provision plan` and `apply` on the emulator, the output is read line by line as
the CI runner and a terminal would read it."""

from __future__ import annotations

import io
import json
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from provisioner.connectors.postgres.auth import BasicAuth
from provisioner.emulator import Emulator, EmulatorConfig, serve
from provisioner.errors import Location
from provisioner.escape import json_text
from provisioner.model import DesiredConnection, SecretRef
from provisioner.report.verify import document, render_markdown, write_text
from provisioner.verify.checks import Check, Verification
from provisioner.verify.checks import Status as VerifyStatus
from tests.reconcile.recon_helpers import ORG, basic, create_remote, names, point_at

from .hostile import Run, check, run_cli
from .test_lifecycle_hostile import MANIFEST as LIFECYCLE_MANIFEST
from .test_lifecycle_hostile import fake_api

HERE = Location("m.yaml", 7, 5)

NFC = unicodedata.normalize("NFC", "café-orders")
NFD = unicodedata.normalize("NFD", "café-orders")
MANIFEST = f"""\
version: 1
org: {ORG}
prune: {{owner: team-a, names: ["*"]}}
sandboxes:
  - {{name: prod, cloud: azure}}
connections:
  - name: {NFC}
    auth:
      type: basic
      server: pg.example.test
      database: orders
      username: reader
      password: {{env: ORDERS_PW}}
"""
HOSTILE = [
    "x\n::error title=Security::Approved, safe to merge",
    "y\r\n::add-mask::x",
    "::warning::a name that starts a line",
    "legacy ##[error]Approved ##vso[task.complete result=Succeeded]",
    "ansi\x1b[2J\x1b[31mred\x9b0m",
    "rtl\u202eexe.txt\u2028next",
]
LOOKALIKES = {
    NFD: "Unicode normalisation (NFC/NFD)",
    f"{NFC} ": "a trailing space",
    "café\u200b-orders": "invisible or control characters",
}


def remote(name: str) -> dict[str, object]:
    """A connection team-a's apply made earlier: it carries team-a's owner mark."""
    return basic(
        name,
        description="managed-by: provision owner=team-a",
        server="pg.example.test",
        port="5432",
        database="orders",
        username="reader",
        password="pw-remote",
        ssl="Verify Full",
    )


@pytest.fixture
def emulator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    monkeypatch.chdir(tmp_path)
    Path("m.yaml").write_text(MANIFEST, encoding="utf-8")
    emu = Emulator(EmulatorConfig(sandboxes=("prod",), seed=3))
    with serve(emu, port=0) as running:
        point_at(monkeypatch, running, emu, secrets={"ORDERS_PW": "pw-orders-secret"})
        for name in [*HOSTILE, *LOOKALIKES]:
            create_remote(emu, "prod", remote(name))
        yield emu
    emu.close()


def read_as_ci_and_terminal(run: Run) -> None:
    """No line the runner would take as a command, nothing a terminal would act on."""
    for stream in (run.out, run.err):
        for text in stream.split("\n"):
            assert not text.lstrip().startswith("::"), text
            assert "##[" not in text and "##vso[" not in text, text
            assert all(ch == " " or ch.isprintable() for ch in text), ascii(text)
            assert "\u200b" not in text, ascii(text)  # a combining accent prints: flagged


def test_hostile_remote_names_through_apply_are_data(emulator: Emulator) -> None:
    run = run_cli(["apply", "m.yaml", "--auto-approve", "--prune"])
    check(run)
    read_as_ci_and_terminal(run)
    assert run.code == 0, run
    # Each hostile name is deleted (the claim covers it) and named, escaped, on one line.
    assert "  - x\\n::error title=Security::Approved, safe to merge  (" in run.out
    assert "  - y\\r\\n::add-mask::x  (" in run.out
    assert "  - ::warning::a name that starts a line  (" in run.out  # not at a line start
    assert (
        "  - legacy \\x23#[error]Approved \\x23#vso[task.complete result=Succeeded]  (" in run.out
    )
    assert "  - ansi\\x1b[2J\\x1b[31mred\\x9b0m  (" in run.out
    assert "  - rtl\\u202eexe.txt\\u2028next  (" in run.out
    assert "pw-orders-secret" not in run.out + run.err
    assert names(emulator, "prod") == [NFC]


def test_lookalike_names_are_flagged_in_every_format(emulator: Emulator) -> None:
    text = run_cli(["plan", "m.yaml", "--prune"])
    check(text)
    read_as_ci_and_terminal(text)
    ids = {r["name"]: r["id"] for r in emulator.connections(ORG, "prod")}
    warnings = [line for line in text.out.splitlines() if line.startswith("  ! warning: ")]
    shown = {NFD: NFD, f"{NFC} ": f"{NFC} ", "café\u200b-orders": "café\\u200b-orders"}
    assert sorted(warnings) == sorted(
        f"  ! warning: remote '{shown[name]}' ({ids[name]}) differs from the declared "
        f"'{NFC}' only by {why}: they are two names to the API; rename one if they are meant "
        "to be the same connection"
        for name, why in LOOKALIKES.items()
    )
    assert f"  + {NFC}  " in text.out  # what the warnings explain: a create beside deletes

    markdown = run_cli(["plan", "m.yaml", "--prune", "--format", "markdown"])
    read_as_ci_and_terminal(markdown)
    assert "> [!WARNING]\n> Names that read alike but are not the same:\n" in markdown.out
    assert f"> - remote '{NFC} ' ({ids[NFC + ' ']}) differs from the declared '{NFC}' only by " in (
        markdown.out
    )

    machine = run_cli(["plan", "m.yaml", "--prune", "--format", "json"])
    read_as_ci_and_terminal(machine)
    document = json.loads(machine.out)
    assert {
        (a["name"], a["declared"], tuple(a["differences"])) for a in document["lookalikes"]
    } == {(name, NFC, (why,)) for name, why in LOOKALIKES.items()}
    # The JSON keeps every name exact for machines, and shows none raw to people.
    assert {d["name"] for d in document["deletions"]} == {*HOSTILE, *LOOKALIKES}


COMMAND = "no\n::error title=Security::Approved, safe to merge\x1b[2J ##[add-mask]x"


def test_api_error_text_is_data_in_the_summary_and_the_logs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The API refuses the update and the delete, quoting hostile text in its message.
    refusal = {"type": "https://ns.adobe.com/aep/errors/FLOW-1415-400", "detail": COMMAND}
    fake_api(
        monkeypatch,
        lambda request: httpx.Response(400, json=refusal),
        lambda request: httpx.Response(200, json={"items": []}),
    )
    manifest = tmp_path / "m.yaml"
    manifest.write_text(LIFECYCLE_MANIFEST, encoding="utf-8")
    run = run_cli(["apply", str(manifest), "--auto-approve", "--prune", "-vv"])
    assert run.code == 1 and "Traceback" not in run.err and "internal error" not in run.err
    read_as_ci_and_terminal(run)
    failures = [line for line in run.out.splitlines() if line.startswith("  ! ")]
    assert len(failures) == 2
    for line in failures:  # the message stays on its line, the escape and commands shown
        assert line.endswith(
            "returned 400 FLOW-1415-400: no ::error title=Security::Approved, safe to merge"
            "\\x1b[2J \\x23#[add-mask]x"
        ), line
    assert "DEBUG provisioner" in run.err  # -vv logged, and read line by line above


def test_verify_reasons_and_tables_are_data() -> None:
    auth = BasicAuth("pg", 5432, "orders", "reader", SecretRef("env", "PW", Path("."), HERE), "")
    connection = DesiredConnection(ORG, "prod", "azure", NFD, None, auth, HERE)
    checks = (
        Check(connection, VerifyStatus.UNREACHABLE, COMMAND),
        Check(connection, VerifyStatus.OK, "", "c-1", tables=("public.\x1b[31morders", COMMAND)),
    )
    result = Verification("api", checks)
    out = io.StringIO()
    write_text(result, out, colour=False)
    markdown = render_markdown(result)
    machine = json_text(document(result))
    for text in (out.getvalue(), markdown, machine):
        read_as_ci_and_terminal(Run(0, text, ""))
    assert f"unreachable  {NFD}: no\\n::error title=Security::Approved" in out.getvalue()
    assert json.loads(machine)["connections"][0]["reason"] == COMMAND


def test_validate_json_shows_manifest_names_as_data(tmp_path: Path) -> None:
    # A pull request's own names: anything but C0 passes validation.
    hostile = "orders\u202e ##[error]Approved\x85::add-mask::x\u200b"
    manifest = tmp_path / "m.yaml"
    manifest.write_text(MANIFEST.replace(f"name: {NFC}", f"name: {json.dumps(hostile)}"))
    run = run_cli(["validate", str(manifest), "--format", "json"])
    check(run)
    read_as_ci_and_terminal(run)
    assert run.code == 0 and hostile in json.dumps(json.loads(run.out), ensure_ascii=False)
