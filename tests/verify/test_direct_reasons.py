"""`verify --direct` reasons a DBA would trust, against the suite's own PostgreSQL servers:
pg_hba refusals per TLS mode, a private CA whose certificate names another host, an SSH
banner, and a server that stalls after login (the deadline holds, the driver stays quiet)."""

from __future__ import annotations

import json
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.reconcile.recon_helpers import run_cli, write_manifest

from . import pgserver
from .fakes import StallingProxy, banner_service
from .pgserver import PgServer
from .verify_helpers import basic_manifest

MODES = ("disable", "allow", "prefer", "require")
BUNDLE = ssl.get_default_verify_paths().cafile


@pytest.fixture(scope="module")
def pg_narrow() -> Iterator[PgServer]:
    """A server without TLS whose pg_hba.conf admits only the databases orders and postgres."""
    with pgserver.running(tls=False, admit="orders,postgres") as server:
        yield server


@pytest.fixture(scope="module")
def pg_ca() -> Iterator[PgServer]:
    """A TLS server whose certificate, signed by a private CA, names only db.internal."""
    with pgserver.running(tls=True, names=("db.internal",)) as server:
        yield server


def reasons(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    password: str,
    entries: list[tuple[str, str, int, str, str]],
    *extra: str,
    user: str = pgserver.USER,
) -> dict[str, str | None]:
    monkeypatch.setenv("VERIFY_GOOD_PW", password)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.postgresql/root.crt of the machine's
    monkeypatch.delenv("PGSSLROOTCERT", raising=False)
    text = basic_manifest(*entries).replace("username: aep_reader", f"username: {user}")
    path = write_manifest(tmp_path / "m", text)
    result = run_cli(capsys, ["verify", str(path), "--direct", "--format", "json", *extra])
    assert result.err == ""
    return {e["name"]: e["reason"] for e in json.loads(result.out)["connections"]}


def hba(rule: str, user: str, database: str, ways: str, advice: str) -> str:
    return (
        f'refused by the server\'s pg_hba.conf: {rule} host "127.0.0.1" (this machine, as the '
        f'server sees it), user "{user}", database "{database}", {ways}; {advice}'
    )


REJECTED = "only the DBA can change that (no password or TLS setting helps)"
NO_ENTRY = (
    "ask the DBA to add a line for it, or, if the server admits only TLS connections "
    "(hostssl), set ssl: require"
)


def test_a_reject_line_is_quoted_in_every_mode_never_told_to_add_tls(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    pg_plain: PgServer,
    pg_tls: PgServer,
) -> None:
    entries = [(f"{kind}-{mode}", "127.0.0.1", server.port, "orders", mode)
               for kind, server in (("plain", pg_plain), ("tls", pg_tls)) for mode in MODES]  # fmt: skip
    # Both servers share the reader's password only by chance: each entry gets its own.
    plain = reasons(capsys, tmp_path, monkeypatch, pg_plain.password, entries[:4],
                    user=pgserver.REJECTED_USER)  # fmt: skip
    tls = reasons(capsys, tmp_path, monkeypatch, pg_tls.password, entries[4:],
                  user=pgserver.REJECTED_USER)  # fmt: skip
    reject = "a `reject` line matches"

    def rejected(ways: str) -> str:
        return hba(reject, pgserver.REJECTED_USER, "orders", ways, REJECTED)

    assert plain == {
        "plain-disable": rejected("without TLS"),
        "plain-allow": rejected("without TLS"),
        "plain-prefer": rejected("without TLS"),
        # The one attempt require makes is refused for TLS: that is the whole truth.
        "plain-require": "TLS: the server offers no TLS but sslmode require requires it; "
        "enable TLS on the server or lower ssl",
    }
    assert tls == {
        "tls-disable": rejected("without TLS"),
        "tls-allow": rejected("without TLS and with TLS"),
        "tls-prefer": rejected("with TLS and without TLS"),
        "tls-require": rejected("with TLS"),
    }


def test_no_entry_on_a_server_without_tls_is_not_called_a_tls_problem(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    pg_narrow: PgServer,
) -> None:
    entries = [(mode, "127.0.0.1", pg_narrow.port, "unlisted", mode) for mode in MODES[:3]]
    found = reasons(capsys, tmp_path, monkeypatch, pg_narrow.password, entries)
    no_entry = hba("no line admits", pgserver.USER, "unlisted", "without TLS", NO_ENTRY)
    assert found == {"disable": no_entry, "allow": no_entry, "prefer": no_entry}


def test_a_certificate_for_another_host_names_its_names_and_trusts_the_ca(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    pg_ca: PgServer,
) -> None:
    entries = [
        ("full", "127.0.0.1", pg_ca.port, "orders", "verify-full"),
        ("ca-only", "127.0.0.1", pg_ca.port, "orders", "verify-ca"),
    ]
    ca = str(pg_ca.ca_file)
    found = reasons(capsys, tmp_path, monkeypatch, pg_ca.password, entries, "--ca-file", ca)
    assert found == {
        "full": "TLS certificate: the server's certificate names db.internal, not '127.0.0.1' "
        f"(its CA, --ca-file {ca}, is trusted); connect by one of those names, or check the "
        "CA only with ssl: verify-ca",
        "ca-only": None,
    }
    untrusted = reasons(capsys, tmp_path, monkeypatch, pg_ca.password, entries)
    signed = (
        "TLS certificate: the server's certificate is signed by a CA that is not in the "
        f"system's CA bundle ({BUNDLE}); give the server's CA with --ca-file"
    )
    assert untrusted == {"full": signed, "ca-only": signed}


def test_libpqs_own_root_file_is_the_ca_source_after_the_environment(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    pg_ca: PgServer,
) -> None:
    # psql trusts ~/.postgresql/root.crt; so does verify --direct, and says so.
    own = tmp_path / ".postgresql" / "root.crt"
    own.parent.mkdir()
    own.write_bytes(Path(str(pg_ca.ca_file)).read_bytes())
    entries = [("ca-only", "127.0.0.1", pg_ca.port, "orders", "verify-ca"),
               ("full", "127.0.0.1", pg_ca.port, "orders", "verify-full")]  # fmt: skip
    found = reasons(capsys, tmp_path, monkeypatch, pg_ca.password, entries)
    assert found == {
        "ca-only": None,
        "full": "TLS certificate: the server's certificate names db.internal, not '127.0.0.1' "
        f"(its CA, libpq's {own}, is trusted); connect by one of those names, or check the "
        "CA only with ssl: verify-ca",
    }


def test_a_ca_file_holding_a_key_fails_once_up_front(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, pg_ca: PgServer
) -> None:
    key = Path(str(pg_ca.ca_file)).with_name("ca.key")
    text = basic_manifest(
        *[(f"c{i}", "127.0.0.1", pg_ca.port, "orders", "verify-ca") for i in range(3)]
    )
    path = write_manifest(tmp_path, text)
    result = run_cli(capsys, ["verify", str(path), "--direct", "--ca-file", str(key)])
    assert (result.code, result.out) == (1, "")
    assert result.err == (
        f"error: --ca-file {key}: no CA certificate in it (it holds a private key); give a "
        "PEM file of CA certificates (-----BEGIN CERTIFICATE-----)\n"
    )


def test_an_ssh_banner_is_not_a_postgresql_server_in_any_mode(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with banner_service() as port:
        entries = [(mode, "127.0.0.1", port, "orders", mode) for mode in (*MODES, "verify-full")]
        found = reasons(capsys, tmp_path, monkeypatch, "pw-not-used", entries)
    ssh = (
        f"127.0.0.1:{port} is not a PostgreSQL server: it greets with 'SSH-2.0-OpenSSH_9.6' "
        "(an SSH server); check the port"
    )
    assert found == dict.fromkeys((*MODES, "verify-full"), ssh)


def test_a_server_that_stalls_after_login_costs_the_deadline_and_no_cancel_request(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    pg_plain: PgServer,
) -> None:
    with StallingProxy(pg_plain.port) as proxy:
        entries = [("pooled", "127.0.0.1", proxy.port, "orders", "disable")]
        found = reasons(
            capsys, tmp_path, monkeypatch, pg_plain.password, entries, "--connect-timeout", "1"
        )
        # On the deadline the connection is closed: a cancel request would be a second
        # connection (and seconds of waiting for an answer that never comes).
        assert proxy.connections == 1
    assert found == {
        "pooled": f"timeout: no answer from 127.0.0.1:{proxy.port} within 1 s; a firewall "
        "dropping packets, a server that stalls, or not a PostgreSQL port"
    }


def test_aws_verify_full_is_warned_about_and_checked_as_written_or_as_the_platform_would(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    pg_ca: PgServer,
) -> None:
    # AWS receives verify-full as sslMode "true": the platform only encrypts. A certificate
    # for another host fails as written and passes as the platform would check it.
    monkeypatch.setenv("VERIFY_GOOD_PW", pg_ca.password)
    monkeypatch.setenv("HOME", str(tmp_path))
    text = basic_manifest(("orders", "127.0.0.1", pg_ca.port, "orders", "verify-full"))
    path = write_manifest(tmp_path / "m", text.replace("cloud: azure", "cloud: aws"))
    warning = (
        f'warning: {path}:6: orders (prod): ssl: verify-full reaches AWS as sslMode "true": '
        "the platform encrypts but is never asked to verify the certificate; `verify --direct` "
        "verifies it, `verify --direct --as-platform` does what the platform does\n"
    )
    validated = run_cli(capsys, ["validate", str(path), "-v"])
    assert (validated.code, validated.err) == (0, warning)
    assert run_cli(capsys, ["validate", str(path)]).err == ""  # only when asked: -v
    argv = ["verify", str(path), "--direct", "--ca-file", str(pg_ca.ca_file)]
    written = run_cli(capsys, argv)
    assert written.code == 1
    assert "the server's certificate names db.internal, not '127.0.0.1'" in written.out
    platform = run_cli(capsys, [*argv, "--as-platform"])
    assert (platform.code, platform.err) == (0, "")
    assert platform.out.endswith("Verify passed: 1 ok.\n")
