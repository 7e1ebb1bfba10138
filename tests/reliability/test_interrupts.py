"""Ctrl-C at any point of apply_plan: it returns, and its account matches the server.

``_thread.interrupt_main`` raises KeyboardInterrupt in the main thread as a real Ctrl-C
does, at a seeded random moment: while creates are queued, in flight, being collected, or
while the last listing settles races. apply_plan must never let it escape (the CLI would
print no summary) and must account for every planned create: each one created is reported
created, nothing is lost from the count, and no worker is left running.
"""

from __future__ import annotations

import _thread
import io
import random
import threading
import time
import traceback
from collections.abc import Mapping
from functools import partial
from pathlib import Path

import pytest

from provisioner.apply.create import ApplyResult, Status, apply_plan
from provisioner.apply.progress import Progress
from provisioner.commands.session import plan_for
from provisioner.connectors.postgres.payload import Payload, render_payload
from provisioner.emulator import Emulator, EmulatorConfig, Faults
from provisioner.manifests.secrets import SecretResolver
from provisioner.model import DesiredConnection, SecretRef

from .soak import FULL, SECRET_ENV, SEEDS, census, client_for, desired_from, write_manifest

SANDBOXES = ("prod", "dev")
ROUNDS = 60 if FULL else 15


def escaped_from_apply(error: KeyboardInterrupt) -> bool:
    return any(
        "provisioner" in frame.filename for frame in traceback.extract_tb(error.__traceback__)
    )


class CtrlC:
    """Raises KeyboardInterrupt in the main thread when fired, unless disarmed first."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._armed = True

    def fire(self) -> None:
        with self._lock:
            if self._armed:
                _thread.interrupt_main()

    def disarm(self) -> None:
        with self._lock:
            self._armed = False


def payload(connection: DesiredConnection, *, values: Mapping[SecretRef, str]) -> Payload:
    return render_payload(connection, values.__getitem__)


@pytest.mark.parametrize("seed", SEEDS)
def test_ctrl_c_anywhere_in_apply_plan_is_caught_and_counted(seed: int, tmp_path: Path) -> None:
    rng = random.Random(seed)
    desired = desired_from(write_manifest(tmp_path, names=12, sandboxes=SANDBOXES))
    checked = 0
    for _ in range(ROUNDS):
        faults = Faults(latency_ms=1.0, latency_jitter_ms=6.0)
        emulator = Emulator(
            EmulatorConfig(sandboxes=SANDBOXES, seed=rng.randrange(1000), faults=faults)
        )
        client = client_for(emulator)
        plan = plan_for(client, desired, 4)
        values = SecretResolver(SECRET_ENV).resolve_all(r for c in desired for r in c.secrets)
        ctrl_c = CtrlC()
        timer = threading.Timer(rng.uniform(0.0, 0.06), ctrl_c.fire)
        result: ApplyResult | None = None
        try:
            timer.start()
            result = apply_plan(
                plan,
                client,
                partial(payload, values=values),
                parallelism=4,
                progress=Progress(io.StringIO(), live=False),
            )
            ctrl_c.disarm()
            time.sleep(0.01)  # a Ctrl-C raised just after the return is delivered here
        except KeyboardInterrupt as error:
            ctrl_c.disarm()
            assert result is not None or not escaped_from_apply(error), "".join(
                traceback.format_exception(error)
            )
        finally:
            timer.cancel()
            timer.join()
        # Workers that started after the Ctrl-C claim nothing; give them a moment to end.
        for thread in threading.enumerate():
            if thread.name.startswith("apply-"):
                thread.join(timeout=2)
                assert not thread.is_alive()
        once, duplicates, _ = census(emulator, desired)
        emulator.close()
        assert duplicates == 0
        if result is None:
            continue  # the Ctrl-C landed after apply_plan had returned
        checked += 1
        assert len(result.outcomes) == len(plan.creates)
        assert result.count(Status.CREATED) == once, result
        if not result.interrupted:
            assert once == len(desired)
    assert checked >= ROUNDS // 2
