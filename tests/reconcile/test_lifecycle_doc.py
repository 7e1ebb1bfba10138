"""docs/lifecycle.md's rehearsal, run as written by a shell against the emulator on a socket:
the hand-made connections by curl, then import, plan (no change), rotate through a saved
plan, name an owner (apply marks what it declares), adopt a retired hand-made connection,
retire it, prune."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from provisioner.emulator import Emulator, EmulatorConfig, serve

from .recon_helpers import ORG

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "lifecycle.md"


def rehearsal() -> str:
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index("## Rehearse it on the emulator\n") :]
    # The hand-made connections first (curl against the emulator), then the pipeline.
    made, pipeline = re.findall(r"```sh\n(.*?)```", section, flags=re.DOTALL)
    return f"{made}{pipeline}"


def test_the_rehearsal_runs_as_written(tmp_path: Path) -> None:
    emulator = Emulator(EmulatorConfig(sandboxes=("prod", "dev"), seed=5))
    with serve(emulator, port=0) as running:
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("AEP_", "PG_")) and k != "CI"
        }
        env.update(
            PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
            AEP_IMS_URL=running.url,
            AEP_PLATFORM_URL=running.url,
            AEP_CLIENT_ID=emulator.config.client_id,
            AEP_CLIENT_SECRET=emulator.config.client_secret,
        )
        run = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", rehearsal()],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert run.returncode == 0, run.stdout + run.stderr
        records = {r["name"]: r for r in emulator.connections(ORG)}
    emulator.close()
    assert "Plan: 0 to add, 2 unchanged, 0 drifted." in run.stdout  # import, then plan
    assert "Apply complete: 0 created, 2 secrets rotated.\n" in run.stdout
    assert "Apply complete: 0 created, 2 updated.\n" in run.stdout  # the owner marks
    assert "Apply complete: 0 created, 1 updated.\n" in run.stdout  # orders-legacy adopted
    assert "marked owner=team-orders, no manifest declares it" in run.stdout
    assert "Apply complete: 0 created, 1 deleted.\n" in run.stdout
    assert sorted(records) == ["orders-dev", "orders-prod"]
    for record in records.values():
        assert record["description"] == "Orders\nmanaged-by: provision owner=team-orders"
    assert records["orders-prod"]["auth"]["params"]["password"] == "rotated-prod-pw"
    assert records["orders-dev"]["auth"]["params"]["password"] == "rotated-dev-pw"
    assert "rotated-prod-pw" not in run.stdout + run.stderr
    assert "orders-{{ sandbox.name }}" in (tmp_path / "adopted.yaml").read_text(encoding="utf-8")
    assert "Traceback" not in run.stderr
