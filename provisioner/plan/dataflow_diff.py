"""What differs between a declared dataflow and the chain of its one flow, what of that the
API can change in place, and the flow's JSON Patch for it. Pure: tested with literal records.

In place [reference 3.4, UPD, UPD-UI]: the description and owner mark, frequency and interval
while neither side is `once`, a start that is still in the future, the mapping (a new version
of the mapping set, not for a `once` flow), and enabled (the flow action). Everything else
needs a new chain: the table, the columns, the dataset, the incremental column, once <->
periodic, any change to a `once` flow, a start that has passed, and a chain missing a part.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from provisioner import ownermark
from provisioner.dataflow import Dataset, DesiredDataflow, Incremental, MappingRule, Schedule
from provisioner.plan.dataflows import Chain, Toggle
from provisioner.plan.diff import OWNER, Drift, PatchOp

# Flow states that read as on or off; a transient one settles into the first word's state.
_ENABLED = {"enabled": True, "enabling": True, "disabled": False, "disabling": False}
SCHEDULE_PATH = "/scheduleParams/"


@dataclass(frozen=True)
class Comparison:
    drift: tuple[Drift, ...]
    flow_ops: tuple[PatchOp, ...]  # without the Mapping entry (apply adds it)
    new_mapping: bool
    toggle: Toggle | None
    blocked: tuple[str, ...]  # what cannot change in place, one phrase each


def compare(
    desired: DesiredDataflow,
    chain: Chain,
    dataset: Dataset,
    now_s: int,
    datasets: Mapping[str, str] | None = None,
) -> Comparison:
    """`datasets`: Catalog id -> name, to show a changed dataset by name."""
    found = _Found()
    _parts(desired, chain, dataset, found, datasets or {})
    _description(desired, chain, found)
    once = _schedule(desired.schedule, chain.flow.schedule, now_s, found)
    if chain.mapping is not None and set(desired.mapping) != set(chain.mapping.rules):
        found.drift.append(
            Drift("mapping", rules_text(desired.mapping), rules_text(chain.mapping.rules))
        )
        if once:
            found.blocked.append("the mapping of a flow scheduled once")
        else:
            found.new_mapping = True
    current = _ENABLED.get(chain.flow.state or "")
    if current is not None and current != desired.enabled:
        wanted = "enabled" if desired.enabled else "disabled"
        found.drift.append(Drift("state", wanted, chain.flow.state))
        found.toggle = "enable" if desired.enabled else "disable"
    return Comparison(
        tuple(found.drift), tuple(found.ops), found.new_mapping, found.toggle, tuple(found.blocked)
    )


class _Found:
    def __init__(self) -> None:
        self.drift: list[Drift] = []
        self.ops: list[PatchOp] = []
        self.blocked: list[str] = []
        self.new_mapping = False
        self.toggle: Toggle | None = None


def _parts(
    desired: DesiredDataflow,
    chain: Chain,
    dataset: Dataset,
    found: _Found,
    datasets: Mapping[str, str],
) -> None:
    """The source, target and Copy transformation: nothing of them changes in place."""
    flow = chain.flow
    missing = [
        f"{part} {ids[0] if ids else '(none)'}"
        for part, ids, there in (
            ("source connection", flow.source_connection_ids, chain.source),
            ("target connection", flow.target_connection_ids, chain.target),
            ("mapping set", (flow.mapping_id,) if flow.mapping_id else (), chain.mapping),
        )
        if there is None
    ]
    if missing:
        found.drift.append(Drift("chain", "complete", "missing " + ", ".join(missing)))
        found.blocked.append(f"its chain is broken (missing {', '.join(missing)})")
    if chain.source is not None:
        if chain.source.table != desired.table:
            found.drift.append(Drift("table", desired.table, chain.source.table))
            found.blocked.append("the table")
        wanted = desired.columns
        if wanted is not None and set(wanted) != set(chain.source.columns):
            found.drift.append(
                Drift("columns", ", ".join(sorted(wanted)), ", ".join(sorted(chain.source.columns)))
            )
            found.blocked.append("the columns")
    if chain.target is not None and chain.target.dataset_id != dataset.id:
        observed = chain.target.dataset_id
        name = datasets.get(observed or "")
        was = f"{name} ({observed})" if name is not None else observed
        found.drift.append(Drift("dataset", f"{dataset.name} ({dataset.id})", was))
        found.blocked.append(f"the dataset ({desired.dataset})")
    if _incremental_key(desired.incremental) != _incremental_key(flow.incremental):
        found.drift.append(
            Drift(
                "incremental",
                incremental_text(desired.incremental),
                incremental_text(flow.incremental),
            )
        )
        found.blocked.append("the incremental column")


def _description(desired: DesiredDataflow, chain: Chain, found: _Found) -> None:
    """The text and the owner mark, compared apart as for connections (plan/diff.py)."""
    remote = chain.flow.description
    text, mark = ownermark.split(remote)
    wanted = desired.description
    if mark is not None:  # the text before a mark reads back without trailing spaces
        wanted = (wanted or "").rstrip() or None
    changed = False
    if (wanted or None) != (text or None):
        found.drift.append(Drift("description", wanted, text))
        changed = True
    if desired.owner is not None and mark != desired.owner:
        found.drift.append(Drift(OWNER, desired.owner, mark))
        changed = True
    if not changed:
        return
    # Written whole, text and mark together; an update never drops the mark it carries.
    value = ownermark.compose(desired.description, desired.owner or mark)
    if value is None:
        found.ops.append({"op": "remove", "path": "/description"})
    else:
        op = "replace" if remote else "add"
        found.ops.append({"op": op, "path": "/description", "value": value})


def _schedule(wanted: Schedule, params: Mapping[str, object], now_s: int, found: _Found) -> bool:
    """Compare scheduleParams (strings on a GET [doc UPD]); True when the flow runs once."""
    frequency = _text(params.get("frequency"))
    if (frequency == "once") != (wanted.frequency == "once"):
        found.drift.append(Drift("frequency", wanted.frequency, frequency))
        found.blocked.append("once <-> periodic")
        return frequency == "once"
    start = _text(params.get("startTime"))
    start_differs = wanted.start is not None and str(wanted.start) != start
    if frequency == "once":
        if start_differs:
            found.drift.append(Drift("start", str(wanted.start), start))
            found.blocked.append("the schedule of a flow scheduled once")
        return True
    if wanted.frequency != frequency:
        _in_place(found, "frequency", wanted.frequency, frequency)
    if wanted.interval is not None and str(wanted.interval) != _text(params.get("interval")):
        _in_place(found, "interval", str(wanted.interval), _text(params.get("interval")))
    if start_differs:
        if start is not None and start.isdigit() and int(start) > now_s:
            _in_place(found, "startTime", str(wanted.start), start, shown="start")
        else:
            found.drift.append(Drift("start", str(wanted.start), start))
            found.blocked.append("a start time that has passed")
    backfill = _text(params.get("backfill"))
    if wanted.backfill is not None and backfill is not None:
        text = "true" if wanted.backfill else "false"
        if text != backfill.lower():
            _in_place(found, "backfill", text, backfill)
    return False


def _in_place(
    found: _Found, key: str, desired: str, observed: str | None, *, shown: str | None = None
) -> None:
    found.drift.append(Drift(shown or key, desired, observed))
    op = "replace" if observed is not None else "add"
    # Values as strings, as the flow is created and as a GET shows them [doc UPD].
    found.ops.append({"op": op, "path": SCHEDULE_PATH + key, "value": desired})


def _text(value: object) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _incremental_key(value: Incremental | None) -> tuple[str | None, ...] | None:
    if value is None:
        return None
    return (value.column, value.date_format or None, value.timezone or None)


def incremental_text(value: Incremental | None) -> str | None:
    if value is None:
        return None
    extra = [part for part in (value.date_format, value.timezone) if part]
    return value.column + (f" ({', '.join(extra)})" if extra else "")


def rule_text(rule: MappingRule) -> str:
    source = rule.source if rule.kind == "attribute" else f"expression {rule.source}"
    return f"{source} -> {rule.destination}"


def rules_text(rules: Iterable[MappingRule]) -> str:
    """The rules in a stable order (by destination, each unique): order means nothing."""
    return "; ".join(rule_text(r) for r in sorted(rules, key=lambda r: (r.destination, r.source)))
