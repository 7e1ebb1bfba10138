"""Saved plans: written by `plan --out`, checked by `apply --plan` before any write."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from provisioner.connectors import render_payload
from provisioner.errors import PlanFileError
from provisioner.manifests.selection import Selection
from provisioner.model import DesiredConnection
from provisioner.plan.make import Action, Plan, PlanOptions
from provisioner.redact import SENSITIVE

# Raised only for a change that could break a reader (docs/versioning.md); adding a field
# keeps it. schemas/plan.schema.json describes this version.
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)


def masked_payload(connection: DesiredConnection) -> dict[str, Any]:
    return render_payload(connection, lambda ref: SENSITIVE)


def desired_digest(desired: Sequence[DesiredConnection]) -> str:
    canonical = sorted(
        [
            list(c.identity),
            c.cloud,
            [str(ref) for ref in c.secrets],
            masked_payload(c),
        ]
        for c in desired
    )
    text = json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class SavedPlan:
    path: Path
    document: dict[str, Any]

    @property
    def paths(self) -> list[str]:
        return list(self.document["manifests"]["paths"])

    @property
    def selection(self) -> Selection:
        manifests = self.document["manifests"]
        return Selection(tuple(manifests["sandboxes"]), tuple(manifests["connections"]))

    @property
    def digest(self) -> str:
        return str(self.document["manifests"]["digest"])

    @property
    def options(self) -> PlanOptions:
        # A version-1 plan has no options: it was a create-only plan, and stays one.
        options = self.document.get("options") or {}
        return PlanOptions(
            update=options.get("update") is True,
            rotate=options.get("rotate_secrets") is True,
            prune=options.get("prune") is True,
        )


def write(path: Path, document: dict[str, Any]) -> None:
    # Written whole or not at all: a pipeline must never pick up half a plan.
    folder = path.parent if str(path.parent) else Path(".")
    with tempfile.NamedTemporaryFile(
        "w", dir=folder, prefix=f".{path.name}.", delete=False, encoding="utf-8"
    ) as handle:
        json.dump(document, handle, indent=2, ensure_ascii=False)
        handle.write("\n")
    os.replace(handle.name, path)


def read(path: Path) -> SavedPlan:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise PlanFileError(f"{path}: cannot read the plan file: {error.strerror}") from None
    except (ValueError, UnicodeDecodeError):
        raise PlanFileError(
            f"{path}: not a plan file (invalid JSON); make one with `provision plan ... --out FILE`"
        ) from None
    if not isinstance(document, dict) or document.get("format") != "provision-plan":
        raise PlanFileError(f"{path}: not a provision plan file")
    if document.get("format_version") not in READABLE_VERSIONS:
        raise PlanFileError(
            f"{path}: plan format version {document.get('format_version')} is not supported "
            f"(this provision writes version {FORMAT_VERSION}); plan again"
        )
    return SavedPlan(path, document)


def staleness(saved: SavedPlan, digest: str, current: Plan) -> list[str]:
    """Why the saved plan no longer describes reality; empty when it still does."""
    reasons: list[str] = []
    if saved.digest != digest:
        reasons.append("the manifests changed since the plan was made")
    now = {p.desired.identity: p for p in current.connections}
    for entry in saved.document["connections"]:
        identity = (entry["org"], entry["sandbox"], entry["name"])
        planned_ids = sorted(o["id"] for o in entry["observed"])
        present = now.get(identity)
        if present is None:
            continue  # a manifest change; the digest reports it
        if present.action is Action.UNKNOWN:
            # Its sandbox cannot be read now: not "gone", and nothing is done there; the
            # plan reports it as an error, as an apply without a saved plan would.
            continue
        current_ids = sorted(r.id for r in present.remote)
        where = f"connection {entry['name']!r} in sandbox {entry['sandbox']!r}"
        if planned_ids == current_ids:
            reasons.extend(_moved(where, entry, present.action, present.remote))
            continue
        if not planned_ids:
            reasons.append(f"{where} was absent and now exists ({', '.join(current_ids)})")
        elif not current_ids:
            reasons.append(f"{where} existed ({', '.join(planned_ids)}) and is now gone")
        else:
            reasons.append(
                f"{where} was {', '.join(planned_ids)} and is now {', '.join(current_ids)}"
            )
    return reasons + deletion_staleness(saved, current)


def _moved(where: str, entry: dict[str, Any], action: Action, remote: Any) -> list[str]:
    """Same connection, but changed: a patch would overwrite an edit nobody reviewed."""
    if entry["action"] != action.value:
        return [f"{where} was planned as {entry['action']} and would now be {action.value}"]
    if action in (Action.UPDATE, Action.ROTATE):
        before = entry["observed"][0]["etag"]
        if before != remote[0].etag:
            return [
                f"{where} changed since the plan was made (etag {before}, now {remote[0].etag})"
            ]
    return []


def deletion_staleness(saved: SavedPlan, current: Plan) -> list[str]:
    """Deletions must be exactly those reviewed: none added, none changed meanwhile."""
    planned = {d["id"]: d for d in saved.document.get("deletions") or []}
    now = {d.remote.id: d for d in current.deletions}
    reasons: list[str] = []
    for conn_id, entry in planned.items():
        where = f"connection {entry['name']!r} ({conn_id}) in sandbox {entry['sandbox']!r}"
        if conn_id not in now:
            reasons.append(f"{where} was planned for deletion and no longer is")
        elif now[conn_id].remote.etag != entry["etag"]:
            reasons.append(
                f"{where} changed since the plan was made (etag {entry['etag']}, now "
                f"{now[conn_id].remote.etag}); it is not deleted unseen"
            )
    for conn_id, deletion in now.items():
        if conn_id not in planned:
            reasons.append(
                f"connection {deletion.remote.name!r} ({conn_id}) in sandbox "
                f"{deletion.sandbox!r} would now be deleted too, which the plan did not show"
            )
    return reasons
