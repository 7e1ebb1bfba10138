"""Flows: create, read, PATCH with If-Match, delete, and the enable/disable action.

State rules [doc DEST, ERR]: a flow is created ``enabled``; ``op=disable`` on an enabled flow
and ``op=enable`` on a disabled one answer ``{id, etag}`` with a new etag; the same action
twice is FLOW-1422-400 (option). With ``transient_reads`` the flow shows
``enabling``/``disabling`` for that many reads first; meanwhile an action is 1421 and a PATCH
1420. ``FINALIZE``/``FINALIZE_UPDATE`` are provider-only (1402), ``PUBLISH`` needs a draft
(1444), ``subOp=PROGRESS`` with enable is 1436. PATCH paths: see ``flow_patch.py``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from provisioner.emulator.auth import Caller
from provisioner.emulator.dataflow_options import DataflowOptions
from provisioner.emulator.errors import JsonObject, flow_error
from provisioner.emulator.fields import FLOW_BODY, check_keys
from provisioner.emulator.flow_checks import (
    check_flow_spec,
    check_unused,
    mapping_params,
    one_id,
    transformations,
)
from provisioner.emulator.flow_patch import apply_flow_patch
from provisioner.emulator.http import Request, Response
from provisioner.emulator.mappingsets import MappingSets
from provisioner.emulator.resources import (
    check_etag,
    created,
    if_match,
    new_record,
    patch_ops,
    require,
    text,
    touched,
)
from provisioner.emulator.schedule import check_schedule
from provisioner.emulator.store import MemoryStore

TRANSIENT = {"enable": "enabling", "disable": "disabling"}
SETTLED = {"enable": "enabled", "disable": "disabled"}


class Flows:
    def __init__(
        self,
        flows: MemoryStore,
        sources: MemoryStore,
        targets: MemoryStore,
        mapping_sets: MappingSets,
        options: Callable[[], DataflowOptions],
        now_ms: Callable[[], int],
        clock: Callable[[], float],
        usage_lock: threading.Lock,
        lenient: bool,
    ) -> None:
        self.store = flows
        self._sources, self._targets = sources, targets
        self._mapping_sets = mapping_sets
        self._options = options
        self._now_ms, self._clock = now_ms, clock
        self._usage_lock = usage_lock
        self._lenient = lenient

    def create(self, caller: Caller, body: JsonObject) -> Response:
        if "state" in body:
            raise flow_error("1410-400")
        options = self._options()
        shape = (
            FLOW_BODY
            if options.flow_options == "accepted"
            else {k: v for k, v in FLOW_BODY.items() if k != "options"}
        )
        check_keys(body, shape, lenient=self._lenient)
        name = text(body, "name", required=True)
        description = text(body, "description", required=False)
        spec = check_flow_spec(body.get("flowSpec"))
        source_id = one_id(body, "sourceConnectionIds")
        target_id = one_id(body, "targetConnectionIds")
        schedule = check_schedule(body.get("scheduleParams"), options, self._clock(), creating=True)
        with self._usage_lock:  # nothing it names can be deleted while this checks it
            source = require(self._sources, caller, source_id, "source connection")
            target = require(self._targets, caller, target_id, "target connection")
            check_unused(self.store, caller, "sourceConnectionIds", source_id)
            check_unused(self.store, caller, "targetConnectionIds", target_id)
            schema = target["data"]["schema"]["id"]
            steps = transformations(
                body.get("transformations"),
                options,
                lambda entry: mapping_params(entry, caller, options, self._mapping_sets, schema),
            )
            now = self._now_ms()
            fields: JsonObject = {
                "name": name,
                **({"description": description} if description is not None else {}),
                "flowSpec": spec,
                "state": "enabled",
                "sourceConnectionIds": [source_id],
                "targetConnectionIds": [target_id],
                "inheritedAttributes": {
                    "sourceConnections": [
                        {
                            "id": source_id,
                            "connectionSpec": source["connectionSpec"],
                            "baseConnection": source["inheritedAttributes"]["baseConnection"],
                        }
                    ],
                    "targetConnections": [
                        {"id": target_id, "connectionSpec": target["connectionSpec"]}
                    ],
                    "properties": {"isSourceFlow": True},
                },
                "scheduleParams": schedule,
                "transformations": steps,
                **({"options": body["options"]} if "options" in body else {}),
                "lastOperation": _operation("create", now),
                "_disabled": [],
            }
            record = new_record(caller, now, self._clock, fields)
            record["runs"] = f"/runs?property=flowId=={record['id']}"
            self.store.insert(record)
        return created(record, "flows")

    def settle(self, caller: Caller, flow_id: str) -> JsonObject | None:
        """The flow as a read sees it: a pending transient state counts one read down."""
        record = self.store.get((caller.org, caller.sandbox), flow_id)
        if record is None or not record.get("_pending"):
            return record  # nothing to count: a plain read writes nothing

        def count_down(record: JsonObject) -> JsonObject:
            pending = record.get("_pending")
            if pending:
                pending["reads"] -= 1
                if pending["reads"] <= 0:
                    record["state"] = pending["to"]
                    record.pop("_pending")
            return record

        return self.store.update((caller.org, caller.sandbox), flow_id, count_down)

    def patch(self, caller: Caller, flow_id: str, request: Request) -> Response:
        require(self.store, caller, flow_id, "flow")
        sent = if_match(request)
        ops = patch_ops(request.json())
        options = self._options()

        def change(record: JsonObject) -> JsonObject:
            check_etag(record, sent)
            if record.get("_pending"):
                raise flow_error(
                    "1420-400", f"The current state {record['state']} cannot be updated."
                )
            target = self._targets.get(
                (caller.org, caller.sandbox), record["targetConnectionIds"][0]
            )
            schema = target["data"]["schema"]["id"] if target else ""
            apply_flow_patch(
                record,
                ops,
                options,
                self._clock(),
                lambda entry: mapping_params(entry, caller, options, self._mapping_sets, schema),
            )
            now = self._now_ms()
            touched(record, caller, now, self._clock)
            record["lastOperation"] = {**_operation("update", now), "ops": ops}
            return record

        new = self.store.update((caller.org, caller.sandbox), flow_id, change)
        assert new is not None
        return Response(200, {"id": new["id"], "etag": new["etag"]})

    def action(self, caller: Caller, flow_id: str, request: Request) -> Response:
        require(self.store, caller, flow_id, "flow")
        options = self._options()
        op = request.param("op") or ""
        if options.action_op_case == "upper" and op != op.upper():
            raise flow_error("1100-400", "op must be upper case (ENABLE, DISABLE).")
        if options.action_op_case == "lower" and op != op.lower():
            raise flow_error("1100-400", "op must be lower case (enable, disable).")
        action = op.lower()
        if action in ("finalize", "finalize_update"):
            raise flow_error("1402-400")
        if action == "publish":
            raise flow_error("1444-400", "The flow is not a draft: publish cannot be applied.")
        if action not in SETTLED:
            raise flow_error("1100-400", "op must be one of enable, disable.")
        sub_ops = [s.upper() for s in request.params("subOp")]
        if action == "enable" and "PROGRESS" in sub_ops:
            raise flow_error("1436-400", "The subOp PROGRESS is not supported for enable.")
        sent = request.headers.get("if-match")
        now_s = self._clock()

        def change(record: JsonObject) -> JsonObject:
            if sent:
                check_etag(record, sent)
            if record.get("_pending"):
                raise flow_error(
                    "1421-400", f"The current state {record['state']} cannot be transitioned."
                )
            if record["state"] == SETTLED[action]:
                if options.repeated_action == "accepted":
                    return record
                raise flow_error(
                    "1422-400",
                    f"The action {action} cannot be applied on the current state "
                    f"{record['state']}.",
                )
            periods: list[list[float | None]] = record["_disabled"]
            if action == "disable":
                periods.append([now_s, None])
            elif periods and periods[-1][1] is None:
                periods[-1][1] = now_s
            if options.transient_reads:
                record["state"] = TRANSIENT[action]
                record["_pending"] = {"reads": options.transient_reads, "to": SETTLED[action]}
            else:
                record["state"] = SETTLED[action]
            now = self._now_ms()
            touched(record, caller, now, self._clock)
            record["lastOperation"] = _operation(action, now)
            return record

        new = self.store.update((caller.org, caller.sandbox), flow_id, change)
        assert new is not None
        return Response(200, {"id": new["id"], "etag": new["etag"]})


def _operation(name: str, now_ms: int) -> JsonObject:
    return {
        "started": now_ms,
        "updated": now_ms,
        "operation": name,
        "percentCompleted": 100,
        "status": {"value": "completed", "errors": []},
    }
