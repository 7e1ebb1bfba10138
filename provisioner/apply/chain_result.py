"""What apply did to each dataflow: the records the summaries (text and JSON) are made of."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal


class DataflowStatus(StrEnum):
    CREATED = "created"
    # Created, then deleted again: an older flow of that identity appeared meanwhile (a
    # concurrent apply), so this run's chain went and the older one stays.
    YIELDED = "yielded to an older duplicate"
    UPDATED = "updated"
    # A 412 showed someone else's change; read again, it already matched the manifests.
    CURRENT = "found up to date"
    REPLACED = "replaced"
    DELETED = "deleted"
    FAILED = "failed"
    SKIPPED = "not started"  # interrupted, its connection not created, the org's API failing


@dataclass(frozen=True)
class DataflowOutcome:
    org: str
    sandbox: str
    name: str  # the flow's name: the declared one, or the deleted flow's
    status: DataflowStatus
    kind: Literal["dataflow", "deletion"] = "dataflow"
    flow_id: str | None = None
    message: str | None = None  # a failure's why and what to do; outside text, escape it
    note: str | None = None  # worth knowing, not a failure
    # Mapping sets nothing uses any more, by id: Adobe documents no delete for them.
    left_behind: tuple[str, ...] = ()
    cause: str | None = None  # a server failure's cause (apply/breaker.py)

    @property
    def key(self) -> tuple[str, str]:
        return (self.org, self.sandbox)
