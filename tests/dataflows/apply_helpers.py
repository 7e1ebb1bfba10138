"""Apply's dataflow stage against the emulator: a base connection, a dataset, a table's
columns, hand-built plan entries, and a census of what the sandbox holds afterwards."""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from provisioner.apply.breaker import Breaker
from provisioner.apply.chain_result import DataflowOutcome
from provisioner.apply.dataflows import DataflowStage, apply_dataflows
from provisioner.apply.flow_state import Waiting
from provisioner.apply.progress import Progress
from provisioner.dataflow import Dataset, DesiredDataflow
from provisioner.emulator import POSTGRES_SPEC_ID, Emulator
from provisioner.plan.dataflows import Chain, Leftover, PlannedChainDeletion, PlannedDataflow
from provisioner.plan.make import Action
from provisioner.remote.client import FlowServiceClient
from tests.emulator.chain_helpers import SCHEMA, Clock

from .client_helpers import ORG, Handler, base_connection, connect

# The orders table as offline explore lists it (the emulator's preloaded tables).
COLUMNS = [
    {"name": "id", "type": "integer"},
    {"name": "email", "type": "text"},
    {"name": "updated_at", "type": "timestamp"},
]


@dataclass
class Sandbox:
    """The emulator with a base connection and a dataset, and a client of it."""

    emulator: Emulator
    client: FlowServiceClient
    base_id: str
    dataset: Dataset
    clock: Clock = field(default_factory=Clock)
    sleeps: list[float] = field(default_factory=list)

    @property
    def waiting(self) -> Waiting:
        return Waiting(now=self.clock, sleep=self.sleeps.append)


def sandbox(emulator: Emulator, faults: Callable[[Handler], Handler] | None = None) -> Sandbox:
    client = connect(emulator, wrap=faults)
    base_id = base_connection(client)
    emulator.databases.tables.preload(
        {"connectionId": base_id, "path": "public.orders", "columns": COLUMNS}
    )
    made = emulator.add_dataset(ORG, "prod", name="Orders", schemaId=SCHEMA)
    return Sandbox(emulator, client, base_id, Dataset(str(made["id"]), "Orders", SCHEMA))


def to_create(
    box: Sandbox, desired: DesiredDataflow, reuse: Sequence[Leftover] = ()
) -> PlannedDataflow:
    return PlannedDataflow(
        desired,
        Action.CREATE,
        dataset=box.dataset,
        base_connection_id=box.base_id,
        reuse=tuple(reuse),
    )


def run(
    box: Sandbox,
    entries: Sequence[PlannedDataflow],
    deletions: Sequence[PlannedChainDeletion] = (),
    *,
    parallelism: int = 4,
) -> list[DataflowOutcome]:
    stage = DataflowStage(
        box.client,
        created={},
        spec_of=lambda _: (POSTGRES_SPEC_ID, "1.0"),
        waiting=box.waiting,
        parallelism=parallelism,
        progress=Progress(io.StringIO(), live=False, quiet=True),
        breaker=Breaker(),
    )
    outcomes, interrupted = apply_dataflows(stage, entries, deletions)
    assert not interrupted
    return outcomes


@dataclass(frozen=True)
class Census:
    flows: Counter[str]  # by name
    sources: int
    targets: int
    mapping_sets: int
    orphans: tuple[str, ...]  # source or target connections no flow references
    unused_mapping_sets: tuple[str, ...] = ()  # no flow's Mapping entry names them

    @property
    def duplicates(self) -> int:
        return sum(n - 1 for n in self.flows.values() if n > 1)


def census(emulator: Emulator) -> Census:
    state = emulator.state()
    flows = state["flows"]
    used = {i for f in flows for i in (*f["sourceConnectionIds"], *f["targetConnectionIds"])}
    parts = [*state["sourceConnections"], *state["targetConnections"]]
    mapped = {
        t["params"]["mappingId"]
        for f in flows
        for t in f["transformations"]
        if t.get("name") == "Mapping"
    }
    return Census(
        Counter(f["name"] for f in flows),
        len(state["sourceConnections"]),
        len(state["targetConnections"]),
        len(state["mappingSets"]),
        tuple(p["id"] for p in parts if p["id"] not in used),
        tuple(m["id"] for m in state["mappingSets"] if m["id"] not in mapped),
    )


def chain_of(box: Sandbox, flow_id: str) -> Chain:
    """A flow and its parts as the plan finds them: from the flow's own ids."""
    flow = box.client.get_flow(ORG, "prod", flow_id)
    sources = box.client.list_source_connections(ORG, "prod", spec_id=POSTGRES_SPEC_ID)
    targets = box.client.list_target_connections(ORG, "prod")
    mapping = box.client.get_mapping_set(
        ORG, "prod", flow.mapping_id or "", version=flow.mapping_version
    )
    return Chain(
        flow,
        next(s for s in sources if s.id in flow.source_connection_ids),
        next(t for t in targets if t.id in flow.target_connection_ids),
        mapping,
    )


def deletion_of(
    chain: Chain, why: Literal["pruned", "replaced"], owner: str | None
) -> PlannedChainDeletion:
    flow = chain.flow
    return PlannedChainDeletion(
        ORG,
        "prod",
        "orders-prod",
        flow,
        flow.source_connection_ids,
        flow.target_connection_ids,
        flow.mapping_id,
        why,
        owner=owner,
    )
