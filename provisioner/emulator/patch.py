"""JSON Patch on a connection, limited to what the Flow Service documents.

``add``/``replace``/``remove`` (any case) on ``/name``, ``/description``, ``/auth/params`` and
``/auth/params/<key>``. ``move`` is 1434-400, changing ``connectionSpec`` is 1414-400, anything
else is 1455-400. On ``/auth/params`` ``add`` merges the given keys and ``replace`` swaps the
whole object [inferred: Adobe's own sample adds a partial object there]. The patched params are
validated against the auth spec again.
"""

from __future__ import annotations

import copy
from typing import Any

from provisioner.emulator.errors import ApiError, JsonObject, flow_error
from provisioner.emulator.spec import ConnectionSpec

OPS = ("add", "replace", "remove")


def _bad(detail: str) -> ApiError:
    return flow_error("1455-400", f"The patch request is invalid: {detail}")


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def apply_patch(record: JsonObject, ops: Any, spec: ConnectionSpec) -> JsonObject:
    # The OpenAPI file shows a single instruction object as the body; the guides show an array.
    if isinstance(ops, dict):
        ops = [ops]
    if not isinstance(ops, list) or not ops:
        raise _bad("the body must be a non-empty array of operations.")
    new = copy.deepcopy(record)
    for index, op in enumerate(ops):
        _apply_one(new, op, index)
    if new["auth"] != record["auth"]:
        try:
            spec.validate_auth(new["auth"])
        except ApiError as exc:
            raise _bad(str(exc.body["errorMessage"])) from None
    return new


def _apply_one(record: JsonObject, op: Any, index: int) -> None:
    if not isinstance(op, dict):
        raise _bad(f"operation {index} is not an object.")
    kind, path = op.get("op"), op.get("path")
    if not isinstance(kind, str) or not isinstance(path, str):
        raise _bad(f"operation {index} needs string 'op' and 'path'.")
    kind = kind.lower()
    if kind == "move":
        raise flow_error("1434-400")
    if kind not in OPS:
        raise _bad(f"operation {index}: op '{op['op']}' is not one of add, replace, remove.")
    if path == "/connectionSpec" or path.startswith("/connectionSpec/"):
        raise flow_error("1414-400")
    if kind != "remove" and "value" not in op:
        raise _bad(f"operation {index}: '{kind}' needs a value.")
    value = op.get("value")
    if path in ("/name", "/description"):
        field = path[1:]
        if kind == "remove":
            if field == "name":
                raise _bad("the name cannot be removed.")
            record.pop(field, None)
        elif not isinstance(value, str) or (field == "name" and not value.strip()):
            raise _bad(f"operation {index}: {field} must be a non-empty string.")
        else:
            record[field] = value
        return
    params: JsonObject = record["auth"]["params"]
    if path == "/auth/params":
        if kind == "remove":
            raise _bad("auth params cannot be removed.")
        if not isinstance(value, dict):
            raise _bad(f"operation {index}: /auth/params needs an object value.")
        record["auth"]["params"] = {**params, **value} if kind == "add" else dict(value)
        return
    if path.startswith("/auth/params/") and path.count("/") == 3:
        key = _unescape(path.rsplit("/", 1)[1])
        if kind == "remove":
            if key not in params:
                raise _bad(f"operation {index}: no param '{key}' to remove.")
            del params[key]
        elif kind == "replace" and key not in params:
            raise _bad(f"operation {index}: no param '{key}' to replace.")
        else:
            params[key] = value
        return
    raise _bad(f"operation {index}: path '{path}' cannot be patched.")
