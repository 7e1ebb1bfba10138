"""SIGTERM (a CI cancellation, a job timeout) ends a run as Ctrl-C does; a second signal too.

A real ``python -m provisioner`` against the emulator on a loopback socket. The emulator
holds chosen requests at a gate, so the signal lands at a known point, with no sleeps:
when the gate has received N creates (they are in flight) or the first listing. Then:

- during the creates, SIGTERM starts nothing new, lets the creates in flight finish, prints
  the plan and what was done (exactly those creates), and exits 143;
- during the listing, plan, verify and apply say one line and exit 143; apply does not
  list the sandboxes still queued;
- a second signal stops the wait for the creates in flight: the summary reports them in
  flight (outcome unknown) and the process exits; the next apply still converges with no
  duplicate, since the creates the server finished are seen by its listing.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING

import pytest

from provisioner.emulator import Emulator, EmulatorConfig, RunningServer, serve

from .soak import (
    CONNECTIONS,
    SANDBOXES,
    SECRET_ENV,
    assert_converged,
    census,
    cli_env,
    client_for,
    desired_from,
    write_manifest,
)

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

ROOT = Path(__file__).resolve().parents[2]
CONNECTIONS_PATH = "/data/foundation/flowservice/connections"
PARALLELISM = 4
WAIT = 60.0  # a bound for a test that hangs, never a pace


def is_create(method: str, path: str) -> bool:
    return method == "POST" and path == CONNECTIONS_PATH


def is_listing(method: str, path: str) -> bool:
    return method == "GET" and path == CONNECTIONS_PATH


class GatedEmulator(Emulator):
    """Holds the requests ``gated`` picks until the test opens the gate; counts them."""

    def __init__(self, gated: Callable[[str, str], bool]) -> None:
        super().__init__(EmulatorConfig(sandboxes=SANDBOXES, seed=3))
        self._gated = gated
        self._changed = threading.Condition()
        self.arrived = self.finished = 0
        self.gate = threading.Event()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        method, path = str(environ["REQUEST_METHOD"]), str(environ.get("PATH_INFO", ""))
        if not self._gated(method, path):
            return super().__call__(environ, start_response)
        with self._changed:
            self.arrived += 1
            self._changed.notify_all()
        self.gate.wait(WAIT)
        try:
            return super().__call__(environ, start_response)
        finally:
            with self._changed:
                self.finished += 1
                self._changed.notify_all()

    def wait_until(self, predicate: Callable[[], bool]) -> None:
        with self._changed:
            assert self._changed.wait_for(predicate, WAIT)


class Run:
    """A provision subprocess; its stderr is read line by line as it comes."""

    def __init__(self, args: list[str], env: dict[str, str], out: Path) -> None:
        with out.open("wb") as stdout:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "provisioner", *args],
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=subprocess.PIPE,
                text=True,
            )
        self._out = out
        self._lines: list[str] = []
        self._changed = threading.Condition()
        assert self.process.stderr is not None
        self._reader = threading.Thread(target=self._read, args=(self.process.stderr,))
        self._reader.start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            with self._changed:
                self._lines.append(line)
                self._changed.notify_all()

    def wait_for_line(self, start: str) -> None:
        with self._changed:
            found = self._changed.wait_for(
                lambda: any(line.startswith(start) for line in self._lines), WAIT
            )
        assert found, self.stderr

    def signal(self, sig: signal.Signals) -> None:
        self.process.send_signal(sig)

    def wait(self) -> int:
        code = self.process.wait(WAIT)
        self._reader.join(WAIT)
        assert self.process.stderr is not None
        self.process.stderr.close()
        return code

    @property
    def stderr(self) -> str:
        with self._changed:
            return "".join(self._lines)

    @property
    def stdout(self) -> str:
        return self._out.read_text(encoding="utf-8")


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    return write_manifest(tmp_path)


@contextmanager
def served(emulator: Emulator) -> Iterator[RunningServer]:
    try:
        with serve(emulator, port=0) as server:
            yield server
    finally:
        if isinstance(emulator, GatedEmulator):
            emulator.gate.set()
        emulator.close()


def start(
    server: RunningServer,
    emulator: Emulator,
    tmp_path: Path,
    *args: str,
    name: str = "run",
    parallelism: int = PARALLELISM,
) -> Run:
    env = cli_env(server.url, emulator, **SECRET_ENV)
    return Run([*args, "--parallelism", str(parallelism)], env, tmp_path / f"{name}.out")


def apply_args(manifest: Path) -> list[str]:
    return ["apply", str(manifest), "--auto-approve"]


def test_sigterm_during_the_creates_finishes_those_in_flight_and_says_what_was_done(
    tmp_path: Path, manifest: Path
) -> None:
    emulator = GatedEmulator(is_create)
    with served(emulator) as server:
        run = start(server, emulator, tmp_path, *apply_args(manifest))
        emulator.wait_until(lambda: emulator.arrived == PARALLELISM)  # each worker's first
        run.signal(signal.SIGTERM)
        run.wait_for_line("Stopping: ")
        emulator.gate.set()
        code = run.wait()
        out, err = run.stdout, run.stderr
        assert code == 143, out + err
        assert "Traceback" not in err
        assert f"Plan: {CONNECTIONS} to add, 0 unchanged, 0 drifted." in out  # kept, flushed
        assert err.splitlines()[-1] == (
            f"Stopping: waiting for the {PARALLELISM} writes in flight; interrupt again not to wait"
        )
        left = CONNECTIONS - PARALLELISM
        assert out.splitlines()[-1] == (
            f"Apply interrupted: {PARALLELISM} created, {left} not started; re-run apply to "
            "converge (it never duplicates)."
        )
        desired = desired_from(manifest)
        assert census(emulator, desired) == (PARALLELISM, 0, left)
        # No new create started after the signal: only the ones in flight reached the API.
        assert emulator.arrived == PARALLELISM

        again = start(server, emulator, tmp_path, *apply_args(manifest), name="again")
        assert again.wait() == 0, again.stdout + again.stderr
        assert again.stdout.splitlines()[-1] == f"Apply complete: {left} created."
        assert_converged(emulator, client_for(emulator), desired)


@pytest.mark.parametrize("command", ["plan", "verify", "apply"])
def test_sigterm_while_listing_is_one_line_and_exit_143(
    command: str, tmp_path: Path, manifest: Path
) -> None:
    emulator = GatedEmulator(is_listing)
    with served(emulator) as server:
        args = apply_args(manifest) if command == "apply" else [command, str(manifest)]
        run = start(server, emulator, tmp_path, *args, parallelism=1)
        emulator.wait_until(lambda: emulator.arrived >= 1)
        run.signal(signal.SIGTERM)
        # Only once the run says it is stopping: a signal handled after the listing in
        # flight answered could otherwise let the next one start, on a loaded machine.
        run.wait_for_line("Stopping: ")
        emulator.gate.set()
        code = run.wait()
        assert code == 143, run.stdout + run.stderr
        assert run.stderr == (
            "Stopping: waiting for the 1 listing in flight\n"
            "provision: stopped by SIGTERM; nothing was changed.\n"
        )
        # The sandboxes still queued were never listed, and nothing was written.
        assert emulator.arrived == 1
        assert emulator.connections() == []


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_second_signal_stops_waiting_and_still_summarises(
    sig: signal.Signals, tmp_path: Path, manifest: Path
) -> None:
    emulator = GatedEmulator(is_create)
    with served(emulator) as server:
        run = start(server, emulator, tmp_path, *apply_args(manifest))
        emulator.wait_until(lambda: emulator.arrived == PARALLELISM)
        run.signal(sig)
        run.wait_for_line("Stopping: ")
        run.signal(sig)  # the creates are still held: the run must not wait for them
        code = run.wait()
        out, err = run.stdout, run.stderr
        assert code == 128 + sig, out + err
        assert "Traceback" not in err
        left = CONNECTIONS - PARALLELISM
        assert out.splitlines()[-1] == (
            f"Apply interrupted: 0 created, {left} not started, {PARALLELISM} in flight when "
            "stopped (outcome unknown); re-run apply to converge (it never duplicates)."
        )
        # The server finishes what it was sent; the next run lists before creating.
        emulator.gate.set()
        emulator.wait_until(lambda: emulator.finished == PARALLELISM)
        desired = desired_from(manifest)
        assert census(emulator, desired)[1] == 0
        again = start(server, emulator, tmp_path, *apply_args(manifest), name="again")
        assert again.wait() == 0, again.stdout + again.stderr
        assert_converged(emulator, client_for(emulator), desired)
