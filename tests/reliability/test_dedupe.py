"""The winner rule of concurrent applies, with literal values."""

from __future__ import annotations

from provisioner.client import RemoteConnection
from provisioner.dedupe import duplicates_to_delete, winner


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
