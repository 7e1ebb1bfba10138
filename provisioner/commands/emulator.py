"""``provision emulator PATH...``: the orgs and sandboxes a rehearsal needs, from manifests.

The emulator package imports nothing from the provisioner; this is the bridge that loads and
validates manifests the same way ``plan`` does and hands the emulator plain tuples.
"""

from __future__ import annotations

from collections.abc import Sequence

from provisioner.commands import load_manifests
from provisioner.manifests.selection import Selection


def scopes(paths: Sequence[str]) -> list[tuple[str, str, str]]:
    """Every (org, sandbox, cloud) that ``provision plan --prune PATH...`` would list, in file
    order: the sandboxes of the connections, then those only a ``prune:`` claim names."""
    manifests = load_manifests(paths, Selection((), ()), (), prune=True, whole_set=False)
    found = [(c.org, c.sandbox, c.cloud) for c in manifests.desired]
    found += [(r.org, r.sandbox, r.cloud) for r in manifests.rules]
    return list(dict.fromkeys(found))
