"""The step outputs (add, change, delete, errors...) count dataflows as they count connections:
a pipeline gating on `change` or `errors` must see a dataflow's."""

from __future__ import annotations

import json
from pathlib import Path

from provisioner.ci.steps import Counts, counts_from


def _plan(tmp_path: Path, summary: dict[str, int]) -> Path:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps({"summary": {**summary, "text": "Plan: ..."}}))
    return path


def test_a_plan_without_dataflows_counts_as_before(tmp_path: Path) -> None:
    summary = {"add": 2, "create": 2, "update": 1, "unchanged": 3, "delete": 1, "unmanaged": 4}
    assert counts_from(_plan(tmp_path, summary)) == Counts(
        add=2, change=1, delete=1, unchanged=3, unmanaged=4
    )


def test_dataflows_add_to_every_count(tmp_path: Path) -> None:
    summary = {
        "add": 1,
        "create": 1,
        "unchanged": 1,
        "owned-elsewhere": 1,
        "dataflows_add": 2,
        "dataflows_create": 2,
        "dataflows_update": 1,
        "dataflows_recreate": 1,
        "dataflows_unchanged": 5,
        "dataflows_drift": 1,
        "dataflows_replace": 1,
        "dataflows_unknown": 1,
        "dataflows_delete": 3,
    }
    counts = counts_from(_plan(tmp_path, summary))
    assert counts == Counts(add=3, change=2, delete=3, unchanged=6, drifted=1, errors=3)
    assert counts.any_change
