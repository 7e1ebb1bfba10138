"""Whether two `prune:` globs can match one name, and a name they both match.

Two owners' claims in one run must not overlap (docs/lifecycle.md): a connection both claim
would be deleted by whichever owner marked it last, and the reviewer of each pull request
sees only half of the story. Textual comparison misses most overlaps (`orders-*` and `*-b`
both claim `orders-b`), so the globs are compared as the automata they are: a glob is a
sequence of `*` (any text), `?` (one character) and character sets (a literal is a set of
one), and two globs overlap when both automata can reach their ends on one string.
Semantics are `fnmatch.fnmatchcase`'s: case-sensitive, `[!...]` negates, a `[` without its
`]` is a literal.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

STAR = None  # a token that matches any run of characters
# Names never hold a control character (validate refuses them), so the first candidate
# character is the space.
_FIRST = 0x20
_LAST = 0x10FFFF


@dataclass(frozen=True)
class CharSet:
    ranges: tuple[tuple[int, int], ...]
    negated: bool = False

    def __contains__(self, code: int) -> bool:
        inside = any(lo <= code <= hi for lo, hi in self.ranges)
        return inside != self.negated


Token = CharSet | None


def tokens(glob: str) -> list[Token]:
    found: list[Token] = []
    i = 0
    while i < len(glob):
        ch = glob[i]
        i += 1
        if ch == "*":
            if not found or found[-1] is not STAR:
                found.append(STAR)
        elif ch == "?":
            found.append(CharSet((), negated=True))
        elif ch == "[":
            parsed = _charset(glob, i)
            if parsed is None:
                found.append(CharSet(((ord("["), ord("[")),)))
            else:
                charset, i = parsed
                found.append(charset)
        else:
            found.append(CharSet(((ord(ch), ord(ch)),)))
    return found


def _charset(glob: str, start: int) -> tuple[CharSet, int] | None:
    """The set opening at glob[start - 1] == '[' and where it ends; None without its ']'."""
    i = start
    negated = i < len(glob) and glob[i] == "!"
    i += negated
    first = i
    ranges: list[tuple[int, int]] = []
    while i < len(glob) and (glob[i] != "]" or i == first):
        lo = glob[i]
        if i + 2 < len(glob) and glob[i + 1] == "-" and glob[i + 2] != "]":
            if ord(lo) <= ord(glob[i + 2]):  # fnmatch drops a reversed range
                ranges.append((ord(lo), ord(glob[i + 2])))
            i += 3
        else:
            ranges.append((ord(lo), ord(lo)))
            i += 1
    if i >= len(glob):
        return None
    return CharSet(tuple(ranges), negated), i + 1


def _common(a: CharSet, b: CharSet) -> str | None:
    """A character in both sets, or None. The intersection is a union of intervals; each
    starts at the first character or at a bound of one of the sets' ranges."""
    candidates = {_FIRST, ord("a")}
    for lo, hi in (*a.ranges, *b.ranges):
        candidates.update((lo, hi + 1))
    for code in sorted(candidates):
        if _FIRST <= code <= _LAST and code in a and code in b and not 0xD800 <= code <= 0xDFFF:
            return chr(code)
    return None


_ANY = CharSet((), negated=True)


def common_name(first: str, second: str) -> str | None:
    """A name both globs match, or None when no name can match both."""
    a, b = tokens(first), tokens(second)
    start = (0, 0)
    came_from: dict[tuple[int, int], tuple[tuple[int, int], str]] = {start: (start, "")}
    queue = deque([start])
    while queue:
        i, j = state = queue.popleft()
        if (i, j) == (len(a), len(b)):
            return _spell(came_from, state)
        moves: list[tuple[tuple[int, int], str]] = []
        if i < len(a) and a[i] is STAR:
            moves.append(((i + 1, j), ""))
        if j < len(b) and b[j] is STAR:
            moves.append(((i, j + 1), ""))
        if i < len(a) and j < len(b):
            left, right = a[i], b[j]
            ch = _common(left or _ANY, right or _ANY)
            if ch is not None:
                moves.append(((i + (left is not STAR), j + (right is not STAR)), ch))
        for target, ch in moves:
            if target not in came_from and target != state:
                came_from[target] = (state, ch)
                queue.append(target)
    return None


def _spell(
    came_from: dict[tuple[int, int], tuple[tuple[int, int], str]], end: tuple[int, int]
) -> str:
    text: list[str] = []
    state = end
    while state != (0, 0):
        state, ch = came_from[state]
        text.append(ch)
    return "".join(reversed(text))
