"""Ctrl-C at any point of apply_changes (rotations in flight): it returns, and its account
matches the server: every connection reported rotated holds the new secret, every one
reported skipped still holds the old one, and no worker is left running."""

from __future__ import annotations

import io
import random
import threading
import time
from functools import partial
from pathlib import Path

import pytest

from provisioner.apply.change import apply_changes
from provisioner.apply.create import Status, apply_plan
from provisioner.apply.progress import Progress
from provisioner.commands.session import plan_for
from provisioner.connectors.postgres.payload import render_payload
from provisioner.emulator import Emulator, EmulatorConfig, Faults
from provisioner.manifests.secrets import SecretResolver
from provisioner.plan.make import PlanOptions

from .soak import FULL, SECRET_ENV, SEEDS, client_for, desired_from, write_manifest
from .test_interrupts import CtrlC

SANDBOXES = ("prod", "dev")
ROUNDS = 30 if FULL else 8
NEW = "soak-rotated-9b27"


@pytest.mark.parametrize("seed", SEEDS)
def test_ctrl_c_during_rotations_is_caught_and_counted(seed: int, tmp_path: Path) -> None:
    rng = random.Random(seed)
    desired = desired_from(write_manifest(tmp_path, names=8, sandboxes=SANDBOXES))
    old = SecretResolver(SECRET_ENV).resolve_all(r for c in desired for r in c.secrets)
    new = {ref: NEW for ref in old}
    checked = 0
    for _ in range(ROUNDS):
        emulator = Emulator(EmulatorConfig(sandboxes=SANDBOXES, seed=rng.randrange(1000)))
        client = client_for(emulator)
        quiet = Progress(io.StringIO(), live=False)
        created = apply_plan(
            plan_for(client, desired, 4),
            client,
            lambda c: render_payload(c, old.__getitem__),
            parallelism=4,
            progress=quiet,
        )
        assert created.count(Status.CREATED) == len(desired)
        emulator.set_faults(Faults(latency_ms=1.0, latency_jitter_ms=6.0))
        plan = plan_for(client, desired, 4, options=PlanOptions(rotate=True))
        ctrl_c = CtrlC()
        timer = threading.Timer(rng.uniform(0.0, 0.05), ctrl_c.fire)
        outcomes = None
        try:
            timer.start()
            outcomes, interrupted = apply_changes(
                client,
                plan.patches,
                (),
                partial(lambda p, values: p.patch_ops(values.__getitem__), values=new),
                options=plan.options,
                parallelism=4,
                progress=quiet,
            )
            ctrl_c.disarm()
            time.sleep(0.01)
        except KeyboardInterrupt:
            ctrl_c.disarm()
        finally:
            timer.cancel()
            timer.join()
        stored = {
            (r["sandboxName"], r["name"]): r["auth"]["params"]["password"]
            for r in emulator.connections()
        }
        emulator.close()
        if outcomes is None:
            continue  # landed before or after apply_changes: nothing of it to account for
        checked += 1
        assert len(outcomes) == len(plan.patches)
        for outcome in outcomes:
            secret = stored[(outcome.sandbox, outcome.name)]
            assert outcome.status in (Status.ROTATED, Status.SKIPPED), outcome
            assert secret == (NEW if outcome.status is Status.ROTATED else "soak-pw-4e1d")
        if not interrupted:
            assert all(o.status is Status.ROTATED for o in outcomes)
    assert checked >= ROUNDS // 2
