"""Admin routes under ``/__emulator``: no auth, no faults, outside Adobe's prefixes.

No auth, so the server answers only loopback ``Host`` names (``hosts.py``): a web page
cannot read them through DNS rebinding.

- ``GET /__emulator/faults`` → current faults; ``PUT`` with a JSON object of fields to change
  (plus optional ``seed``) → the new faults. The rate limit is set here too:
  ``{"rate_limit": 100}``, ``{"rate_limit": null}`` lifts it.
- ``GET /__emulator/state`` → every stored record (secrets unmasked: it is a test seam);
  ``DELETE`` → forget every connection.
- ``DELETE /__emulator/tokens`` → revoke every token; ``?token=...`` revokes one.
- ``POST /__emulator/dataflows`` with ``{"org", "sandbox", "connection_id", "name"}`` → a
  source connection on that base connection and a flow reading it (the connection is then
  in use: deleting it is FLOW-1418-400); answers their ids.
- ``GET /__emulator/requests`` → request counters, and ``throttled``: how many the rate
  limit refused; ``DELETE`` resets them.
- ``GET /__emulator/health`` → ``{"ok": true}``.
"""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING

from provisioner.emulator.errors import ApiError
from provisioner.emulator.http import Request, Response
from provisioner.emulator.routes import Route

if TYPE_CHECKING:
    from provisioner.emulator.app import Emulator


def _bad(message: str) -> ApiError:
    return ApiError(400, {"error": "bad_request", "message": message})


def _preload(emulator: Emulator, request: Request) -> dict[str, object]:
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise _bad("the body must be a JSON object") from None
    fields = ("org", "sandbox", "connection_id", "name")
    if not isinstance(body, dict) or not all(isinstance(body.get(k), str) for k in fields):
        raise _bad(f"the body must be a JSON object with string {', '.join(fields)}")
    return emulator.add_dataflow(body["org"], body["sandbox"], body["connection_id"], body["name"])


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
        return Response(
            200,
            {
                "connections": emulator.connections(),
                "sourceConnections": emulator.dataflows.sources.dump(),
                "flows": emulator.dataflows.flows.dump(),
            },
        )
    if job == "dataflows":
        return Response(201, _preload(emulator, request))
    if job == "tokens":
        revoked = emulator.revoke_tokens(request.param("token"))
        return Response(200, {"revoked": revoked})
    if method == "DELETE":
        emulator.reset_counts()
        return Response(204)
    counts = emulator.request_counts()
    body = {"total": sum(counts.values()), "by_route": counts, "throttled": emulator.throttled}
    return Response(200, body)
