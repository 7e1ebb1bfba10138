"""The owner mark: which set of manifests manages a remote connection, written on the connection.

The Flow Service has no labels or tags, and `createdClient` names only the IMS credential
that wrote a connection (teams share credentials, and a person in Adobe's UI has none of
ours), so the owner is recorded where every run can read it and a person can see it: a
trailer at the end of the connection's `description`,

    Orders database (prod)
    managed-by: provision owner=team-a

`--prune` deletes a connection only when this mark names the claiming owner
(docs/lifecycle.md). The trailer is written by the create itself (one POST: no moment where a
connection of ours exists unmarked) and by the PATCH that adopts or updates a connection. It is
kept out of drift comparisons: the manifest's description is compared with the text before it.

The mark is parsed leniently (any whitespace before it, so a UI that folds the line break into a
space keeps the owner) and written strictly (one line break). Editing it by hand changes the
owner; removing it leaves the connection to nobody's prune.
"""

from __future__ import annotations

import re

TRAILER = "managed-by: provision owner="
# Stable names that survive any UI and any parser: no spaces, no quotes, no control
# characters. A slash lets an owner name its repository (`acme/aep-configs`).
OWNER_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._/-]{0,99}"
_OWNER = re.compile(OWNER_PATTERN)
_MARKED = re.compile(
    r"(?P<text>.*?)(?:^|\s+)" + re.escape(TRAILER) + r"(?P<owner>" + OWNER_PATTERN + r")\s*\Z",
    re.DOTALL,
)


def valid_owner(name: str) -> bool:
    return _OWNER.fullmatch(name) is not None


def trailer(owner: str) -> str:
    return f"{TRAILER}{owner}"


def split(description: str | None) -> tuple[str | None, str | None]:
    """(the description without the mark, the owner it names); (description, None) unmarked."""
    if not description:
        return None, None
    found = _MARKED.match(description)
    if found is None:
        return description, None
    return found["text"].rstrip() or None, found["owner"]


def owner_of(description: str | None) -> str | None:
    return split(description)[1]


def compose(text: str | None, owner: str | None) -> str | None:
    """The description to write: the manifest's text, then the mark on a line of its own."""
    if owner is None:
        return text
    return f"{text}\n{trailer(owner)}" if text else trailer(owner)


def shown(owner: str | None) -> str:
    """The mark as a reviewer reads it in a plan line."""
    return f"owner={owner}" if owner else "no owner mark"
