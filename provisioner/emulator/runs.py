"""Flow runs: derived from each flow's schedule, failed or preloaded through the admin route.

A flow runs at ``startTime + k * interval`` (once: at ``startTime``) while it is enabled, from
its creation on; only the latest ``MAX_RUNS_PER_FLOW`` are listed. The emulator reads no
data, so a derived run reports zero records; a run takes ``RUN_SECONDS`` and is
``inProgress`` until then. ``POST /__emulator/runs`` stores a run with the status, record
counts and errors a test needs; it replaces the derived run of the same start time.
Item shape [doc MON, OAS FlowRunItemDTO]; ``GET /runs/{id}`` answers the list wrapper.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from provisioner.emulator.auth import Caller
from provisioner.emulator.errors import JsonObject, flow_error
from provisioner.emulator.schedule import run_times
from provisioner.emulator.store import MemoryStore

RUN_SECONDS = 60
STATUSES = ("success", "failed", "inProgress")


def run_id(flow_id: str, started_s: int) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"aep-run:{flow_id}/{started_s}"))


def _disabled_at(flow: JsonObject, at_s: int) -> bool:
    return any(
        start <= at_s and (end is None or at_s < end) for start, end in flow.get("_disabled", [])
    )


class Runs:
    def __init__(self, stored: MemoryStore, flows: MemoryStore, clock: Callable[[], float]) -> None:
        self.stored = stored
        self._flows = flows
        self._clock = clock

    def _make(self, flow: JsonObject, started_s: int, **override: Any) -> JsonObject:
        now_s = self._clock()
        status = override.get("status")
        if status is None:
            status = "success" if now_s >= started_s + RUN_SECONDS else "inProgress"
        started_ms = started_s * 1000
        completed = (
            {} if status == "inProgress" else {"completedAtUTC": started_ms + RUN_SECONDS * 1000}
        )
        counts = {
            key: int(override.get(key, 0))
            for key in ("inputRecordCount", "outputRecordCount", "failedRecordCount")
        }
        identifier = run_id(flow["id"], started_s)
        return {
            "id": identifier,
            "createdAt": started_ms,
            "updatedAt": completed.get("completedAtUTC", started_ms),
            "createdBy": flow["createdBy"],
            "updatedBy": flow["createdBy"],
            "createdClient": flow["createdClient"],
            "updatedClient": flow["createdClient"],
            "sandboxId": flow["sandboxId"],
            "sandboxName": flow["sandboxName"],
            "imsOrgId": flow["imsOrgId"],
            "flowId": flow["id"],
            "flowSpec": dict(flow["flowSpec"]),
            "providerRefId": f"M-{flow['id']}-incremental-{started_s}",
            "etag": f'"{identifier[:8]}-0000-0200-0000-{started_s & 0xFFFFFFFF:08x}0000"',
            "metrics": {
                "durationSummary": {"startedAtUTC": started_ms, **completed},
                "sizeSummary": {"inputBytes": 0, "outputBytes": 0},
                "recordSummary": {**counts, "createdRecordCount": counts["outputRecordCount"]},
                "statusSummary": {"status": status, "errors": list(override.get("errors", []))},
            },
            "activities": [],
        }

    def of_flow(self, flow: JsonObject) -> list[JsonObject]:
        created_s = flow["createdAt"] // 1000
        times = run_times(flow["scheduleParams"], self._clock())
        if flow["scheduleParams"]["frequency"] == "once" and times and times[0] < created_s:
            times = [created_s]  # a start already past when created: it runs at once
        derived = {
            run_id(flow["id"], t): self._make(flow, t)
            for t in times
            if t >= created_s and not _disabled_at(flow, t)
        }
        for run in self.stored.in_scope((flow["imsOrgId"], flow["sandboxName"])):
            if run["flowId"] == flow["id"]:
                derived[run["id"]] = run
        return sorted(derived.values(), key=lambda r: (r["createdAt"], r["id"]))

    def in_scope(self, caller: Caller) -> list[JsonObject]:
        flows = self._flows.in_scope((caller.org, caller.sandbox))
        return [run for flow in flows for run in self.of_flow(flow)]

    def get(self, caller: Caller, item_id: str) -> JsonObject:
        for run in self.in_scope(caller):
            if run["id"] == item_id:
                return run
        raise flow_error("1101-404", f"No run with id '{item_id[:80]}'.")

    def last_run_details(self, flow: JsonObject) -> JsonObject | None:
        runs = self.of_flow(flow)
        if not runs:
            return None
        last = runs[-1]
        duration = last["metrics"]["durationSummary"]
        return {
            "id": last["id"],
            "state": last["metrics"]["statusSummary"]["status"],
            "startedAtUTC": duration["startedAtUTC"],
            **(
                {"completedAtUTC": duration["completedAtUTC"]}
                if "completedAtUTC" in duration
                else {}
            ),
        }

    def record(self, caller: Caller, body: Any) -> JsonObject:
        """The admin route: a run of a flow with the given outcome (ValueError when wrong)."""
        if not isinstance(body, dict) or not isinstance(body.get("flowId"), str):
            raise ValueError("a run needs the flowId of an existing flow")
        flow = self._flows.get((caller.org, caller.sandbox), body["flowId"])
        if flow is None:
            raise ValueError("no flow with that flowId in that org and sandbox")
        status = body.get("status", "failed")
        if status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}")
        started = body.get("startedAt")
        if started is None:
            due = run_times(flow["scheduleParams"], self._clock())
            if not due:
                raise ValueError("the flow has no run due yet: give startedAt (epoch seconds)")
            started = due[-1]
        if not isinstance(started, int) or isinstance(started, bool) or started < 0:
            raise ValueError("startedAt must be epoch seconds")
        counts = {}
        for key in ("inputRecordCount", "outputRecordCount", "failedRecordCount"):
            value = body.get(key, 0)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{key} must be a non-negative integer")
            counts[key] = value
        errors = body.get("errors", [])
        if not isinstance(errors, list) or not all(
            isinstance(e, dict)
            and isinstance(e.get("code"), str)
            and isinstance(e.get("message"), str)
            for e in errors
        ):
            raise ValueError("errors must be a list of {code, message} strings")
        run = self._make(flow, started, status=status, errors=errors, **counts)
        self.stored.delete((caller.org, caller.sandbox), run["id"])
        self.stored.insert(run)
        return run
