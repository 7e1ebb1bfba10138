"""JSON Patch on a flow: which paths may change, and how [doc UPD, UPD-UI].

Documented paths: ``/name``, ``/description``, ``/scheduleParams/frequency`` and
``replace /transformations/<i>`` with a ``Mapping`` entry. With ``flow_patch_paths=schedule``
the rest of ``scheduleParams`` may change too. Always refused: rescheduling a flow scheduled
``once`` or changing its mapping, turning a periodic flow into ``once``, moving a
``startTime`` that has already passed [doc UPD]; anything else is FLOW-1455-400.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from provisioner.emulator.dataflow_options import DataflowOptions
from provisioner.emulator.errors import ApiError, JsonObject, flow_error
from provisioner.emulator.resources import patch_text
from provisioner.emulator.schedule import check_schedule

_SCHEDULE_KEYS = ("frequency", "interval", "startTime", "backfill")


def _bad(detail: str) -> ApiError:
    return flow_error("1455-400", f"The patch request is invalid: {detail}")


def apply_flow_patch(
    record: JsonObject,
    ops: list[JsonObject],
    options: DataflowOptions,
    now_s: float,
    check_mapping: Callable[[Any], JsonObject],
) -> None:
    for index, op in enumerate(ops):
        if patch_text(record, op, index):
            continue
        path: str = op["path"]
        if path.startswith("/transformations/"):
            _mapping(record, op, index, options, check_mapping)
        elif path == "/scheduleParams" or path.startswith("/scheduleParams/"):
            _schedule(record, op, options, now_s)
        else:
            raise _bad(f"path '{path[:80]}' cannot be patched on a flow.")


def _mapping(
    record: JsonObject,
    op: JsonObject,
    index: int,
    options: DataflowOptions,
    check_mapping: Callable[[Any], JsonObject],
) -> None:
    if record["scheduleParams"]["frequency"] == "once":
        raise _bad("the mapping of a flow scheduled once cannot be updated.")
    raw = op["path"].removeprefix("/transformations/")
    steps: list[JsonObject] = record["transformations"]
    if op["op"].lower() != "replace" or not raw.isdigit() or int(raw) >= len(steps):
        raise _bad(f"operation {index}: only replace /transformations/<index> is supported.")
    position = int(raw)
    if steps[position]["name"] != "Mapping":
        if options.transformation_patch == "mapping-entry":
            raise _bad(
                f"/transformations/{position} is the {steps[position]['name']} "
                "transformation, not Mapping."
            )
        position = next(i for i, s in enumerate(steps) if s["name"] == "Mapping")
    steps[position] = {"name": "Mapping", "params": check_mapping(op.get("value"))}


def _schedule(record: JsonObject, op: JsonObject, options: DataflowOptions, now_s: float) -> None:
    path: str = op["path"]
    key = path.removeprefix("/scheduleParams").lstrip("/")
    if options.flow_patch_paths == "documented" and key != "frequency":
        raise _bad(f"path '{path[:80]}' cannot be patched (only /scheduleParams/frequency).")
    if key and key not in _SCHEDULE_KEYS:
        raise _bad(f"path '{path[:80]}' names no schedule parameter.")
    current: JsonObject = record["scheduleParams"]
    if op["op"].lower() == "remove":
        if key not in ("interval", "backfill"):
            raise _bad(f"'{path[:80]}' cannot be removed.")
        merged = {k: v for k, v in current.items() if k != key}
    elif key:
        merged = {**current, key: op["value"]}
    else:
        merged = op["value"] if isinstance(op["value"], dict) else {}
    if current["frequency"] == "once":
        raise _bad("a flow scheduled once cannot be rescheduled.")
    if merged.get("frequency") == "once":
        raise _bad("a periodic flow cannot be rescheduled to once.")
    new_start = merged.get("startTime")
    if str(new_start) != current["startTime"] and int(current["startTime"]) <= now_s:
        raise _bad("the startTime cannot change once the scheduled start has passed.")
    # Stored values are strings; the patched one is checked in the same pass.
    relaxed = dataclasses.replace(options, schedule_types="both")
    try:
        record["scheduleParams"] = check_schedule(
            merged, relaxed, now_s, creating=str(new_start) != current["startTime"]
        )
    except ApiError as exc:
        raise _bad(str(exc.body["errorMessage"])) from None
