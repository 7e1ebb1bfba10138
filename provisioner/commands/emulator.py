"""``provision emulator PATH...``: what a rehearsal needs, from manifests.

The emulator package imports nothing from the provisioner; this is the bridge that loads and
validates manifests the same way ``plan`` does and hands the emulator plain records: the orgs
and sandboxes to serve, and for their dataflows the datasets and tables to preload.
"""

from __future__ import annotations

from collections.abc import Sequence

from provisioner.commands import Manifests, load_manifests
from provisioner.emulator.rehearsal import Rehearsal, Table
from provisioner.manifests.selection import Selection


def scopes(paths: Sequence[str]) -> list[tuple[str, str, str]]:
    """Every (org, sandbox, cloud) that ``provision plan --prune PATH...`` would list, in file
    order: the sandboxes of the connections, then those only a ``prune:`` claim names."""
    return _scopes(_read(paths))


def rehearsal(paths: Sequence[str]) -> Rehearsal:
    """The scopes, and every dataset and table the manifests' dataflows name: a table with
    its declared columns, or (none declared) the columns its mapping reads and its
    incremental column, so apply's explore finds what the dataflow needs."""
    manifests = _read(paths)
    datasets = [(d.org, d.sandbox, d.dataset) for d in manifests.dataflows]
    tables = [
        Table(
            d.org,
            d.sandbox,
            d.connection,
            d.table,
            d.columns
            or (*(r.source for r in d.mapping if r.kind == "attribute"), d.incremental.column),
            d.incremental.column,
        )
        for d in manifests.dataflows
    ]
    return Rehearsal(_scopes(manifests), datasets, tables)


def _read(paths: Sequence[str]) -> Manifests:
    return load_manifests(paths, Selection((), ()), (), prune=True, whole_set=False)


def _scopes(manifests: Manifests) -> list[tuple[str, str, str]]:
    found = [(c.org, c.sandbox, c.cloud) for c in manifests.desired]
    found += [(r.org, r.sandbox, r.cloud) for r in manifests.rules]
    return list(dict.fromkeys(found))
