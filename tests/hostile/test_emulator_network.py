"""`provision emulator` as a network service, attacked as a hostile web page or a neighbour
on a shared machine would.

- DNS rebinding: a page under the attacker's name, rebound to 127.0.0.1, has the browser
  send its requests with `Host: <attacker's name>`. They are refused before any route
  runs, so `/__emulator/state` (passwords in the clear) never reaches the page.
- The `--state` file and SQLite's -wal/-shm beside it are readable by their owner only.
- Binding to every interface says, once, what that exposes.
"""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from provisioner.emulator import Emulator, EmulatorConfig, serve
from provisioner.emulator.hosts import HostCheck
from tests.emulator.emu_helpers import FLOW, make_client, pg_payload

PASSWORD = "hunter2-secret"  # what pg_payload sends
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    emu = Emulator(EmulatorConfig(seed=5))
    with make_client(emu) as api:
        assert api.post(f"{FLOW}/connections", json=pg_payload()).status_code == 201
    yield emu
    emu.close()


def refusal(host: str, port: int) -> dict[str, str]:
    return {
        "error_code": "403000",
        "message": f"Host '{host}' is not a name this emulator answers (a web page reaching "
        f"it through DNS rebinding would send one): use http://127.0.0.1:{port}, or start it "
        "with --allow-host NAME",
    }


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/__emulator/state"),
        ("DELETE", "/__emulator/state"),
        ("PUT", "/__emulator/faults"),
        ("POST", "/ims/token/v3"),
        ("GET", f"{FLOW}/connections"),
    ],
)
def test_a_rebound_page_is_refused_on_every_route(
    emulator: Emulator, method: str, path: str
) -> None:
    with serve(emulator) as running:
        host = f"rebind.attacker.example:{running.port}"
        answer = httpx.request(method, running.url + path, headers={"Host": host})
    assert answer.status_code == 403
    assert answer.json() == refusal(host, running.port)
    assert PASSWORD not in answer.text
    assert len(emulator.connections()) == 1  # the DELETE changed nothing
    assert emulator.injector.faults == EmulatorConfig().faults


@pytest.mark.parametrize(
    "host", ["127.0.0.1:{port}", "localhost:{port}", "LOCALHOST.", "[::1]:{port}"]
)
def test_loopback_names_are_answered(emulator: Emulator, host: str) -> None:
    with serve(emulator) as running:
        headers = {"Host": host.format(port=running.port)}
        answer = httpx.get(running.url + "/__emulator/state", headers=headers)
    assert answer.status_code == 200
    assert PASSWORD in answer.text  # the test seam still works where it should


def test_a_request_without_host_is_answered(emulator: Emulator) -> None:
    # HTTP/1.0 without Host: no browser sends that, so it cannot be a rebound page.
    with serve(emulator) as running, socket.create_connection(("127.0.0.1", running.port)) as s:
        s.sendall(b"GET /__emulator/health HTTP/1.0\r\n\r\n")
        answer = b"".join(iter(lambda: s.recv(4096), b""))
    assert answer.startswith(b"HTTP/1.1 200 ") and answer.endswith(b'{"ok":true}')


def test_allowed_names_are_answered_others_not(emulator: Emulator) -> None:
    with serve(emulator, allowed_hosts=["emulator"]) as running:
        ok = httpx.get(running.url + "/__emulator/health", headers={"Host": "emulator:8080"})
        refused = httpx.get(running.url + "/__emulator/health", headers={"Host": "emulator.evil"})
    assert (ok.status_code, refused.status_code) == (200, 403)


def test_a_hostile_host_header_is_escaped_in_the_refusal(emulator: Emulator) -> None:
    with serve(emulator) as running:
        answer = httpx.get(
            running.url + "/__emulator/state", headers={"Host": "evil.example\x1b[31m"}
        )
    assert answer.status_code == 403
    assert "\x1b" not in answer.json()["message"]
    assert answer.json()["message"].startswith("Host 'evil.example\\x1b[31m' is not a name")


@pytest.mark.parametrize(
    ("bound", "allowed", "header", "answered"),
    [
        ("127.0.0.1", (), "localhost:8080", True),
        ("127.0.0.1", (), "127.9.9.9", True),
        ("127.0.0.1", (), "[::1]:8080", True),
        ("127.0.0.1", (), "10.0.0.5:8080", False),
        ("127.0.0.1", (), "localhost.attacker.example", False),
        ("127.0.0.1", (), "attacker.example.localhost.", False),
        ("127.0.0.1", (), "", False),
        ("127.0.0.1", (), "[::1", False),
        ("10.0.0.5", (), "10.0.0.5:8080", True),  # bound there on purpose
        ("10.0.0.5", (), "10.0.0.6:8080", False),
        ("10.0.0.5", (), "attacker.example", False),
        ("0.0.0.0", (), "192.0.2.7:8080", True),  # every interface: any address
        ("::", (), "[2001:db8::7]:8080", True),
        ("0.0.0.0", (), "build-box.corp.example", False),
        ("0.0.0.0", ("build-box.corp.example",), "BUILD-BOX.corp.example.:8080", True),
    ],
)
def test_which_hosts_are_answered(
    bound: str, allowed: tuple[str, ...], header: str, answered: bool
) -> None:
    assert HostCheck(bound, frozenset(allowed)).accepts(header) is answered


def modes(state: Path) -> dict[str, str]:
    found = {}
    for path in sorted(state.parent.iterdir()):
        found[path.name] = stat.filemode(path.stat().st_mode)
    return found


@pytest.fixture
def umask_022() -> Iterator[None]:
    """The usual umask, under which files are created world-readable by default."""
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.mark.usefixtures("umask_022")
def test_state_files_are_readable_by_their_owner_only(tmp_path: Path) -> None:
    state = tmp_path / "state" / "emu.db"
    state.parent.mkdir()
    emu = Emulator(EmulatorConfig(seed=5, state_file=str(state)))
    try:
        with make_client(emu) as api:
            assert api.post(f"{FLOW}/connections", json=pg_payload()).status_code == 201
        assert modes(state) == {
            "emu.db": "-rw-------",
            "emu.db-shm": "-rw-------",
            "emu.db-wal": "-rw-------",
        }
        assert PASSWORD.encode() in b"".join(p.read_bytes() for p in state.parent.iterdir())
    finally:
        emu.close()


@pytest.mark.usefixtures("umask_022")
def test_a_state_file_left_world_readable_is_tightened(tmp_path: Path) -> None:
    state = tmp_path / "emu.db"
    Emulator(EmulatorConfig(seed=5, state_file=str(state))).close()
    state.chmod(0o644)  # as 0.2.0 created it
    emu = Emulator(EmulatorConfig(seed=5, state_file=str(state)))
    try:
        assert stat.filemode(state.stat().st_mode) == "-rw-------"
    finally:
        emu.close()


def run_emulator(*args: str) -> tuple[str, str]:
    """`provision emulator ARGS`, stopped once it has printed its banner: (stdout, stderr)."""
    start = f"from provisioner.emulator import main; raise SystemExit(main({list(args)!r}))"
    child = subprocess.Popen(
        [sys.executable, "-c", start],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    lines = []
    while not lines or "Ctrl-C" not in lines[-1]:
        line = child.stdout.readline()
        assert line, child.communicate()[1]
        lines.append(line)
    child.terminate()
    out, err = child.communicate(timeout=10)
    assert child.returncode == 0, err
    return "".join(lines) + out, err


def test_binding_every_interface_warns_once() -> None:
    out, err = run_emulator("--host", "0.0.0.0", "--port", "0")
    port = out.split("listening on http://0.0.0.0:", 1)[1].split(" ", 1)[0]
    assert err == (
        "provision emulator: warning: listening on 0.0.0.0, not a loopback address: whoever "
        f"can reach port {port} can read every stored password (GET /__emulator/state) and "
        "change the emulator, with no authentication; use --host 127.0.0.1 unless other "
        "machines must reach it\n"
    )


def test_the_default_bind_says_nothing_on_stderr() -> None:
    _, err = run_emulator("--port", "0")
    assert err == ""
