"""The records a plan is made of: actions and their symbols, the lifecycle options, one
entry per declared connection, and each sandbox's state. `make.py` builds them and
re-exports them, so every stage keeps importing them from `plan.make`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from provisioner.connectors import SecretLookup, render_payload
from provisioner.model import DesiredConnection, RemoteConnection
from provisioner.plan.diff import Drift, PatchOp, rotate_ops, update_ops
from provisioner.plan.prune import KeptClaim, SandboxKey


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"  # readable fields differ: PATCH them
    ROTATE = "rotate"  # re-send the secret (--rotate-secrets); may come with UPDATE's fields
    UNCHANGED = "unchanged"
    DRIFT = "drift"  # differs, reported only (--no-update)
    REPLACE = "replace"  # differs in what PATCH cannot change: the user must act
    # A dataflow that differs in what cannot change in place, with --replace-dataflows:
    # a new chain is made and the old one deleted.
    RECREATE = "recreate"
    AMBIGUOUS = "ambiguous"
    # Declared here, but carrying another owner's mark: never updated, never re-marked.
    FOREIGN = "owned-elsewhere"
    UNKNOWN = "unknown"  # the sandbox could not be listed


SYMBOLS = {
    Action.CREATE: "+",
    Action.UPDATE: "~",
    Action.ROTATE: "~",
    Action.UNCHANGED: " ",
    Action.DRIFT: "~",
    Action.REPLACE: "!",
    Action.RECREATE: "-/+",
    Action.AMBIGUOUS: "!",
    Action.FOREIGN: "!",
    Action.UNKNOWN: "?",
}
DELETE_SYMBOL = "-"
CHANGES = (Action.CREATE, Action.UPDATE, Action.ROTATE, Action.RECREATE)
PROBLEMS = (Action.AMBIGUOUS, Action.UNKNOWN, Action.REPLACE, Action.FOREIGN)


@dataclass(frozen=True)
class PlanOptions:
    update: bool = False  # PATCH drifted readable fields
    rotate: bool = False  # re-send the secrets of existing connections
    prune: bool = False  # delete owned connections no manifest declares
    # Replace a dataflow whose table, columns, dataset, incremental column or schedule kind
    # changed: its new flow re-ingests (backfill) into the same dataset.
    replace_dataflows: bool = False


CREATE_ONLY = PlanOptions()
# plan and apply without a lifecycle flag: create what is missing, update what drifted.
DEFAULT_LIFECYCLE = PlanOptions(update=True)


@dataclass(frozen=True)
class ListingFailed:
    """A sandbox whose connections could not be read; nothing is planned for it."""

    message: str


Observed = Mapping[SandboxKey, Sequence[RemoteConnection] | ListingFailed]
Usage = Mapping[SandboxKey, Mapping[str, tuple[str, ...]]]  # connection id -> dataflow names


@dataclass(frozen=True)
class PlannedConnection:
    desired: DesiredConnection
    action: Action
    remote: tuple[RemoteConnection, ...] = ()
    drift: tuple[Drift, ...] = ()
    rotate: bool = False  # an UPDATE that also re-sends the secret, or a ROTATE
    reason: str | None = None  # for REPLACE: why and what the user must do

    @property
    def key(self) -> SandboxKey:
        return (self.desired.org, self.desired.sandbox)

    @property
    def patches(self) -> bool:
        return self.action in (Action.UPDATE, Action.ROTATE)

    def patch_ops(self, lookup: SecretLookup) -> list[PatchOp]:
        """The JSON Patch apply sends; `lookup` gives the secrets (the marker in a plan)."""
        ops = (
            update_ops(self.drift, self.desired, self.remote[0])
            if self.action is Action.UPDATE
            else []
        )
        if self.rotate and self.remote:
            params = render_payload(self.desired, lookup)["auth"]["params"]
            ops += rotate_ops(self.desired, self.remote[0], params)
        return ops


@dataclass(frozen=True)
class SandboxState:
    org: str
    sandbox: str
    cloud: str
    unmanaged: int = 0
    error: str | None = None
    # The unmanaged connections' names, for `plan -v` (the pruned among them included).
    unmanaged_names: tuple[str, ...] = ()
    kept: tuple[KeptClaim, ...] = ()  # claimed but not this owner's, left alone


@dataclass(frozen=True)
class Reading:
    """Which manifests the plan was made from, for a reviewer to see a narrower run."""

    files: int  # manifest files read from the paths given
    paths: tuple[str, ...]
    # Further manifests of the same repository, read only for what they declare (--prune):
    # a narrower run must not turn another file's connection into a deletion.
    whole_set: int = 0
