"""What a flow's create body must hold for the database → data lake spec, and its mapping.

[doc DB-DF, TPL, ERR]: the ``CRMToAEP`` flow spec; exactly one existing source and one
existing target connection of that spec's connection specs, used by no other flow ("your
source connection and your target connection should be mapped to a single dataflow" [doc
UPD]); a ``Copy`` transformation with ``deltaColumn.name`` and a ``Mapping`` one whose mapping
set and version exist (FLOW-1412-400) and whose schema is the target dataset's
(FLOW-1425-400); a valid schedule; no ``state`` (FLOW-1410-400).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from provisioner.emulator.auth import Caller
from provisioner.emulator.dataflow_options import DataflowOptions
from provisioner.emulator.errors import JsonObject, flow_error
from provisioner.emulator.flowspecs import FLOW_SPEC_ID, FLOW_SPEC_VERSION
from provisioner.emulator.mappingsets import MappingSets
from provisioner.emulator.store import MemoryStore

# [doc DB-DF] "yyyy-MM-dd HH:mm:ss" is the supported format; the example sends "YYYY-MM-DD".
DATE_FORMATS = ("yyyy-MM-dd HH:mm:ss", "YYYY-MM-DD", "yyyy-MM-dd")


def check_flow_spec(spec: Any) -> JsonObject:
    if not isinstance(spec, dict) or not all(
        isinstance(spec.get(k), str) for k in ("id", "version")
    ):
        raise flow_error("1100-400", "flowSpec needs string id and version.")
    if spec["id"] != FLOW_SPEC_ID or spec["version"] != FLOW_SPEC_VERSION:
        raise flow_error(
            "1413-400",
            f"The provided spec ID is invalid: the emulator serves flow spec {FLOW_SPEC_ID} "
            f"version {FLOW_SPEC_VERSION}.",
        )
    return {"id": spec["id"], "version": spec["version"]}


def one_id(body: JsonObject, key: str) -> str:
    ids = body.get(key)
    if not isinstance(ids, list) or len(ids) != 1 or not isinstance(ids[0], str):
        raise flow_error("1100-400", f"{key} must hold exactly one connection id.")
    return ids[0]


def check_unused(flows: MemoryStore, caller: Caller, key: str, conn_id: str) -> None:
    """A source or target connection belongs to one dataflow [doc UPD]."""
    for flow in flows.in_scope((caller.org, caller.sandbox)):
        if conn_id in flow.get(key, []):
            raise flow_error(
                "1100-400",
                f"Connection '{conn_id}' is already used by flow '{flow['id']}'; a source and "
                "a target connection belong to a single dataflow.",
            )


def transformations(
    raw: Any,
    options: DataflowOptions,
    check_mapping: Callable[[JsonObject], JsonObject],
) -> list[JsonObject]:
    """Copy then Mapping, normalised (mappingVersion as the string a GET shows)."""
    if not isinstance(raw, list) or not all(isinstance(t, dict) for t in raw):
        raise flow_error("1100-400", "transformations must be an array of objects.")
    by_name = {t.get("name"): t for t in raw}
    if len(by_name) != len(raw) or set(by_name) != {"Copy", "Mapping"}:
        raise flow_error(
            "1100-400", "transformations must hold one Copy and one Mapping transformation."
        )
    copy_params = by_name["Copy"].get("params")
    delta = copy_params.get("deltaColumn") if isinstance(copy_params, dict) else None
    if not isinstance(delta, dict) or not isinstance(delta.get("name"), str) or not delta["name"]:
        raise flow_error(
            "1100-400", "The Copy transformation needs params.deltaColumn.name (CRMToAEP)."
        )
    date_format = delta.get("dateFormat")
    if date_format is not None and (
        not isinstance(date_format, str)
        or (options.delta_date_format == "documented" and date_format not in DATE_FORMATS)
    ):
        raise flow_error(
            "1100-400", f"deltaColumn.dateFormat must be one of: {', '.join(DATE_FORMATS)}."
        )
    return [
        {"name": t["name"], "params": t["params"] if t["name"] == "Copy" else check_mapping(t)}
        for t in raw
    ]


def mapping_params(
    entry: Any,
    caller: Caller,
    options: DataflowOptions,
    mapping_sets: MappingSets,
    target_schema: str,
) -> JsonObject:
    """A Mapping entry's params, checked against Data Prep and the target's schema."""
    params = entry.get("params") if isinstance(entry, dict) else None
    if (
        not isinstance(entry, dict)
        or entry.get("name") != "Mapping"
        or not isinstance(params, dict)
    ):
        raise flow_error("1100-400", "A Mapping transformation needs params.")
    mapping_id, version = params.get("mappingId"), params.get("mappingVersion")
    if not isinstance(mapping_id, str) or not mapping_id:
        raise flow_error("1100-400", "The Mapping transformation needs params.mappingId.")
    allowed = {
        "both": (str, int),
        "string": (str,),
        "integer": (int,),
    }[options.mapping_version_types]
    if isinstance(version, bool) or not isinstance(version, allowed):
        raise flow_error("1412-400", "mappingVersion has the wrong type.")
    text = str(version)
    found = mapping_sets.version_of(caller, mapping_id, int(text)) if text.isdigit() else None
    if found is None:
        raise flow_error(
            "1412-400",
            f"The mapping version '{text[:20]}' of mapping set '{mapping_id[:80]}' is invalid.",
        )
    if found["xdmSchema"] != target_schema:
        raise flow_error("1425-400")
    extra = {k: v for k, v in params.items() if k not in ("mappingId", "mappingVersion")}
    return {**extra, "mappingId": mapping_id, "mappingVersion": text}
