"""The plan as a pull-request comment: a summary table per sandbox, details folded.

GitHub refuses comments over 65,536 characters; past a budget the details are cut and the
comment points at the full JSON plan instead. Names come from pull requests, so every
value is escaped: a connection name cannot inject HTML, links or table cells, and (through
`escape.line`, under the markdown escaping) no control or invisible character reaches it.
"""

from __future__ import annotations

import html
from collections import Counter

from provisioner import escape
from provisioner.plan.make import (
    DELETE_SYMBOL,
    SYMBOLS,
    Action,
    Plan,
    PlannedConnection,
    PlannedDeletion,
    destination,
    plan_of_org,
)
from provisioner.report.dataflow_lines import DataflowLines, Line
from provisioner.report.text import describe, describe_deletion, kept_line, reading

GITHUB_COMMENT_LIMIT = 65_536
_BUDGET = GITHUB_COMMENT_LIMIT - 2_000  # room for the table, the footer and the cut notice
_LOOKALIKES_SHOWN = 10  # each is a long line; the JSON plan lists them all


def cell(text: str) -> str:
    """Text safe in a table cell or summary: no HTML, no cell break, no code span, one line."""
    text = html.escape(escape.line(text), quote=False)
    return text.replace("|", "\\|").replace("`", "'").replace("\n", " ")


def _detail(planned: PlannedConnection) -> str:
    c = planned.desired
    prefix = "rotate " if planned.action is Action.ROTATE else ""
    text = f"{SYMBOLS[planned.action]} {prefix}{c.name}"
    if planned.action is Action.CREATE:
        text += f"   {destination(c)}   # {c.source.file}:{c.source.line}"
    elif planned.action is Action.AMBIGUOUS:
        text += f"   # ERROR: {len(planned.remote)} connections share this name"
    elif planned.action is Action.UNKNOWN:
        text += "   # sandbox could not be listed"
    elif planned.action is Action.DRIFT:
        text += "   # drifted: " + ", ".join(
            f"{d.field} {d.observed!r} -> {d.desired!r}" for d in planned.drift
        )
    else:
        text += f"   # {describe(planned)}"
        if planned.drift:
            text += ": " + ", ".join(
                f"{d.field} {d.observed!r} -> {d.desired!r}" for d in planned.drift
            )
    return html.escape(escape.line(text), quote=False)


def _deletion(deletion: PlannedDeletion) -> str:
    text = f"{DELETE_SYMBOL} {deletion.remote.name}   # {describe_deletion(deletion)}"
    return html.escape(escape.line(text), quote=False)


def _flows(lines: list[Line]) -> list[str]:
    return [html.escape(escape.line(" " * (i.indent - 2) + i.text), quote=False) for i in lines]


def dataflow_cells(plan: Plan) -> dict[tuple[str, str], str]:
    """Per sandbox, its dataflows by symbol (`+1 ~1 -/+0 -1 !0`): errors show in the table."""
    found: dict[tuple[str, str], Counter[str]] = {}
    for entry in plan.dataflows:
        found.setdefault(entry.key, Counter())[SYMBOLS[entry.action].strip() or "="] += 1
    for chain in plan.chain_deletions:
        found.setdefault(chain.key, Counter())[DELETE_SYMBOL] += 1
    shown = ("+", "~", "-/+", DELETE_SYMBOL, "!", "?")
    return {
        key: " ".join(f"{symbol}{counts[symbol]}" for symbol in shown if counts[symbol])
        + (f" ={counts['=']}" if counts["="] else "")
        for key, counts in found.items()
    }


def render_markdown(plan: Plan, *, full_plan_hint: str = "the JSON plan") -> str:
    n = plan.counts
    orgs = list(dict.fromkeys(s.org for s in plan.sandboxes))
    several = len(orgs) > 1
    head = ["### provision plan", "", f"**{cell(plan.summary())}**", ""]
    if plan.reading is not None:  # a reviewer sees a narrower run at once
        head += [cell(reading(plan.reading)), ""]
    if several:  # one line per org, and an org column: reviewers see which org changes
        head += [f"- org `{cell(o)}`: {cell(plan_of_org(plan, o).summary())}" for o in orgs]
        head.append("")
    with_flows = bool(plan.dataflows or plan.chain_deletions)  # else the table as it was
    head += [
        f"| {'org | ' if several else ''}sandbox | cloud | to add | to change | to delete "
        "| unchanged | drifted | errors | unmanaged |" + (" dataflows |" if with_flows else ""),
        f"|{'---|' if several else ''}---|---|---:|---:|---:|---:|---:|---:|---:|"
        + ("---|" if with_flows else ""),
    ]
    flow_cells = dataflow_cells(plan) if with_flows else {}
    sections: list[tuple[str, list[str]]] = []
    grouped, deleted = plan.by_sandbox(), plan.deletions_by_sandbox()
    flows = DataflowLines.of(plan)
    flow_changes: dict[tuple[str, str], int] = {}  # dataflow lines with a symbol, per sandbox
    for entry in plan.dataflows:
        if entry.action is not Action.UNCHANGED:
            flow_changes[entry.key] = flow_changes.get(entry.key, 0) + 1
    for chain in plan.chain_deletions:
        flow_changes[chain.key] = flow_changes.get(chain.key, 0) + 1
    for state in sorted(plan.sandboxes, key=lambda s: orgs.index(s.org)):
        key = (state.org, state.sandbox)
        entries = grouped.get(key, [])
        deletions = deleted.get(key, [])

        def count(*actions: Action, entries: list[PlannedConnection] = entries) -> int:
            return sum(1 for p in entries if p.action in actions)

        head.append(
            ("| `" + cell(state.org) + "` " if several else "")
            + f"| {cell(state.sandbox)} | {state.cloud} | {count(Action.CREATE)} | "
            f"{count(Action.UPDATE, Action.ROTATE)} | {len(deletions)} | "
            f"{count(Action.UNCHANGED)} | {count(Action.DRIFT)} | "
            f"{count(Action.AMBIGUOUS, Action.UNKNOWN, Action.REPLACE)} | "
            f"{state.unmanaged - len(deletions)} |"
            + (f" {flow_cells.get(key, '')} |" if with_flows else "")
        )
        changes = [p for p in entries if p.action is not Action.UNCHANGED]
        body: list[str] = []
        for p in entries:  # a connection's dataflow lines follow it, shown when it is not
            under = _flows(flows.pop(p.desired.identity))
            if p.action is not Action.UNCHANGED:
                body.append(_detail(p))
            elif under:
                body.append(html.escape(escape.line(f"  {p.desired.name}"), quote=False))
            body += under
        for d in deletions:
            body += [_deletion(d), *_flows(flows.pop((*key, d.remote.name)))]
        for name, rest in flows.rest(*key).items():
            stays = f"  {name}  (its base connection stays)"
            body += [html.escape(escape.line(stays), quote=False), *_flows(rest)]
        if not body and not state.error and not state.kept:
            continue
        body += [html.escape(f"  {kept_line(k)}", quote=False) for k in state.kept]
        if state.error:
            problem = escape.line(f"? cannot list connections: {state.error}")
            body.insert(0, html.escape(problem, quote=False))
        moved = len(changes) + len(deletions) + flow_changes.get(key, 0)
        summary = f"{cell(state.sandbox)}: {moved} change(s) or problem(s)"
        sections.append((summary, body))
    text = "\n".join(head) + "\n"
    if n.get(Action.AMBIGUOUS):
        text += "\n> [!WARNING]\n> Some names match several remote connections; apply skips them.\n"
    if plan.lookalikes:
        text += "\n> [!WARNING]\n> Names that read alike but are not the same:\n"
        text += "".join(f"> - {cell(a.sentence())}\n" for a in plan.lookalikes[:_LOOKALIKES_SHOWN])
        if len(plan.lookalikes) > _LOOKALIKES_SHOWN:
            more = len(plan.lookalikes) - _LOOKALIKES_SHOWN
            text += f"> - and {more} more: see {html.escape(full_plan_hint, quote=False)}\n"
    if plan.chain_deletions or any(d.action is Action.RECREATE for d in plan.dataflows):
        text += (
            f"\n> [!CAUTION]\n> apply deletes {len(plan.chain_deletions)} dataflow(s) (flow, "
            "then target and source; the mapping set is left behind). A replaced dataflow's "
            "new flow re-ingests history into the same dataset when it backfills.\n"
        )
    if plan.deletions:
        text += (
            f"\n> [!CAUTION]\n> `apply --prune` deletes {len(plan.deletions)} connection(s) "
            "no manifest declares (the `-` lines), each marked by the owner whose claim "
            "allows it.\n"
        )
    left_out = 0
    for summary, body in sections:
        opening = f"\n<details><summary>{summary}</summary>\n\n<pre>\n"
        closing = "</pre>\n</details>\n"
        room = _BUDGET - len(text) - len(opening) - len(closing)
        kept: list[str] = []
        for line in body:
            if room - len(line) - 1 < 0:
                break
            kept.append(line)
            room -= len(line) + 1
        left_out += len(body) - len(kept)
        if kept:
            text += opening + "".join(line + "\n" for line in kept) + closing
    if left_out:
        text += (
            f"\n_{left_out} more line(s) not shown: the comment would exceed GitHub's "
            f"limit. See {html.escape(full_plan_hint, quote=False)} for every entry._\n"
        )
    return text
