"""A sandbox's dataflow listing indexed once, and the leftovers of a chain a run began and
never finished. Pure.

A leftover is a source connection (this base connection, this table, the dataflow's source
name) or a target connection (its target name) that no flow references: the flow create
failed or the run was killed. Names are used here only because nothing else can find a part
no flow names; what is done with one still depends on its owner mark:
- it matches the dataflow (columns, dataset) and carries its owner's mark: reused;
- it does not match and carries its owner's mark: discarded once the new chain exists;
- otherwise (unmarked, another owner's, or a second match): left alone, shown by -v.
"""

from __future__ import annotations

from functools import cached_property
from typing import Literal

from provisioner import ownermark
from provisioner.dataflow import (
    Dataset,
    DesiredDataflow,
    RemoteFlow,
    RemoteSourceConnection,
    RemoteTargetConnection,
    SandboxDataflows,
)
from provisioner.plan.dataflow_prune import LeftAlone
from provisioner.plan.dataflows import Chain, Leftover


class SandboxIndex:
    """One sandbox's listing looked up by name and id: each declared dataflow is then
    planned in constant time, not with a scan of every flow (2,000 flows in a sandbox)."""

    def __init__(self, listing: SandboxDataflows) -> None:
        self.listing = listing

    @cached_property
    def flows_by_name(self) -> dict[str, list[RemoteFlow]]:
        found: dict[str, list[RemoteFlow]] = {}
        for flow in self.listing.flows:
            found.setdefault(flow.name, []).append(flow)
        return found

    @cached_property
    def sources(self) -> dict[str, RemoteSourceConnection]:
        return {s.id: s for s in self.listing.sources}

    @cached_property
    def targets(self) -> dict[str, RemoteTargetConnection]:
        return {t.id: t for t in self.listing.targets}

    @cached_property
    def referenced(self) -> frozenset[str]:
        """Every source and target connection id some flow names."""
        return frozenset(
            i
            for flow in self.listing.flows
            for i in (*flow.source_connection_ids, *flow.target_connection_ids)
        )

    @cached_property
    def datasets(self) -> dict[str, list[Dataset]]:
        found: dict[str, list[Dataset]] = {}
        for dataset in self.listing.datasets:
            found.setdefault(dataset.name, []).append(dataset)
        return found

    @cached_property
    def dataset_names(self) -> dict[str, str]:
        return {d.id: d.name for d in self.listing.datasets}

    def chain_of(self, flow: RemoteFlow) -> Chain:
        """The flow's parts, found by its own ids; a part no longer there is None."""
        source = next(
            (self.sources[i] for i in flow.source_connection_ids if i in self.sources), None
        )
        target = next(
            (self.targets[i] for i in flow.target_connection_ids if i in self.targets), None
        )
        mapping = self.listing.mapping_sets.get(flow.mapping_id) if flow.mapping_id else None
        return Chain(flow, source, target, mapping)


def leftovers(
    desired: DesiredDataflow, dataset: Dataset, base_id: str, index: SandboxIndex
) -> tuple[tuple[Leftover, ...], tuple[Leftover, ...], list[LeftAlone]]:
    """(reuse, discard, left alone) for a dataflow about to be created."""
    reuse: list[Leftover] = []
    discard: list[Leftover] = []
    alone: list[LeftAlone] = []
    parts: list[tuple[Literal["source", "target"], str, str, str, str | None, bool]] = [
        ("source", s.id, s.name, s.etag, s.description, _fits_source(desired, s))
        for s in index.listing.sources
        if s.base_connection_id == base_id
        and s.table == desired.table
        and s.name == desired.source_name
        and s.id not in index.referenced
    ]
    parts += [
        ("target", t.id, t.name, t.etag, t.description, t.dataset_id == dataset.id)
        for t in index.listing.targets
        if t.name == desired.target_name and t.id not in index.referenced
    ]
    for kind, part_id, name, etag, description, fits in parts:
        mark = ownermark.owner_of(description)
        leftover = Leftover(kind, part_id, name, etag)
        ours = mark == desired.owner
        if ours and fits and not any(r.kind == kind for r in reuse):
            reuse.append(leftover)
        elif ours and desired.owner is not None:
            discard.append(leftover)
        else:
            why = (
                f"a leftover {kind} connection of dataflow {desired.name!r} that no flow uses, "
                f"carrying {ownermark.shown(mark)}: never reused or deleted by provision"
            )
            alone.append(
                LeftAlone(
                    desired.org, desired.sandbox, desired.connection, kind, part_id, name, mark, why
                )
            )
    return tuple(reuse), tuple(discard), alone


def _fits_source(desired: DesiredDataflow, source: RemoteSourceConnection) -> bool:
    # Without declared columns a source made with every column explore listed still fits.
    return desired.columns is None or set(desired.columns) == set(source.columns)
