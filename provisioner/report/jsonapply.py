"""`provision apply --format json`: what was done to each connection, for machines.

The shape (docs/versioning.md lists it as public, under its own `format_version`):

    {"format": "provision-apply", "format_version": 1, "provision_version": "0.3.0",
     "result": "complete" | "interrupted", "exit_code": 0,
     "connections": [{"org", "sandbox", "name", "action", "outcome", "id", "source",
                      "message"}],
     "errors": [{"org", "sandbox", "message"}],
     "summary": {"created": 2, "updated": 1, ...},
     "dataflows": [{"org", "sandbox", "name", "action", "outcome", "id", "source",
                    "message", "mapping_sets_left_behind"}],
     "dataflow_summary": {"created": 1, ...}}

One entry per connection of the plan and per deletion. `action` is the plan's (create,
update, rotate, unchanged, drift, replace, ambiguous, unknown, delete); `outcome` what
happened: created, yielded (an older duplicate existed, ours was removed), updated, rotated,
current (someone else had made the change), deleted, in_use (a dataflow kept it), failed,
not_started (interrupted), in_flight (sent when a second signal stopped the wait: outcome
unknown), none (nothing to do) or error (the plan's own error: several
share the name, PATCH cannot make the change, the sandbox could not be listed). `id` is the
remote id when there is one, `source` the manifest's `file:line` (null for a deletion),
`message` why it failed or what to know. `errors` are the problems not tied to one
connection: a sandbox that could not be listed, an org whose credential was refused.
Messages are scrubbed of every secret value the run read; names are data, escaped by JSON.

`dataflows` has one entry per declared dataflow of the plan and per chain deletion
(`action` "delete"); its outcomes add `replaced` (a new chain made, the old one deleted
after it). `mapping_sets_left_behind`: the ids of mapping sets nothing uses any more (Adobe
documents no delete for them). Both keys are new in this format version and absent from
a run that plans no dataflow.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from provisioner import __version__
from provisioner.apply.chain_result import DataflowOutcome, DataflowStatus
from provisioner.apply.change import ChangeOutcome
from provisioner.apply.create import ApplyResult, Outcome, Status
from provisioner.plan.make import Action, Plan, PlannedConnection, SandboxKey
from provisioner.redact import scrub

FORMAT_VERSION = 1
OUTCOMES = {
    Status.CREATED: "created",
    Status.YIELDED: "yielded",
    Status.UPDATED: "updated",
    Status.ROTATED: "rotated",
    Status.CURRENT: "current",
    Status.DELETED: "deleted",
    Status.IN_USE: "in_use",
    Status.FAILED: "failed",
    Status.SKIPPED: "not_started",
    Status.IN_FLIGHT: "in_flight",
}
_ERRORS = (Action.AMBIGUOUS, Action.REPLACE, Action.UNKNOWN)


@dataclass
class Applied:
    """What apply did, filled in as it goes (commands/apply.py) and written at the end."""

    plan: Plan | None = None
    result: ApplyResult = field(default_factory=lambda: ApplyResult((), False))
    changes: Sequence[ChangeOutcome] = ()
    refused: Mapping[str, str] = field(default_factory=dict)
    interrupted: bool = False  # Ctrl-C or SIGTERM
    dataflows: Sequence[DataflowOutcome] = ()


def _text(message: str | None) -> str | None:
    return scrub(message) if message else None


def _entry(
    planned: PlannedConnection, outcome: str, id_: str | None, message: str | None
) -> dict[str, Any]:
    c = planned.desired
    return {
        "org": c.org,
        "sandbox": c.sandbox,
        "name": c.name,
        "action": planned.action.value,
        "outcome": outcome,
        "id": id_,
        "source": f"{c.source.file}:{c.source.line}",
        "message": _text(message),
    }


def _connection(
    planned: PlannedConnection,
    created: Mapping[tuple[str, str, str], Outcome],
    changed: Mapping[str, ChangeOutcome],
    unlisted: Mapping[SandboxKey, str],
) -> dict[str, Any]:
    remote_id = planned.remote[0].id if len(planned.remote) == 1 else None
    made = created.get(planned.desired.identity)
    if planned.action is Action.CREATE:
        if made is None:  # the run stopped before the creates (a refusal, Ctrl-C)
            return _entry(planned, "not_started", None, None)
        return _entry(planned, OUTCOMES[made.status], made.connection_id, made.message or made.note)
    if planned.action in _ERRORS:
        ids = ", ".join(r.id for r in planned.remote)
        reason = planned.reason or unlisted.get(planned.key)
        reason = reason or (f"connections share this name: {ids}" if ids else None)
        return _entry(planned, "error", remote_id, reason)
    change = changed.get(remote_id or "")
    if planned.patches:
        if change is None:
            return _entry(planned, "not_started", remote_id, None)
        return _entry(planned, OUTCOMES[change.status], remote_id, change.message)
    return _entry(planned, "none", remote_id, None)


def apply_document(applied: Applied, exit_code: int) -> dict[str, Any]:
    plan = applied.plan
    created = {o.planned.desired.identity: o for o in applied.result.outcomes}
    changed = {c.connection_id: c for c in applied.changes}
    states = plan.sandboxes if plan else ()
    unlisted = {(s.org, s.sandbox): s.error for s in states if s.error}
    entries = [_connection(p, created, changed, unlisted) for p in plan.connections] if plan else []
    for deletion in plan.deletions if plan else ():
        change = changed.get(deletion.remote.id)
        entries.append(
            {
                "org": deletion.org,
                "sandbox": deletion.sandbox,
                "name": deletion.remote.name,
                "action": "delete",
                "outcome": OUTCOMES[change.status] if change else "not_started",
                "id": deletion.remote.id,
                "source": None,
                "message": _text(change.message if change else None),
            }
        )
    errors = [
        {"org": org, "sandbox": None, "message": scrub(problem)}
        for org, problem in applied.refused.items()
    ]
    errors += [
        {"org": org, "sandbox": sandbox, "message": scrub(error)}
        for (org, sandbox), error in unlisted.items()
        if org not in applied.refused
    ]
    summary: dict[str, int] = {}
    for entry in entries:
        summary[entry["outcome"]] = summary.get(entry["outcome"], 0) + 1
    document: dict[str, Any] = {
        "format": "provision-apply",
        "format_version": FORMAT_VERSION,
        "provision_version": __version__,
        "result": "interrupted" if applied.interrupted else "complete",
        "exit_code": exit_code,
        "connections": entries,
        "errors": errors,
        "summary": summary,
    }
    if plan and (plan.dataflows or plan.chain_deletions):
        flows = _dataflows(plan, applied.dataflows)
        document["dataflows"] = flows
        document["dataflow_summary"] = _tally(flows)
    return document


DATAFLOW_OUTCOMES = {
    DataflowStatus.CREATED: "created",
    DataflowStatus.YIELDED: "yielded",
    DataflowStatus.UPDATED: "updated",
    DataflowStatus.CURRENT: "current",
    DataflowStatus.REPLACED: "replaced",
    DataflowStatus.DELETED: "deleted",
    DataflowStatus.FAILED: "failed",
    DataflowStatus.SKIPPED: "not_started",
}


def _dataflows(plan: Plan, outcomes: Sequence[DataflowOutcome]) -> list[dict[str, Any]]:
    done = {(o.org, o.sandbox, o.name): o for o in outcomes if o.kind == "dataflow"}
    deleted = {o.flow_id: o for o in outcomes if o.kind == "deletion"}
    entries = []
    for planned in plan.dataflows:
        d = planned.desired
        made = done.get((d.org, d.sandbox, d.name))
        if made is not None:
            outcome, message = DATAFLOW_OUTCOMES[made.status], made.message or made.note
        elif planned.action in (*_ERRORS, Action.FOREIGN):
            outcome, message = "error", planned.reason
        elif planned.action in (Action.CREATE, Action.UPDATE, Action.RECREATE):
            outcome, message = "not_started", None
        else:
            outcome, message = "none", None
        flow = planned.chain.flow.id if planned.chain else None
        entries.append(
            {
                "org": d.org,
                "sandbox": d.sandbox,
                "name": d.name,
                "action": planned.action.value,
                "outcome": outcome,
                "id": (made.flow_id if made else None) or flow,
                "source": f"{d.source.file}:{d.source.line}",
                "message": _text(message),
                "mapping_sets_left_behind": list(made.left_behind if made else ()),
            }
        )
    for deletion in plan.chain_deletions:
        gone = deleted.get(deletion.flow.id)
        entries.append(
            {
                "org": deletion.org,
                "sandbox": deletion.sandbox,
                "name": deletion.flow.name,
                "action": "delete",
                "outcome": DATAFLOW_OUTCOMES[gone.status] if gone else "not_started",
                "id": deletion.flow.id,
                "source": None,
                "message": _text(gone.message if gone else None),
                "mapping_sets_left_behind": list(gone.left_behind if gone else ()),
            }
        )
    return entries


def _tally(entries: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for entry in entries:
        counts[entry["outcome"]] = counts.get(entry["outcome"], 0) + 1
    return counts
