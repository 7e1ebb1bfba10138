"""What the command line asks of a command: `--sandbox`/`--connection` selectors (one that
matches nothing is an error) and the remote options of plan and apply.

Kept free of heavy imports: the CLI imports it before it knows which command runs.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass

from provisioner import DEFAULT_PARALLELISM
from provisioner.dataflow import DesiredDataflow
from provisioner.errors import UsageError
from provisioner.model import DesiredConnection


@dataclass(frozen=True)
class Selection:
    sandboxes: tuple[str, ...] = ()
    connections: tuple[str, ...] = ()  # shell-style globs on the rendered name

    def apply(
        self,
        desired: Sequence[DesiredConnection],
        *,
        more_sandboxes: Sequence[str] = (),
        pruning: bool = False,
    ) -> list[DesiredConnection]:
        """`more_sandboxes`: sandboxes the manifests name without connections (a file whose
        connections were all removed still owns its sandboxes for pruning). `pruning`: a
        --connection may name only remote connections to delete, unknown offline."""
        problems: list[str] = []
        known_sandboxes = sorted({c.sandbox for c in desired} | set(more_sandboxes))
        for sandbox in self.sandboxes:
            if sandbox.lower() not in known_sandboxes:
                problems.append(
                    f"--sandbox {sandbox} matches no sandbox in the manifests "
                    f"(they define: {', '.join(known_sandboxes) or 'none'})"
                )
        chosen = [
            c
            for c in desired
            if not self.sandboxes or c.sandbox in {s.lower() for s in self.sandboxes}
        ]
        for pattern in () if pruning else self.connections:
            if not any(fnmatch.fnmatchcase(c.name, pattern) for c in chosen):
                problems.append(
                    f"--connection {pattern} matches no connection"
                    + (" in the selected sandboxes" if self.sandboxes else "")
                    + "; names are matched after rendering, e.g. 'orders-*'"
                )
        if problems:
            raise UsageError("\n".join(problems))
        if self.connections:
            chosen = [
                c for c in chosen if any(fnmatch.fnmatchcase(c.name, p) for p in self.connections)
            ]
        return chosen

    @staticmethod
    def dataflows(
        chosen: Sequence[DesiredConnection], dataflows: Sequence[DesiredDataflow]
    ) -> tuple[DesiredDataflow, ...]:
        """The dataflows of the chosen connections: --sandbox and --connection select a
        dataflow with the connection it reads through."""
        wanted = {c.identity for c in chosen}
        return tuple(d for d in dataflows if (d.org, d.sandbox, d.connection) in wanted)


@dataclass(frozen=True)
class RemoteOptions:
    parallelism: int = DEFAULT_PARALLELISM  # the ceiling; the pacer may send slower
    timeout: float = 30.0
