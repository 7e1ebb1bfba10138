"""Stage 4, plan: a pure function of what the manifests want and what the API has.

No I/O here: `make_plan(desired, observed)` is tested with literal values, and `apply`
walks the result without deciding anything the plan did not. What may change is the
caller's explicit choice (`PlanOptions`): by default a plan only creates, as it always did;
the command line turns updates on unless `--no-update`, and rotation and pruning only on
their flags.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from provisioner import connectors, ownermark
from provisioner.model import DesiredConnection, Identity, PruneRule, RemoteConnection
from provisioner.plan.diff import Drift, drift_between, not_in_place, readable_fields
from provisioner.plan.lookalike import LookAlike, find_lookalikes
from provisioner.plan.prune import KeptClaim, PlannedDeletion, SandboxKey, prune_sandbox
from provisioner.plan.records import (
    CHANGES,
    CREATE_ONLY,
    DEFAULT_LIFECYCLE,
    DELETE_SYMBOL,
    PROBLEMS,
    SYMBOLS,
    Action,
    ListingFailed,
    Observed,
    PlannedConnection,
    PlanOptions,
    Reading,
    SandboxState,
    Usage,
)

if TYPE_CHECKING:  # plan/dataflows.py imports this module's records
    from provisioner.plan.dataflow_prune import LeftAlone
    from provisioner.plan.dataflows import PlannedChainDeletion, PlannedDataflow

# The records live in plan/records.py; every stage imports them from here.
__all__ = [
    "CHANGES",
    "CREATE_ONLY",
    "DEFAULT_LIFECYCLE",
    "DELETE_SYMBOL",
    "PROBLEMS",
    "SYMBOLS",
    "Action",
    "Drift",
    "KeptClaim",
    "ListingFailed",
    "Observed",
    "PlanOptions",
    "PlannedConnection",
    "PlannedDeletion",
    "Reading",
    "SandboxKey",
    "SandboxState",
    "Usage",
    "drift_between",
    "make_plan",
    "readable_fields",
]


@dataclass(frozen=True)
class Plan:
    connections: tuple[PlannedConnection, ...]
    sandboxes: tuple[SandboxState, ...]
    counts: Mapping[Action, int] = field(default_factory=dict)
    deletions: tuple[PlannedDeletion, ...] = ()
    options: PlanOptions = CREATE_ONLY
    # org -> why nothing was planned there (its credential was refused): one line each.
    refused: Mapping[str, str] = field(default_factory=dict)
    # Remote names that read like a declared one but are not it (plan/lookalike.py).
    lookalikes: tuple[LookAlike, ...] = ()
    reading: Reading | None = None
    dataflows: tuple[PlannedDataflow, ...] = ()
    chain_deletions: tuple[PlannedChainDeletion, ...] = ()
    # Flows and leftover parts found but never touched (plan -v): plan/dataflow_prune.py.
    dataflows_left_alone: tuple[LeftAlone, ...] = ()

    def by_sandbox(self) -> dict[SandboxKey, list[PlannedConnection]]:
        """The connections of each sandbox, in plan order: one pass, for the reports (a
        filter per sandbox would be quadratic at 500 sandboxes x 100 connections)."""
        grouped: dict[SandboxKey, list[PlannedConnection]] = {}
        for planned in self.connections:
            grouped.setdefault(planned.key, []).append(planned)
        return grouped

    def deletions_by_sandbox(self) -> dict[SandboxKey, list[PlannedDeletion]]:
        """The deletions of each sandbox, in plan order, in one pass (as by_sandbox)."""
        grouped: dict[SandboxKey, list[PlannedDeletion]] = {}
        for deletion in self.deletions:
            grouped.setdefault(deletion.key, []).append(deletion)
        return grouped

    @property
    def creates(self) -> tuple[PlannedConnection, ...]:
        return tuple(c for c in self.connections if c.action is Action.CREATE)

    @property
    def patches(self) -> tuple[PlannedConnection, ...]:
        return tuple(c for c in self.connections if c.patches)

    @property
    def has_changes(self) -> bool:
        return (
            bool(self.deletions or self.chain_deletions)
            or any(c.action in CHANGES for c in self.connections)
            or any(d.action in CHANGES for d in self.dataflows)
        )

    @property
    def has_errors(self) -> bool:
        return any(c.action in PROBLEMS for c in self.connections) or any(
            d.action in PROBLEMS for d in self.dataflows
        )

    def summary(self) -> str:
        n = self.counts
        # "to update" and the others only when there are any: a create-only plan reads as
        # it always did, for the pipelines that parse it.
        extra = [
            f"{n.get(action, 0)} to {action.value}"
            for action in (Action.UPDATE, Action.ROTATE)
            if n.get(action, 0)
        ]
        if self.deletions:
            extra.append(f"{len(self.deletions)} to delete")
        line = (
            f"Plan: {n.get(Action.CREATE, 0)} to add, "
            + "".join(f"{part}, " for part in extra)
            + f"{n.get(Action.UNCHANGED, 0)} unchanged, {n.get(Action.DRIFT, 0)} drifted."
        )
        problems = sum(n.get(action, 0) for action in PROBLEMS)
        if problems:
            line += f" {problems} in error."
        if self.dataflows or self.chain_deletions:  # without any: the line as it always was
            line += " " + self.dataflow_summary()
        return line

    def dataflow_summary(self) -> str:
        n = Counter(d.action for d in self.dataflows)
        extra = [f"{n[Action.UPDATE]} to update"] if n[Action.UPDATE] else []
        extra += [f"{n[Action.RECREATE]} to replace"] if n[Action.RECREATE] else []
        extra += [f"{len(self.chain_deletions)} to delete"] if self.chain_deletions else []
        line = (
            f"Dataflows: {n[Action.CREATE]} to add, "
            + "".join(f"{part}, " for part in extra)
            + f"{n[Action.UNCHANGED]} unchanged"
            + (f", {n[Action.DRIFT]} drifted." if n[Action.DRIFT] else ".")
        )
        problems = sum(n[action] for action in PROBLEMS)
        return line + (f" {problems} in error." if problems else "")


def make_plan(
    desired: Sequence[DesiredConnection],
    observed: Observed,
    managed: Collection[Identity] = (),
    *,
    options: PlanOptions = CREATE_ONLY,
    rules: Sequence[PruneRule] = (),
    connection_globs: Sequence[str] = (),
    usage: Usage | None = None,
) -> Plan:
    """`managed`: identities the manifests name beyond `desired` (outside a selection);
    remote connections with those names are neither unmanaged nor pruned. `rules`: the
    selected `prune:` claims; they only matter with `options.prune`. `connection_globs`:
    the `--connection` selection, which limits pruning too. `usage`: the dataflows that
    read through each connection, where they were listed."""
    by_sandbox: dict[SandboxKey, list[DesiredConnection]] = {}
    for connection in desired:
        by_sandbox.setdefault((connection.org, connection.sandbox), []).append(connection)
    clouds = {key: wanted[0].cloud for key, wanted in by_sandbox.items()}
    if options.prune:
        for rule in rules:
            clouds.setdefault((rule.org, rule.sandbox), rule.cloud)
    managed_names: dict[SandboxKey, set[str]] = {}  # grouped once: not a scan per sandbox
    for org, sandbox, name in managed:
        managed_names.setdefault((org, sandbox), set()).add(name)
    planned: list[PlannedConnection] = []
    deletions: list[PlannedDeletion] = []
    lookalikes: list[LookAlike] = []
    states: list[SandboxState] = []
    for key, cloud in clouds.items():
        wanted = by_sandbox.get(key, [])
        remote = observed.get(key, ListingFailed("not listed"))
        if isinstance(remote, ListingFailed):
            states.append(SandboxState(key[0], key[1], cloud, error=remote.message))
            planned.extend(PlannedConnection(c, Action.UNKNOWN) for c in wanted)
            continue
        by_name: dict[str, list[RemoteConnection]] = {}
        for item in remote:
            by_name.setdefault(item.name, []).append(item)
        wanted_names = {c.name for c in wanted}
        wanted_names |= managed_names.get(key, set())
        others = tuple(
            sorted(
                name for name, items in by_name.items() if name not in wanted_names for _ in items
            )
        )
        lookalikes += find_lookalikes(*key, remote, wanted_names)
        planned.extend(plan_one(c, tuple(by_name.get(c.name, ())), options) for c in wanted)
        kept: list[KeptClaim] = []
        if options.prune:
            users = (usage or {}).get(key, {})
            found = prune_sandbox(key, by_name, wanted_names, rules, connection_globs, users)
            deletions += found[0]
            kept += found[1]
        states.append(
            SandboxState(*key, cloud, len(others), unmanaged_names=others, kept=tuple(kept))
        )
    counts = Counter(c.action for c in planned)
    plan = Plan(tuple(planned), tuple(states), dict(counts), tuple(deletions), options)
    return replace(plan, lookalikes=tuple(lookalikes))


def plan_one(
    desired: DesiredConnection,
    remote: tuple[RemoteConnection, ...],
    options: PlanOptions = CREATE_ONLY,
) -> PlannedConnection:
    if not remote:
        return PlannedConnection(desired, Action.CREATE)
    if len(remote) > 1:
        return PlannedConnection(desired, Action.AMBIGUOUS, remote)
    mark = ownermark.owner_of(remote[0].description)
    if desired.owner is not None and mark not in (None, desired.owner):
        reason = (
            f"marked {ownermark.shown(mark)}, not owner={desired.owner}: another owner's "
            "manifests manage it, and its mark is never overwritten; remove it from this "
            "manifest, or, if the ownership really moves, edit the last line of its "
            "description in Adobe's UI"
        )
        return PlannedConnection(desired, Action.FOREIGN, remote, reason=reason)
    drift = tuple(drift_between(desired, remote[0]))
    blocked = not_in_place(drift, remote[0], desired)
    if blocked and (options.update or options.rotate):
        return PlannedConnection(desired, Action.REPLACE, remote, drift, reason=blocked)
    if drift and options.update:
        return PlannedConnection(desired, Action.UPDATE, remote, drift, rotate=options.rotate)
    if options.rotate:
        return PlannedConnection(desired, Action.ROTATE, remote, drift, rotate=True)
    return PlannedConnection(desired, Action.DRIFT if drift else Action.UNCHANGED, remote, drift)


def destination(desired: DesiredConnection) -> str:
    """Where the connection points, for a reviewer: user@host:port/database and TLS."""
    return connectors.of(desired).destination(desired)


def replan(plan: Plan, entries: Mapping[int, PlannedConnection]) -> Plan:
    """The plan with the entries at the given indexes replaced (counts recomputed)."""
    planned = [entries.get(i, p) for i, p in enumerate(plan.connections)]
    counts = dict(Counter(p.action for p in planned))
    return replace(plan, connections=tuple(planned), counts=counts)


def resolve_ambiguous(plan: Plan, observed: Observed) -> Plan:
    """The plan with each ambiguous entry re-planned against a newer listing of its sandbox.

    Only ambiguities can change: an entry that now has exactly one remote connection
    becomes unchanged (or drifted, or updated, as the options say); any other count stays
    an error.
    """
    changed: dict[int, PlannedConnection] = {}
    for index, entry in enumerate(plan.connections):
        remote = observed.get(entry.key)
        if entry.action is Action.AMBIGUOUS and not isinstance(remote, ListingFailed | None):
            matches = tuple(r for r in remote if r.name == entry.desired.name)
            if len(matches) == 1:
                changed[index] = plan_one(entry.desired, matches, plan.options)
    return replan(plan, changed)


def plan_of_org(plan: Plan, org: str) -> Plan:
    """The part of a plan in one org, with its own counts."""
    connections = tuple(p for p in plan.connections if p.desired.org == org)
    return replace(
        plan,
        connections=connections,
        sandboxes=tuple(s for s in plan.sandboxes if s.org == org),
        counts=dict(Counter(p.action for p in connections)),
        deletions=tuple(d for d in plan.deletions if d.org == org),
        refused={o: why for o, why in plan.refused.items() if o == org},
        lookalikes=tuple(a for a in plan.lookalikes if a.org == org),
        dataflows=tuple(d for d in plan.dataflows if d.desired.org == org),
        chain_deletions=tuple(d for d in plan.chain_deletions if d.org == org),
        dataflows_left_alone=tuple(a for a in plan.dataflows_left_alone if a.org == org),
    )
