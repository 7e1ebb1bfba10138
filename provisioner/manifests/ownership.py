"""Who owns which remote connections: the `prune:` blocks, one rule per sandbox.

A file's `prune: {owner: team-a, names: [glob, ...]}` says two things. Its connections are
team-a's: every create, adoption and update writes team-a's mark on them (ownermark.py).
And in each sandbox the file lists, it claims the remote PostgreSQL connections whose name
matches a glob. `apply --prune` deletes a claimed connection only when it carries the
claim's owner mark and no manifest of the owner's whole set declares it. Scoping the claim
to the file's own sandboxes keeps a team's file out of sandboxes it does not manage; the
mark keeps hand-made, 0.2-made and other owners' connections out of reach, whichever files
are in the run.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from typing import Any

from provisioner.errors import Diagnostic
from provisioner.manifests.globs import common_name
from provisioner.manifests.load import Document, format_path
from provisioner.manifests.selection import Selection
from provisioner.model import Identity, PruneRule


def _block(document: Document) -> dict[str, Any] | None:
    data = document.data
    block = data.get("prune") if isinstance(data, dict) else None
    return block if isinstance(block, dict) else None


def prune_rules(documents: Sequence[Document]) -> list[PruneRule]:
    """The rules of schema-valid documents (validation has run before), in file order."""
    rules: list[PruneRule] = []
    for document in documents:
        block = _block(document)
        if block is None:
            continue
        data = document.data
        where = document.locate(("prune",), key=True)
        patterns = tuple(block["names"])
        owner = str(block.get("owner") or "")
        for sandbox in data["sandboxes"]:
            rule = PruneRule(data["org"], sandbox["name"], sandbox["cloud"], patterns, where, owner)
            rules.append(rule)
    return rules


def claim_problems(documents: Sequence[Document]) -> list[Diagnostic]:
    """A `prune:` without an owner, and claims of two owners that can match one name."""
    problems: list[Diagnostic] = []
    for document in documents:
        block = _block(document)
        if block is not None and "owner" not in block:
            problems.append(
                Diagnostic(
                    document.locate(("prune",)),
                    "$.prune",
                    "names no owner; add `owner: NAME` (your team or repository, the same in "
                    "every file you prune with, and no one else's): --prune deletes only "
                    "connections marked with it",
                )
            )
    seen: dict[tuple[str, str, str], tuple[Document, int, str]] = {}
    reported: set[tuple[str, str, str, str]] = set()
    for document in documents:
        block = _block(document)
        data = document.data
        if block is None or not isinstance(block.get("owner"), str):
            continue
        owner = block["owner"]
        sandboxes = [s["name"] for s in data["sandboxes"]]
        for index, pattern in enumerate(block["names"]):
            for (org, sandbox, other), (first, at, first_owner) in seen.items():
                if org != data["org"] or sandbox not in sandboxes or first_owner == owner:
                    continue
                pair = (first_owner, other, owner, pattern)
                witness = common_name(pattern, other)
                if witness is None or pair in reported:
                    continue
                reported.add(pair)
                path = ("prune", "names", index)
                there = first.locate(("prune", "names", at))
                both = f"both claim {witness!r}" if witness else "both claim every name"
                problems.append(
                    Diagnostic(
                        document.locate(path),
                        format_path(path),
                        f"{pattern!r} of owner {owner!r} overlaps {other!r} of owner "
                        f"{first_owner!r} at {there} in sandbox {sandbox!r} ({both}); the "
                        "claims of two owners must not overlap: narrow one of them",
                    )
                )
            for sandbox in sandboxes:
                seen.setdefault((data["org"], sandbox, pattern), (document, index, owner))
    return problems


def selected(rules: Sequence[PruneRule], selection: Selection) -> list[PruneRule]:
    """The rules of the selected sandboxes; `--connection` narrows them further at match."""
    wanted = {s.lower() for s in selection.sandboxes}
    return [r for r in rules if not wanted or r.sandbox in wanted]


def claim(
    rules: Sequence[PruneRule], identity: Identity, connection_globs: Sequence[str] = ()
) -> tuple[PruneRule, str] | None:
    """The rule and glob that claim a remote connection, or None when nothing claims it
    (or a `--connection` selection leaves it out). Claims of two owners never overlap
    (claim_problems), so the first match is the only owner's."""
    org, sandbox, name = identity
    if connection_globs and not any(fnmatch.fnmatchcase(name, g) for g in connection_globs):
        return None
    for rule in rules:
        if (rule.org, rule.sandbox) == (org, sandbox):
            pattern = rule.owns(name)
            if pattern is not None:
                return rule, pattern
    return None
