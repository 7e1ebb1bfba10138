"""probe_all, the engine of `verify --direct`: one deadline over resolving, connecting,
TLS, login and the query, whatever the network does."""

from __future__ import annotations

import socket
import ssl
import threading
from typing import Any

import pytest

from provisioner.connectors.postgres.probe import ProbeResult, probe_all
from provisioner.connectors.postgres.targets import Target

from . import pgserver
from .pgserver import PgServer


def test_a_resolver_that_hangs_does_not_hold_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    release, finished = threading.Event(), threading.Event()
    real = socket.getaddrinfo

    def hanging(host: str, *args: Any, **kwargs: Any) -> Any:
        if host != "slow.example.test":
            return real(host, *args, **kwargs)
        release.wait(30)
        finished.set()
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", hanging)  # the OS edge: DNS
    target = Target("slow.example.test", 5432, "orders", "reader", "pw-1234", "require")
    results = probe_all([target], parallelism=1, timeout=1.0)
    assert not finished.is_set()  # returned while the lookup still hung
    release.set()
    assert results == [
        ProbeResult(
            False, "DNS: no answer for 'slow.example.test' within 1 s; check this machine's DNS"
        )
    ]


def test_a_name_that_does_not_resolve(monkeypatch: pytest.MonkeyPatch) -> None:
    def unknown(host: str, *args: Any, **kwargs: Any) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", unknown)
    target = Target("nowhere.example.test", 5432, "orders", "reader", "pw-1234", "require")
    assert probe_all([target], parallelism=1, timeout=1.0) == [
        ProbeResult(
            False,
            "DNS: cannot resolve host 'nowhere.example.test'; check server and this machine's DNS",
        )
    ]


def test_every_address_is_tried_and_the_certificate_checks_the_name(
    pg_tls: PgServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The server listens on 127.0.0.1 only: 127.0.0.2 refuses, the next address answers,
    # and verify-full checks the certificate against the name, not the address.
    def two(host: str, port: object, *args: Any, **kwargs: Any) -> Any:
        assert host == "localhost"
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))
            for address in ("127.0.0.2", "127.0.0.1")
        ]

    monkeypatch.setattr(socket, "getaddrinfo", two)
    password = pg_tls.password
    target = Target("localhost", pg_tls.port, "orders", "aep_reader", password, "verify-full")
    (result,) = probe_all(
        [target], parallelism=1, timeout=5.0, explore=True, ca_file=str(pg_tls.ca_file)
    )
    assert result.ok, result.reason
    assert result.tables == pgserver.TABLES


def test_results_keep_the_order_of_the_targets(pg_plain: PgServer, refused_port: int) -> None:
    good = Target("127.0.0.1", pg_plain.port, "orders", "aep_reader", pg_plain.password, "disable")
    bad = Target("127.0.0.1", refused_port, "orders", "aep_reader", "pw-1234", "disable")
    results = probe_all([good, bad] * 10, parallelism=4, timeout=5.0)
    assert [r.ok for r in results] == [True, False] * 10


def test_require_only_encrypts_even_when_libpq_would_find_a_root_file(
    pg_tls: PgServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A root file that does not sign the server's certificate: verify-full must fail on it,
    # require must not look at it (libpq alone would verify `require` against it).
    monkeypatch.setenv("PGSSLROOTCERT", ssl.get_default_verify_paths().cafile or "")

    def target(mode: str) -> Target:
        return Target("127.0.0.1", pg_tls.port, "orders", "aep_reader", pg_tls.password, mode)

    require, verify = probe_all(
        [target("require"), target("verify-full")], parallelism=2, timeout=5.0
    )
    assert require == ProbeResult(True)
    bundle = ssl.get_default_verify_paths().cafile
    assert verify.reason == (
        "TLS certificate: the server's certificate is self-signed and not in "
        f"$PGSSLROOTCERT ({bundle}); give the server's CA with --ca-file"
    )
