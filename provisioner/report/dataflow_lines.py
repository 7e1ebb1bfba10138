"""The lines a plan shows for dataflows, under their base connection: shared by the text
and markdown reports, which escape and colour them (flow names and reasons come from
manifests and the API: never written unescaped).

    + orders-prod/public.orders  public.orders -> dataset 'Orders', every 15 minute(s)  (f.yaml:14)
    ~ orders-prod/public.orders  (f-1) will update
        interval: '15' -> '30'
    - orders-prod/public.old  (f-2) will delete: ...
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from provisioner.ownermark import shown
from provisioner.plan.dataflow_diff import incremental_text
from provisioner.plan.dataflow_prune import LeftAlone
from provisioner.plan.dataflows import PlannedChainDeletion, PlannedDataflow
from provisioner.plan.make import DELETE_SYMBOL, SYMBOLS, Action, Plan

ConnectionKey = tuple[str, str, str]  # (org, sandbox, base connection name)
DELETE = "delete"  # the tone of a deletion line; an Action's otherwise, or None for notes


@dataclass(frozen=True)
class Line:
    tone: Action | str | None
    text: str  # raw: the writer escapes it
    indent: int = 6  # under the connection's line (2), beside its drift lines


def schedule_text(entry: PlannedDataflow) -> str:
    schedule = entry.desired.schedule
    text = (
        "once"
        if schedule.frequency == "once"
        else f"every {schedule.interval} {schedule.frequency}(s)"
    )
    return text + ("" if entry.desired.enabled else ", disabled")


def describe(entry: PlannedDataflow) -> str:
    """What happens to one dataflow, after its name."""
    d, action = entry.desired, entry.action
    flow_id = f"({entry.chain.flow.id}) " if entry.chain else ""
    if action is Action.CREATE:
        dataset = f"dataset {d.dataset!r}" + (f" ({entry.dataset.id})" if entry.dataset else "")
        text = (
            f"{d.table} -> {dataset}, {schedule_text(entry)}, incremental "
            f"{incremental_text(d.incremental)}  ({d.source.file}:{d.source.line})"
        )
        return text + _leftovers(entry)
    if action is Action.UPDATE:
        steps = ["flow"] if entry.flow_ops else []
        steps += ["mapping (a new mapping set version)"] if entry.new_mapping else []
        steps += [f"state ({entry.toggle})"] if entry.toggle else []
        return f"{flow_id}will update: {', '.join(steps)}"
    if action is Action.UNCHANGED:
        return flow_id.strip()
    if action is Action.DRIFT:
        return f"{flow_id}drifted, not changed by apply"
    if action is Action.RECREATE:
        return f"{flow_id}will be replaced: {entry.reason}{_leftovers(entry)}"
    return f"{flow_id}ERROR: {entry.reason}"


def _leftovers(entry: PlannedDataflow) -> str:
    text = "".join(f"; reuses leftover {r.kind} {r.id}" for r in entry.reuse)
    return text + "".join(f"; then deletes leftover {r.kind} {r.id}" for r in entry.discard)


def describe_chain_deletion(deletion: PlannedChainDeletion) -> str:
    if deletion.why == "pruned":
        why = (
            f"marked {shown(deletion.owner)}, no manifest declares it, and prune "
            f"{deletion.pattern!r} of owner {deletion.owner} claims its connection"
        )
    else:
        why = "the old flow of a replaced dataflow, once the new one exists"
    parts = [f"target {i}" for i in deletion.target_ids] + [
        f"source {i}" for i in deletion.source_ids
    ]
    text = f"({deletion.flow.id}) will delete: {why}"
    text += f"; then its {' and '.join(parts)}" if parts else ""
    if deletion.mapping_id:
        text += f"; mapping set {deletion.mapping_id} is left behind (Adobe documents no delete)"
    return text


def entry_lines(entry: PlannedDataflow, verbose: bool) -> list[Line]:
    if entry.action is Action.UNCHANGED and not verbose:
        return []
    detail = describe(entry)
    lines = [Line(entry.action, f"{SYMBOLS[entry.action]} {entry.desired.name}  {detail}".rstrip())]
    lines += [
        Line(None, f"{d.field}: {d.observed!r} -> {d.desired!r}", indent=10) for d in entry.drift
    ]
    return lines


@dataclass
class DataflowLines:
    """The plan's dataflow lines grouped by base connection, in plan order, in one pass."""

    verbose: bool = False
    by_connection: dict[ConnectionKey, list[Line]] = field(default_factory=dict)
    unchanged: dict[tuple[str, str], int] = field(default_factory=dict)

    @classmethod
    def of(cls, plan: Plan, *, verbose: bool = False) -> DataflowLines:
        grouped = cls(verbose)
        for entry in plan.dataflows:
            d = entry.desired
            grouped._add((d.org, d.sandbox, d.connection), entry_lines(entry, verbose))
            if entry.action is Action.UNCHANGED:
                key = (d.org, d.sandbox)
                grouped.unchanged[key] = grouped.unchanged.get(key, 0) + 1
        for deletion in plan.chain_deletions:
            text = f"{DELETE_SYMBOL} {deletion.flow.name}  {describe_chain_deletion(deletion)}"
            grouped._add(
                (deletion.org, deletion.sandbox, deletion.connection), [Line(DELETE, text)]
            )
        if verbose:
            for alone in plan.dataflows_left_alone:
                grouped._add(
                    _key(alone),
                    [Line(None, f". {alone.name} ({alone.id}) left alone: {alone.why}")],
                )
        return grouped

    def _add(self, key: ConnectionKey, lines: Iterable[Line]) -> None:
        lines = list(lines)
        if lines:
            self.by_connection.setdefault(key, []).extend(lines)

    def pop(self, key: ConnectionKey) -> list[Line]:
        """The lines of one connection, taken: what is left at the end has no line of its
        own (a base connection neither declared nor deleted)."""
        return self.by_connection.pop(key, [])

    def rest(self, org: str, sandbox: str) -> dict[str, list[Line]]:
        """The lines of connections of this sandbox that were not popped, by name."""
        keys = [k for k in self.by_connection if k[:2] == (org, sandbox)]
        return {k[2]: self.by_connection.pop(k) for k in keys}


def _key(alone: LeftAlone) -> ConnectionKey:
    return (alone.org, alone.sandbox, alone.connection)
