"""What every Flow Service record shares: metadata, etags, If-Match, reads and views.

Records may carry emulator-only bookkeeping under keys starting with ``_`` (a flow's disabled
periods, a pending transient state); :func:`public` strips them from every answer.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from provisioner.emulator.auth import Caller
from provisioner.emulator.connections import FLOW_PREFIX, new_etag, sandbox_id
from provisioner.emulator.errors import JsonObject, flow_error
from provisioner.emulator.http import Request, Response
from provisioner.emulator.store import MemoryStore


def public(record: JsonObject) -> JsonObject:
    return {k: v for k, v in record.items() if not k.startswith("_")}


def body_object(request: Request) -> JsonObject:
    body = request.json()
    if not isinstance(body, dict):
        raise flow_error("1100-400", "The request body must be a JSON object.")
    return body


def text(body: JsonObject, key: str, *, required: bool, where: str = "") -> str | None:
    """A string field: present and non-empty when required, a string when present."""
    value = body.get(key)
    name = f"{where}{key}"
    if value is None:
        if required:
            raise flow_error("1100-400", f"{name} is required.")
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise flow_error("1100-400", f"{name} must be a non-empty string.")
    return value


def new_record(
    caller: Caller,
    now_ms: int,
    clock: Callable[[], float],
    fields: JsonObject,
) -> JsonObject:
    etag = new_etag(clock)
    return {
        "id": str(uuid.uuid4()),
        **fields,
        "createdAt": now_ms,
        "updatedAt": now_ms,
        "createdBy": caller.adobe_id,
        "updatedBy": caller.adobe_id,
        "createdClient": caller.adobe_id,
        "updatedClient": caller.adobe_id,
        "sandboxId": sandbox_id(caller.org, caller.sandbox),
        "sandboxName": caller.sandbox,
        "imsOrgId": caller.org,
        "etag": etag,
        "version": etag,
    }


def touched(record: JsonObject, caller: Caller, now_ms: int, clock: Callable[[], float]) -> None:
    """A successful change: a new etag, and who and when."""
    etag = new_etag(clock)
    record.update(
        etag=etag,
        version=etag,
        updatedAt=now_ms,
        updatedBy=caller.adobe_id,
        updatedClient=caller.adobe_id,
    )


def created(record: JsonObject, collection: str) -> Response:
    location = f"{FLOW_PREFIX}/{collection}/{record['id']}"
    return Response(201, {"id": record["id"], "etag": record["etag"]}, {"Location": location})


def require(store: MemoryStore, caller: Caller, item_id: str, what: str) -> JsonObject:
    record = store.get((caller.org, caller.sandbox), item_id)
    if record is None:
        raise flow_error("1101-404", f"No {what} with id '{_cut(item_id)}'.")
    return record


def if_match(request: Request) -> str:
    value = request.headers.get("if-match")
    if not value:
        raise flow_error("1403-400")
    return value


def check_etag(record: JsonObject, sent: str) -> None:
    if bare(record["etag"]) != bare(sent):
        raise flow_error(
            "1404-412",
            f"The supplied version '{_cut(sent)}' does not match the current version on "
            f"entity '{record['etag']}'.",
        )


def bare(etag: Any) -> str:
    value = str(etag).strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def patch_ops(body: Any) -> list[JsonObject]:
    """The JSON Patch list (a single object is accepted, as the OpenAPI shows one)."""
    ops = [body] if isinstance(body, dict) else body
    if not isinstance(ops, list) or not ops:
        raise flow_error(
            "1455-400", "The patch request is invalid: the body must be a non-empty array."
        )
    for index, op in enumerate(ops):
        if not isinstance(op, dict) or not all(isinstance(op.get(k), str) for k in ("op", "path")):
            raise flow_error(
                "1455-400",
                f"The patch request is invalid: operation {index} needs string 'op' and 'path'.",
            )
        kind = op["op"].lower()
        if kind == "move":
            raise flow_error("1434-400")
        if kind not in ("add", "replace", "remove"):
            raise flow_error(
                "1455-400",
                f"The patch request is invalid: operation {index}: op must be add, replace or "
                "remove.",
            )
        if kind != "remove" and "value" not in op:
            raise flow_error(
                "1455-400", f"The patch request is invalid: operation {index} needs a value."
            )
    return ops


def patch_text(record: JsonObject, op: JsonObject, index: int) -> bool:
    """Apply an op on /name or /description; False when the path is another one."""
    path, kind, value = op["path"], op["op"].lower(), op.get("value")
    if path not in ("/name", "/description"):
        return False
    field = path[1:]
    if kind == "remove":
        if field == "name":
            raise flow_error("1455-400", "The patch request is invalid: name cannot be removed.")
        record.pop(field, None)
    elif not isinstance(value, str) or (field == "name" and not value.strip()):
        raise flow_error(
            "1455-400",
            f"The patch request is invalid: operation {index}: {field} must be a non-empty string.",
        )
    else:
        record[field] = value
    return True


def _cut(value: str, limit: int = 80) -> str:
    return value if len(value) <= limit else value[:limit] + "..."
