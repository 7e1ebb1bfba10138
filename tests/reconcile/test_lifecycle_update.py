"""Update in place and secret rotation, end to end over a socket.

Someone else's edit between plan and PATCH is played by a colleague who PATCHes the same
connection through the real API just before ours reaches the emulator: ours then meets a
412, reads the connection again, plans it again and sends its patch once more.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from provisioner.emulator import Emulator, EmulatorConfig, RunningServer, serve

from .recon_helpers import (
    NOTHING_APPLIED,
    ORG,
    SANDBOXES,
    SECRETS,
    create_remote,
    direct_client,
    orders,
    point_at,
    run_cli,
    stored,
)

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

M = "manifests/connections.yaml"


class Colleague(Emulator):
    """The emulator, with a person who edits a connection right before each of the next
    `edits` PATCHes that provision sends to it."""

    def __init__(self) -> None:
        super().__init__(EmulatorConfig(sandboxes=SANDBOXES, seed=7))
        self.edits: list[Callable[[Emulator, str], None]] = []
        self._lock = threading.Lock()
        self._editing = threading.local()  # the colleague's own PATCH passes straight through

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = str(environ.get("PATH_INFO", ""))
        ours = not getattr(self._editing, "on", False)
        if ours and environ.get("REQUEST_METHOD") == "PATCH" and "/connections/" in path:
            with self._lock:
                edit = self.edits.pop(0) if self.edits else None
            if edit is not None:
                self._editing.on = True
                try:
                    edit(self, path.rsplit("/", 1)[1])
                finally:
                    self._editing.on = False
        return super().__call__(environ, start_response)


def edit(**params: str) -> Callable[[Emulator, str], None]:
    """A colleague's PATCH of auth params (or the description) through the API."""

    def run(emulator: Emulator, conn_id: str) -> None:
        client = direct_client(emulator)
        current = client.get_connection(ORG, "dev", conn_id)
        ops: list[dict[str, Any]] = [
            {"op": "replace", "path": "/description", "value": v}
            for k, v in params.items()
            if k == "description"
        ]
        ops += [
            {"op": "replace", "path": f"/auth/params/{k}", "value": v}
            for k, v in params.items()
            if k != "description"
        ]
        client.update_connection(ORG, "dev", conn_id, ops, etag=current.etag, name=current.name)

    return run


@pytest.fixture
def colleague(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Colleague, RunningServer]]:
    emu = Colleague()
    with serve(emu, port=0) as running:
        point_at(monkeypatch, running, emu)
        yield emu, running
    emu.close()


@pytest.fixture
def drifted(colleague: tuple[Colleague, RunningServer], manifest: Path) -> tuple[Colleague, str]:
    emulator, _ = colleague
    old = orders("dev", "Verify Full")
    old["description"] = "Old orders"
    old["auth"]["params"] |= {"server": "pg-orders-old.db.example.test", "port": "5433"}
    return emulator, create_remote(emulator, "dev", old)


def params_of(emulator: Emulator, conn_id: str) -> dict[str, Any]:
    (record,) = [r for r in stored(emulator) if r["id"] == conn_id]
    return {"description": record.get("description"), **record["auth"]["params"]}


SELECT = ["--sandbox", "dev", "--connection", "orders-dev"]


def test_drift_is_planned_as_an_update_and_patched_in_place(
    drifted: tuple[Colleague, str], manifest: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    emulator, conn_id = drifted
    before = stored(emulator)[0]
    plan = run_cli(capsys, ["plan", str(manifest), *SELECT, "--detailed-exitcode"])
    assert (plan.code, plan.err) == (2, "")
    assert plan.out == (
        f"Read 1 manifest file(s) from {manifest}.\n"
        f"sandbox dev (azure, {ORG})\n"
        f"  ~ orders-dev  ({conn_id}) will update\n"
        "      description: 'Old orders' -> 'Orders (dev)'\n"
        "      server: 'pg-orders-old.db.example.test' -> 'pg-orders.db.example.test'\n"
        "      port: '5433' -> '5432'\n"
        "Plan: 0 to add, 1 to update, 0 unchanged, 0 drifted.\n"
    )
    apply = run_cli(capsys, ["apply", str(manifest), *SELECT, "--auto-approve"])
    assert apply.code == 0, apply.out
    assert apply.out.endswith("  dev: 1 updated\nApply complete: 0 created, 1 updated.\n")
    after = stored(emulator)[0]
    assert (after["id"], after["createdAt"]) == (before["id"], before["createdAt"])  # in place
    assert after["etag"] != before["etag"]
    assert params_of(emulator, conn_id) == {
        "description": "Orders (dev)",
        "server": "pg-orders.db.example.test",
        "port": "5432",
        "database": "orders",
        "username": "aep_reader",
        "password": SECRETS["RECON_ORDERS_PASSWORD"],  # untouched: updates never send it
        "sslMode": "Verify Full",
    }
    again = run_cli(capsys, ["plan", str(manifest), *SELECT, "--detailed-exitcode"])
    assert (again.code, again.out.splitlines()[-1]) == (
        0,
        "Plan: 0 to add, 1 unchanged, 0 drifted.",
    )


def test_a_concurrent_edit_is_read_again_and_the_update_sent_once_more(
    drifted: tuple[Colleague, str], manifest: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    emulator, conn_id = drifted
    emulator.edits.append(edit(username="someone_else", description="Edited by hand"))
    apply = run_cli(capsys, ["apply", str(manifest), *SELECT, "--auto-approve"])
    assert apply.code == 0, apply.out
    assert apply.out.endswith("Apply complete: 0 created, 1 updated.\n")
    # The colleague's username edit differs from the manifest too: the re-plan caught it.
    assert params_of(emulator, conn_id) | {"password": "-"} == {
        "description": "Orders (dev)",
        "server": "pg-orders.db.example.test",
        "port": "5432",
        "database": "orders",
        "username": "aep_reader",
        "password": "-",
        "sslMode": "Verify Full",
    }
    counts = emulator.request_counts()
    assert counts["PATCH /data/foundation/flowservice/connections/{id}"] == 3  # 412, theirs, ours


def test_a_concurrent_edit_that_made_our_change_leaves_nothing_to_send(
    drifted: tuple[Colleague, str], manifest: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    emulator, _conn_id = drifted
    emulator.edits.append(
        edit(description="Orders (dev)", server="pg-orders.db.example.test", port="5432")
    )
    apply = run_cli(capsys, ["apply", str(manifest), *SELECT, "--auto-approve"])
    assert apply.code == 0, apply.out
    assert apply.out.endswith(
        "  dev: 1 found up to date\nApply complete: 0 created, 1 found up to date.\n"
    )


def test_a_second_conflict_is_an_error_naming_the_connection(
    drifted: tuple[Colleague, str], manifest: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    emulator, conn_id = drifted
    emulator.edits += [edit(username="first_edit"), edit(username="second_edit")]
    apply = run_cli(capsys, ["apply", str(manifest), *SELECT, "--auto-approve"])
    assert apply.code == 1
    assert (
        "  ! orders-dev (dev): connection 'orders-dev' in sandbox 'dev' changed again while "
        "it was being updated (412 twice); nothing of ours was written: re-run apply to plan "
        "it afresh\n"
    ) in apply.out
    assert params_of(emulator, conn_id)["username"] == "second_edit"  # theirs stands
    assert apply.err.count("\n") <= 2 and "Traceback" not in apply.err


def test_a_saved_plan_refuses_when_the_etag_moved(
    drifted: tuple[Colleague, str], manifest: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    emulator, conn_id = drifted
    saved = run_cli(capsys, ["plan", str(manifest), *SELECT, "--out", "plan.json"])
    assert saved.code == 0
    edit(description="Edited after review")(emulator, conn_id)
    moved = stored(emulator)[0]["etag"]
    apply = run_cli(capsys, ["apply", "--plan", "plan.json"])
    assert apply.code == 1
    assert apply.err.startswith(
        "error: plan.json: the plan is stale, nothing was changed; plan again:\n"
    )
    assert "connection 'orders-dev' in sandbox 'dev' changed since the plan was made" in apply.err
    assert moved in apply.err
    assert params_of(emulator, conn_id)["description"] == "Edited after review"


def test_no_update_and_a_saved_plan_bring_their_own_options(
    drifted: tuple[Colleague, str], manifest: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    emulator, conn_id = drifted
    run_cli(capsys, ["plan", str(manifest), *SELECT, "--no-update", "--out", "plan.json"])
    applied = run_cli(capsys, ["apply", "--plan", "plan.json"])
    assert (applied.code, applied.out.splitlines()[-1]) == (0, "Nothing to change.")
    assert params_of(emulator, conn_id)["description"] == "Old orders"
    both = run_cli(capsys, ["apply", "--plan", "plan.json", "--prune"])
    assert (both.code, both.err) == (
        1,
        "error: --no-update, --rotate-secrets, --prune and --replace-dataflows cannot be given "
        "with --plan FILE: the saved plan already says what it changes; plan again with them "
        "instead\n",
    )


def test_an_auth_type_change_is_shown_with_what_to_do_and_never_recreated(
    colleague: tuple[Colleague, RunningServer], manifest: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    emulator, _ = colleague
    conn_id = create_remote(
        emulator,
        "dev",
        {
            "name": "orders-dev",
            "auth": {
                "specName": "Connection String Based Authentication",
                "params": {"connectionString": "Server=pg;Database=orders;Password=x"},
            },
            "connectionSpec": {"id": "74a1c565-4e59-48d7-9d67-7c03b8a13137", "version": "1.0"},
        },
    )
    plan = run_cli(capsys, ["plan", str(manifest), *SELECT])
    assert plan.code == 1
    reason = (
        "the API cannot change the auth type 'Connection String Based Authentication' -> "
        "'Basic Authentication' in place; create the new connection under another name and "
        f"move its dataflows, or delete {conn_id} by hand (its dataflows first) and apply again"
    )
    assert f"  ! orders-dev  ({conn_id}) ERROR: {reason}\n" in plan.out
    assert plan.out.endswith("Plan: 0 to add, 0 unchanged, 0 drifted. 1 in error.\n")
    apply = run_cli(capsys, ["apply", str(manifest), *SELECT, "--auto-approve"])
    assert apply.code == 1
    assert apply.out.endswith(f"  ! orders-dev (dev): {reason}\n" + NOTHING_APPLIED)
    assert [r["id"] for r in stored(emulator)] == [conn_id]
