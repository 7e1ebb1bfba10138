"""Frozen records of a dataflow chain: what a manifest asks for, what the API has.

A dataflow moves one table of a base connection into one dataset. Adobe builds it from four
objects created in order (source connection -> target connection -> mapping set -> flow);
the flow names the other three, so a chain is always found from its flow, never by name.
The facts (ids, shapes, rules) are in the reference ``dataflows.md``; the section each
constant follows is named beside it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from provisioner import ownermark
from provisioner.errors import Location

# The database -> data lake flow spec "CRMToAEP" [doc DB-DF, TPL; reference section 1].
FLOW_SPEC_ID = "14518937-270c-4525-bdec-c2ba7cce3860"
FLOW_SPEC_VERSION = "1.0"
# The data lake target connection spec, "fixed" [doc DB-DF].
DATA_LAKE_SPEC_ID = "c604ff05-7f1a-43c0-8e18-33bf874cb11c"
DATA_LAKE_SPEC_VERSION = "1.0"
# "must be set" to this: major only, meaning the latest minor [doc DB-DF, MS].
SCHEMA_VERSION = "application/vnd.adobe.xed-full+json;version=1"

Frequency = Literal["once", "minute", "hour", "day", "week"]
FREQUENCIES: tuple[Frequency, ...] = ("once", "minute", "hour", "day", "week")
# The identity of a dataflow: (org, sandbox, base connection name, table path).
DataflowIdentity = tuple[str, str, str, str]


@dataclass(frozen=True)
class Schedule:
    """``scheduleParams``. ``start`` is epoch seconds, None when the manifest gives none
    (the flow then starts when it is created, and the start is never compared)."""

    frequency: Frequency
    interval: int | None = None  # None only with "once"
    start: int | None = None
    backfill: bool | None = None  # None only with "once"


@dataclass(frozen=True)
class Incremental:
    """The Copy transformation's ``deltaColumn``: rows are read by this column's time."""

    column: str
    date_format: str | None = None
    timezone: str | None = None


@dataclass(frozen=True)
class MappingRule:
    """One Data Prep mapping: a source column (``attribute``) or an ``expression`` to an
    XDM path."""

    kind: Literal["attribute", "expression"]
    source: str
    destination: str


@dataclass(frozen=True)
class DesiredDataflow:
    org: str
    sandbox: str
    connection: str  # the rendered name of the base connection it reads through
    table: str  # the explore path, "schema.table"
    name: str  # the flow's name (default: "<connection>/<table>")
    description: str | None
    dataset: str  # the Catalog dataset's name; resolved to an id by the plan
    columns: tuple[str, ...] | None  # None: every column explore lists when it is created
    incremental: Incremental
    schedule: Schedule
    mapping: tuple[MappingRule, ...]
    enabled: bool
    source: Location
    owner: str | None = None  # the `prune: {owner:}` of its file, marked on what it creates

    @property
    def identity(self) -> DataflowIdentity:
        return (self.org, self.sandbox, self.connection, self.table)

    @property
    def remote_description(self) -> str | None:
        """The description as sent on the flow (and its source and target connections):
        the manifest's text and the owner mark."""
        return ownermark.compose(self.description, self.owner)

    @property
    def source_name(self) -> str:
        """The source connection's name: for people only, never used to find it."""
        return f"{self.name} (source)"

    @property
    def target_name(self) -> str:
        return f"{self.name} (target)"


@dataclass(frozen=True)
class RemoteFlow:
    id: str
    name: str
    etag: str
    description: str | None
    spec_id: str | None
    state: str | None  # enabled, disabled, or a transient one (enabling, updating...)
    source_connection_ids: tuple[str, ...]
    target_connection_ids: tuple[str, ...]
    base_connection_id: str | None  # inheritedAttributes.sourceConnections[0].baseConnection
    # scheduleParams as the API shows them (strings on a GET [doc UPD]), unconverted.
    schedule: Mapping[str, str] = field(hash=False)
    mapping_id: str | None  # the Mapping transformation's params
    mapping_version: str | None  # compared as a string [reference 3.4]
    mapping_index: int | None  # where the Mapping entry sits in transformations
    incremental: Incremental | None  # the Copy transformation's deltaColumn
    created_at: int | None = None  # epoch milliseconds


@dataclass(frozen=True)
class RemoteSourceConnection:
    id: str
    name: str
    etag: str
    description: str | None
    spec_id: str | None
    base_connection_id: str | None
    table: str | None  # params.tableName
    columns: tuple[str, ...]  # the names of params.columns


@dataclass(frozen=True)
class RemoteTargetConnection:
    id: str
    name: str
    etag: str
    description: str | None
    spec_id: str | None
    dataset_id: str | None  # params.dataSetId
    schema_id: str | None  # data.schema.id


@dataclass(frozen=True)
class RemoteMappingSet:
    id: str
    version: str  # as a string, like the flow's mappingVersion
    schema_id: str | None
    rules: tuple[MappingRule, ...]  # normalised: text/x.schema-path reads as "attribute"


@dataclass(frozen=True)
class Dataset:
    id: str
    name: str
    schema_id: str | None


@dataclass(frozen=True)
class CreatedMappingSet:
    id: str
    version: str


@dataclass(frozen=True)
class FlowRun:
    id: str
    flow_id: str
    status: str | None  # statusSummary.status: success, failed, inProgress...
    started_at: int | None  # epoch milliseconds
    completed_at: int | None
    records_read: int | None
    records_written: int | None
    records_failed: int | None
    errors: tuple[tuple[str, str], ...] = ()  # (code, message), outside text: escape to show


@dataclass(frozen=True)
class SandboxDataflows:
    """Everything one sandbox holds that dataflows are made of, read with list pages only."""

    flows: tuple[RemoteFlow, ...]
    sources: tuple[RemoteSourceConnection, ...]
    targets: tuple[RemoteTargetConnection, ...]
    mapping_sets: Mapping[str, RemoteMappingSet] = field(hash=False)  # by id
    datasets: tuple[Dataset, ...] = ()
