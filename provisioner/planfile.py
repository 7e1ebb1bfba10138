"""Saved plans: written by `plan --out`, checked by `apply --plan` before any write."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from provisioner.errors import PlanFileError
from provisioner.plan import Action, Plan
from provisioner.report.jsonplan import FORMAT_VERSION
from provisioner.select import Selection


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
    if document.get("format_version") != FORMAT_VERSION:
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
        if planned_ids == current_ids:
            continue
        where = f"connection {entry['name']!r} in sandbox {entry['sandbox']!r}"
        if not planned_ids:
            reasons.append(f"{where} was absent and now exists ({', '.join(current_ids)})")
        elif not current_ids:
            reasons.append(f"{where} existed ({', '.join(planned_ids)}) and is now gone")
        else:
            reasons.append(
                f"{where} was {', '.join(planned_ids)} and is now {', '.join(current_ids)}"
            )
    return reasons
