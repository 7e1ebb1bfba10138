"""The plan for people: Terraform-like symbols, one line per change, a closing summary.

Names, ids and errors come from manifests and the API: every line is written through
`escape.line` (before its colour), so none can break a line, paint the terminal or speak to
the CI runner.
"""

from __future__ import annotations

from typing import TextIO

from provisioner import escape
from provisioner.manifests.load import printable
from provisioner.ownermark import shown
from provisioner.plan.lookalike import LookAlike
from provisioner.plan.make import (
    DELETE_SYMBOL,
    SYMBOLS,
    Action,
    KeptClaim,
    Plan,
    PlannedConnection,
    PlannedDeletion,
    Reading,
    SandboxState,
    destination,
    plan_of_org,
)
from provisioner.report.dataflow_lines import DELETE, DataflowLines, Line

_COLOURS = {
    Action.CREATE: "\033[32m",
    Action.UPDATE: "\033[33m",
    Action.ROTATE: "\033[33m",
    Action.DRIFT: "\033[33m",
    Action.REPLACE: "\033[31m",
    Action.AMBIGUOUS: "\033[31m",
    Action.FOREIGN: "\033[31m",
    Action.UNKNOWN: "\033[31m",
    Action.RECREATE: "\033[33m",
}
_DELETE_COLOUR = "\033[31m"
_WARNING_COLOUR = "\033[33m"
_RESET = "\033[0m"


def secret_source(planned: PlannedConnection) -> str:
    return " and ".join(str(ref) for ref in planned.desired.secrets)


def describe(planned: PlannedConnection) -> str:
    """What happens to one entry, after its name (shared with the markdown report)."""
    c = planned.desired
    action = planned.action
    if action is Action.CREATE:
        return f"{destination(c)}  ({c.source.file}:{c.source.line})"
    if action is Action.AMBIGUOUS:
        ids = ", ".join(r.id for r in planned.remote)
        return (
            f"ERROR: {len(planned.remote)} connections share this name ({ids}); "
            "nothing will be done for it until only one remains"
        )
    remote_id = planned.remote[0].id if planned.remote else ""
    if action is Action.UPDATE:
        text = f"({remote_id}) will update"
        return text + (
            f" and re-send its secret from {secret_source(planned)}" if planned.rotate else ""
        )
    if action is Action.ROTATE:
        text = f"({remote_id}) will re-send its secret from {secret_source(planned)}"
        return text + ("; the drift below is not changed (--no-update)" if planned.drift else "")
    if action is Action.DRIFT:
        return f"({remote_id}) drifted, not changed by apply"
    if action in (Action.REPLACE, Action.FOREIGN):
        return f"({remote_id}) ERROR: {planned.reason}"
    return ""


def reading(read: Reading) -> str:
    """How many manifests the plan was made from: a narrower run shows at a glance."""
    paths = ", ".join(printable(p) for p in read.paths[:3])
    if len(read.paths) > 3:
        paths += f" and {len(read.paths) - 3} more path(s)"
    text = f"Read {read.files} manifest file(s) from {paths}"
    if read.whole_set:
        text += (
            f", and {read.whole_set} more of the repository for what they declare "
            "(never deleted by --prune)"
        )
    return text + "."


def claim_of(deletion: PlannedDeletion | KeptClaim) -> str:
    rule = deletion.rule
    where = f"{rule.source.file}:{rule.source.line}"
    return f"prune {deletion.pattern!r} of owner {rule.owner} ({where})"


def describe_deletion(deletion: PlannedDeletion) -> str:
    text = (
        f"({deletion.remote.id}) will delete: marked {shown(deletion.owner)}, no manifest "
        f"declares it, and {claim_of(deletion)} claims it"
    )
    if deletion.used_by:
        text += (
            f"; but dataflow(s) {', '.join(repr(n) for n in deletion.used_by)} still use it, "
            "so the API will refuse until they are deleted or repointed"
        )
    return text


def kept_line(kept: KeptClaim) -> str:
    r = kept.remote
    return (
        f"{printable(r.name)} ({r.id}) left alone: {claim_of(kept)} matches it, but it carries "
        f"{shown(kept.mark)}"
    )


def unmanaged_notes(state: SandboxState, deleted: int) -> list[str]:
    """The sandbox's undeclared connections that stay, and how many a claim matches that
    are not its owner's (hand-made, made by 0.2, or another owner's: never deleted)."""
    left = state.unmanaged - deleted
    if left <= 0:
        return []
    note = f"{left} unmanaged, left alone"
    if state.kept:
        note += f" ({len(state.kept)} claimed by prune but not marked by the claim's owner)"
    return [note]


def _label(planned: PlannedConnection) -> str:
    prefix = "rotate " if planned.action is Action.ROTATE else ""
    return f"{SYMBOLS[planned.action]} {prefix}{planned.desired.name}"


def _left(state: SandboxState, deletions: list[PlannedDeletion]) -> list[str]:
    """The unmanaged connections plan leaves alone (the pruned show as deletions), names
    escaped: they come from the API."""
    left = list(state.unmanaged_names)
    for deletion in deletions:
        left.remove(deletion.remote.name)
    return [printable(name) for name in left]


def write_text(plan: Plan, out: TextIO, *, colour: bool, verbose: bool = False) -> None:
    def paint(code: str | None, text: str) -> str:
        return f"{code}{text}{_RESET}" if colour and code else text

    orgs = list(dict.fromkeys(s.org for s in plan.sandboxes))
    grouped, deleted = plan.by_sandbox(), plan.deletions_by_sandbox()
    flows = DataflowLines.of(plan, verbose=verbose)

    def write_flows(lines: list[Line]) -> None:
        for item in lines:
            tone = item.tone
            code = (
                _DELETE_COLOUR
                if tone == DELETE
                else _COLOURS.get(tone)
                if isinstance(tone, Action)
                else None
            )
            out.write(paint(code, escape.line(" " * item.indent + item.text)) + "\n")

    alike: dict[tuple[str, str], list[LookAlike]] = {}
    for found in plan.lookalikes:
        alike.setdefault(found.key, []).append(found)
    if plan.reading is not None:
        out.write(reading(plan.reading) + "\n")
    # Several orgs: their sandboxes together, and a summary line per org before the total.
    for state in sorted(plan.sandboxes, key=lambda s: orgs.index(s.org)):
        key = (state.org, state.sandbox)
        entries = grouped.get(key, [])
        deletions = deleted.get(key, [])
        shown = [
            p
            for p in entries
            if verbose
            or p.action is not Action.UNCHANGED
            or p.desired.identity in flows.by_connection
        ]
        unchanged = sum(1 for p in entries if p.action is Action.UNCHANGED)
        header = f"sandbox {state.sandbox} ({state.cloud}, {state.org})"
        notes = [f"{unchanged} unchanged"] if unchanged else []
        if flows.unchanged.get(key):
            notes.append(f"{flows.unchanged[key]} dataflow(s) unchanged")
        notes += unmanaged_notes(state, len(deletions))
        out.write(escape.line(header + (f": {', '.join(notes)}" if notes else "")) + "\n")
        if state.error:
            problem = escape.line(f"  ? cannot list connections: {state.error}")
            out.write(paint(_COLOURS[Action.UNKNOWN], problem) + "\n")
            continue
        for planned in shown:
            line = f"  {_label(planned)}"
            detail = describe(planned)
            line += f"  {detail}" if detail else ""
            out.write(paint(_COLOURS.get(planned.action), escape.line(line)) + "\n")
            for drift in planned.drift:
                changed = f"      {drift.field}: {drift.observed!r} -> {drift.desired!r}"
                out.write(escape.line(changed) + "\n")
            write_flows(flows.pop(planned.desired.identity))
        for deletion in deletions:
            line = f"  {DELETE_SYMBOL} {deletion.remote.name}  {describe_deletion(deletion)}"
            out.write(paint(_DELETE_COLOUR, escape.line(line)) + "\n")
            write_flows(flows.pop((*key, deletion.remote.name)))
        for name, lines in flows.rest(*key).items():  # on a connection neither declared nor deleted
            out.write(escape.line(f"    {name}  (its base connection stays)") + "\n")
            write_flows(lines)
        if verbose:
            kept = {printable(k.remote.name) for k in state.kept}  # shown below, claimed
            out.write(
                "".join(
                    f"    {name}  unmanaged, left alone\n"
                    for name in _left(state, deletions)
                    if name not in kept
                )
            )
            out.writelines(escape.line(f"  . {kept_line(k)}") + "\n" for k in state.kept)
        for found in alike.get(key, []):
            warning = escape.line(f"  ! warning: {found.sentence()}")
            out.write(paint(_WARNING_COLOUR, warning) + "\n")
    if len(orgs) > 1:
        out.write("".join(f"org {org}: {plan_of_org(plan, org).summary()}\n" for org in orgs))
    out.write(plan.summary() + "\n")
