"""What a plan says about dataflows: one entry per declared dataflow, and the chains to delete.

The records only; the pure function that makes them from the manifests and a sandbox's
`SandboxDataflows` is `plan/dataflow_make.py`. Apply walks these entries and decides nothing
they do not say (the mapping set's new version number is the one thing only apply learns).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from provisioner.dataflow import (
    DataflowIdentity,
    Dataset,
    DesiredDataflow,
    RemoteFlow,
    RemoteMappingSet,
    RemoteSourceConnection,
    RemoteTargetConnection,
)
from provisioner.plan.diff import Drift, PatchOp
from provisioner.plan.make import Action
from provisioner.plan.prune import SandboxKey

Toggle = Literal["enable", "disable"]


@dataclass(frozen=True)
class Chain:
    """One flow and what it references, found from its own ids, never by name. A part the
    sandbox no longer holds is None (someone deleted it: the flow is broken)."""

    flow: RemoteFlow
    source: RemoteSourceConnection | None
    target: RemoteTargetConnection | None
    mapping: RemoteMappingSet | None


@dataclass(frozen=True)
class Leftover:
    """A source or target connection of a chain that a run began and never finished (the
    flow was not created): no flow references it. Reused by the next create of the same
    dataflow when it matches; otherwise deleted when it carries this owner's mark."""

    kind: Literal["source", "target"]
    id: str
    name: str
    etag: str


@dataclass(frozen=True)
class PlannedDataflow:
    desired: DesiredDataflow
    action: Action  # CREATE, UPDATE, UNCHANGED, DRIFT, RECREATE, or a problem (see make.py)
    chain: Chain | None = None  # the one flow found, with its parts
    matches: tuple[RemoteFlow, ...] = ()  # AMBIGUOUS: every flow that answers to it
    dataset: Dataset | None = None  # the dataset its name resolved to
    # None when its base connection is created by the same apply (known only then).
    base_connection_id: str | None = None
    drift: tuple[Drift, ...] = ()
    # UPDATE: the flow's JSON Patch (name, description, schedule), without the Mapping entry,
    # which apply adds once the mapping set's new version is known.
    flow_ops: tuple[PatchOp, ...] = ()
    new_mapping: bool = False  # UPDATE: PUT the mapping set, then point the flow at it
    toggle: Toggle | None = None  # UPDATE: the flow action, after checking its state
    reuse: tuple[Leftover, ...] = ()  # CREATE/RECREATE: a half chain to build on
    # Leftovers of this dataflow that do not match it and carry this owner's mark: deleted
    # once the new chain exists. Unmarked ones are never deleted (shown by plan -v).
    discard: tuple[Leftover, ...] = ()
    reason: str | None = None  # a problem's or a RECREATE's why, and what to do

    @property
    def key(self) -> SandboxKey:
        return (self.desired.org, self.desired.sandbox)

    @property
    def identity(self) -> DataflowIdentity:
        return self.desired.identity


@dataclass(frozen=True)
class PlannedChainDeletion:
    """A chain `apply` deletes, in the order flow -> target -> source: a flow no manifest
    declares carrying the claiming owner's mark (`--prune`), or an old flow a RECREATE
    replaces (deleted after its new chain exists). The mapping set stays (Adobe documents
    no delete) and is reported as left behind."""

    org: str
    sandbox: str
    connection: str  # the base connection's name, or its id when it has none we know
    flow: RemoteFlow
    source_ids: tuple[str, ...]
    target_ids: tuple[str, ...]
    mapping_id: str | None
    why: Literal["pruned", "replaced"]
    owner: str | None = None
    pattern: str | None = None  # the claim's pattern that matched the base connection

    @property
    def key(self) -> SandboxKey:
        return (self.org, self.sandbox)
