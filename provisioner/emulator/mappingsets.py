"""Data Prep ``mappingSets`` (``/data/foundation/conversion``) [doc MS, DP-OAS].

``POST`` answers **200** with ``{id, version: 0, createdDate, ...}`` (ids: 32 hex chars);
``GET /mappingSets/{id}[?version=N]`` the whole set, its mappings in both vocabularies;
``PUT`` a full body makes the next version; the list needs ``limit`` and ``start`` and answers
``{data, _page}``. Both body forms are accepted: the current one (``outputSchema``,
``mappings[{sourceType, source, destination}]``) and the legacy one the database tutorial
still sends (``xdmSchema``, ``mappings[{sourceAttribute, destinationXdmPath}]``).
No If-Match anywhere in Data Prep [doc by absence]. DELETE is an option (section 9 point 6).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from provisioner.emulator.auth import Caller
from provisioner.emulator.dataflow_options import DataflowOptions
from provisioner.emulator.errors import ApiError, JsonObject, platform_error
from provisioner.emulator.fields import check_keys, hint
from provisioner.emulator.http import Request, Response
from provisioner.emulator.store import MemoryStore

CONVERSION = "/data/foundation/conversion"
XED_FULL = "application/vnd.adobe.xed-full+json;version=1"
SOURCE_TYPES = ("ATTRIBUTE", "EXPRESSION", "STATIC")
_CURRENT = {
    "outputSchema": {"schemaRef": {"id": None, "contentType": None}},
    "mappings": [
        {"sourceType": None, "source": None, "destination": None, "name": None, "description": None}
    ],
}
_LEGACY = {
    "id": None,
    "version": None,
    "xdmSchema": None,
    "xdmVersion": None,
    "mappings": [
        {
            "sourceType": None,
            "sourceAttribute": None,
            "destinationXdmPath": None,
            "identity": None,
            "identityGroup": None,
            "namespaceCode": None,
            "version": None,
        }
    ],
}


def _bad(detail: str) -> ApiError:
    return platform_error("DPS", 400, "Bad Request", detail)


def _cut(value: str, limit: int = 80) -> str:
    return value if len(value) <= limit else value[:limit] + "..."


def _normalise(body: Any, lenient: bool) -> tuple[str, list[JsonObject]]:
    """The schema id and the mappings, in both vocabularies, from either body form."""
    if not isinstance(body, dict):
        raise _bad("The request body must be a JSON object.")
    legacy = "xdmSchema" in body
    try:
        check_keys(body, _LEGACY if legacy else _CURRENT, lenient=lenient)
    except ApiError as exc:
        raise _bad(str(exc.body["errorMessage"])) from None
    schema = (
        body.get("xdmSchema")
        if legacy
        else ((body.get("outputSchema") or {}).get("schemaRef") or {}).get("id")
    )
    if not isinstance(schema, str) or not schema:
        field = "xdmSchema" if legacy else "outputSchema.schemaRef.id"
        raise _bad(f"{field} is required.")
    mappings = body.get("mappings")
    if not isinstance(mappings, list) or not mappings:
        raise _bad("mappings must be a non-empty array.")
    result = []
    for index, item in enumerate(mappings):
        if not isinstance(item, dict):
            raise _bad(f"mappings[{index}] must be an object.")
        source = item.get("sourceAttribute" if legacy else "source")
        destination = item.get("destinationXdmPath" if legacy else "destination")
        kind = item.get("sourceType", "ATTRIBUTE")
        if kind not in SOURCE_TYPES:
            raise _bad(
                f"mappings[{index}].sourceType must be one of {', '.join(SOURCE_TYPES)}."
                + hint(str(kind), SOURCE_TYPES)
            )
        if not all(isinstance(v, str) and v for v in (source, destination)):
            raise _bad(f"mappings[{index}] needs a non-empty source and destination.")
        result.append(
            {
                # ATTRIBUTE comes back as a schema path [doc MS response example].
                "sourceType": "text/x.schema-path" if kind == "ATTRIBUTE" else kind,
                "source": source,
                "destination": destination,
                "sourceAttribute": source,
                "destinationXdmPath": destination,
                "identity": bool(item.get("identity", False)),
                "primaryIdentity": False,
                "matchScore": 0.0,
                "functionVersion": 0,
                **{k: item[k] for k in ("name", "description") if isinstance(item.get(k), str)},
            }
        )
    return schema, result


class MappingSets:
    def __init__(
        self,
        store: MemoryStore,
        now_ms: Callable[[], int],
        options: Callable[[], DataflowOptions],
        lenient: bool,
    ) -> None:
        self.store = store
        self._now_ms = now_ms
        self._options = options
        self._lenient = lenient

    def version_of(self, caller: Caller, set_id: str, version: int | None) -> JsonObject | None:
        """One version of a set (the latest for None), as GET answers it."""
        record = self.store.get((caller.org, caller.sandbox), set_id)
        if record is None:
            return None
        versions: list[JsonObject] = record["_versions"]
        latest = len(versions) - 1
        wanted = latest if version is None else version
        if not 0 <= wanted <= latest:
            return None
        if wanted != latest and self._options().mapping_versions == "latest-only":
            return None
        return self._view(record, wanted)

    def _view(self, record: JsonObject, version: int) -> JsonObject:
        snapshot = record["_versions"][version]
        return {
            "id": record["id"],
            "version": version,
            "status": "PUBLISHED",
            "xdmSchema": snapshot["schema"],
            "schemaRef": {"id": snapshot["schema"], "contentType": XED_FULL},
            "xdmVersion": "1.0",
            "strictMapping": False,
            "allowNullValues": False,
            "mappings": snapshot["mappings"],
            "createdDate": record["createdDate"],
            "modifiedDate": snapshot["modifiedDate"],
            "createdBy": record["createdBy"],
            "modifiedBy": snapshot["modifiedBy"],
        }

    def route(self, method: str, item_id: str | None, caller: Caller, request: Request) -> Response:
        if item_id is None:
            return (
                self._create(caller, request) if method == "POST" else self._list(caller, request)
            )
        if method == "DELETE":
            if self._options().mapping_delete != "allowed":
                raise platform_error(
                    "DPS", 405, "Method Not Allowed", "DELETE is not served on mapping sets."
                )
            if not self.store.delete((caller.org, caller.sandbox), item_id):
                raise self._missing(item_id)
            return Response(204)
        if method == "PUT":
            return self._put(caller, item_id, request)
        raw = request.param("version")
        version = None
        if raw is not None:
            if not raw.isdigit():
                raise _bad("version must be a non-negative integer.")
            version = int(raw)
        found = self.version_of(caller, item_id, version)
        if found is None:
            raise self._missing(item_id, version)
        return Response(200, found)

    def _missing(self, set_id: str, version: int | None = None) -> ApiError:
        at = "" if version is None else f" at version {version}"
        return platform_error("DPS", 404, "Not Found", f"No mapping set '{_cut(set_id)}'{at}.")

    def _create(self, caller: Caller, request: Request) -> Response:
        return Response(200, self.create(caller, request.json()))

    def create(self, caller: Caller, body: Any) -> JsonObject:
        """A new mapping set at version 0; answers what POST answers."""
        schema, mappings = _normalise(body, self._lenient)
        now, who = self._now_ms(), caller.adobe_id
        record: JsonObject = {
            "id": secrets.token_hex(16),
            "createdDate": now,
            "createdBy": who,
            "imsOrgId": caller.org,
            "sandboxName": caller.sandbox,
            "_versions": [
                {"schema": schema, "mappings": mappings, "modifiedDate": now, "modifiedBy": who}
            ],
        }
        self.store.insert(record)
        keys = ("id", "version", "createdDate", "modifiedDate", "createdBy", "modifiedBy")
        view = self._view(record, 0)
        return {k: view[k] for k in keys}

    def _put(self, caller: Caller, set_id: str, request: Request) -> Response:
        schema, mappings = _normalise(request.json(), self._lenient)
        now = self._now_ms()

        def change(record: JsonObject) -> JsonObject:
            snapshot = {
                "schema": schema,
                "mappings": mappings,
                "modifiedDate": now,
                "modifiedBy": caller.adobe_id,
            }
            record["_versions"].append(snapshot)
            return record

        new = self.store.update((caller.org, caller.sandbox), set_id, change)
        if new is None:
            raise self._missing(set_id)
        return Response(200, self._view(new, len(new["_versions"]) - 1))

    def _list(self, caller: Caller, request: Request) -> Response:
        values = {}
        for name in ("limit", "start"):
            raw = request.param(name)
            if raw is None or not raw.isdigit():
                raise _bad(f"{name} is required and must be a non-negative integer.")
            values[name] = int(raw)
        if values["limit"] < 1:
            raise _bad("limit must be at least 1.")
        records = self.store.in_scope((caller.org, caller.sandbox))
        order = request.param("orderBy") or "createdDate"
        key = order.lstrip("+-")
        if key not in ("createdDate", "updatedDate"):
            raise _bad("orderBy must be createdDate or updatedDate, optionally with + or -.")
        views = [self._view(r, len(r["_versions"]) - 1) for r in records]
        field = "createdDate" if key == "createdDate" else "modifiedDate"
        views.sort(key=lambda v: (v[field], v["id"]), reverse=order.startswith("-"))
        page = views[values["start"] : values["start"] + values["limit"]]
        return Response(
            200, {"data": page, "_page": {"count": len(page), "limit": values["limit"]}}
        )
