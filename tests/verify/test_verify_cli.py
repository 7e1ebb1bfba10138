"""`provision verify` and `apply --verify` end to end: the CLI, the emulator on a loopback
socket connecting for real, and the suite's two PostgreSQL servers."""

from __future__ import annotations

import json
import os
import ssl
import sys
from pathlib import Path

import pytest

from provisioner.emulator import Emulator
from provisioner.emulator.errors import flow_error
from tests.reconcile.recon_helpers import ORG, create_remote, run_cli, write_manifest

from . import pgserver
from .pgserver import PgServer
from .verify_helpers import LINE, basic_manifest

PROD = f"sandbox prod (azure, {ORG})"
AWS = f"sandbox prod-aws (aws, {ORG})"
TESTS = "GET /data/foundation/flowservice/connections/{id}/test"
FIX = (
    "fix the database, or fix the secret and re-send it with `provision apply "
    "--rotate-secrets`; then `provision verify`"
)


def apply_all_but_billing(capsys: pytest.CaptureFixture[str], workdir: Path) -> None:
    # billing stays uncreated: verify must list it as missing.
    result = run_cli(capsys, ["apply", str(workdir), "--auto-approve", "--connection", "[!b]*"])
    assert result.code == 0, result.err


def test_verify_reports_ok_or_unreachable_with_the_api_reason(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    apply_all_but_billing(capsys, workdir)
    result = run_cli(capsys, ["verify", str(workdir)])
    assert (result.code, result.err) == (1, "")
    assert result.out == (
        "Verifying 6 connection(s) through the Flow Service (GET /connections/{id}/test)\n"
        f"{PROD}\n"
        "  ok           orders\n"
        '  unreachable  wrong-password: authentication failed for user "aep_reader"'
        f"  (manifests/connections.yaml:{LINE['wrong-password']})\n"
        "  unreachable  plain-verify-full: TLS: the server does not offer TLS but sslMode "
        f"verify-full requires it  (manifests/connections.yaml:{LINE['plain-verify-full']})\n"
        "  unreachable  nowhere: DNS: host 'pg.nowhere.invalid' not found"
        f"  (manifests/connections.yaml:{LINE['nowhere']})\n"
        "  missing      billing: not created yet; apply creates it"
        f"  (manifests/connections.yaml:{LINE['billing']})\n"
        f"{AWS}\n"
        "  ok           orders\n"
        "Verify FAILED: 2 ok, 3 unreachable, 1 missing.\n"
    )


def test_missing_connections_are_listed_not_failed(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    apply_all_but_billing(capsys, workdir)
    result = run_cli(
        capsys, ["verify", str(workdir), "--connection", "orders", "--connection", "billing"]
    )
    assert result.code == 0, result.out
    assert result.out.endswith("Verify passed: 2 ok, 1 missing.\n")
    strict = run_cli(
        capsys,
        ["verify", str(workdir), "--connection", "orders", "--connection", "billing",
         "--fail-on-missing", "--format", "json"],
    )  # fmt: skip
    assert strict.code == 1
    document = json.loads(strict.out)
    assert (document["passed"], document["summary"]["text"]) == (
        False,
        "Verify FAILED: 2 ok, 1 missing.",
    )


def test_verify_is_read_only_and_needs_no_database_secret(
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
    emulator: Emulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    apply_all_but_billing(capsys, workdir)
    before = [dict(r) for r in emulator.connections()]
    for name in ("VERIFY_GOOD_PW", "VERIFY_BAD_PW", "VERIFY_PLAIN_PW", "VERIFY_DSN"):
        monkeypatch.delenv(name)
    emulator.reset_counts()
    result = run_cli(capsys, ["verify", str(workdir), "--explore"])
    assert result.code == 1
    counts = emulator.request_counts()
    assert {key.split()[0] for key in counts} <= {"GET", "POST"}
    assert counts.get("POST /data/foundation/flowservice/connections", 0) == 0
    assert counts[TESTS] == 5  # every existing connection, once
    assert [dict(r) for r in emulator.connections()] == before


def test_json_is_versioned_and_explore_lists_exactly_the_tables(
    workdir: Path, capsys: pytest.CaptureFixture[str], emulator: Emulator
) -> None:
    apply_all_but_billing(capsys, workdir)
    result = run_cli(capsys, ["verify", str(workdir), "--explore", "--format", "json"])
    assert result.code == 1
    document = json.loads(result.out)
    assert (document["format"], document["format_version"], document["mode"]) == (
        "provision-verify",
        1,
        "api",
    )
    assert document["passed"] is False
    assert document["summary"] == {
        "ok": 2,
        "unreachable": 3,
        "missing": 1,
        "ambiguous": 0,
        "error": 0,
        "text": "Verify FAILED: 2 ok, 3 unreachable, 1 missing.",
    }
    ids = {(r["sandboxName"], r["name"]): r["id"] for r in emulator.connections()}
    entries = {(e["sandbox"], e["name"]): e for e in document["connections"]}
    assert entries["prod", "orders"] == {
        "org": ORG,
        "sandbox": "prod",
        "cloud": "azure",
        "name": "orders",
        "source": f"manifests/connections.yaml:{LINE['orders']}",
        "status": "ok",
        "reason": None,
        "id": ids["prod", "orders"],
        "tables": list(pgserver.TABLES),
    }
    assert entries["prod-aws", "orders"]["tables"] == list(pgserver.TABLES)
    assert entries["prod", "wrong-password"]["reason"] == (
        'authentication failed for user "aep_reader"'
    )
    assert "tables" not in entries["prod", "wrong-password"]  # never explored: it failed
    assert entries["prod", "billing"]["id"] is None


def test_markdown_puts_failures_first(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    apply_all_but_billing(capsys, workdir)
    result = run_cli(capsys, ["verify", str(workdir), "--format", "markdown"])
    assert result.code == 1
    assert result.out == (
        "### provision verify\n\n"
        "**Verify FAILED: 2 ok, 3 unreachable, 1 missing.** Checked through the Flow Service "
        "(GET /connections/{id}/test).\n\n"
        "| sandbox | connection | status | reason |\n"
        "|---|---|---|---|\n"
        '| prod | wrong-password | unreachable | authentication failed for user "aep_reader" |\n'
        "| prod | plain-verify-full | unreachable | TLS: the server does not offer TLS but "
        "sslMode verify-full requires it |\n"
        "| prod | nowhere | unreachable | DNS: host 'pg.nowhere.invalid' not found |\n"
        "| prod | billing | missing | not created yet; apply creates it |\n"
        "| prod | orders | ok |  |\n"
        "| prod-aws | orders | ok |  |\n"
    )


def test_apply_verify_tests_only_what_it_created_and_keeps_it(
    workdir: Path, capsys: pytest.CaptureFixture[str], emulator: Emulator
) -> None:
    first = run_cli(capsys, ["apply", str(workdir), "--auto-approve", "--connection", "orders"])
    assert first.code == 0
    emulator.reset_counts()
    result = run_cli(capsys, ["apply", str(workdir), "--auto-approve", "--verify", "-q"])
    assert result.code == 1
    tail = result.out[result.out.index("Verifying") :]
    stays = f"it stays created (never deleted): {FIX}"
    assert tail == (
        "Verifying the 4 connection(s) created...\n"
        '  ! wrong-password (prod): unreachable: authentication failed for user "aep_reader" '
        f"(manifests/connections.yaml:{LINE['wrong-password']}); {stays}\n"
        "  ! plain-verify-full (prod): unreachable: TLS: the server does not offer TLS but "
        f"sslMode verify-full requires it (manifests/connections.yaml:{LINE['plain-verify-full']}); "
        f"{stays}\n"
        "  ! nowhere (prod): unreachable: DNS: host 'pg.nowhere.invalid' not found "
        f"(manifests/connections.yaml:{LINE['nowhere']}); {stays}\n"
        "Verify FAILED: 1 ok, 3 unreachable.\n"
    )
    assert emulator.request_counts()[TESTS] == 4  # the two existing orders are not tested
    assert sorted(r["name"] for r in emulator.connections(ORG, "prod")) == [
        "billing",
        "nowhere",
        "orders",
        "plain-verify-full",
        "wrong-password",
    ]
    # A re-run with nothing to change still tests what the manifests declare (issue 21: it
    # used to say "Nothing to change, so nothing to verify." and exit 0 with three broken).
    again = run_cli(capsys, ["apply", str(workdir), "--auto-approve", "--verify", "-q"])
    assert again.code == 1
    assert again.out[again.out.index("Nothing") :] == (
        "Nothing to change; verifying the 6 connection(s) the manifests declare...\n"
        '  ! wrong-password (prod): unreachable: authentication failed for user "aep_reader" '
        f"(manifests/connections.yaml:{LINE['wrong-password']}); it stays as it is: {FIX}\n"
        "  ! plain-verify-full (prod): unreachable: TLS: the server does not offer TLS but "
        f"sslMode verify-full requires it (manifests/connections.yaml:{LINE['plain-verify-full']}); "
        f"it stays as it is: {FIX}\n"
        "  ! nowhere (prod): unreachable: DNS: host 'pg.nowhere.invalid' not found "
        f"(manifests/connections.yaml:{LINE['nowhere']}); it stays as it is: {FIX}\n"
        "Verify FAILED: 3 ok, 3 unreachable.\n"
    )


def test_apply_verify_passes_when_everything_created_works(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run_cli(
        capsys,
        ["apply", str(workdir), "--auto-approve", "--verify", "--connection", "orders", "-q"],
    )
    assert result.code == 0, result.out
    assert result.out.endswith("Verifying the 2 connection(s) created...\nVerify passed: 2 ok.\n")


def test_direct_connects_from_here_with_the_secrets_and_names_the_secret(
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
    pg_tls: PgServer,
    emulator: Emulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # No AEP call, so no AEP credentials either.
    monkeypatch.delenv("AEP_CLIENT_ID")
    monkeypatch.delenv("AEP_CLIENT_SECRET")
    emulator.reset_counts()
    argv = ["verify", str(workdir), "--direct", "--ca-file", str(pg_tls.ca_file), "--explore"]
    result = run_cli(capsys, argv)
    assert (result.code, result.err) == (1, "")
    # Wrapped at 100 columns, between names.
    tables = (
        "public.customers, public.events, public.orders, sales.regions,\n"
        '                         sales.totals, x."y.z", "x.y".z'
    )
    assert result.out == (
        "Verifying 6 connection(s) directly from this machine\n"
        f"{PROD}\n"
        "  ok           orders\n"
        f"                 tables: {tables}\n"
        '  unreachable  wrong-password: authentication failed for user "aep_reader"; check the '
        f"password secret {{env: VERIFY_BAD_PW}}  (manifests/connections.yaml:{LINE['wrong-password']})\n"
        "  unreachable  plain-verify-full: TLS: the server offers no TLS but sslmode verify-full "
        "requires it; enable TLS on the server or lower ssl"
        f"  (manifests/connections.yaml:{LINE['plain-verify-full']})\n"
        "  unreachable  nowhere: DNS: cannot resolve host 'pg.nowhere.invalid'; check server and "
        f"this machine's DNS  (manifests/connections.yaml:{LINE['nowhere']})\n"
        "  ok           billing\n"
        f"                 tables: {tables}\n"
        f"{AWS}\n"
        "  ok           orders\n"
        f"                 tables: {tables}\n"
        "Verify FAILED: 3 ok, 3 unreachable.\n"
    )
    assert emulator.request_count == 0


def test_direct_reasons_for_refused_timeout_database_and_tls(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    pg_tls: PgServer,
    blackhole: tuple[str, int],
    refused_port: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VERIFY_GOOD_PW", pg_tls.password)
    path = write_manifest(
        tmp_path,
        basic_manifest(
            ("refused", "127.0.0.1", refused_port, "orders", "require"),
            ("silent", blackhole[0], blackhole[1], "orders", "require"),
            ("unknown-db", "127.0.0.1", pg_tls.port, "nope", "verify-full"),
            ("no-tls", "127.0.0.1", pg_tls.port, "orders", "disable"),
            ("untrusted", "127.0.0.1", pg_tls.port, "orders", "verify-ca"),
            ("encrypted", "127.0.0.1", pg_tls.port, "orders", "require"),
        ),
    )
    # Only the certificate check uses the CA: without it, verify-ca cannot trust the server.
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.postgresql/root.crt
    argv = ["verify", str(path), "--direct", "--connect-timeout", "1", "--format", "json"]
    untrusted = (
        "TLS certificate: the server's certificate is self-signed and not in the system's CA "
        f"bundle ({ssl.get_default_verify_paths().cafile}); give the server's CA with --ca-file"
    )
    result = run_cli(capsys, argv)
    assert result.code == 1
    reasons = {e["name"]: e["reason"] for e in json.loads(result.out)["connections"]}
    assert reasons == {
        "refused": f"connection refused by 127.0.0.1:{refused_port}: nothing listens there "
        "(check server and port)",
        "silent": f"timeout: no answer from 127.0.0.1:{blackhole[1]} within 1 s; a firewall "
        "dropping packets, a server that stalls, or not a PostgreSQL port",
        "unknown-db": untrusted,
        # The server's pg_hba.conf has hostssl lines only; whether TLS would be admitted is
        # the DBA's to say, so the advice is conditional (issue 21: "needs TLS" only when sure).
        "no-tls": 'refused by the server\'s pg_hba.conf: no line admits host "127.0.0.1" (this '
        'machine, as the server sees it), user "aep_reader", database "orders", without TLS; '
        "ask the DBA to add a line for it, or, if the server admits only TLS connections "
        "(hostssl), set ssl: require",
        "untrusted": untrusted,
        "encrypted": None,
    }
    argv += ["--ca-file", str(pg_tls.ca_file)]
    trusted = json.loads(run_cli(capsys, argv).out)["connections"]
    assert [e["reason"] for e in trusted if e["name"] in ("unknown-db", "untrusted")] == [
        'unknown database "nope"; check database in the manifest',
        None,
    ]


def test_direct_lists_every_missing_secret_before_connecting(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VERIFY_BAD_PW")
    monkeypatch.delenv("VERIFY_DSN")
    result = run_cli(capsys, ["verify", str(workdir), "--direct"])
    assert (result.code, result.out) == (1, "")
    assert result.err == (
        "error: 2 secret(s) cannot be resolved; no database was connected to:\n"
        "error: manifests/connections.yaml:26:17: environment variable VERIFY_BAD_PW is not set\n"
        "error: manifests/connections.yaml:52:26: environment variable VERIFY_DSN is not set\n"
    )


def test_direct_without_psycopg_is_one_clear_line(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # import fails
    result = run_cli(capsys, ["verify", str(workdir), "--direct"])
    assert (result.code, result.out) == (1, "")
    assert result.err == (
        "error: verify --direct needs the PostgreSQL driver psycopg 3: "
        "pip install 'aep-provision[postgres]'\n"
    )


def test_direct_only_options_are_refused_without_direct(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run_cli(capsys, ["verify", str(workdir), "--connect-timeout", "2"])
    assert (result.code, result.err) == (
        1,
        "error: --ca-file and --connect-timeout apply to --direct only\n",
    )
    missing = run_cli(capsys, ["verify", str(workdir), "--direct", "--ca-file", "nope.pem"])
    assert missing.err == (
        "error: --ca-file nope.pem: no such file; give a PEM file of CA certificates\n"
    )


def test_ambiguous_unlistable_and_failed_explore_are_errors(
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
    emulator: Emulator,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    apply_all_but_billing(capsys, workdir)
    orders = next(r for r in emulator.connections(ORG, "prod") if r["name"] == "orders")
    create_remote(emulator, "prod", {k: orders[k] for k in ("name", "auth", "connectionSpec")})

    def refuse(record: object, request: object) -> object:
        raise flow_error("1100-400", "Explore is switched off for this test.")

    monkeypatch.setattr(emulator.databases, "explore", refuse)
    result = run_cli(capsys, ["verify", str(workdir), "--explore", "--format", "json"])
    assert result.code == 1
    entries = {(e["sandbox"], e["name"]): e for e in json.loads(result.out)["connections"]}
    assert entries["prod", "orders"]["status"] == "ambiguous"
    assert entries["prod", "orders"]["reason"].startswith("2 connections share this name (")
    aws = entries["prod-aws", "orders"]
    assert aws["status"] == "error"
    assert aws["reason"] == (
        f"explore connection 'orders' ({aws['id']}) in sandbox 'prod-aws' failed: GET "
        f"{os.environ['AEP_PLATFORM_URL']}/data/foundation/flowservice/connections/{aws['id']}/explore"
        "?objectType=root returned 400 FLOW-1100-400: Explore is switched off for this test."
    )


def test_a_sandbox_that_cannot_be_listed_is_an_error_per_connection(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], workdir: Path, pg_tls: PgServer
) -> None:
    text = basic_manifest(("orders", "127.0.0.1", pg_tls.port, "orders", "verify-full"))
    path = write_manifest(tmp_path / "other", text.replace("name: prod,", "name: stage,"))
    result = run_cli(capsys, ["verify", str(path)])
    assert result.code == 1
    (line,) = [entry for entry in result.out.splitlines() if "orders" in entry]
    # A sandbox the org does not have is said plainly (issue 22), not as the listing's URL.
    assert line == (
        "  error  orders: cannot list connections: sandbox stage does not exist in org "
        "0123456789ABCDEF01234567@AdobeOrg (the API answered 404 FLOW-2100-404); the manifests' "
        "sandboxes in this org: stage. Correct the name, or create the sandbox in AEP first  "
        f"({path}:6)"
    )


def test_apply_verify_tests_a_rotation_to_a_wrong_password_and_an_update(
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    pg_tls: PgServer,
    refused_port: int,
) -> None:
    first = run_cli(capsys, ["apply", str(workdir), "--auto-approve", "--connection", "orders"])
    assert first.code == 0, first.out
    monkeypatch.setenv("VERIFY_GOOD_PW", "rotated-to-a-wrong-one")
    argv = ["apply", str(workdir), "--auto-approve", "--verify", "-q", "--connection", "orders"]
    rotated = run_cli(capsys, [*argv, "--rotate-secrets"])
    assert rotated.code == 1
    wrong = 'unreachable: authentication failed for user "aep_reader"'
    line = f"(manifests/connections.yaml:{LINE['orders']})"
    assert rotated.out[rotated.out.index("Verifying") :] == (
        "Verifying the 2 connection(s) written (2 rotated)...\n"
        f"  ! orders (prod): {wrong} {line}; the new secret stays (never reverted): {FIX}\n"
        f"  ! orders (prod-aws): {wrong} {line}; the new secret stays (never reverted): {FIX}\n"
        "Verify FAILED: 2 unreachable.\n"
    )
    # An update to a port where nothing listens is tested too.
    text = workdir.read_text().replace(f"port: {pg_tls.port}", f"port: {refused_port}", 1)
    workdir.write_text(text)
    updated = run_cli(capsys, argv)
    assert updated.code == 1
    tail = updated.out[updated.out.index("Verifying") :]
    assert tail.startswith("Verifying the 2 connection(s) written (2 updated)...\n")
    assert tail.endswith("Verify FAILED: 2 unreachable.\n")
    assert tail.count("the update stays (never reverted)") == 2
