"""Whether two `prune:` globs can claim one name (manifests/globs.py), checked against
fnmatch itself on every pair of short globs over a small alphabet, both ways: a name it
gives is matched by both, and when it finds none, no short name is matched by both."""

from __future__ import annotations

import fnmatch
import itertools

import pytest

from provisioner.manifests.globs import common_name

GLOB_ALPHABET = "ab*?[]!-"
NAMES = ["".join(p) for n in range(5) for p in itertools.product("ab-[]!", repeat=n)]
GLOBS = ["".join(p) for n in range(4) for p in itertools.product(GLOB_ALPHABET, repeat=n)]


def both(name: str, first: str, second: str) -> bool:
    return fnmatch.fnmatchcase(name, first) and fnmatch.fnmatchcase(name, second)


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        ("orders-*", "*-b", "orders-b"),
        ("orders-*", "billing", None),
        ("a[!b]c", "a[b]c", None),
        ("a[bc]d", "a?d", "abd"),
        ("[z-a]", "z", None),  # a reversed range matches nothing, as in fnmatch
        ("ab[", "ab[", "ab["),  # a '[' without its ']' is a literal
    ],
)
def test_examples(first: str, second: str, expected: str | None) -> None:
    assert common_name(first, second) == expected


def test_every_short_pair_agrees_with_fnmatch() -> None:
    for first, second in itertools.combinations_with_replacement(GLOBS[:120], 2):
        found = common_name(first, second)
        if found is not None:
            assert both(found, first, second), (first, second, found)
        else:
            assert not any(both(n, first, second) for n in NAMES), (first, second)
