"""Fixtures every suite may use: real PostgreSQL servers (one plain, one TLS-only with a
self-signed certificate), started once per session when a test asks for one.

Also the property tests' profiles, loaded before any test module builds its settings:
`suite` (the default, for `make test` and CI) derandomizes hypothesis and ignores its
example database, so a run on a fresh clone tries exactly what the last one tried and a red
test is red on every machine; `soak` (`make soak`, or `HYPOTHESIS_PROFILE=soak`) explores
with fresh randomness and remembers what failed."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager

import pytest
from hypothesis import settings

from provisioner.emulator import Emulator, RunningServer, serve
from tests.verify import pgserver

settings.register_profile("suite", derandomize=True, database=None, print_blob=False)
settings.register_profile("soak", derandomize=False, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "suite"))


@pytest.fixture
def server(emulator: Emulator) -> Iterator[RunningServer]:
    """The suite's own `emulator` fixture on a real loopback socket."""
    with serve(emulator, port=0) as running:
        yield running


@pytest.fixture(scope="session")
def pg_plain() -> Iterator[pgserver.PgServer]:
    with _server(tls=False) as server:
        yield server


@pytest.fixture(scope="session")
def pg_tls() -> Iterator[pgserver.PgServer]:
    with _server(tls=True) as server:
        yield server


def _server(*, tls: bool) -> AbstractContextManager[pgserver.PgServer]:
    try:
        pgserver.find_bindir()
    except pgserver.PostgresUnavailable as error:
        # Not a skip: `make test` installs PostgreSQL, and a suite that silently skips its
        # database tests would pass without testing what this project promises.
        pytest.fail(str(error), pytrace=False)
    return pgserver.running(tls=tls)


@pytest.fixture
def blackhole() -> Iterator[tuple[str, int]]:
    """A port that accepts connections and never says a word."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield "127.0.0.1", listener.getsockname()[1]
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    listener.close()


@pytest.fixture
def refused_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def junk_server() -> Iterator[tuple[str, int]]:
    """A port that answers every connection with bytes that are not PostgreSQL's protocol,
    then keeps the connection open and silent."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def answer() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn = listener.accept()[0]
            except OSError:
                continue
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n" * 4)
            held.append(conn)

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    yield "127.0.0.1", listener.getsockname()[1]
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    listener.close()
