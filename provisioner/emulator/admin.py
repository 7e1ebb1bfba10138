"""Admin routes under ``/__emulator``: no auth, no faults, outside Adobe's prefixes.

No auth, so the server answers only loopback ``Host`` names (``hosts.py``): a web page
cannot read them through DNS rebinding.

- ``GET /__emulator/faults`` → current faults; ``PUT`` with a JSON object of fields to change
  (plus optional ``seed``) → the new faults. The rate limit is set here too:
  ``{"rate_limit": 100}``, ``{"rate_limit": null}`` lifts it.
- ``GET /__emulator/state`` → every stored record (secrets unmasked: it is a test seam):
  connections, sourceConnections, targetConnections, flows, runs (stored ones), mappingSets,
  dataSets, tables (offline explore's); ``DELETE`` → forget them all.
- ``DELETE /__emulator/tokens`` → revoke every token; ``?token=...`` revokes one.
- ``POST /__emulator/dataflows`` with ``{"org", "sandbox", "connection_id", "name"}`` → a
  whole chain on that base connection (dataset, source and target connections, mapping set,
  flow; the connection is then in use: deleting it is FLOW-1418-400); answers their ids.
- ``POST /__emulator/datasets`` with ``{"org", "sandbox", "name", "schemaId", "id"?,
  "description"?}`` → a Catalog dataset (provision never creates one; a rehearsal needs them).
- ``POST /__emulator/tables`` with ``{"connectionId"}`` or ``{"host", "database"}`` or
  ``{"org", "sandbox", "connectionName"}``, and ``"path"``, ``"columns": [{"name", "type"}]``
  → a table offline ``/explore`` lists for those connections (tables.py).
- ``POST /__emulator/runs`` with ``{"org", "sandbox", "flowId", "status"?, "startedAt"?,
  "inputRecordCount"?, "outputRecordCount"?, "failedRecordCount"?, "errors"?}`` → a run of
  that flow with that outcome (default: the latest due run, failed).
- ``GET /__emulator/options`` → the dataflow options (dataflow_options.py); ``PUT`` a JSON
  object of the ones to change.
- ``GET /__emulator/requests`` → request counters, and ``throttled``: how many the rate
  limit refused; ``DELETE`` resets them.
- ``GET /__emulator/health`` → ``{"ok": true}``.
"""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Any

from provisioner.emulator.errors import ApiError
from provisioner.emulator.http import Request, Response
from provisioner.emulator.routes import Route

if TYPE_CHECKING:
    from provisioner.emulator.app import Emulator


def _bad(message: str) -> ApiError:
    return ApiError(400, {"error": "bad_request", "message": message})


def _object(request: Request, *fields: str) -> dict[str, Any]:
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise _bad("the body must be a JSON object") from None
    if not isinstance(body, dict) or not all(isinstance(body.get(k), str) for k in fields):
        raise _bad(f"the body must be a JSON object with string {', '.join(fields)}")
    return body


def _preload(emulator: Emulator, request: Request) -> dict[str, object]:
    body = _object(request, "org", "sandbox", "connection_id", "name")
    return emulator.add_dataflow(body["org"], body["sandbox"], body["connection_id"], body["name"])


def _scoped(emulator: Emulator, request: Request, job: str) -> Response:
    body = _object(request, "org", "sandbox")
    org, sandbox = body.pop("org"), body.pop("sandbox")
    try:
        if job == "datasets":
            return Response(201, emulator.add_dataset(org, sandbox, **body))
        return Response(201, emulator.add_run(org, sandbox, body))
    except (ValueError, TypeError) as exc:
        raise _bad(str(exc)) from None


def _options(emulator: Emulator, request: Request) -> Response:
    if request.method == "PUT":
        changes = _object(request)
        try:
            emulator.set_dataflow_options(**changes)
        except ValueError as exc:
            raise _bad(str(exc)) from None
    return Response(200, dataclasses.asdict(emulator.dataflows.options))


def handle(emulator: Emulator, route: Route, request: Request) -> Response:
    job = route.name.rsplit("/", 1)[1]
    method = request.method
    if job == "health":
        return Response(200, {"ok": True})
    if job == "faults":
        if method == "PUT":
            try:
                changes = json.loads(request.body or b"{}")
            except (ValueError, UnicodeDecodeError):
                raise _bad("the body must be a JSON object") from None
            if not isinstance(changes, dict):
                raise _bad("the body must be a JSON object")
            try:
                emulator.set_faults(**changes)
            except (ValueError, TypeError) as exc:
                raise _bad(str(exc)) from None
        return Response(200, dataclasses.asdict(emulator.injector.faults))
    if job == "state":
        if method == "DELETE":
            emulator.reset()
            return Response(204)
        return Response(200, emulator.state())
    if job == "dataflows":
        return Response(201, _preload(emulator, request))
    if job == "tables":
        try:
            return Response(201, emulator.databases.tables.preload(_object(request)))
        except ValueError as exc:
            raise _bad(str(exc)) from None
    if job in ("datasets", "runs"):
        return _scoped(emulator, request, job)
    if job == "options":
        return _options(emulator, request)
    if job == "tokens":
        revoked = emulator.revoke_tokens(request.param("token"))
        return Response(200, {"revoked": revoked})
    if method == "DELETE":
        emulator.reset_counts()
        return Response(204)
    counts = emulator.request_counts()
    body = {"total": sum(counts.values()), "by_route": counts, "throttled": emulator.throttled}
    return Response(200, body)
