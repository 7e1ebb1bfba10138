"""Which fields a request may name: body keys on create, and filter/orderby paths on lists.

A strict API refuses what it does not know instead of dropping it: a ``descripton`` typo in a
create body, or ``property=nme==x``, is a 400 naming the closest known field ("did you
mean"), where a lax one would store nothing or answer an empty page. ``lenient`` keeps the
older readings (unknown body keys dropped, unknown filter paths match nothing).

Body shapes are nested dicts: a key maps to ``None`` (any value), to a dict (an object whose
keys are checked in turn) or to a one-element list holding the shape of each item. The known
keys follow the OpenAPI's ``Create*Request`` schemas (tests compare them) plus the fields
Adobe's tutorials send that the schemas omit (``params.tableName``, ``params.columns``).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from typing import Any

from provisioner.emulator.errors import flow_error

Shape = dict[str, Any]

_SPEC: Shape = {"id": None, "version": None}
CONNECTION_BODY: Shape = {
    "name": None,
    "description": None,
    "auth": {"specName": None, "params": None},  # params: the auth spec's JSON Schema
    "connectionSpec": _SPEC,
}
SOURCE_BODY: Shape = {
    "name": None,
    "description": None,
    "baseConnectionId": None,
    "data": {"format": None},
    "params": {"tableName": None, "columns": None, "cdcEnabled": None},
    "connectionSpec": _SPEC,
}
TARGET_BODY: Shape = {
    "name": None,
    "description": None,
    "baseConnectionId": None,  # [open 8] legacy dataset base connection; SF filters on it
    "data": {"format": None, "schema": {"id": None, "version": None}},
    "params": {"dataSetId": None},
    "connectionSpec": _SPEC,
}
FLOW_BODY: Shape = {
    "name": None,
    "description": None,
    "flowSpec": _SPEC,
    "sourceConnectionIds": None,
    "targetConnectionIds": None,
    "transformations": [{"name": None, "params": None}],
    "scheduleParams": {"startTime": None, "frequency": None, "interval": None, "backfill": None},
    "options": None,  # [open 17] only with flow_options="accept"
}


def check_keys(body: Any, shape: Shape, *, lenient: bool, where: str = "") -> None:
    """Refuse (1100-400) a key ``shape`` does not name, anywhere in ``body``."""
    if not isinstance(body, dict):
        return
    for key, value in body.items():
        path = f"{where}.{key}" if where else str(key)
        if key not in shape:
            if lenient:
                continue
            raise flow_error(
                "1100-400", f"Unknown field '{_cut(path)}' in the request body.{hint(key, shape)}"
            )
        sub = shape[key]
        if isinstance(sub, dict):
            check_keys(value, sub, lenient=lenient, where=path)
        elif isinstance(sub, list) and isinstance(value, list):
            for index, item in enumerate(value):
                check_keys(item, sub[0], lenient=lenient, where=f"{path}[{index}]")


def hint(word: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(str(word), list(known), n=1, cutoff=0.6)
    return f" Did you mean '{close[0]}'?" if close else ""


def _cut(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


# -- list paths --------------------------------------------------------------------------------
# "*" stands for one free segment (a param name), "**" for any tail (free-form objects).
_COMMON = (
    "id",
    "name",
    "description",
    "state",
    "createdAt",
    "updatedAt",
    "createdBy",
    "updatedBy",
    "createdClient",
    "updatedClient",
    "sandboxId",
    "sandboxName",
    "imsOrgId",
    "etag",
    "version",
)
_SPEC_PATHS = ("connectionSpec.id", "connectionSpec.version")
LIST_PATHS: dict[str, tuple[str, ...]] = {
    "connections": (*_COMMON, *_SPEC_PATHS, "auth.specName", "auth.params.*"),
    "sourceConnections": (
        *_COMMON,
        *_SPEC_PATHS,
        "baseConnectionId",
        "providerRefId",
        "data.format",
        "params.tableName",
        "params.columns[].name",
        "params.columns[].type",
        "params.**",
        "inheritedAttributes.baseConnection.id",
        "inheritedAttributes.baseConnection.connectionSpec.id",
        "inheritedAttributes.baseConnection.connectionSpec.version",
    ),
    "targetConnections": (
        *_COMMON,
        *_SPEC_PATHS,
        "baseConnectionId",
        "data.format",
        "data.schema.id",
        "data.schema.version",
        "params.dataSetId",
    ),
    "flows": (
        *_COMMON,
        "flowSpec.id",
        "flowSpec.version",
        "sourceConnectionIds[]",
        "targetConnectionIds[]",
        "inheritedAttributes.sourceConnections[].id",
        "inheritedAttributes.sourceConnections[].connectionSpec.id",
        "inheritedAttributes.sourceConnections[].connectionSpec.version",
        "inheritedAttributes.sourceConnections[].baseConnection.id",
        "inheritedAttributes.sourceConnections[].baseConnection.connectionSpec.id",
        "inheritedAttributes.targetConnections[].id",
        "inheritedAttributes.targetConnections[].connectionSpec.id",
        "inheritedAttributes.targetConnections[].connectionSpec.version",
        "inheritedAttributes.properties.isSourceFlow",  # [observed] aepp's onlySource filter
        "scheduleParams.startTime",
        "scheduleParams.frequency",
        "scheduleParams.interval",
        "scheduleParams.backfill",
        "transformations[].name",
        "transformations[].params.**",
        "lastRunDetails.id",
        "lastRunDetails.state",
        "lastRunDetails.startedAtUTC",
        "lastRunDetails.completedAtUTC",
        "lastOperation.started",
        "lastOperation.updated",
        "lastOperation.operation",
    ),
    "runs": (
        *(p for p in _COMMON if p not in ("name", "description", "state", "etag", "version")),
        "flowId",
        "flowSpec.id",
        "flowSpec.version",
        "providerRefId",
        "etag",
        "metrics.durationSummary.startedAtUTC",
        "metrics.durationSummary.completedAtUTC",
        "metrics.recordSummary.inputRecordCount",
        "metrics.recordSummary.outputRecordCount",
        "metrics.recordSummary.failedRecordCount",
        "metrics.statusSummary.status",
        "metrics.statusSummary.errors[].code",
    ),
    "flowSpecs": ("id", "name", "version", "providerId", "sourceConnectionSpecIds[]"),
}


def _compile(pattern: str) -> re.Pattern[str]:
    regex = re.escape(pattern).replace(r"\*\*", ".+").replace(r"\*", r"[^.\[\]]+")
    return re.compile(f"^{regex}$")


_COMPILED = {name: [_compile(p) for p in paths] for name, paths in LIST_PATHS.items()}


def path_checker(
    collection: str, *, lenient: bool, ordering: bool = False
) -> Callable[[str], None]:
    """A ``check_path`` for :mod:`filters`: refuses a path the collection does not have."""

    def check(path: str) -> None:
        if lenient or any(p.match(path) for p in _COMPILED[collection]):
            if ordering and "[]" in path:
                raise flow_error("1100-400", f"Cannot order by the list field '{_cut(path)}'.")
            return
        what = "order by" if ordering else "filter on"
        known = [p for p in LIST_PATHS[collection] if "*" not in p]
        raise flow_error(
            "1100-400",
            f"Cannot {what} '{_cut(path)}': {collection} have no such field.{hint(path, known)}",
        )

    return check
