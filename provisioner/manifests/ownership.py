"""Which remote connections a manifest owns: the `prune:` blocks, one rule per sandbox.

A file's `prune: {names: [glob, ...]}` claims, in each sandbox the file lists, the remote
PostgreSQL connections whose name matches a glob. Only a claimed connection that no
manifest declares is ever deleted, and only by `apply --prune`. Scoping the claim to the
file's own sandboxes keeps a team's file from reaching into a sandbox it does not manage;
naming globs (not "everything unmanaged") keeps hand-made and other teams' connections
in a shared sandbox out of reach.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence

from provisioner.manifests.load import Document
from provisioner.manifests.selection import Selection
from provisioner.model import Identity, PruneRule


def prune_rules(documents: Sequence[Document]) -> list[PruneRule]:
    """The rules of schema-valid documents (validation has run before), in file order."""
    rules: list[PruneRule] = []
    for document in documents:
        data = document.data
        block = data.get("prune") if isinstance(data, dict) else None
        if not isinstance(block, dict):
            continue
        where = document.locate(("prune",), key=True)
        patterns = tuple(block["names"])
        for sandbox in data["sandboxes"]:
            rules.append(PruneRule(data["org"], sandbox["name"], sandbox["cloud"], patterns, where))
    return rules


def selected(rules: Sequence[PruneRule], selection: Selection) -> list[PruneRule]:
    """The rules of the selected sandboxes; `--connection` narrows them further at match."""
    wanted = {s.lower() for s in selection.sandboxes}
    return [r for r in rules if not wanted or r.sandbox in wanted]


def owner(
    rules: Sequence[PruneRule], identity: Identity, connection_globs: Sequence[str] = ()
) -> tuple[PruneRule, str] | None:
    """The rule and glob that claim a remote connection, or None when nothing claims it
    (or a `--connection` selection leaves it out)."""
    org, sandbox, name = identity
    if connection_globs and not any(fnmatch.fnmatchcase(name, g) for g in connection_globs):
        return None
    for rule in rules:
        if (rule.org, rule.sandbox) == (org, sandbox):
            pattern = rule.owns(name)
            if pattern is not None:
                return rule, pattern
    return None
