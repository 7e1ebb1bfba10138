"""Which chains a plan deletes, and what it finds but leaves alone. Pure.

Two kinds of deletion (`PlannedChainDeletion.why`):
- "replaced": the old flow of a RECREATE, and a flow of ours named "<declared name>
  (replaced)" that an apply renamed and did not get to delete (whatever the flags: the
  replacement was reviewed when it was planned).
- "pruned" (only with --prune): a CRMToAEP flow carrying a claim's owner mark, whose base
  connection's name the claim matches (and --connection selects), that no manifest of the
  whole set declares. A flow the claim matches without that mark is left alone, shown by -v.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from provisioner import ownermark
from provisioner.dataflow import FLOW_SPEC_ID, DataflowIdentity, RemoteFlow, SandboxDataflows
from provisioner.manifests.ownership import claim
from provisioner.model import PruneRule, RemoteConnection
from provisioner.plan.dataflows import PlannedChainDeletion
from provisioner.plan.prune import PlannedDeletion, SandboxKey

REPLACED_SUFFIX = " (replaced)"


@dataclass(frozen=True)
class LeftAlone:
    """A flow or a leftover part that apply never touches, shown by `plan -v`: a flow a
    claim matches that does not carry the claim's owner mark, or a leftover source or
    target of a declared dataflow that is not marked by its owner (or not reusable)."""

    org: str
    sandbox: str
    connection: str  # the base connection's name
    kind: Literal["flow", "source", "target"]
    id: str
    name: str
    mark: str | None
    why: str

    @property
    def key(self) -> SandboxKey:
        return (self.org, self.sandbox)


def deletion_of(
    key: SandboxKey,
    connection: str,
    flow: RemoteFlow,
    sandbox: SandboxDataflows,
    why: Literal["pruned", "replaced"],
    owner: str | None,
    pattern: str | None = None,
) -> PlannedChainDeletion:
    """The chain of `flow` as the sandbox holds it: the parts already gone are not named."""
    sources = {s.id for s in sandbox.sources}
    targets = {t.id for t in sandbox.targets}
    return PlannedChainDeletion(
        *key,
        connection=connection,
        flow=flow,
        source_ids=tuple(i for i in flow.source_connection_ids if i in sources),
        target_ids=tuple(i for i in flow.target_connection_ids if i in targets),
        mapping_id=flow.mapping_id,
        why=why,
        owner=owner,
        pattern=pattern,
    )


def prune_flows(
    key: SandboxKey,
    sandbox: SandboxDataflows,
    connections: Sequence[RemoteConnection],
    declared: Mapping[str, Collection[str]],
    managed: Collection[DataflowIdentity],
    rules: Sequence[PruneRule],
    connection_globs: Sequence[str],
    planned: Collection[str] = (),
) -> tuple[list[PlannedChainDeletion], list[LeftAlone]]:
    """`declared`: base connection name -> the flow names the selected manifests declare
    on it. `managed`: every dataflow identity of the whole set; one declared outside the
    selection (its name unknown here) protects the flows of its table. `planned`: flow ids
    the plan already deletes (replaced) or manages."""
    names = {c.id: c.name for c in connections}
    tables = {s.id: s.table for s in sandbox.sources}
    deletions: list[PlannedChainDeletion] = []
    left: list[LeftAlone] = []
    for flow in sandbox.flows:
        base = names.get(flow.base_connection_id or "")
        if flow.spec_id != FLOW_SPEC_ID or base is None or flow.id in planned:
            continue
        found = claim(rules, (*key, base), connection_globs)
        if found is None or flow.name in declared.get(base, ()):
            continue
        table = next((tables[i] for i in flow.source_connection_ids if i in tables), None)
        if base not in declared and (*key, base, table or "") in managed:
            continue  # declared by a manifest outside the selection, by its table
        rule, pattern = found
        mark = ownermark.owner_of(flow.description)
        if mark == rule.owner:
            deletions.append(deletion_of(key, base, flow, sandbox, "pruned", rule.owner, pattern))
        else:
            why = (
                f"prune {pattern!r} of owner {rule.owner} matches its connection, but it "
                f"carries {ownermark.shown(mark)}"
            )
            left.append(LeftAlone(*key, base, "flow", flow.id, flow.name, mark, why))
    return deletions, left


def usage_of(sandbox: SandboxDataflows, deleted: Iterable[str] = ()) -> dict[str, tuple[str, ...]]:
    """Base connection id -> the names of the flows reading through it that stay (`deleted`:
    flow ids the plan deletes first): what the API's FLOW-1418-400 would still name."""
    gone = set(deleted)
    users: dict[str, list[str]] = {}
    for flow in sandbox.flows:
        if flow.base_connection_id and flow.id not in gone:
            users.setdefault(flow.base_connection_id, []).append(flow.name)
    return {base: tuple(sorted(names)) for base, names in users.items()}


def without_deleted_users(
    deletions: Sequence[PlannedDeletion],
    observed: Mapping[SandboxKey, object],
    chains: Sequence[PlannedChainDeletion],
) -> tuple[PlannedDeletion, ...]:
    """Connection deletions whose `used_by` no longer names the flows deleted first."""
    gone = {c.flow.id for c in chains}
    fixed = []
    for deletion in deletions:
        sandbox = observed.get(deletion.key)
        if isinstance(sandbox, SandboxDataflows):
            users = usage_of(sandbox, gone).get(deletion.remote.id, ())
            deletion = replace(deletion, used_by=users)
        fixed.append(deletion)
    return tuple(fixed)
