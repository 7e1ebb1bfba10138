"""The Flow Service connection routes: create, list, read, patch, delete."""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from provisioner.emulator.auth import Caller
from provisioner.emulator.clouds import check_cloud, pinned_cloud
from provisioner.emulator.config import EmulatorConfig
from provisioner.emulator.errors import JsonObject, flow_error
from provisioner.emulator.fields import CONNECTION_BODY, check_keys
from provisioner.emulator.http import Request, Response
from provisioner.emulator.listing import list_response
from provisioner.emulator.patch import apply_patch
from provisioner.emulator.spec import POSTGRES_SPEC_VERSION, ConnectionSpec
from provisioner.emulator.store import MemoryStore

MUTABLE_STATES = ("enabled", "disabled", "initializing")
FLOW_PREFIX = "/data/foundation/flowservice"


def new_etag(clock: Callable[[], float]) -> str:
    # Shaped like Adobe's etags ("6802064a-0000-0200-0000-6387c6b90000"), quotes included.
    return f'"{secrets.token_hex(4)}-0000-0200-0000-{int(clock()) & 0xFFFFFFFF:08x}0000"'


def sandbox_id(org: str, sandbox: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"aep-sandbox:{org}/{sandbox}"))


class Connections:
    def __init__(
        self,
        config: EmulatorConfig,
        store: MemoryStore,
        spec: ConnectionSpec,
        clock: Callable[[], float] = time.time,
        forced_page_size: Callable[[], int | None] = lambda: None,
        users: Callable[[str, str, str], list[str]] = lambda org, sandbox, conn_id: [],
        usage_lock: threading.Lock | None = None,
    ) -> None:
        self._config = config
        # Who uses a connection (dataflow names), checked under the lock that also guards
        # creating a dataflow, so a delete and a new dataflow cannot both succeed.
        self._users = users
        self._usage_lock = usage_lock or threading.Lock()
        self._forced_page_size = forced_page_size
        self._tick_lock = threading.Lock()
        self._last_ms = max((max(r["createdAt"], r["updatedAt"]) for r in store.dump()), default=0)
        self._store = store
        self._spec = spec
        self._clock = clock

    def now_ms(self) -> int:
        # Strictly increasing, so creation order is total even within one millisecond and
        # "orderby=createdAt" (the default order) lists connections in the order they were made.
        with self._tick_lock:
            self._last_ms = max(int(self._clock() * 1000), self._last_ms + 1)
            return self._last_ms

    def view(self, record: JsonObject) -> JsonObject:
        return {**record, "auth": self._spec.masked(record["auth"])}

    def create(self, caller: Caller, request: Request) -> tuple[Response, JsonObject]:
        body = request.json()
        if not isinstance(body, dict):
            raise flow_error("1100-400", "The request body must be a JSON object.")
        check_keys(body, CONNECTION_BODY, lenient=self._config.lenient)
        self._spec.check_spec(body.get("connectionSpec"))
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise flow_error("1100-400", "name is required and must be a non-empty string.")
        description = body.get("description")
        if description is not None and not isinstance(description, str):
            raise flow_error("1100-400", "description must be a string.")
        auth = body.get("auth")
        self._spec.validate_auth(auth)
        assert isinstance(auth, dict)  # validate_auth checked it
        self._cloud_check(caller)(auth)
        now, etag = self.now_ms(), new_etag(self._clock)
        record: JsonObject = {
            "id": str(uuid.uuid4()),
            "createdAt": now,
            "updatedAt": now,
            "createdBy": caller.adobe_id,
            "updatedBy": caller.adobe_id,
            "createdClient": caller.adobe_id,
            "updatedClient": caller.adobe_id,
            "sandboxId": sandbox_id(caller.org, caller.sandbox),
            "sandboxName": caller.sandbox,
            "imsOrgId": caller.org,
            "name": name,
            "connectionSpec": {
                "id": body["connectionSpec"]["id"],
                "version": POSTGRES_SPEC_VERSION,
            },
            "state": "enabled",
            "auth": {"specName": auth["specName"], "params": dict(auth["params"])},
            "version": etag,
            "etag": etag,
        }
        if description is not None:
            record["description"] = description
        self._store.insert(record)
        location = f"{FLOW_PREFIX}/connections/{record['id']}"
        return Response(201, {"id": record["id"], "etag": etag}, {"Location": location}), record

    def _cloud_check(self, caller: Caller, changing: str | None = None) -> Callable[[Any], None]:
        """The cloud check for a create or a patch, decided before the store lock is taken
        (the sandbox's other connections are read here, never under the lock)."""
        cloud = self._config.cloud_of(caller.sandbox)
        if cloud is not None or self._config.lenient:
            return lambda auth: check_cloud(cloud, caller.sandbox, auth)
        others = [
            r["auth"]
            for r in self._store.in_scope((caller.org, caller.sandbox))
            if r["id"] != changing
        ]
        pinned = pinned_cloud(others)
        return lambda auth: check_cloud(pinned, caller.sandbox, auth, pinned=True)

    def list(self, caller: Caller, request: Request) -> Response:
        records = map(self.view, self._store.in_scope((caller.org, caller.sandbox)))
        return list_response(
            list(records), request, "connections", self.page_size, lenient=self._config.lenient
        )

    def page_size(self, limit_raw: str | None) -> int:
        size = self._config.page_size
        if limit_raw is not None:
            try:
                size = int(limit_raw)
            except ValueError:
                raise flow_error(
                    "1100-400", f"limit must be an integer, got '{limit_raw}'."
                ) from None
            if size < 1:
                raise flow_error("1100-400", f"limit must be at least 1, got {size}.")
        # [open] Adobe's maximum is unpublished: larger limits are clamped, not refused.
        size = min(size, self._config.max_page_size)
        forced = self._forced_page_size()
        return min(size, forced) if forced else size

    def get(self, caller: Caller, conn_id: str) -> Response:
        return Response(200, {"items": [self.view(self.require(caller, conn_id))]})

    def delete(self, caller: Caller, conn_id: str) -> Response:
        record = self.require(caller, conn_id)
        if record["state"] not in MUTABLE_STATES:
            raise flow_error("1416-400")
        with self._usage_lock:
            users = self._users(caller.org, caller.sandbox, conn_id)
            if users:
                raise flow_error(
                    "1418-400",
                    f"The connection '{conn_id}' is in use by dataflow(s) "
                    f"{', '.join(users)} and cannot be deleted.",
                )
            if not self._store.delete((caller.org, caller.sandbox), conn_id):
                raise flow_error("1101-404", f"No connection with id '{conn_id}'.")
        return Response(204)

    def patch(self, caller: Caller, conn_id: str, request: Request) -> Response:
        self.require(caller, conn_id)
        if_match = request.headers.get("if-match")
        if not if_match:
            raise flow_error("1403-400")
        ops = request.json()
        wanted = _bare(if_match)
        check_cloud_of = self._cloud_check(caller, changing=conn_id)

        def change(record: JsonObject) -> JsonObject:
            # Runs under the store lock: the etag check and the write are one step.
            if _bare(record["etag"]) != wanted:
                raise flow_error(
                    "1404-412",
                    f"The supplied version '{if_match}' does not match the current version "
                    f"on entity '{record['etag']}'.",
                )
            if record["state"] not in MUTABLE_STATES:
                raise flow_error("1416-400")
            updated = apply_patch(record, ops, self._spec)
            check_cloud_of(updated["auth"])
            etag = new_etag(self._clock)
            updated.update(
                etag=etag,
                version=etag,
                updatedAt=self.now_ms(),
                updatedBy=caller.adobe_id,
                updatedClient=caller.adobe_id,
            )
            return updated

        new = self._store.update((caller.org, caller.sandbox), conn_id, change)
        if new is None:
            raise flow_error("1101-404", f"No connection with id '{conn_id}'.")
        return Response(200, {"id": new["id"], "etag": new["etag"]})

    def require(self, caller: Caller, conn_id: str) -> JsonObject:
        record = self._store.get((caller.org, caller.sandbox), conn_id)
        if record is None:
            raise flow_error("1101-404", f"No connection with id '{conn_id}'.")
        return record


def _bare(etag: Any) -> str:
    text = str(etag).strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1]
    return text
