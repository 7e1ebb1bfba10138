"""The four request bodies of a dataflow chain, built from a `DesiredDataflow` and the ids
the chain's earlier steps resolved or made.

Shapes follow Adobe's database dataflow tutorial and the mapping sets guide (the reference
``dataflows.md`` sections 3.1 to 3.4): the source connection reads one table through the
base connection, the target connection writes the dataset's schema, the mapping set maps
columns (or expressions) to XDM paths, and the flow joins them on a schedule. Every
``scheduleParams`` value is sent as a string, as every example does and a GET answers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from provisioner import escape
from provisioner.dataflow import (
    DATA_LAKE_SPEC_ID,
    DATA_LAKE_SPEC_VERSION,
    FLOW_SPEC_ID,
    FLOW_SPEC_VERSION,
    SCHEMA_VERSION,
    DesiredDataflow,
    Incremental,
    Schedule,
)
from provisioner.errors import ProvisionError

Body = dict[str, Any]
# A flow created without a declared start starts this long after the request: Adobe refuses
# a start already past at create (the emulator's strict reading), and a minute covers the
# time between building the body and the flow's commit.
START_DELAY_S = 60
SHOWN_COLUMNS = 8


class ChainError(ProvisionError):
    """A dataflow that cannot be built as declared (a missing column, a dataset without a
    schema): what is wrong and what to do, on the line the summary starts with the
    dataflow's name and sandbox."""


def chosen_columns(
    desired: DesiredDataflow, explored: Sequence[Mapping[str, object]]
) -> list[dict[str, object]]:
    """The column items the source connection sends: the declared ones in the declared order
    (every one must exist), or every explored column; the incremental column must be there."""
    by_name = {str(item.get("name")): dict(item) for item in explored if "name" in item}
    wanted = list(desired.columns) if desired.columns is not None else list(by_name)
    missing = [name for name in wanted if name not in by_name]
    if desired.incremental.column not in by_name and desired.incremental.column not in missing:
        missing.append(desired.incremental.column)
    if missing:
        names = ", ".join(escape.quoted(n) for n in missing[:SHOWN_COLUMNS])
        more = f" and {len(missing) - SHOWN_COLUMNS} more" if len(missing) > SHOWN_COLUMNS else ""
        listed = ", ".join(escape.quoted(n) for n in list(by_name)[:SHOWN_COLUMNS])
        listed += " ..." if len(by_name) > SHOWN_COLUMNS else ""
        raise ChainError(
            f"table {escape.quoted(desired.table)} has no column "
            f"{names}{more} (it has {listed or 'no columns'}); fix the dataflow's columns "
            "or incremental column in the manifest"
        )
    return [by_name[name] for name in wanted]


def source_body(
    desired: DesiredDataflow,
    base_connection_id: str,
    columns: Sequence[Mapping[str, object]],
    *,
    spec_id: str,
    spec_version: str,
) -> Body:
    body: Body = {
        "name": desired.source_name,
        "baseConnectionId": base_connection_id,
        "data": {"format": "tabular"},
        "params": {"tableName": desired.table, "columns": [dict(c) for c in columns]},
        "connectionSpec": {"id": spec_id, "version": spec_version},
    }
    return _described(body, desired)


def target_body(desired: DesiredDataflow, dataset_id: str, schema_id: str) -> Body:
    body: Body = {
        "name": desired.target_name,
        "data": {"schema": {"id": schema_id, "version": SCHEMA_VERSION}},
        "params": {"dataSetId": dataset_id},
        "connectionSpec": {"id": DATA_LAKE_SPEC_ID, "version": DATA_LAKE_SPEC_VERSION},
    }
    return _described(body, desired)


def mapping_body(desired: DesiredDataflow, schema_id: str) -> Body:
    """The whole mapping set, for its create and for the PUT that makes a new version."""
    return {
        "outputSchema": {"schemaRef": {"id": schema_id, "contentType": SCHEMA_VERSION}},
        "mappings": [
            {
                "sourceType": "ATTRIBUTE" if rule.kind == "attribute" else "EXPRESSION",
                "source": rule.source,
                "destination": rule.destination,
            }
            for rule in desired.mapping
        ],
    }


def mapping_entry(mapping_id: str, version: str) -> Body:
    # mappingVersion is a string: the flow spec types it so, and a GET answers one.
    return {"name": "Mapping", "params": {"mappingId": mapping_id, "mappingVersion": version}}


def flow_body(
    desired: DesiredDataflow,
    source_id: str,
    target_id: str,
    mapping_id: str,
    mapping_version: str,
    *,
    now_s: float,
) -> Body:
    body: Body = {
        "name": desired.name,
        "flowSpec": {"id": FLOW_SPEC_ID, "version": FLOW_SPEC_VERSION},
        "sourceConnectionIds": [source_id],
        "targetConnectionIds": [target_id],
        "transformations": [
            {"name": "Copy", "params": {"deltaColumn": delta_column(desired.incremental)}},
            mapping_entry(mapping_id, mapping_version),
        ],
        "scheduleParams": schedule_params(desired.schedule, now_s=now_s),
    }
    return _described(body, desired)


def delta_column(incremental: Incremental) -> Body:
    column: Body = {"name": incremental.column}
    if incremental.date_format is not None:
        column["dateFormat"] = incremental.date_format
    if incremental.timezone is not None:
        column["timezone"] = incremental.timezone
    return column


def schedule_params(schedule: Schedule, *, now_s: float) -> dict[str, str]:
    start = schedule.start if schedule.start is not None else int(now_s) + START_DELAY_S
    params = {"startTime": str(start), "frequency": schedule.frequency}
    if schedule.frequency != "once":
        params["interval"] = str(schedule.interval)
        params["backfill"] = "true" if schedule.backfill is not False else "false"
    return params


def _described(body: Body, desired: DesiredDataflow) -> Body:
    # The owner mark rides on every part, so a prune can tell whose chain it is.
    description = desired.remote_description
    if description is not None:
        body["description"] = description
    return body
