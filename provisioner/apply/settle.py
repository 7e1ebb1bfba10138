"""Converging concurrent applies: names are not unique and the API has no lock.

Two applies started together can both see a name absent and both create it. After its
creates, each apply lists the sandbox again; wherever a name it created now has several
connections, every process agrees on one winner by the same rule, the oldest `createdAt`
then the smallest id, and deletes only the duplicates **it created itself** in this run.
The loser of every race sees the winner (it was committed before the loser's own create
returned), so exactly one connection per name remains, and nothing another run or person
created is ever deleted. The rule assumes the API's `createdAt` follows commit order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from provisioner.model import RemoteConnection


def winner(candidates: Sequence[RemoteConnection]) -> RemoteConnection:
    # A missing createdAt sorts last: such a record cannot claim to be the oldest.
    return min(candidates, key=lambda r: (r.created_at is None, r.created_at or 0, r.id))


def duplicates_to_delete(
    created_by_us: Mapping[str, str], remote: Sequence[RemoteConnection]
) -> list[RemoteConnection]:
    """Our own connections (name -> id we created) that lost to an older one of that name."""
    by_name: dict[str, list[RemoteConnection]] = {}
    for item in remote:
        if item.name in created_by_us:
            by_name.setdefault(item.name, []).append(item)
    losers: list[RemoteConnection] = []
    for name, candidates in by_name.items():
        ours = created_by_us[name]
        if len(candidates) > 1 and winner(candidates).id != ours:
            losers.extend(c for c in candidates if c.id == ours)
    return losers
