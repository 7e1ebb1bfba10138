"""Saved plans: written by `plan --out`, checked by `apply --plan` before any write."""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from provisioner import ownermark
from provisioner.connectors import render_payload
from provisioner.dataflow import DesiredDataflow
from provisioner.errors import PlanFileError
from provisioner.escape import json_text
from provisioner.manifests.diagnose import schema_message
from provisioner.manifests.excerpt import excerpt
from provisioner.manifests.load import format_path
from provisioner.manifests.selection import Selection
from provisioner.model import DesiredConnection
from provisioner.plan.make import Action, Plan, PlanOptions
from provisioner.plan.planfile_dataflows import canonical as dataflows_canonical
from provisioner.plan.planfile_dataflows import dataflow_staleness
from provisioner.redact import SENSITIVE

# Raised only for a change that could break a reader (docs/versioning.md); adding a field
# keeps it. schemas/plan.schema.json describes this version.
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)


def masked_payload(connection: DesiredConnection) -> dict[str, Any]:
    return render_payload(connection, lambda ref: SENSITIVE)


def desired_digest(
    desired: Sequence[DesiredConnection], dataflows: Sequence[DesiredDataflow] = ()
) -> str:
    """sha256 of the masked desired state. Without dataflows the text is what it always
    was, so a plan saved before dataflows keeps its digest."""
    canonical: list[Any] = sorted(
        [
            list(c.identity),
            c.cloud,
            [str(ref) for ref in c.secrets],
            masked_payload(c),
        ]
        for c in desired
    )
    if dataflows:
        canonical = [canonical, dataflows_canonical(dataflows)]
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
    def version(self) -> int:
        return int(self.document["format_version"])

    @property
    def options(self) -> PlanOptions:
        # A version-1 plan was a create-only plan, and stays one whatever else the file
        # holds: `options` (or `deletions`) written into it by hand change nothing.
        if self.version == 1:
            return PlanOptions(update=False, rotate=False, prune=False)
        options = self.document["options"]
        return PlanOptions(
            update=options.get("update") is True,
            rotate=options.get("rotate_secrets") is True,
            prune=options.get("prune") is True,
            replace_dataflows=options.get("replace_dataflows") is True,
        )

    @property
    def deletions(self) -> list[dict[str, Any]]:
        # Version 1 deleted nothing (see `options`).
        return [] if self.version == 1 else list(self.document["deletions"])


def write(path: Path, document: dict[str, Any]) -> None:
    # Written whole or not at all: a pipeline must never pick up half a plan.
    folder = path.parent if str(path.parent) else Path(".")
    with tempfile.NamedTemporaryFile(
        "w", dir=folder, prefix=f".{path.name}.", delete=False, encoding="utf-8"
    ) as handle:
        # Escaped like every JSON output: `cat plan.json` in a CI log shows names as data.
        handle.write(json_text(document) + "\n")
    os.replace(handle.name, path)


def read(path: Path) -> SavedPlan:
    """The saved plan at `path`, checked against schemas/plan.schema.json before anything
    reads it; or a PlanFileError saying in one line what is wrong."""
    again = "make one with `provision plan ... --out FILE`"
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise PlanFileError(f"{path}: cannot read the plan file: {error.strerror}") from None
    except RecursionError:
        raise PlanFileError(f"{path}: not a plan file (nested too deeply); {again}") from None
    except (ValueError, UnicodeDecodeError):
        raise PlanFileError(f"{path}: not a plan file (invalid JSON); {again}") from None
    if _nested_deeper_than(document, MAX_DEPTH):
        raise PlanFileError(f"{path}: not a plan file (nested too deeply); {again}")
    if not isinstance(document, dict) or document.get("format") != "provision-plan":
        raise PlanFileError(f"{path}: not a provision plan file")
    version = document.get("format_version")
    if type(version) is not int or version not in READABLE_VERSIONS:
        shown = excerpt(version)
        raise PlanFileError(
            f"{path}: plan format version {shown} is not supported "
            f"(this provision writes version {FORMAT_VERSION}); plan again"
        )
    problem = schema_problem(document)
    if problem:
        raise PlanFileError(f"{path}: not a valid plan file: {problem}; plan again")
    return SavedPlan(path, document)


# A plan is a few levels deep (connections, payload, params); json itself would go on to
# ~1,000 and then raise RecursionError, which a later walk of the data could hit too.
MAX_DEPTH = 32


def _nested_deeper_than(value: Any, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return False


def schema_problem(document: dict[str, Any]) -> str | None:
    """What is wrong with a plan of a readable version, by its version's schema."""
    from provisioner import schemas

    if document["format_version"] == FORMAT_VERSION:
        errors = list(schemas.errors(schemas.PLAN, document))
    else:
        errors = list(_version_1_validator().iter_errors(document))
    if not errors:
        return None
    import jsonschema

    error = jsonschema.exceptions.best_match(errors)
    return f"{format_path(error.absolute_path)}: {schema_message(error, from_yaml=False)}"


@functools.cache
def _version_1_validator() -> Any:
    """Version 1 is version 2 without `provision_version` (0.1 wrote none), `orgs`,
    `options` and `deletions`: every version-1 field kept its name, type and meaning
    (docs/versioning.md)."""
    import jsonschema

    from provisioner import schemas

    schema = copy.deepcopy(schemas.load(schemas.PLAN))
    schema["title"] = "provision plan, format version 1"
    schema["properties"]["format_version"] = {"const": 1}
    dropped = {"provision_version", "orgs", "options", "deletions"}
    schema["required"] = [key for key in schema["required"] if key not in dropped]
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


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
    reasons += dataflow_staleness(saved.document, current)
    return reasons + deletion_staleness(saved, current)


def _moved(where: str, entry: dict[str, Any], action: Action, remote: Any) -> list[str]:
    """Same connection, but changed: a patch would overwrite an edit nobody reviewed."""
    if entry["action"] != action.value:
        return [f"{where} was planned as {entry['action']} and would now be {action.value}"]
    if action in (Action.UPDATE, Action.ROTATE):
        before = entry["observed"][0].get("etag")
        if before != remote[0].etag:
            return [
                f"{where} changed since the plan was made (etag {before}, now {remote[0].etag})"
            ]
    return []


def deletion_staleness(saved: SavedPlan, current: Plan) -> list[str]:
    """Deletions must be exactly those reviewed: none added, none changed meanwhile."""
    planned = {d["id"]: d for d in saved.deletions}
    now = {d.remote.id: d for d in current.deletions}
    kept = {k.remote.id: k for state in current.sandboxes for k in state.kept}
    reasons: list[str] = []
    for conn_id, entry in planned.items():
        where = f"connection {entry['name']!r} ({conn_id}) in sandbox {entry['sandbox']!r}"
        # A plan written before owner marks has none: what it deletes was never checked.
        reviewed = entry.get("owner")
        if reviewed is None:
            reasons.append(
                f"{where} was planned for deletion by a provision without owner marks; plan again"
            )
        elif conn_id in kept or (conn_id in now and now[conn_id].owner != reviewed):
            mark = kept[conn_id].mark if conn_id in kept else now[conn_id].owner
            reasons.append(
                f"{where}: its owner mark changed since the plan was made "
                f"({ownermark.shown(reviewed)}, now {ownermark.shown(mark)}); it is not deleted"
            )
        elif conn_id not in now:
            reasons.append(f"{where} was planned for deletion and no longer is")
        elif now[conn_id].remote.etag != entry.get("etag"):
            reasons.append(
                f"{where} changed since the plan was made (etag {entry.get('etag')}, now "
                f"{now[conn_id].remote.etag}); it is not deleted unseen"
            )
    for conn_id, deletion in now.items():
        if conn_id not in planned:
            reasons.append(
                f"connection {deletion.remote.name!r} ({conn_id}) in sandbox "
                f"{deletion.sandbox!r} would now be deleted too, which the plan did not show"
            )
    return reasons
