"""The pure half of `--prune`: which remote connections of one sandbox are deleted.

A remote connection that no manifest of the owner's whole set declares is deleted when a
claim of the run matches its name (and `--connection` selects it) and it carries that
claim's owner mark (ownermark.py). One a claim matches without that mark is kept and shown:
made by hand, made before owner marks, or another owner's. No I/O: `make_plan` calls it with
what the sandbox listing returned.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from provisioner import ownermark
from provisioner.manifests.ownership import claim
from provisioner.model import PruneRule, RemoteConnection

SandboxKey = tuple[str, str]  # (org, sandbox)


@dataclass(frozen=True)
class PlannedDeletion:
    """A remote connection no manifest declares, inside a `prune:` claim, carrying that
    claim's owner mark (`apply --prune`)."""

    remote: RemoteConnection
    org: str
    sandbox: str
    rule: PruneRule
    pattern: str
    # Dataflows reading through it, as listed when planning: the API will refuse the delete
    # (FLOW-1418-400) until they are gone. Apply still asks: they may be gone by then.
    used_by: tuple[str, ...] = ()

    @property
    def key(self) -> SandboxKey:
        return (self.org, self.sandbox)

    @property
    def owner(self) -> str:
        return self.rule.owner


@dataclass(frozen=True)
class KeptClaim:
    """A connection a claim matches that prune leaves alone: it carries no mark (hand-made,
    made by 0.2, or a file without an owner) or another owner's. Shown to reviewers, and the
    reason a saved plan's deletion is refused when its mark changed."""

    remote: RemoteConnection
    rule: PruneRule
    pattern: str
    mark: str | None


def prune_sandbox(
    key: SandboxKey,
    by_name: Mapping[str, Sequence[RemoteConnection]],
    declared: Collection[str],
    rules: Sequence[PruneRule],
    connection_globs: Sequence[str],
    users: Mapping[str, tuple[str, ...]],
) -> tuple[list[PlannedDeletion], list[KeptClaim]]:
    """What the claims delete in one sandbox, and what they match but leave alone.
    `users`: the dataflows reading through each connection id, where they were listed."""
    deletions: list[PlannedDeletion] = []
    kept: list[KeptClaim] = []
    for name, items in by_name.items():
        found = None if name in declared else claim(rules, (*key, name), connection_globs)
        if found is None:
            continue
        rule, pattern = found
        for item in items:
            mark = ownermark.owner_of(item.description)
            if mark == rule.owner:
                deletions.append(PlannedDeletion(item, *key, rule, pattern, users.get(item.id, ())))
            else:
                kept.append(KeptClaim(item, rule, pattern, mark))
    return deletions, kept
