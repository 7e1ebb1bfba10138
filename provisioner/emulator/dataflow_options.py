"""The dataflow choices Adobe leaves open (reference dataflows.md section 9), one field each.

Every field names its point (``#n``) and its default. Where Adobe's pages disagree about what
is allowed, the default is the stricter reading, so a rehearsal catches what the platform may
refuse. Where Adobe's *own examples* send both forms of a value (strings and integers in
``scheduleParams``, an int ``mappingVersion``), refusing one would reject the documented
request, so both are accepted by default and the narrower reading is an option.
Set them with ``provision emulator --dataflow-option KEY=VALUE`` or
``PUT /__emulator/options``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

_CHOICES: dict[str, tuple[str, ...]] = {
    "schedule_types": ("both", "strings", "native"),
    "schedule_echo": ("strings", "openapi"),
    "flow_patch_paths": ("documented", "schedule"),
    "transformation_patch": ("mapping-entry", "any-entry"),
    "mapping_version_types": ("both", "string", "integer"),
    "mapping_versions": ("kept", "latest-only"),
    "mapping_delete": ("absent", "allowed"),
    "schema_versions": ("major-only", "any"),
    "target_format": ("absent-or-parquet_xdm", "any"),
    "source_columns": ("required", "optional"),
    "action_op_case": ("any", "upper", "lower"),
    "repeated_action": ("refused", "accepted"),
    "in_use_delete": ("refused", "allowed"),
    "connection_patch_response": ("items", "id-etag"),
    "flow_options": ("refused", "accepted"),
    "delta_date_format": ("documented", "any"),
}


@dataclass(frozen=True)
class DataflowOptions:
    # 1: scheduleParams values as strings ("15", "true"), as JSON ints/bools, or both; a GET
    # answers every value as a string [doc UPD] or in the OpenAPI's types (startTime integer,
    # interval string, backfill boolean).
    schedule_types: str = "both"
    schedule_echo: str = "strings"
    # 2: least interval for hour/day/week: 1 per the flowSpec's JSON Schema, what a schedule
    # is checked against; 15 per the database tutorial's prose, which contradicts its own table.
    min_interval_other: int = 1
    # 3: a startTime already past when the flow is created: refused (stricter) or accepted.
    past_start_time: str = "refused"
    # 4: PATCH paths on flows: the documented ones (/name, /description,
    # /scheduleParams/frequency, /transformations/<i>) or also the rest of scheduleParams.
    flow_patch_paths: str = "documented"
    # 5: replace /transformations/<i> must target the Mapping entry (stricter) or any entry;
    # mappingVersion sent as a string, an integer, or either (Adobe's examples send 0).
    transformation_patch: str = "mapping-entry"
    mapping_version_types: str = "both"
    # 6: old mapping set versions stay readable with ?version= (and usable by flows);
    # DELETE /mappingSets/{id} is not in the current guide nor the Data Prep OpenAPI.
    mapping_versions: str = "kept"
    mapping_delete: str = "absent"
    # 7: FLOW-1425-400 when mapping and dataset schemas differ (always checked); schema
    # version strings: only "...;version=1" (the tutorial's "must be set") or any 1.x.
    schema_versions: str = "major-only"
    # 8: target data.format: absent or parquet_xdm (the data lake examples), or any string.
    target_format: str = "absent-or-parquet_xdm"
    # 9: source params.columns required (every example sends them) or optional.
    source_columns: str = "required"
    # 10: op=enable|ENABLE: any case, upper (OpenAPI) or lower (tutorials); disabling a
    # disabled flow: FLOW-1422-400 (stricter) or a 200 that changes nothing.
    action_op_case: str = "any"
    repeated_action: str = "refused"
    # 11: how many reads show a flow in enabling/disabling after an action before it
    # settles (0: at once). Meanwhile another action is 1421, a PATCH 1420.
    transient_reads: int = 0
    # 12: deleting a source/target connection a flow uses: FLOW-1447-400 or allowed.
    in_use_delete: str = "refused"
    # 13: PATCH on a source/target connection answers the list wrapper (OpenAPI) or
    # {id, etag} like flows.
    connection_patch_response: str = "items"
    # 17: flow "options" (errorDiagnosticsEnabled, partialIngestionPercent) in a create body.
    flow_options: str = "refused"
    # 18: Copy deltaColumn.dateFormat: one of the documented spellings, or any string.
    delta_date_format: str = "documented"

    def validate(self) -> None:
        for name, allowed in _CHOICES.items():
            value = getattr(self, name)
            if value not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
        if self.past_start_time not in ("refused", "accepted"):
            raise ValueError("past_start_time must be one of refused, accepted")
        if self.min_interval_other not in (1, 15):
            raise ValueError("min_interval_other must be 1 or 15")
        if not 0 <= self.transient_reads <= 100:
            raise ValueError("transient_reads must be between 0 and 100")

    def changed(self, changes: dict[str, Any]) -> DataflowOptions:
        """A copy with ``changes`` applied and checked; unknown names are a ValueError."""
        known = {f.name: f for f in dataclasses.fields(self)}
        typed: dict[str, Any] = {}
        for name, value in changes.items():
            if name not in known:
                raise ValueError(f"unknown dataflow option {name!r}")
            if known[name].type == "int":
                try:
                    value = int(value)
                except (TypeError, ValueError):
                    raise ValueError(f"{name} must be an integer") from None
            elif not isinstance(value, str):
                raise ValueError(f"{name} must be a string")
            typed[name] = value
        new = dataclasses.replace(self, **typed)
        new.validate()
        return new


def parse_option(text: str) -> tuple[str, str]:
    """``KEY=VALUE`` from the command line."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ValueError(f"expected KEY=VALUE, got {text!r}")
    return key.strip(), value.strip()
