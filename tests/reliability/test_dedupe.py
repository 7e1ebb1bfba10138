"""The winner rule of concurrent applies, with literal values."""

from __future__ import annotations

from provisioner.apply.settle import duplicates_to_delete, winner
from provisioner.remote.client import RemoteConnection


def remote(id_: str, name: str, created_at: int | None) -> RemoteConnection:
    return RemoteConnection(id_, name, '"e"', None, None, None, {}, "enabled", created_at, None)


def test_oldest_wins_then_smallest_id() -> None:
    assert winner([remote("b", "x", 2), remote("a", "x", 3), remote("c", "x", 1)]).id == "c"
    assert winner([remote("b", "x", 1), remote("a", "x", 1)]).id == "a"
    assert winner([remote("a", "x", None), remote("b", "x", 5)]).id == "b"


def test_only_our_losing_connections_are_deleted() -> None:
    listing = [
        remote("old", "orders", 1),  # another run's, older: it wins
        remote("mine", "orders", 2),  # ours, lost
        remote("theirs", "orders", 3),  # a third run's: never ours to delete
        remote("solo", "billing", 4),  # ours, alone
        remote("manual", "crm", 0),  # not a name we created
        remote("manual2", "crm", 1),
    ]
    losers = duplicates_to_delete({"orders": "mine", "billing": "solo"}, listing)
    assert [r.id for r in losers] == ["mine"]


def test_the_winner_keeps_its_connection() -> None:
    listing = [remote("mine", "orders", 1), remote("late", "orders", 2)]
    assert duplicates_to_delete({"orders": "mine"}, listing) == []


def test_apply_waits_out_a_concurrent_race_but_not_an_old_ambiguity() -> None:
    import threading
    from pathlib import Path

    import httpx

    from provisioner.apply.create import settle_ambiguous
    from provisioner.connectors.postgres.auth import BasicAuth
    from provisioner.emulator import Emulator, EmulatorConfig
    from provisioner.errors import Location
    from provisioner.model import DesiredConnection, SecretRef
    from provisioner.plan.make import Action, make_plan
    from provisioner.plan.observe import observe
    from provisioner.remote.client import Credentials, Endpoints, FlowServiceClient

    org = "0123456789ABCDEF01234567@AdobeOrg"
    emulator = Emulator(EmulatorConfig(sandboxes=("prod",)))
    password = SecretRef("env", "PW", Path("."), Location("m.yaml", 1, 1))
    desired = [
        DesiredConnection(
            org,
            "prod",
            "azure",
            name,
            None,
            BasicAuth("h", 5432, "d", "u", password, "require"),
            Location("m.yaml", 1, 1),
        )
        for name in ("racing", "stuck")
    ]
    body = {
        "auth": {
            "specName": "Basic Authentication",
            "params": {
                "server": "h",
                "port": "5432",
                "database": "d",
                "username": "u",
                "password": "p",
                "sslMode": "Require",
            },
        },
        "connectionSpec": {"id": "74a1c565-4e59-48d7-9d67-7c03b8a13137", "version": "1.0"},
    }
    with httpx.Client(transport=emulator.transport()) as http:
        client = FlowServiceClient(
            http,
            Credentials(emulator.config.client_id, emulator.config.client_secret),
            Endpoints("http://emu", "http://emu"),
        )
        ids = {
            name: [
                client.create_connection(org, "prod", {**body, "name": name}, name=name).id
                for _ in range(2)
            ]
            for name in ("racing", "stuck")
        }
        plan = make_plan(desired, observe(client, [(org, "prod")], 1))
        assert [p.action for p in plan.connections] == [Action.AMBIGUOUS] * 2

        # The other run settles "racing" a moment later; "stuck" stays doubled.
        later = threading.Timer(
            0.3, lambda: client.delete_connection(org, "prod", ids["racing"][1], name="racing")
        )
        later.start()
        settled = settle_ambiguous(client, plan, parallelism=1, waits=(0.2, 0.4, 0.8))
        later.join()
    actions = {p.desired.name: p.action for p in settled.connections}
    assert actions == {"racing": Action.UNCHANGED, "stuck": Action.AMBIGUOUS}
