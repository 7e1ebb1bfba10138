"""Stage 2, validate (dataflows): a connection's `dataflows:` entries to DesiredDataflow records.

Each entry is rendered per sandbox exactly like its connection (manifests/validate.py: same
sandboxed templates, same `sandbox`/`vars` context, problems reported once naming every
sandbox), then held to the rules the schema cannot say: a table is `schema.table`, a schedule
follows Adobe's flowSpec (interval required unless `once`, at least 15 for `minute`; neither
interval nor backfill with `once`), a start is an RFC 3339 time with its offset, the
incremental column is among the declared columns, each XDM destination is mapped once, and a
description never carries an owner mark. A value is quoted only cut short (excerpt.name).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Literal, NamedTuple, Protocol

from provisioner import ownermark
from provisioner.dataflow import DesiredDataflow, Incremental, MappingRule, Schedule
from provisioner.errors import Diagnostic, Location
from provisioner.manifests.excerpt import excerpt, name
from provisioner.manifests.load import JsonPath, format_path
from provisioner.model import DesiredConnection

MAX_NAME_LENGTH = 256
# Adobe's flowSpec: interval >= 15 for minute, >= 1 for the other periods [reference 4].
LEAST_INTERVAL = {"minute": 15, "hour": 1, "day": 1, "week": 1}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.[0-9]+)?"
    r"(?:([Zz])|([+-])(\d{2}):(\d{2}))?"
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
Declared = tuple[DesiredDataflow, JsonPath]  # a dataflow and where its entry sits


class Desired(NamedTuple):
    """What validate.desired_manifests finds: the connections and their dataflows."""

    connections: list[DesiredConnection]
    dataflows: list[DesiredDataflow]  # per sandbox, in file order


class Render(Protocol):
    """validate.py's renderer of one entry for one sandbox: `text` renders (a template error
    is reported at its path), `fail` reports, `child` narrows the path, `locate` finds it."""

    failed: bool
    path: JsonPath

    def text(self, value: str, path: JsonPath) -> str: ...

    def fail(self, path: JsonPath, message: str) -> None: ...

    def child(self, path: JsonPath) -> Render: ...

    def locate(self, path: JsonPath = ()) -> Location: ...


def render(
    entries: Sequence[Mapping[str, Any]], connection: DesiredConnection, parent: Render
) -> list[Declared]:
    """The dataflows of `connection` for its sandbox, each with its JSON path; an entry with
    a problem is reported through `parent` and left out."""
    found: list[Declared] = []
    for k, entry in enumerate(entries):
        renderer = parent.child(("dataflows", k))
        dataflow = _Dataflow(renderer).build(entry, connection)
        if dataflow is not None:
            found.append((dataflow, renderer.path))
    return found


class _Dataflow:
    """One entry for one sandbox. A value that does not render is reported once and then
    left out of the rules that read it (None), so one typo is one problem."""

    def __init__(self, renderer: Render) -> None:
        self.r = renderer

    def text(self, value: str, path: JsonPath, what: str) -> str | None:
        """A rendered string that must say something: not empty, no control character."""
        failed, self.r.failed = self.r.failed, False
        text: str | None = self.r.text(value, path)
        if self.r.failed:
            text = None
        elif not text or not text.strip():
            self.r.fail(path, f"the {what} renders empty")
            text = None
        elif _CONTROL.search(text):
            self.r.fail(path, f"the {what} contains a control character")
            text = None
        self.r.failed = self.r.failed or failed
        return text

    def build(
        self, entry: Mapping[str, Any], connection: DesiredConnection
    ) -> DesiredDataflow | None:
        table = self.text(entry["table"], ("table",), "table")
        if table is not None and not _is_table(table):
            self.r.fail(
                ("table",),
                f"table {name(table)} is not schema.table (one dot, both parts non-empty), "
                "e.g. public.orders",
            )
        flow_name = self._name(entry.get("name"), f"{connection.name}/{table}")
        description = self._description(entry.get("description"))
        dataset = self.text(entry["dataset"], ("dataset",), "dataset name")
        columns = self._columns(entry.get("columns"))
        incremental = self._incremental(entry["incremental"], columns)
        schedule = self._schedule(entry["schedule"])
        mapping = self._mapping(entry["mapping"])
        if self.r.failed or table is None or flow_name is None or dataset is None:
            return None
        return DesiredDataflow(
            org=connection.org,
            sandbox=connection.sandbox,
            connection=connection.name,
            table=table,
            name=flow_name,
            description=description,
            dataset=dataset,
            columns=columns,
            incremental=incremental,
            schedule=schedule,
            mapping=mapping,
            enabled=entry.get("enabled", True),
            source=self.r.locate(),
            owner=connection.owner,
        )

    def _name(self, value: str | None, default: str) -> str | None:
        path: JsonPath = ("name",) if value is not None else ("table",)
        text = default if value is None else self.text(value, path, "name")
        if text is not None and len(text) > MAX_NAME_LENGTH:
            self.r.fail(
                path,
                f"the name is longer than {MAX_NAME_LENGTH} characters"
                if value is not None
                else f"the default name '<connection>/<table>' is longer than {MAX_NAME_LENGTH} "
                "characters; give the dataflow a shorter name:",
            )
        return text

    def _description(self, value: str | None) -> str | None:
        if value is None:
            return None
        text = self.r.text(value, ("description",)) or None
        if ownermark.owner_of(text) is not None:
            # It would read back as an owner mark: a manifest would forge ownership.
            self.r.fail(
                ("description",),
                f"ends with an owner mark ({ownermark.TRAILER}...); provision writes "
                "that line itself from prune: owner, remove it from the description",
            )
        return text

    def _columns(self, values: Sequence[str] | None) -> tuple[str, ...] | None:
        if values is None:
            return None
        columns: list[str] = []
        for i, value in enumerate(values):
            column = self.text(value, ("columns", i), "column")
            if column is not None and column in columns:
                self.r.fail(("columns", i), f"column {name(column)} is listed twice; list it once")
            columns.append(column or "")
        return tuple(columns)

    def _incremental(
        self, value: str | Mapping[str, str], columns: Sequence[str] | None
    ) -> Incremental:
        block: Mapping[str, str] = {"column": value} if isinstance(value, str) else value
        path: JsonPath = ("incremental",) if isinstance(value, str) else ("incremental", "column")
        column = self.text(block["column"], path, "incremental column")
        extra = {
            key: self.text(block[key], ("incremental", key), key.replace("_", " "))
            for key in ("date_format", "timezone")
            if key in block
        }
        if columns is not None and column is not None and column not in columns:
            self.r.fail(
                path,
                f"the incremental column {name(column)} is not among columns; add it there "
                "(the flow reads new rows by it)",
            )
        return Incremental(column or "", extra.get("date_format"), extra.get("timezone"))

    def _schedule(self, block: Mapping[str, Any]) -> Schedule:
        frequency = block["frequency"]
        interval: int | None = block.get("interval")
        backfill: bool | None = block.get("backfill")
        if frequency == "once":
            for key in ("interval", "backfill"):
                if key in block:
                    self.r.fail(
                        ("schedule", key),
                        f"a schedule of frequency once takes no {key} (it runs one time); "
                        f"remove {key}: or choose minute, hour, day or week",
                    )
            interval = backfill = None
        elif interval is None:
            self.r.fail(
                ("schedule",),
                f"missing required key 'interval': how many {frequency}s between runs "
                f"(at least {LEAST_INTERVAL[frequency]})",
            )
        elif interval < LEAST_INTERVAL[frequency]:
            self.r.fail(
                ("schedule", "interval"),
                f"interval {excerpt(interval)} is less than {LEAST_INTERVAL[frequency]}, the "
                f"least Adobe allows for frequency {frequency}",
            )
        if frequency != "once" and backfill is None:
            backfill = True  # Adobe's default, made explicit so the plan compares it
        return Schedule(frequency, interval, self._start(block.get("start")), backfill)

    def _start(self, value: str | None) -> int | None:
        text = None if value is None else self.text(value, ("schedule", "start"), "start")
        if text is None:
            return None
        seconds, problem = epoch_seconds(text)
        if problem:
            self.r.fail(("schedule", "start"), f"start {name(text)} {problem}")
        return seconds

    def _mapping(self, rules: Sequence[Mapping[str, str]]) -> tuple[MappingRule, ...]:
        found: list[MappingRule] = []
        first: dict[str, int] = {}
        for i, rule in enumerate(rules):
            key = "source" if "source" in rule else "expression"
            what = "source column" if key == "source" else "expression"
            source = self.text(rule[key], ("mapping", i, key), what)
            path: JsonPath = ("mapping", i, "destination")
            destination = self.text(rule["destination"], path, "destination")
            earlier = None if destination is None else first.setdefault(destination, i)
            if earlier is not None and earlier != i:
                self.r.fail(
                    path,
                    f"destination {name(destination or '')} is also mapped by "
                    f"mapping[{earlier}]; map each XDM field once",
                )
            kind: Literal["attribute", "expression"] = (
                "attribute" if key == "source" else "expression"
            )
            found.append(MappingRule(kind, source or "", destination or ""))
        return tuple(found)


def duplicate_problems(found: Sequence[Declared]) -> list[Diagnostic]:
    """Across every file: one table of one connection flows once, and a flow's name is taken
    once per sandbox (the plan finds a flow by its name); each problem names both places."""
    problems: list[Diagnostic] = []
    by_identity: dict[tuple[str, ...], DesiredDataflow] = {}
    by_name: dict[tuple[str, ...], DesiredDataflow] = {}
    for dataflow, path in found:
        where = f"in sandbox {dataflow.sandbox!r}"
        previous = by_identity.setdefault(dataflow.identity, dataflow)
        if previous is not dataflow:
            message = (
                f"table {name(dataflow.table)} of connection {name(dataflow.connection, 80)} "
                f"{where} already flows by the dataflow at {previous.source}; declare each "
                "table once per connection"
            )
        else:
            previous = by_name.setdefault((dataflow.org, dataflow.sandbox, dataflow.name), dataflow)
            if previous is dataflow:
                continue
            message = (
                f"dataflow name {name(dataflow.name, 80)} {where} is also the name of the "
                f"dataflow at {previous.source}; names must be unique within a sandbox "
                "(set name: on one of them)"
            )
        problems.append(Diagnostic(dataflow.source, format_path(path), message))
    return problems


def _is_table(text: str) -> bool:
    schema, dot, table = text.partition(".")
    return bool(dot) and bool(schema.strip()) and bool(table.strip()) and "." not in table


def epoch_seconds(text: str) -> tuple[int | None, str | None]:
    """An RFC 3339 time with its offset as epoch seconds (fractions dropped), or why not."""
    found = _RFC3339.fullmatch(text)
    example = "e.g. 2027-01-01T00:00:00Z"
    if found is None:
        return None, f"is not an RFC 3339 time with an offset, {example}"
    year, month, day, hour, minute, second, _fraction, zulu, sign, oh, om = found.groups()
    if zulu is None and sign is None:
        return None, f"has no offset: add Z (UTC) or +hh:mm, {example}"
    try:
        offset = timedelta(hours=int(oh or 0), minutes=int(om or 0)) * (-1 if sign == "-" else 1)
        when = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second),
            tzinfo=timezone(offset),
        )  # fmt: skip
        return (when - _EPOCH) // timedelta(seconds=1), None
    except (ValueError, OverflowError):
        return None, f"is not a valid date and time, {example}"
