"""What the dataflow routes send (Flow Service, Data Prep, Catalog), read tolerantly.

The same rules as ``decode``: unknown fields are ignored, a value of the wrong shape raises
``Malformed`` (the client names the request), and nothing is dropped from a list: a flow we
fail to see is one the plan would create a second time. Shapes follow the reference
``dataflows.md`` (sections 3.1-3.6 and Catalog in section 1).
"""

from __future__ import annotations

from collections.abc import Mapping

from provisioner.dataflow import (
    Dataset,
    FlowRun,
    Incremental,
    MappingRule,
    RemoteFlow,
    RemoteMappingSet,
    RemoteSourceConnection,
    RemoteTargetConnection,
)
from provisioner.remote.decode import Malformed, obj, text

# Data Prep answers an ATTRIBUTE rule as a schema path [doc MS response example].
_ATTRIBUTE_TYPES = ("ATTRIBUTE", "text/x.schema-path")


def _item(item: object, where: str, *required: str) -> Mapping[str, object]:
    if not isinstance(item, dict):
        raise Malformed(f"{where} is not an object")
    for key in required:
        if not isinstance(item.get(key), str) or not item[key]:
            raise Malformed(f"{where} has no string '{key}'")
    return item


def _ids(data: Mapping[str, object], key: str, where: str) -> tuple[str, ...]:
    value = data.get(key)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise Malformed(f"{where} has a '{key}' that is not a list of strings")
    return tuple(value)


def _listed(data: Mapping[str, object], key: str, where: str) -> list[object]:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise Malformed(f"{where} has a '{key}' that is not a list")
    return value


def _scalar_text(value: object) -> str | None:
    """A schedule value or a mapping version as the API's GET shows it: a string. The
    OpenAPI's form (integers, booleans) reads the same, so both compare alike."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | str):
        return str(value)
    return None


def _millis(value: object) -> int | None:
    return value if type(value) is int else None


def _spec_id(value: object) -> str | None:
    # The docs show {id, version}; the OpenAPI's example a bare string [reference 3.4].
    return value if isinstance(value, str) else text(obj(value).get("id"))


def flow(item: object, where: str) -> RemoteFlow:
    data = _item(item, where, "id", "name")
    schedule_raw = data.get("scheduleParams")
    if schedule_raw is not None and not isinstance(schedule_raw, dict):
        raise Malformed(f"{where} has a 'scheduleParams' that is not an object")
    schedule = {
        str(k): shown
        for k, v in (schedule_raw or {}).items()
        if (shown := _scalar_text(v)) is not None
    }
    inherited = _listed(obj(data.get("inheritedAttributes")), "sourceConnections", where)
    base_id = text(obj(obj(inherited[0]).get("baseConnection")).get("id")) if inherited else None
    steps = _listed(data, "transformations", where)
    mapping_index = next(
        (i for i, step in enumerate(steps) if obj(step).get("name") == "Mapping"), None
    )
    mapping = obj(obj(steps[mapping_index]).get("params")) if mapping_index is not None else {}
    copy = next((obj(s) for s in steps if obj(s).get("name") == "Copy"), {})
    return RemoteFlow(
        id=str(data["id"]),
        name=str(data["name"]),
        etag=text(data.get("etag")) or "",
        description=text(data.get("description")),
        spec_id=_spec_id(data.get("flowSpec")),
        state=text(data.get("state")),
        source_connection_ids=_ids(data, "sourceConnectionIds", where),
        target_connection_ids=_ids(data, "targetConnectionIds", where),
        base_connection_id=base_id,
        schedule=schedule,
        mapping_id=text(mapping.get("mappingId")),
        mapping_version=_scalar_text(mapping.get("mappingVersion")),
        mapping_index=mapping_index,
        incremental=_incremental(obj(copy.get("params")).get("deltaColumn"), where),
        created_at=_millis(data.get("createdAt")),
    )


def _incremental(value: object, where: str) -> Incremental | None:
    if value is None:
        return None
    column = _item(value, f"{where} Copy deltaColumn", "name")
    return Incremental(
        str(column["name"]), text(column.get("dateFormat")), text(column.get("timezone"))
    )


def source_connection(item: object, where: str) -> RemoteSourceConnection:
    data = _item(item, where, "id", "name")
    params = obj(data.get("params"))
    columns = []
    for index, column in enumerate(_listed(params, "columns", f"{where} params")):
        columns.append(str(_item(column, f"{where} params.columns[{index}]", "name")["name"]))
    inherited = obj(obj(data.get("inheritedAttributes")).get("baseConnection"))
    return RemoteSourceConnection(
        id=str(data["id"]),
        name=str(data["name"]),
        etag=text(data.get("etag")) or "",
        description=text(data.get("description")),
        spec_id=_spec_id(data.get("connectionSpec")),
        base_connection_id=text(data.get("baseConnectionId")) or text(inherited.get("id")),
        table=text(params.get("tableName")),
        columns=tuple(columns),
    )


def target_connection(item: object, where: str) -> RemoteTargetConnection:
    # A target connection's name is optional in the OpenAPI [reference 3.2].
    data = _item(item, where, "id")
    return RemoteTargetConnection(
        id=str(data["id"]),
        name=text(data.get("name")) or "",
        etag=text(data.get("etag")) or "",
        description=text(data.get("description")),
        spec_id=_spec_id(data.get("connectionSpec")),
        dataset_id=text(obj(data.get("params")).get("dataSetId")),
        schema_id=text(obj(obj(data.get("data")).get("schema")).get("id")),
    )


def mapping_set(item: object, where: str) -> RemoteMappingSet:
    data = _item(item, where, "id")
    version = _scalar_text(data.get("version"))
    if version is None or isinstance(data.get("version"), bool):
        raise Malformed(f"{where} has no 'version'")
    schema = (
        text(obj(data.get("schemaRef")).get("id"))
        or text(obj(obj(data.get("outputSchema")).get("schemaRef")).get("id"))
        or text(data.get("xdmSchema"))
    )
    rules = []
    for index, raw in enumerate(_listed(data, "mappings", where)):
        rules.append(_rule(raw, f"{where} mappings[{index}]"))
    return RemoteMappingSet(str(data["id"]), version, schema, tuple(rules))


def _rule(raw: object, where: str) -> MappingRule:
    rule = _item(raw, where)
    # Both vocabularies come back [doc MS]; either one names the rule's ends.
    source = text(rule.get("source")) or text(rule.get("sourceAttribute"))
    destination = text(rule.get("destination")) or text(rule.get("destinationXdmPath"))
    if not source or not destination:
        raise Malformed(f"{where} has no string source and destination")
    kind = text(rule.get("sourceType")) or "ATTRIBUTE"
    # A STATIC rule (Data Prep has them; provision declares none) reads as an expression: it
    # then differs from every declared rule, so a plan shows it, rather than not seeing it.
    if kind in _ATTRIBUTE_TYPES:
        return MappingRule("attribute", source, destination)
    return MappingRule("expression", source, destination)


def datasets(body: object) -> list[Dataset]:
    """One Catalog page: an object keyed by dataset id, not an array [doc CAT]."""
    if not isinstance(body, dict):
        raise Malformed("response is not a JSON object keyed by dataset id")
    found = []
    for dataset_id, value in body.items():
        data = _item(value, f"dataset '{dataset_id}'", "name")
        schema = text(obj(data.get("schemaRef")).get("id"))
        found.append(Dataset(str(dataset_id), str(data["name"]), schema))
    return found


def mapping_page(body: object) -> tuple[list[object], int | None]:
    """One Data Prep list page: its items, and the page size the server says it used."""
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        raise Malformed("response has no 'data' list")
    limit = obj(body.get("_page")).get("limit")
    return body["data"], limit if type(limit) is int and limit > 0 else None


def run(item: object, where: str) -> FlowRun:
    data = _item(item, where, "id", "flowId")
    metrics = obj(data.get("metrics"))
    duration, records = obj(metrics.get("durationSummary")), obj(metrics.get("recordSummary"))
    status = obj(metrics.get("statusSummary"))
    errors = []
    for index, raw in enumerate(_listed(status, "errors", f"{where} statusSummary")):
        error = _item(raw, f"{where} statusSummary.errors[{index}]")
        errors.append((text(error.get("code")) or "", text(error.get("message")) or ""))
    return FlowRun(
        id=str(data["id"]),
        flow_id=str(data["flowId"]),
        status=text(status.get("status")),
        started_at=_millis(duration.get("startedAtUTC")),
        completed_at=_millis(duration.get("completedAtUTC")),
        records_read=_millis(records.get("inputRecordCount")),
        records_written=_millis(records.get("outputRecordCount")),
        records_failed=_millis(records.get("failedRecordCount")),
        errors=tuple(errors),
    )


def columns(body: object) -> list[dict[str, object]]:
    """``explore?objectType=table``: ``{format, schema: {columns: [...]}}`` [doc EXP]; the
    column items as explore gives them (a source connection's ``params.columns`` takes them)."""
    found = obj(obj(body).get("schema")).get("columns")
    if not isinstance(found, list):
        raise Malformed("response has no 'schema.columns' list")
    for index, column in enumerate(found):
        _item(column, f"schema.columns[{index}]", "name")
    return [dict(column) for column in found]
