"""Remote names that read like a declared one but are not it (pure, like make.py).

A remote `café-orders` spelt with a combining accent (NFD), with a trailing space or a
zero-width space is a different name to the API: the plan creates `+ café-orders` and, with
`--prune`, deletes `- café-orders`, two lines a reviewer reads as a no-op. Each such pair is
flagged, saying what differs. Differences that show on screen are not flagged: AEP names
are case-sensitive and `Orders` beside `orders` reads as two names; letters of other
scripts that look alike (a Cyrillic letter for a Latin one) need a confusables table and are not
caught (docs/security.md, residual risks).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass

from provisioner.escape import line, quoted, shown_as_is
from provisioner.model import RemoteConnection


@dataclass(frozen=True)
class LookAlike:
    org: str
    sandbox: str
    remote: RemoteConnection
    declared: str
    differences: tuple[str, ...]  # "a trailing space", "Unicode normalisation (NFC/NFD)"

    @property
    def key(self) -> tuple[str, str]:
        return (self.org, self.sandbox)

    def sentence(self) -> str:
        return (
            f"remote {quoted(self.remote.name)} ({self.remote.id}) differs from the declared "
            f"{quoted(self.declared)} only by {' and '.join(self.differences)}: they are two "
            "names to the API; rename one if they are meant to be the same connection"
        )


def _invisible(text: str) -> str:
    return "".join(ch for ch in text if ch == " " or shown_as_is(ch))


def _spaces(text: str) -> str:
    return " ".join(text.split())


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


# Applied in order; each one that changes either name is a difference worth naming.
_STEPS: tuple[tuple[str, Callable[[str], str]], ...] = (
    ("invisible or control characters", _invisible),
    ("spaces", _spaces),
    ("Unicode normalisation (NFC/NFD)", _nfc),
    ("compatibility forms (NFKC: full-width letters, ligatures)", _nfkc),
)


def skeleton(name: str) -> str:
    for _, step in _STEPS:
        name = step(name)
    return name


def _spacing(a: str, b: str) -> str:
    kinds = [
        kind
        for kind, strip in (("leading", str.lstrip), ("trailing", str.rstrip))
        if strip(a) != a or strip(b) != b
    ]
    if _spaces(a) != a.strip() or _spaces(b) != b.strip():
        kinds.append("repeated")
    extra = abs(len(a) - len(b))
    if kinds in (["leading"], ["trailing"]) and extra == 1 and a.strip() == b.strip():
        return f"a {kinds[0]} space"
    return " and ".join(kinds) + " spaces"


def differences(remote: str, declared: str) -> tuple[str, ...]:
    found: list[str] = []
    for label, step in _STEPS:
        after = step(remote), step(declared)
        if after != (remote, declared) and remote != declared:
            found.append(_spacing(remote, declared) if step is _spaces else label)
        remote, declared = after
    # Two names that differ where it shows, e.g. `a\u200bb` typed out against `a`+ZWSP+`b`.
    return tuple(found) or ("characters shown escaped",)


def find_lookalikes(
    org: str, sandbox: str, remote: Iterable[RemoteConnection], declared: Collection[str]
) -> list[LookAlike]:
    """Each remote connection whose name is not declared but reads like a declared one."""
    by_skeleton: dict[str, str] = {}
    by_display: dict[str, str] = {}
    for name in sorted(declared):
        by_skeleton.setdefault(skeleton(name), name)
        by_display.setdefault(line(name), name)
    found: list[LookAlike] = []
    for item in remote:
        if item.name in declared:
            continue
        twin = by_skeleton.get(skeleton(item.name)) or by_display.get(line(item.name))
        if twin is not None:
            found.append(LookAlike(org, sandbox, item, twin, differences(item.name, twin)))
    return found
