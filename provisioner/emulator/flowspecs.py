"""The one flow spec the emulator serves: database sources into the data lake (``CRMToAEP``).

Its id, name, connection spec ids, attributes, the Copy transformation's required
``deltaColumn`` and the schedule's JSON Schema follow the table-source tutorial's
``GET /flowSpecs`` answer [doc TPL, DB-DF]. ``transformationSpecs`` is an array there while
the OpenAPI types it as one object; the emulator answers the tutorial's array.
"""

from __future__ import annotations

import copy

from provisioner.emulator.errors import JsonObject, flow_error
from provisioner.emulator.http import Request, Response
from provisioner.emulator.listing import PageSize, list_response
from provisioner.emulator.sources import DATA_LAKE_SPEC_ID
from provisioner.emulator.spec import POSTGRES_SPEC_ID

FLOW_SPEC_ID = "14518937-270c-4525-bdec-c2ba7cce3860"
FLOW_SPEC_NAME = "CRMToAEP"
FLOW_SPEC_VERSION = "1.0"
_DRAFT_07 = "http://json-schema.org/draft-07/schema#"

_SCHEDULE_SCHEMA: JsonObject = {
    "$schema": _DRAFT_07,
    "type": "object",
    "properties": {
        "startTime": {"type": "integer", "description": "epoch time in seconds"},
        "frequency": {"type": "string", "enum": ["once", "minute", "hour", "day", "week"]},
        "interval": {"type": "integer"},
        "backfill": {"type": "boolean", "default": True},
    },
    "required": ["startTime", "frequency"],
    "if": {"properties": {"frequency": {"const": "once"}}},
    "then": {"allOf": [{"not": {"required": ["interval"]}}, {"not": {"required": ["backfill"]}}]},
    "else": {
        "required": ["interval"],
        "if": {"properties": {"frequency": {"const": "minute"}}},
        "then": {"properties": {"interval": {"minimum": 15}}},
        "else": {"properties": {"interval": {"minimum": 1}}},
    },
}

SPEC: JsonObject = {
    "id": FLOW_SPEC_ID,
    "name": FLOW_SPEC_NAME,
    "providerId": "0ed90a81-07f4-4586-8190-b40eccef1c5a",
    "version": FLOW_SPEC_VERSION,
    "attributes": {"isSourceFlow": True, "isDraftModeSupported": True, "frequency": "batch"},
    "sourceConnectionSpecIds": [POSTGRES_SPEC_ID],
    "targetConnectionSpecIds": [DATA_LAKE_SPEC_ID],
    "optionSpec": {
        "name": "OptionSpec",
        "spec": {
            "$schema": _DRAFT_07,
            "type": "object",
            "properties": {
                "errorDiagnosticsEnabled": {"type": "boolean", "default": False},
                "partialIngestionPercent": {"type": "number"},
            },
        },
    },
    "transformationSpecs": [
        {
            "name": "Copy",
            "spec": {
                "$schema": _DRAFT_07,
                "type": "object",
                "properties": {
                    "deltaColumn": {
                        "type": "object",
                        "properties": {
                            "name": {"type": "string"},
                            "dateFormat": {"type": "string"},
                            "timezone": {"type": "string"},
                        },
                        "required": ["name"],
                    }
                },
                "required": ["deltaColumn"],
            },
        },
        {
            "name": "Mapping",
            "spec": {
                "$schema": _DRAFT_07,
                "type": "object",
                "properties": {
                    "mappingId": {"type": "string"},
                    "mappingVersion": {"type": "string"},
                },
                "required": ["mappingId", "mappingVersion"],
            },
        },
    ],
    "scheduleSpec": {"name": "PeriodicSchedule", "type": "Periodic", "spec": _SCHEDULE_SCHEMA},
    "permissionsInfo": {
        "view": [{"@type": "lowLevel", "name": "EnterpriseSource", "permissions": ["read"]}],
        "manage": [{"@type": "lowLevel", "name": "EnterpriseSource", "permissions": ["write"]}],
    },
}


def flow_specs(
    item_id: str | None, request: Request, page_size: PageSize, lenient: bool
) -> Response:
    if item_id is None:
        return list_response(
            [copy.deepcopy(SPEC)], request, "flowSpecs", page_size, lenient=lenient
        )
    if item_id != FLOW_SPEC_ID:
        raise flow_error("1101-404", f"No flow spec with id '{item_id[:80]}'.")
    return Response(200, {"items": [copy.deepcopy(SPEC)]})
