"""The plan for people: Terraform-like symbols, one line per change, a closing summary."""

from __future__ import annotations

from typing import TextIO

from provisioner.plan import SYMBOLS, Action, Plan, destination

_COLOURS = {
    Action.CREATE: "\033[32m",
    Action.DRIFT: "\033[33m",
    Action.AMBIGUOUS: "\033[31m",
    Action.UNKNOWN: "\033[31m",
}
_RESET = "\033[0m"


def write_text(plan: Plan, out: TextIO, *, colour: bool, verbose: bool = False) -> None:
    def paint(action: Action, text: str) -> str:
        return f"{_COLOURS[action]}{text}{_RESET}" if colour and action in _COLOURS else text

    for state in plan.sandboxes:
        entries = [p for p in plan.connections if p.key == (state.org, state.sandbox)]
        shown = [p for p in entries if verbose or p.action is not Action.UNCHANGED]
        unchanged = len(entries) - len([p for p in entries if p.action is not Action.UNCHANGED])
        header = f"sandbox {state.sandbox} ({state.cloud}, {state.org})"
        notes = [f"{unchanged} unchanged"] if unchanged else []
        if state.unmanaged:
            notes.append(f"{state.unmanaged} unmanaged, left alone")
        out.write(header + (f": {', '.join(notes)}" if notes else "") + "\n")
        if state.error:
            out.write(paint(Action.UNKNOWN, f"  ? cannot list connections: {state.error}") + "\n")
            continue
        for planned in shown:
            c = planned.desired
            symbol = SYMBOLS[planned.action]
            line = f"  {symbol} {c.name}"
            if planned.action is Action.CREATE:
                line += f"  {destination(c)}  ({c.source.file}:{c.source.line})"
            elif planned.action is Action.AMBIGUOUS:
                ids = ", ".join(r.id for r in planned.remote)
                line += f"  ERROR: {len(planned.remote)} connections share this name ({ids}); "
                line += "nothing will be done for it until only one remains"
            elif planned.action is Action.DRIFT:
                line += f"  ({planned.remote[0].id}) drifted, not changed by apply"
            out.write(paint(planned.action, line) + "\n")
            for drift in planned.drift:
                out.write(f"      {drift.field}: {drift.observed!r} -> {drift.desired!r}\n")
    out.write(plan.summary() + "\n")
