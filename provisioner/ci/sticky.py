"""One comment per pull request, edited in place on every push (tfcmt's "patch" mode).

The comment is found by a hidden HTML marker on its first line, so nothing else needs to
remember its id: the pull request itself is the state, as the AEP sandboxes are for apply.
A reply that quotes the marker does not start with it, and so is never taken for ours.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, Protocol

from provisioner.errors import ProvisionError

# GitHub refuses bodies over 65,536 characters; GitLab notes allow 1,000,000.
GITHUB_BODY_LIMIT = 65_536
_KEY = re.compile(r"^[A-Za-z0-9._/-]{1,64}$")


class ForgeError(ProvisionError):
    """The forge refused or failed a request; the message names method, URL and status."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        self.status = status
        super().__init__(message)


class Forbidden(ForgeError):
    """403: the token may not write here (a pull request from a fork, missing permission)."""


@dataclass(frozen=True)
class Comment:
    id: int
    body: str
    author: str


class Thread(Protocol):
    """The comments of one pull / merge request, oldest first."""

    def comments(self) -> Iterable[Comment]: ...

    def create(self, body: str) -> Comment: ...

    def update(self, comment_id: int, body: str) -> Comment: ...

    def delete(self, comment_id: int) -> None: ...


@dataclass(frozen=True)
class Outcome:
    action: Literal["created", "updated", "unchanged"]
    comment: Comment
    removed: tuple[int, ...] = ()


def marker(key: str = "") -> str:
    """The hidden first line; a key keeps two jobs' comments apart (one per folder)."""
    if not key:
        return "<!-- provision-plan -->"
    if not _KEY.match(key):
        raise ProvisionError(
            f"comment key {key!r} may only use letters, digits and . _ / - (at most 64)"
        )
    return f"<!-- provision-plan key={key} -->"


def compose(mark: str, text: str, footer: str, limit: int = GITHUB_BODY_LIMIT) -> str:
    """marker, text, footer; the text is cut (never the marker) to fit the forge's limit."""
    cut = "\n\n… cut here: the comment would exceed the forge's size limit; see the job.\n"
    fixed = len(mark) + len(footer) + 4
    if fixed + len(text) > limit:
        text = text[: max(0, limit - fixed - len(cut))] + cut
    return f"{mark}\n{text.rstrip()}\n\n{footer}"


def is_ours(comment: Comment, mark: str) -> bool:
    return comment.body.split("\n", 1)[0].strip() == mark


def upsert(thread: Thread, mark: str, body: str) -> Outcome:
    """Create the comment, or edit the oldest one carrying the marker.

    Two jobs racing on their first run can each create one; the next run keeps the oldest
    and deletes the others by the same author, so a pull request converges on one comment.
    """
    ours = [c for c in thread.comments() if is_ours(c, mark)]
    if not ours:
        return Outcome("created", thread.create(body))
    first, extra = ours[0], [c for c in ours[1:] if c.author == ours[0].author]
    for duplicate in extra:
        thread.delete(duplicate.id)
    removed = tuple(c.id for c in extra)
    if first.body == body:
        return Outcome("unchanged", first, removed)
    return Outcome("updated", thread.update(first.id, body), removed)
