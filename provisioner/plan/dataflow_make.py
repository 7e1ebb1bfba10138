"""The plan's dataflow half: a pure function of the declared dataflows, the connection plan
and each sandbox's `SandboxDataflows` (read with list pages only, plan/observe_dataflows.py).

A dataflow's identity is (org, sandbox, base connection, table); its flow is found by name,
flow spec and base connection id, and its other parts from the flow's own ids, never by
name. `now_s` (epoch seconds) is passed in: whether a start has passed is the one question
of time.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace

from provisioner import ownermark
from provisioner.dataflow import (
    FLOW_SPEC_ID,
    DataflowIdentity,
    DesiredDataflow,
    RemoteFlow,
    SandboxDataflows,
)
from provisioner.model import PruneRule
from provisioner.plan.dataflow_diff import compare
from provisioner.plan.dataflow_leftovers import SandboxIndex, leftovers
from provisioner.plan.dataflow_prune import (
    REPLACED_SUFFIX,
    LeftAlone,
    deletion_of,
    prune_flows,
    without_deleted_users,
)
from provisioner.plan.dataflows import PlannedChainDeletion, PlannedDataflow
from provisioner.plan.make import (
    Action,
    ListingFailed,
    Observed,
    Plan,
    PlannedConnection,
    PlanOptions,
)
from provisioner.plan.prune import SandboxKey

ObservedDataflows = Mapping[SandboxKey, SandboxDataflows | ListingFailed]
REPLACE_HINT = (
    "--replace-dataflows makes a new flow; with backfill it re-ingests history into the "
    "same dataset"
)
_BASE_PROBLEM = {
    Action.AMBIGUOUS: "shares its name with other connections",
    Action.FOREIGN: "is another owner's",
    Action.UNKNOWN: "could not be listed",
}


def plan_dataflows(
    plan: Plan,
    desired: Sequence[DesiredDataflow],
    observed: ObservedDataflows,
    connections: Observed,
    *,
    now_s: int,
    managed: Collection[DataflowIdentity] = (),
    rules: Sequence[PruneRule] = (),
    connection_globs: Sequence[str] = (),
) -> Plan:
    """The plan with its dataflows, chain deletions and what they leave alone."""
    bases = {p.desired.identity: p for p in plan.connections}
    entries: list[PlannedDataflow] = []
    chains: dict[str, PlannedChainDeletion] = {}  # by flow id: each chain deleted once
    left: list[LeftAlone] = []
    indexes = {
        key: SandboxIndex(listing) if isinstance(listing, SandboxDataflows) else listing
        for key, listing in observed.items()
    }
    for wanted in desired:
        base = bases.get((wanted.org, wanted.sandbox, wanted.connection))
        sandbox = indexes.get((wanted.org, wanted.sandbox))
        entry, more, alone = plan_dataflow(wanted, base, sandbox, plan.options, now_s)
        entries.append(entry)
        chains.update((c.flow.id, c) for c in more if c.flow.id not in chains)
        left += alone
    if plan.options.prune:
        declared: dict[SandboxKey, dict[str, set[str]]] = {}
        for wanted in desired:
            on = declared.setdefault((wanted.org, wanted.sandbox), {})
            on.setdefault(wanted.connection, set()).add(wanted.name)
        for key in dict.fromkeys((r.org, r.sandbox) for r in rules):
            listing, listed = observed.get(key), connections.get(key)
            if not isinstance(listing, SandboxDataflows) or isinstance(
                listed, ListingFailed | None
            ):
                continue  # nothing is deleted where a listing failed
            found, kept = prune_flows(
                key,
                listing,
                listed,
                declared.get(key, {}),
                managed,
                rules,
                connection_globs,
                {*chains, *(e.chain.flow.id for e in entries if e.chain)},
            )
            chains.update((c.flow.id, c) for c in found)
            left += kept
    deletions = tuple(chains.values())
    return replace(
        plan,
        dataflows=tuple(entries),
        chain_deletions=deletions,
        dataflows_left_alone=tuple(left),
        deletions=without_deleted_users(plan.deletions, observed, deletions),
    )


def plan_dataflow(
    desired: DesiredDataflow,
    base: PlannedConnection | None,
    sandbox: SandboxIndex | ListingFailed | None,
    options: PlanOptions,
    now_s: int,
) -> tuple[PlannedDataflow, list[PlannedChainDeletion], list[LeftAlone]]:
    """One declared dataflow's entry, the chains it deletes (its old flow when replaced,
    and a "(replaced)" flow of ours), and the leftovers it leaves alone."""
    if base is None or base.action in _BASE_PROBLEM:
        why = _BASE_PROBLEM.get(base.action) if base else "is not in this plan"
        reason = (
            f"its connection {desired.connection!r} {why}: nothing is planned for its "
            "dataflows until that is resolved"
        )
        return PlannedDataflow(desired, Action.UNKNOWN, reason=reason), [], []
    if not isinstance(sandbox, SandboxIndex):
        error = sandbox.message if sandbox else "not listed"
        reason = f"the dataflows of sandbox {desired.sandbox} could not be listed: {error}"
        return PlannedDataflow(desired, Action.UNKNOWN, reason=reason), [], []
    datasets = sandbox.datasets.get(desired.dataset, [])
    if not datasets:
        reason = (
            f"dataset {desired.dataset!r} does not exist in sandbox {desired.sandbox}: create "
            "it in AEP first (provision never creates datasets)"
        )
        return PlannedDataflow(desired, Action.UNKNOWN, reason=reason), [], []
    if len(datasets) > 1:
        ids = ", ".join(d.id for d in datasets)
        reason = (
            f"{len(datasets)} datasets are named {desired.dataset!r} in sandbox "
            f"{desired.sandbox} ({ids}); rename all but one in AEP"
        )
        return PlannedDataflow(desired, Action.AMBIGUOUS, reason=reason), [], []
    dataset = datasets[0]
    if base.action is Action.CREATE:  # its flows cannot exist yet: the base id comes later
        return PlannedDataflow(desired, Action.CREATE, dataset=dataset), [], []
    base_id = base.remote[0].id
    key = (desired.org, desired.sandbox)
    named = sandbox.flows_by_name
    answering = [f for f in named.get(desired.name, []) if _answers(f, base_id)]
    listing = sandbox.listing
    chains = [
        deletion_of(key, desired.connection, f, listing, "replaced", desired.owner)
        for f in named.get(desired.name + REPLACED_SUFFIX, [])
        if _answers(f, base_id) and ownermark.owner_of(f.description) == desired.owner
    ]
    entry = PlannedDataflow(desired, Action.CREATE, dataset=dataset, base_connection_id=base_id)
    if len(answering) > 1:
        ids = ", ".join(f.id for f in answering)
        reason = (
            f"{len(answering)} flows named {desired.name!r} read through this connection "
            f"({ids}); nothing will be done for it until only one remains"
        )
        return (
            replace(entry, action=Action.AMBIGUOUS, matches=tuple(answering), reason=reason),
            chains,
            [],
        )
    if not answering:
        reuse, discard, alone = leftovers(desired, dataset, base_id, sandbox)
        return replace(entry, reuse=reuse, discard=discard), chains, alone
    flow = answering[0]
    chain = sandbox.chain_of(flow)
    entry = replace(entry, chain=chain)
    mark = ownermark.owner_of(flow.description)
    if desired.owner is not None and mark not in (None, desired.owner):
        reason = (
            f"marked {ownermark.shown(mark)}, not owner={desired.owner}: another owner's "
            "manifests manage this flow, and its mark is never overwritten; remove the "
            "dataflow from this manifest, or, if the ownership really moves, edit the last "
            "line of the flow's description in Adobe's UI"
        )
        return replace(entry, action=Action.FOREIGN, reason=reason), chains, []
    found = compare(desired, chain, dataset, now_s, sandbox.dataset_names)
    entry = replace(entry, drift=found.drift)
    if found.blocked:
        what = "; ".join(found.blocked)
        if options.replace_dataflows:
            chains.append(
                deletion_of(key, desired.connection, flow, listing, "replaced", desired.owner)
            )
            reuse, discard, alone = leftovers(desired, dataset, base_id, sandbox)
            reason = (
                f"the API cannot change in place: {what}. The old flow is disabled, a new "
                "chain is made, then the old one is deleted; with backfill the new flow "
                "re-ingests history into the same dataset"
            )
            recreate = replace(
                entry, action=Action.RECREATE, reuse=reuse, discard=discard, reason=reason
            )
            return recreate, chains, alone
        if not options.update:  # --no-update: reported only, as for connections
            return replace(entry, action=Action.DRIFT), chains, []
        reason = f"the API cannot change in place: {what}; {REPLACE_HINT}"
        return replace(entry, action=Action.REPLACE, reason=reason), chains, []
    if not found.drift:
        return replace(entry, action=Action.UNCHANGED), chains, []
    if not options.update:
        return replace(entry, action=Action.DRIFT), chains, []
    update = replace(
        entry,
        action=Action.UPDATE,
        flow_ops=found.flow_ops,
        new_mapping=found.new_mapping,
        toggle=found.toggle,
    )
    return update, chains, []


def _answers(flow: RemoteFlow, base_id: str) -> bool:
    return flow.spec_id == FLOW_SPEC_ID and flow.base_connection_id == base_id
