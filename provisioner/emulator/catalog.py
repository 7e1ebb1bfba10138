"""Catalog ``dataSets`` (``/data/foundation/catalog``): read-only, preloaded by the admin route.

A dataflow writes into a dataset that must already exist; provision never creates one. So the
emulator serves only the reads [doc CAT]: ``GET /dataSets`` answers an object keyed by dataset
id (not an array), 20 by default, ``limit`` 1-100 (0 is a 400), ``start`` a 0-based offset,
``properties=a,b`` keeps only those fields, ``name=`` matches with ``*`` wildcards (a literal
star is ``**``) and a comma means OR, ``property=name==x`` filters exactly.
``GET /dataSets/{id}`` answers ``{id: {...}}``.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from typing import Any

from provisioner.emulator.auth import Caller
from provisioner.emulator.connections import sandbox_id
from provisioner.emulator.errors import ApiError, JsonObject, platform_error
from provisioner.emulator.http import Request, Response
from provisioner.emulator.store import MemoryStore

CATALOG = "/data/foundation/catalog"
XED_CONTENT_TYPE = "application/vnd.adobe.xed+json;version=1"
DEFAULT_LIMIT, MAX_LIMIT = 20, 100


def _bad(detail: str) -> ApiError:
    return platform_error("CAT", 400, "Bad Request", detail)


def _cut(value: str, limit: int = 80) -> str:
    return value if len(value) <= limit else value[:limit] + "..."


class Catalog:
    def __init__(self, store: MemoryStore, now_ms: Callable[[], int]) -> None:
        self.store = store
        self._now_ms = now_ms

    def preload(self, org: str, sandbox: str, body: Any) -> JsonObject:
        """A dataset from ``{"name", "schemaId", "description"?, "id"?}``."""
        if not isinstance(body, dict):
            raise ValueError("a dataset is an object with name and schemaId")
        name, schema = body.get("name"), body.get("schemaId")
        if not isinstance(name, str) or not name or not isinstance(schema, str) or not schema:
            raise ValueError("a dataset needs a non-empty name and schemaId")
        dataset_id = body.get("id") or secrets.token_hex(12)  # Adobe's ids: 24 hex chars
        if not isinstance(dataset_id, str) or not re.fullmatch(r"[0-9a-f]{24}", dataset_id):
            raise ValueError("a dataset id is 24 lowercase hex characters")
        description = body.get("description")
        now = self._now_ms()
        record: JsonObject = {
            "id": dataset_id,
            "name": name,
            **({"description": description} if isinstance(description, str) else {}),
            "schemaRef": {"id": schema, "contentType": XED_CONTENT_TYPE},
            "created": now,
            "updated": now,
            "createdClient": "emulator-admin",
            "createdUser": "emulator-admin@AdobeID",
            "imsOrg": org,
            "sandboxId": sandbox_id(org, sandbox),
            "version": "1.0.0",
            "tags": {},
            # Scope keys of the store; not part of Catalog's answer.
            "imsOrgId": org,
            "sandboxName": sandbox,
        }
        self.store.insert(record)
        return {"id": dataset_id, **self.view(record)}

    @staticmethod
    def view(record: JsonObject) -> JsonObject:
        return {k: v for k, v in record.items() if k not in ("id", "imsOrgId", "sandboxName")}

    def find(self, caller: Caller, dataset_id: str) -> JsonObject | None:
        return self.store.get((caller.org, caller.sandbox), dataset_id)

    def route(self, method: str, item_id: str | None, caller: Caller, request: Request) -> Response:
        if item_id is not None:
            record = self.find(caller, item_id)
            if record is None:
                raise platform_error(
                    "CAT", 404, "Not Found", f"No dataset with id '{_cut(item_id)}'."
                )
            return Response(200, {record["id"]: self._project(record, request)})
        records = sorted(
            self.store.in_scope((caller.org, caller.sandbox)), key=lambda r: (r["created"], r["id"])
        )
        names = request.param("name")
        if names is not None:
            patterns = [_wildcard(part) for part in names.split(",")]
            records = [r for r in records if any(p.fullmatch(r["name"]) for p in patterns)]
        for raw in request.params("property"):
            field, sep, value = raw.partition("==")
            if not sep or field != "name":
                raise _bad(f"Unsupported property filter '{_cut(raw)}': use name==<value>.")
            records = [r for r in records if r["name"] == value.strip('"')]
        limit = _number(request.param("limit"), "limit", DEFAULT_LIMIT)
        if not 1 <= limit <= MAX_LIMIT:
            raise _bad(f"limit must be between 1 and {MAX_LIMIT}.")
        start = _number(request.param("start"), "start", 0)
        page = records[start : start + limit]
        return Response(200, {r["id"]: self._project(r, request) for r in page})

    def _project(self, record: JsonObject, request: Request) -> JsonObject:
        view = self.view(record)
        wanted = request.param("properties")
        if not wanted:
            return view
        keep = {p.strip() for p in wanted.split(",")}
        return {k: v for k, v in view.items() if k in keep}


def _number(raw: str | None, name: str, default: int) -> int:
    if raw is None:
        return default
    if not raw.isdigit():
        raise _bad(f"{name} must be a non-negative integer.")
    return int(raw)


def _wildcard(pattern: str) -> re.Pattern[str]:
    # "*" matches anything, "**" is a literal star [doc CAT].
    parts = pattern.split("**")
    return re.compile(r"\*".join(".*".join(map(re.escape, p.split("*"))) for p in parts))
