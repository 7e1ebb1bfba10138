"""One comment per pull request, edited in place on every push (tfcmt's "patch" mode).

The comment is found by a hidden HTML marker on its first line, so nothing else needs to
remember its id: the pull request itself is the state, as the AEP sandboxes are for apply.
A reply that quotes the marker does not start with it, and so is never taken for ours.

Anyone can write the marker, though: a pull request's author could plant it in a comment
of their own, older than ours, and have the next run write the plan into a comment they
can edit again. So a comment is ours only when the marker opens it *and* the token's own
identity wrote it (`Thread.identity`); a marked comment by anyone else is left alone.
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
    author: str  # who wrote it, in the terms of Thread.identity()


class Thread(Protocol):
    """The comments of one pull / merge request, oldest first."""

    def identity(self) -> str:
        """Who this thread's token writes as, as `Comment.author` names a comment's writer."""
        ...

    def comments(self) -> Iterable[Comment]: ...

    def create(self, body: str) -> Comment: ...

    def update(self, comment_id: int, body: str) -> Comment: ...

    def delete(self, comment_id: int) -> None: ...


@dataclass(frozen=True)
class Outcome:
    action: Literal["created", "updated", "unchanged"]
    comment: Comment
    removed: tuple[int, ...] = ()
    ignored: tuple[int, ...] = ()  # carry the marker, written by someone else: left alone


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


def is_marked(comment: Comment, mark: str) -> bool:
    return comment.body.split("\n", 1)[0].strip() == mark


def upsert(thread: Thread, mark: str, body: str) -> Outcome:
    """Create the comment, or edit the oldest one the token's identity wrote with the marker.

    Two jobs racing on their first run can each create one; the next run keeps the oldest
    and deletes the others, so a pull request converges on one comment. Marked comments by
    anyone else are never edited nor deleted.
    """
    me = thread.identity()
    marked = [c for c in thread.comments() if is_marked(c, mark)]
    ours = [c for c in marked if c.author == me]
    ignored = tuple(c.id for c in marked if c.author != me)
    if not ours:
        return Outcome("created", thread.create(body), ignored=ignored)
    first, extra = ours[0], ours[1:]
    for duplicate in extra:
        thread.delete(duplicate.id)
    removed = tuple(c.id for c in extra)
    if first.body == body:
        return Outcome("unchanged", first, removed, ignored)
    return Outcome("updated", thread.update(first.id, body), removed, ignored)


def ignored_note(outcome: Outcome, noun: str) -> str:
    """A log line naming the marked comments left alone, or nothing."""
    if not outcome.ignored:
        return ""
    ids = ", ".join(str(i) for i in outcome.ignored)
    many = len(outcome.ignored) > 1
    return (
        f"Left alone {len(outcome.ignored)} other {noun}{'s' if many else ''} (id {ids}) "
        f"that start{'' if many else 's'} with the plan marker but {'were' if many else 'was'} "
        "not written by this token.\n"
    )
