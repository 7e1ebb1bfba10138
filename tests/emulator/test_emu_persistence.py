from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from provisioner.emulator import Emulator, EmulatorConfig
from provisioner.emulator.store import SqliteStore

from .emu_helpers import FLOW, create, cs_payload, make_client, pg_payload


def test_restart_keeps_connections_etags_and_timestamps(tmp_path: Path) -> None:
    state = str(tmp_path / "emu.db")
    first = Emulator(EmulatorConfig(state_file=state))
    with make_client(first) as api:
        a = create(api, pg_payload("a"))
        b = create(api, cs_payload("b"))
        patched = api.patch(
            f"{FLOW}/connections/{a['id']}",
            json=[{"op": "replace", "path": "/name", "value": "a2"}],
            headers={"If-Match": a["etag"]},
        ).json()
        gone = create(api, pg_payload("gone"))
        api.delete(f"{FLOW}/connections/{gone['id']}")
        before = api.get(f"{FLOW}/connections").json()["items"]
    raw_before = first.connections()
    first.close()

    second = Emulator(EmulatorConfig(state_file=state))
    assert second.connections() == raw_before  # byte-for-byte the same records
    with make_client(second) as api:
        after = api.get(f"{FLOW}/connections").json()["items"]
        # The old etag is still stale and the current one still works after the restart.
        stale = api.patch(
            f"{FLOW}/connections/{a['id']}",
            json=[{"op": "replace", "path": "/name", "value": "x"}],
            headers={"If-Match": a["etag"]},
        )
        fresh = api.patch(
            f"{FLOW}/connections/{a['id']}",
            json=[{"op": "replace", "path": "/name", "value": "a3"}],
            headers={"If-Match": patched["etag"]},
        )
        c = create(api, pg_payload("c"))
    assert after == before
    assert [i["name"] for i in after] == ["a2", "b"]
    assert [i["etag"] for i in after] == [patched["etag"], b["etag"]]
    assert stale.status_code == 412 and fresh.status_code == 200
    # Timestamps keep increasing across restarts, so creation order stays total.
    records = second.connections()
    assert [r["name"] for r in records] == ["a3", "b", "c"]
    assert records[2]["createdAt"] > records[1]["createdAt"]
    assert c["id"] == records[2]["id"]
    second.close()


def test_secrets_are_stored_but_not_read_back(tmp_path: Path) -> None:
    state = str(tmp_path / "emu.db")
    emu = Emulator(EmulatorConfig(state_file=state))
    with make_client(emu) as api:
        create(api)
        listed = api.get(f"{FLOW}/connections").json()["items"][0]
    emu.close()
    assert listed["auth"]["params"]["password"] == "********"
    # The state file is the emulator's own (fake) store; it keeps what was sent.
    assert (
        Emulator(EmulatorConfig(state_file=state)).connections()[0]["auth"]["params"]["password"]
        == "hunter2-secret"
    )


class _FailingStore(SqliteStore):
    """Fails inside the SQL transaction, as a crash mid-write would."""

    fail = False

    def _transaction(self, sql: str, params: tuple[object, ...]) -> None:
        if not self.fail:
            return super()._transaction(sql, params)
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.execute(sql, params)
            raise OSError("disk on fire")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise


def test_a_failed_write_changes_nothing_on_disk_or_in_memory(tmp_path: Path) -> None:
    state = str(tmp_path / "emu.db")
    store = _FailingStore(state)
    record: dict[str, Any] = {
        "id": "1",
        "imsOrgId": "o",
        "sandboxName": "s",
        "name": "kept",
        "etag": '"1"',
    }
    store.insert(record)
    store.fail = True
    with pytest.raises(OSError, match="disk on fire"):
        store.update(("o", "s"), "1", lambda r: {**r, "name": "lost", "etag": '"2"'})
    with pytest.raises(OSError):
        store.insert({**record, "id": "2"})
    assert store.dump() == [record]
    store.close()
    rows = sqlite3.connect(state).execute("SELECT id, body FROM connections").fetchall()
    assert [(row[0], '"name": "kept"' in row[1]) for row in rows] == [("1", True)]


def test_admin_reset_clears_the_state_file(tmp_path: Path) -> None:
    state = str(tmp_path / "emu.db")
    emu = Emulator(EmulatorConfig(state_file=state))
    with make_client(emu) as api:
        create(api)
        assert api.delete("/__emulator/state").status_code == 204
        kinds = api.get("/__emulator/state").json()
        assert set(kinds) == {
            "connections",
            "sourceConnections",
            "targetConnections",
            "flows",
            "runs",
            "mappingSets",
            "dataSets",
            "tables",
        }
        assert all(records == [] for records in kinds.values())
    emu.close()
    again = Emulator(EmulatorConfig(state_file=state))
    assert again.connections() == []
    again.close()
