"""Stage 4, plan: a pure function of what the manifests want and what the API has.

No I/O here: `make_plan(desired, observed)` is tested with literal values, and `apply`
walks the result without deciding anything the plan did not.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from provisioner.model import (
    BasicAuth,
    ConnectionStringSecret,
    DesiredConnection,
    Identity,
    RemoteConnection,
)
from provisioner.payloads import AWS_SSL_ENABLED, AZURE_SSL_MODE, SPEC_NAMES, auth_type

SandboxKey = tuple[str, str]  # (org, sandbox)


class Action(StrEnum):
    CREATE = "create"
    UNCHANGED = "unchanged"
    DRIFT = "drift"
    AMBIGUOUS = "ambiguous"
    UNKNOWN = "unknown"  # the sandbox could not be listed


SYMBOLS = {
    Action.CREATE: "+",
    Action.UNCHANGED: " ",
    Action.DRIFT: "~",
    Action.AMBIGUOUS: "!",
    Action.UNKNOWN: "?",
}


@dataclass(frozen=True)
class ListingFailed:
    """A sandbox whose connections could not be read; nothing is planned for it."""

    message: str


Observed = Mapping[SandboxKey, Sequence[RemoteConnection] | ListingFailed]


@dataclass(frozen=True)
class Drift:
    field: str
    desired: str | None
    observed: str | None


@dataclass(frozen=True)
class PlannedConnection:
    desired: DesiredConnection
    action: Action
    remote: tuple[RemoteConnection, ...] = ()
    drift: tuple[Drift, ...] = ()

    @property
    def key(self) -> SandboxKey:
        return (self.desired.org, self.desired.sandbox)


@dataclass(frozen=True)
class SandboxState:
    org: str
    sandbox: str
    cloud: str
    unmanaged: int = 0
    error: str | None = None


@dataclass(frozen=True)
class Plan:
    connections: tuple[PlannedConnection, ...]
    sandboxes: tuple[SandboxState, ...]
    counts: Mapping[Action, int] = field(default_factory=dict)

    @property
    def creates(self) -> tuple[PlannedConnection, ...]:
        return tuple(c for c in self.connections if c.action is Action.CREATE)

    @property
    def has_changes(self) -> bool:
        return any(c.action is Action.CREATE for c in self.connections)

    @property
    def has_errors(self) -> bool:
        return any(c.action in (Action.AMBIGUOUS, Action.UNKNOWN) for c in self.connections)

    def summary(self) -> str:
        n = self.counts
        line = (
            f"Plan: {n.get(Action.CREATE, 0)} to add, {n.get(Action.UNCHANGED, 0)} unchanged, "
            f"{n.get(Action.DRIFT, 0)} drifted."
        )
        problems = n.get(Action.AMBIGUOUS, 0) + n.get(Action.UNKNOWN, 0)
        if problems:
            line += f" {problems} in error."
        return line


def make_plan(
    desired: Sequence[DesiredConnection],
    observed: Observed,
    managed: Collection[Identity] = (),
) -> Plan:
    """`managed`: identities the manifests name beyond `desired` (outside a selection);
    remote connections with those names are not counted as unmanaged."""
    by_sandbox: dict[SandboxKey, list[DesiredConnection]] = {}
    for connection in desired:
        by_sandbox.setdefault((connection.org, connection.sandbox), []).append(connection)
    planned: list[PlannedConnection] = []
    states: list[SandboxState] = []
    for key, wanted in by_sandbox.items():
        remote = observed.get(key, ListingFailed("not listed"))
        cloud = wanted[0].cloud
        if isinstance(remote, ListingFailed):
            states.append(SandboxState(key[0], key[1], cloud, error=remote.message))
            planned.extend(PlannedConnection(c, Action.UNKNOWN) for c in wanted)
            continue
        by_name: dict[str, list[RemoteConnection]] = {}
        for item in remote:
            by_name.setdefault(item.name, []).append(item)
        wanted_names = {c.name for c in wanted}
        wanted_names |= {name for org, sandbox, name in managed if (org, sandbox) == key}
        unmanaged = sum(len(items) for name, items in by_name.items() if name not in wanted_names)
        states.append(SandboxState(key[0], key[1], cloud, unmanaged=unmanaged))
        planned.extend(_plan_one(c, tuple(by_name.get(c.name, ()))) for c in wanted)
    counts = Counter(c.action for c in planned)
    return Plan(tuple(planned), tuple(states), dict(counts))


def _plan_one(
    desired: DesiredConnection, remote: tuple[RemoteConnection, ...]
) -> PlannedConnection:
    if not remote:
        return PlannedConnection(desired, Action.CREATE)
    if len(remote) > 1:
        return PlannedConnection(desired, Action.AMBIGUOUS, remote)
    drift = tuple(drift_between(desired, remote[0]))
    return PlannedConnection(desired, Action.DRIFT if drift else Action.UNCHANGED, remote, drift)


def destination(desired: DesiredConnection) -> str:
    """Where the connection points, for a reviewer: user@host:port/database and TLS."""
    auth = desired.auth
    if isinstance(auth, ConnectionStringSecret):
        return f"connection string from {auth.connection_string}"
    where = f"{auth.username}@{auth.server}:{auth.port}/{auth.database}"
    if isinstance(auth, BasicAuth):
        return f"{where} ssl={auth.ssl}"
    tls = "verified" if auth.validate_server_certificate else "not verified"
    return f"{where} encryption={auth.encryption}, certificate {tls}"


def readable_fields(desired: DesiredConnection) -> dict[str, str | None]:
    """The non-secret fields the API lets us read back, as the payload would send them."""
    fields: dict[str, str | None] = {
        "description": desired.description,
        "auth type": SPEC_NAMES[auth_type(desired)],
    }
    auth = desired.auth
    if isinstance(auth, BasicAuth):
        ssl = AZURE_SSL_MODE[auth.ssl] if desired.cloud == "azure" else AWS_SSL_ENABLED[auth.ssl]
        fields.update(
            server=auth.server,
            port=str(auth.port),
            database=auth.database,
            username=auth.username,
            sslMode=ssl,
        )
    return fields


def drift_between(desired: DesiredConnection, remote: RemoteConnection) -> list[Drift]:
    observed: dict[str, str | None] = {
        "description": remote.description or None,
        "auth type": remote.auth_spec_name,
    }
    for name in ("server", "port", "database", "username", "sslMode"):
        value = remote.params.get(name)
        observed[name] = None if value is None else str(value)
    drifts = []
    for name, wanted in readable_fields(desired).items():
        if (wanted or None) != (observed.get(name) or None):
            drifts.append(Drift(name, wanted, observed.get(name)))
    return drifts


def resolve_ambiguous(plan: Plan, observed: Observed) -> Plan:
    """The plan with each ambiguous entry re-planned against a newer listing of its sandbox.

    Only ambiguities can change: an entry that now has exactly one remote connection
    becomes unchanged (or drifted); any other count stays an error.
    """
    planned: list[PlannedConnection] = []
    for entry in plan.connections:
        remote = observed.get(entry.key)
        if entry.action is Action.AMBIGUOUS and not isinstance(remote, ListingFailed | None):
            matches = tuple(r for r in remote if r.name == entry.desired.name)
            if len(matches) == 1:
                entry = _plan_one(entry.desired, matches)
        planned.append(entry)
    return Plan(tuple(planned), plan.sandboxes, dict(Counter(p.action for p in planned)))
