"""One module per subcommand; each takes plain values and returns an exit code.

The package itself imports nothing heavy: the CLI imports `commands.verify` to build its
parser, and `provision --help` must not pay for YAML and validation (tests/test_fast_start).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from pathlib import Path
    from typing import TextIO

    from provisioner.dataflow import DataflowIdentity, DesiredDataflow
    from provisioner.manifests.dataflows import Desired
    from provisioner.manifests.load import Document
    from provisioner.manifests.selection import Selection
    from provisioner.model import DesiredConnection, Identity, PruneRule
    from provisioner.plan.make import Reading


def load_desired(
    paths: Sequence[str], selection: Selection, secrets_dirs: Sequence[Path]
) -> list[DesiredConnection]:
    """Load, validate and select: the connections validate and render work on."""
    return selection.apply(_load(paths, secrets_dirs)[1].connections)


def load_selected(
    paths: Sequence[str], selection: Selection, secrets_dirs: Sequence[Path]
) -> tuple[list[DesiredConnection], tuple[DesiredDataflow, ...]]:
    """Load, validate and select: the connections and their dataflows (validate's count)."""
    found = _load(paths, secrets_dirs)[1]
    chosen = selection.apply(found.connections)
    return chosen, selection.dataflows(chosen, found.dataflows)


def _load(paths: Sequence[str], secrets_dirs: Sequence[Path]) -> tuple[list[Document], Desired]:
    """Every document and everything they declare, validated (ManifestError if not)."""
    from provisioner.manifests.load import load_documents
    from provisioner.manifests.validate import desired_manifests

    documents, load_problems = load_documents(paths)
    return documents, desired_manifests(documents, secrets_dirs, load_problems)


def warn_promises(desired: Sequence[DesiredConnection], err: TextIO) -> None:
    """One warning per way a manifest asks for more than the platform will be asked to do:
    a reviewer should know before a verify on this machine and the platform disagree."""
    from provisioner import connectors

    for connection in desired:
        for text in connectors.of(connection).promises(connection):
            err.write(
                f"warning: {connection.source.file}:{connection.source.line}: "
                f"{connection.name} ({connection.sandbox}): {text}\n"
            )


class Manifests(NamedTuple):
    desired: list[DesiredConnection]  # the selected connections
    # Every connection any manifest names: a remote connection outside the selection is not
    # "unmanaged" when a manifest names it. With --prune, every manifest of the repository.
    managed: frozenset[Identity]
    rules: list[PruneRule]  # the selected sandboxes' prune claims
    reading: Reading | None = None  # how many files were read, for the plan's header
    dataflows: tuple[DesiredDataflow, ...] = ()  # the selected connections' dataflows
    # Every dataflow any manifest declares (the whole set with --prune), as `managed` is.
    managed_dataflows: frozenset[DataflowIdentity] = frozenset()


def load_manifests(
    paths: Sequence[str],
    selection: Selection,
    secrets_dirs: Sequence[Path],
    *,
    prune: bool,
    whole_set: bool | None = None,
) -> Manifests:
    """What plan and apply work on: the selection, every declared identity, the claims.
    `whole_set` (default: with `prune`): read every manifest of the repository for what it
    declares, so a narrower run never turns another file's connection into a deletion."""
    from provisioner.manifests import ownership
    from provisioner.plan.make import Reading

    documents, everything = _load(paths, secrets_dirs)
    declared, more = everything, 0
    if prune if whole_set is None else whole_set:
        declared, more = _whole_set(paths, documents, everything, secrets_dirs)
    rules = ownership.prune_rules(documents)
    chosen = selection.apply(
        everything.connections,
        more_sandboxes=[r.sandbox for r in rules] if prune else (),
        pruning=prune,
    )
    return Manifests(
        chosen,
        frozenset(c.identity for c in declared.connections),
        ownership.selected(rules, selection),
        Reading(len(documents), tuple(paths), more),
        selection.dataflows(chosen, everything.dataflows),
        frozenset(d.identity for d in declared.dataflows),
    )


def _whole_set(
    paths: Sequence[str],
    documents: list[Document],
    everything: Desired,
    secrets_dirs: Sequence[Path],
) -> tuple[Desired, int]:
    """What every manifest of the repository declares (ManifestError if one cannot be read),
    and how many manifests beyond the paths given that took."""
    from provisioner.manifests.validate import desired_manifests
    from provisioner.manifests.whole_set import repository_documents

    more, problems = repository_documents(paths, documents)
    if not more and not problems:
        return everything, 0
    return desired_manifests([*documents, *more], secrets_dirs, problems), len(more)
