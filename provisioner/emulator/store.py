"""Connection records, in memory or in a SQLite file.

Records are the raw stored items (secrets unmasked), keyed by (org, sandbox, id). Reads come
from memory; :class:`SqliteStore` writes through to disk, one transaction per change, so a
crash leaves either the whole new record or the old one, never half of it. One lock guards the
maps and the sqlite connection; it is held only for the dict/SQL work, never while sleeping.

The SQLite file holds every secret in the clear, so it is created readable by its owner
only (0600), and SQLite gives its -wal, -shm and -journal files the database's mode. A file
an older version made readable by others is tightened once it has opened as a database.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import sqlite3
import stat
import threading
from collections.abc import Callable

from provisioner.emulator.errors import JsonObject

Scope = tuple[str, str]  # (org, sandbox)


class MemoryStore:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._scopes: dict[Scope, dict[str, JsonObject]] = {}

    @staticmethod
    def scope_of(record: JsonObject) -> Scope:
        return (record["imsOrgId"], record["sandboxName"])

    def insert(self, record: JsonObject) -> None:
        with self.lock:
            self._persist(record)
            self._scopes.setdefault(self.scope_of(record), {})[record["id"]] = copy.deepcopy(record)

    def update(
        self, scope: Scope, conn_id: str, change: Callable[[JsonObject], JsonObject]
    ) -> JsonObject | None:
        """Apply ``change`` to a copy of the record atomically; None when the id is unknown.

        ``change`` runs under the lock so a read-check-write (If-Match) cannot interleave with
        another writer; it may raise to abort without any change.
        """
        with self.lock:
            current = self._scopes.get(scope, {}).get(conn_id)
            if current is None:
                return None
            new = change(copy.deepcopy(current))
            self._persist(new)
            self._scopes[scope][conn_id] = new
            return copy.deepcopy(new)

    def delete(self, scope: Scope, conn_id: str) -> bool:
        with self.lock:
            if conn_id not in self._scopes.get(scope, {}):
                return False
            self._remove(conn_id)
            del self._scopes[scope][conn_id]
            return True

    def get(self, scope: Scope, conn_id: str) -> JsonObject | None:
        with self.lock:
            record = self._scopes.get(scope, {}).get(conn_id)
            return copy.deepcopy(record) if record is not None else None

    def in_scope(self, scope: Scope) -> list[JsonObject]:
        with self.lock:
            return copy.deepcopy(list(self._scopes.get(scope, {}).values()))

    def matching(self, scope: Scope, keep: Callable[[JsonObject], bool]) -> list[JsonObject]:
        """The records of a scope ``keep`` accepts: copied after choosing, so a lookup among
        thousands copies only what it returns."""
        with self.lock:
            return copy.deepcopy([r for r in self._scopes.get(scope, {}).values() if keep(r)])

    def dump(self) -> list[JsonObject]:
        with self.lock:
            return copy.deepcopy([r for s in self._scopes.values() for r in s.values()])

    def reset(self) -> None:
        with self.lock:
            self._clear()
            self._scopes.clear()

    def close(self) -> None:
        pass

    # Persistence hooks, called with the lock held.
    def _persist(self, record: JsonObject) -> None:
        pass

    def _remove(self, conn_id: str) -> None:
        pass

    def _clear(self) -> None:
        pass


class SqliteStore(MemoryStore):
    # One table per kind of record (connections, sourceConnections, flows), one file.
    _SCHEMA = """
        CREATE TABLE IF NOT EXISTS {table} (
            id TEXT PRIMARY KEY,
            org TEXT NOT NULL,
            sandbox TEXT NOT NULL,
            seq INTEGER NOT NULL,
            body TEXT NOT NULL
        )
    """

    def __init__(self, path: str, table: str = "connections") -> None:
        super().__init__()
        self._table = table
        _create_private(path)
        # One connection shared under the store lock: writes are serialised anyway.
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(self._SCHEMA.format(table=table))
        _tighten(path)
        rows = self._db.execute(f"SELECT body FROM {table} ORDER BY seq").fetchall()
        self._seq = 0
        for (body,) in rows:
            record = json.loads(body)
            self._scopes.setdefault(self.scope_of(record), {})[record["id"]] = record
        seq_row = self._db.execute(f"SELECT COALESCE(MAX(seq), 0) FROM {table}").fetchone()
        self._seq = int(seq_row[0])

    def _transaction(self, sql: str, params: tuple[object, ...]) -> None:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.execute(sql, params)
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _persist(self, record: JsonObject) -> None:
        self._seq += 1
        org, sandbox = self.scope_of(record)
        # Upsert keeps the original seq so listing order survives restarts.
        self._transaction(
            f"INSERT INTO {self._table} (id, org, sandbox, seq, body) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET body = excluded.body",
            (record["id"], org, sandbox, self._seq, json.dumps(record, sort_keys=True)),
        )

    def _remove(self, conn_id: str) -> None:
        self._transaction(f"DELETE FROM {self._table} WHERE id = ?", (conn_id,))

    def _clear(self) -> None:
        self._transaction(f"DELETE FROM {self._table}", ())

    def close(self) -> None:
        with self.lock:
            self._db.close()


def _create_private(path: str) -> None:
    """Create ``path`` empty with mode 0600 unless it exists (SQLite takes an empty file as
    an empty database); where that fails, SQLite's own open says why."""
    if path == ":memory:" or path.startswith("file:"):
        return
    with contextlib.suppress(OSError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _tighten(path: str) -> None:
    for name in (path, f"{path}-wal", f"{path}-shm", f"{path}-journal"):
        with contextlib.suppress(OSError):  # absent, or not ours to change
            mode = stat.S_IMODE(os.stat(name).st_mode)
            if mode & 0o077:
                os.chmod(name, mode & 0o700)


def open_store(state_file: str | None, table: str = "connections") -> MemoryStore:
    # `table` is one of our own constants, never request data.
    return SqliteStore(state_file, table) if state_file else MemoryStore()
