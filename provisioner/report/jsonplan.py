"""The versioned, machine-readable plan; also the format of a saved plan file.

It carries, per connection, the action, identity, source and what was observed, and the
payload with every secret replaced by the marker: a plan file is safe to upload as a CI
artifact. The digest covers the desired state (masked payloads and secret references), so
`apply --plan` can tell that the manifests changed since the plan was made.

Format versions (docs/lifecycle.md has the field list):
  1  create-only: actions create, unchanged, drift, ambiguous, unknown.
  2  adds `options` (update, rotate_secrets, prune), the actions update, rotate and
     replace with each entry's `patch` (secret values masked) and `reason`, and a
     `deletions` list. Later additions within 2: owner marks (`owner` on entries, observed
     connections, deletions and rules; `kept` per sandbox), the action `owned-elsewhere`,
     and how many manifest files were read. Every version-1 field keeps its meaning; a
     version-1 file is still applied, as the create-only plan it was.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from provisioner import __version__, ownermark
from provisioner.manifests.selection import Selection
from provisioner.plan.lookalike import LookAlike
from provisioner.plan.make import KeptClaim, Plan, PlannedConnection, PlannedDeletion, plan_of_org
from provisioner.plan.planfile import FORMAT_VERSION, masked_payload
from provisioner.redact import SENSITIVE
from provisioner.report.jsonplan_dataflows import add_dataflows


def _entry(planned: PlannedConnection) -> dict[str, Any]:
    c = planned.desired
    entry: dict[str, Any] = {
        "action": planned.action.value,
        "org": c.org,
        "sandbox": c.sandbox,
        "cloud": c.cloud,
        "name": c.name,
        "source": f"{c.source.file}:{c.source.line}",
        "owner": c.owner,
        "observed": [
            {
                "id": r.id,
                "etag": r.etag,
                "createdAt": r.created_at,
                "owner": ownermark.owner_of(r.description),
            }
            for r in planned.remote
        ],
        "drift": [
            {"field": d.field, "desired": d.desired, "observed": d.observed} for d in planned.drift
        ],
        "payload": masked_payload(c),
    }
    if planned.patches:
        entry["patch"] = planned.patch_ops(lambda ref: SENSITIVE)
        entry["rotate"] = planned.rotate
    if planned.reason:
        entry["reason"] = planned.reason
    return entry


def _deletion(deletion: PlannedDeletion) -> dict[str, Any]:
    r, where = deletion.remote, deletion.rule.source
    return {
        "action": "delete",
        "org": deletion.org,
        "sandbox": deletion.sandbox,
        "name": r.name,
        "id": r.id,
        "etag": r.etag,
        "createdAt": r.created_at,
        "owner": deletion.owner,
        "rule": {
            "source": f"{where.file}:{where.line}",
            "pattern": deletion.pattern,
            "owner": deletion.rule.owner,
        },
    }


def _kept(kept: KeptClaim) -> dict[str, Any]:
    r, where = kept.remote, kept.rule.source
    return {
        "name": r.name,
        "id": r.id,
        "owner": kept.mark,
        "rule": {
            "source": f"{where.file}:{where.line}",
            "pattern": kept.pattern,
            "owner": kept.rule.owner,
        },
    }


def _lookalike(found: LookAlike) -> dict[str, Any]:
    return {
        "org": found.org,
        "sandbox": found.sandbox,
        "name": found.remote.name,
        "id": found.remote.id,
        "declared": found.declared,
        "differences": list(found.differences),
        "text": found.sentence(),
    }


def _org_summary(plan: Plan, org: str) -> dict[str, Any]:
    part = plan_of_org(plan, org)
    return {"org": org, "add": len(part.creates), "text": part.summary()}


def plan_document(
    plan: Plan, *, paths: Sequence[str], selection: Selection, digest: str
) -> dict[str, Any]:
    deleted = plan.deletions_by_sandbox()
    options: dict[str, bool] = {
        "update": plan.options.update,
        "rotate_secrets": plan.options.rotate,
        "prune": plan.options.prune,
    }
    if plan.options.replace_dataflows:
        # Written only when given: an older provision refuses the option it does not know
        # (the options are closed) rather than apply the plan without the replacements.
        options["replace_dataflows"] = True
    document = {
        "format": "provision-plan",
        "format_version": FORMAT_VERSION,
        "provision_version": __version__,
        "manifests": {
            "paths": list(paths),
            "files": plan.reading.files if plan.reading else None,
            "whole_set": plan.reading.whole_set if plan.reading else None,
            "sandboxes": list(selection.sandboxes),
            "connections": list(selection.connections),
            "digest": digest,
        },
        "options": options,
        "summary": {
            "add": len(plan.creates),
            **{action.value: count for action, count in sorted(plan.counts.items())},
            "delete": len(plan.deletions),
            "unmanaged": sum(s.unmanaged for s in plan.sandboxes) - len(plan.deletions),
            "text": plan.summary(),
        },
        # Per org, in order of first use: a run may span several (provisioner/remote/orgs.py).
        "orgs": [_org_summary(plan, org) for org in dict.fromkeys(s.org for s in plan.sandboxes)],
        "sandboxes": [
            {
                "org": s.org,
                "sandbox": s.sandbox,
                "cloud": s.cloud,
                # Undeclared connections apply leaves alone (those it deletes are listed).
                "unmanaged": s.unmanaged - len(deleted.get((s.org, s.sandbox), [])),
                "error": s.error,
                "kept": [_kept(k) for k in s.kept],
            }
            for s in plan.sandboxes
        ],
        "connections": [_entry(p) for p in plan.connections],
        "deletions": [_deletion(d) for d in plan.deletions],
        # Remote names that read like a declared one (plan/lookalike.py): a warning.
        "lookalikes": [_lookalike(found) for found in plan.lookalikes],
    }
    add_dataflows(document, plan)  # report/jsonplan_dataflows.py; absent without dataflows
    return document
