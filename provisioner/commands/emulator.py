"""``provision emulator PATH...``: the orgs and sandboxes a rehearsal needs, from manifests.

The emulator package imports nothing from the provisioner; this is the bridge that loads and
validates manifests the same way ``plan`` does and hands the emulator plain tuples.
"""

from __future__ import annotations

from collections.abc import Sequence

from provisioner.commands import load_desired
from provisioner.select import Selection


def scopes(paths: Sequence[str]) -> list[tuple[str, str, str]]:
    """Every (org, sandbox, cloud) that ``provision plan PATH...`` would list, in file order."""
    desired = load_desired(paths, Selection((), ()), ())
    return list(dict.fromkeys((c.org, c.sandbox, c.cloud) for c in desired))
