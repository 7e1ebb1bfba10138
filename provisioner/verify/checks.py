"""Stage 6, verify: does each connection work, not just exist?

Two ways to ask. Through the Flow Service (``verify_remote``): every desired connection
that exists remotely gets ``GET /connections/{id}/test`` (and, with ``explore``, a root
explore); read-only, and it needs no database secret. Directly (``verify_direct``): connect
from this machine with the resolved secret and the manifest's TLS mode, no AEP call at all.
Both give one ``Check`` per desired connection, in manifest order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from enum import StrEnum

from provisioner import connectors, redact
from provisioner.errors import ApiError
from provisioner.model import DesiredConnection, SecretRef
from provisioner.plan.make import Action, Plan
from provisioner.remote.service import FlowService
from provisioner.verify.runs import FAILING as FLOW_FAILING
from provisioner.verify.runs import DataflowCheck, FlowStatus


class Status(StrEnum):
    OK = "ok"
    UNREACHABLE = "unreachable"
    MISSING = "missing"  # not created yet: nothing to test
    AMBIGUOUS = "ambiguous"  # several remote connections share the name
    ERROR = "error"  # the check itself could not run (API error, unreadable sandbox)


FAILING = (Status.UNREACHABLE, Status.AMBIGUOUS, Status.ERROR)


@dataclass(frozen=True)
class Check:
    desired: DesiredConnection
    status: Status
    reason: str = ""
    remote_id: str | None = None
    tables: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Verification:
    mode: str  # "api" or "direct"
    checks: tuple[Check, ...]
    # `verify --fail-on-missing`: a connection not created yet fails the run too.
    failing: tuple[Status, ...] = FAILING
    dataflows: tuple[DataflowCheck, ...] = ()  # through the API only
    since_ms: int | None = None  # `--since`: the runs window's start

    @property
    def flow_failing(self) -> tuple[FlowStatus, ...]:
        missing = (FlowStatus.MISSING,) if Status.MISSING in self.failing else ()
        return (*FLOW_FAILING, *missing)

    @property
    def passed(self) -> bool:
        return not any(c.status in self.failing for c in self.checks) and not any(
            d.status in self.flow_failing for d in self.dataflows
        )

    def missing_failing(self) -> Verification:
        return replace(self, failing=(*FAILING, Status.MISSING))

    def count(self, status: Status) -> int:
        return sum(1 for c in self.checks if c.status is status)

    def summary(self) -> str:
        parts = [f"{self.count(s)} {s.value}" for s in Status if self.count(s)]
        verdict = "passed" if self.passed else "FAILED"
        text = ", ".join(parts) or "nothing to verify"
        if self.dataflows:
            flows = (sum(1 for d in self.dataflows if d.status is s) for s in FlowStatus)
            text += "; dataflows: " + ", ".join(
                f"{n} {s.value}" for s, n in zip(FlowStatus, flows, strict=True) if n
            )
        return f"Verify {verdict}: {text}."


def test_one(
    client: FlowService, desired: DesiredConnection, remote_id: str, explore: bool
) -> Check:
    org, sandbox, name = desired.identity
    try:
        result = client.test_connection(org, sandbox, remote_id, name=name)
        if not result.ok:
            # The API's words are text from outside: every secret this run knows is cut out
            # (a test that fails may quote the connection string it was given).
            return Check(desired, Status.UNREACHABLE, redact.scrub(result.reason), remote_id)
        tables = None
        if explore:
            tables = tuple(client.explore_tables(org, sandbox, remote_id, name=name))
    except ApiError as error:
        return Check(desired, Status.ERROR, redact.scrub(str(error)), remote_id)
    return Check(desired, Status.OK, "", remote_id, tables)


def verify_remote(
    client: FlowService, plan: Plan, *, explore: bool, parallelism: int
) -> Verification:
    """Test every planned connection that exists; the others say why they were not tested."""
    errors = {(s.org, s.sandbox): s.error for s in plan.sandboxes if s.error}
    checks: list[Check | None] = []
    existing: list[tuple[DesiredConnection, str]] = []
    for planned in plan.connections:
        desired = planned.desired
        if planned.action is Action.CREATE:
            checks.append(Check(desired, Status.MISSING, "not created yet; apply creates it"))
        elif planned.action is Action.AMBIGUOUS:
            ids = ", ".join(r.id for r in planned.remote)
            reason = f"{len(planned.remote)} connections share this name ({ids})"
            checks.append(Check(desired, Status.AMBIGUOUS, reason))
        elif planned.action is Action.UNKNOWN:
            listing = errors.get(planned.key, "the sandbox could not be listed")
            checks.append(Check(desired, Status.ERROR, f"cannot list connections: {listing}"))
        else:
            existing.append((desired, planned.remote[0].id))
            checks.append(None)
    tested = iter(test_all(client, existing, explore=explore, parallelism=parallelism))
    return Verification("api", tuple(c if c is not None else next(tested) for c in checks))


def test_all(
    client: FlowService,
    connections: Sequence[tuple[DesiredConnection, str]],
    *,
    explore: bool,
    parallelism: int,
) -> list[Check]:
    """Test each (desired, remote id), concurrently, in the order given."""
    with ThreadPoolExecutor(max_workers=max(1, parallelism)) as pool:
        return list(pool.map(lambda pair: test_one(client, pair[0], pair[1], explore), connections))


def verify_direct(
    desired: Sequence[DesiredConnection],
    secret: Callable[[SecretRef], str],
    *,
    parallelism: int,
    timeout: float,
    explore: bool,
    ca_file: str | None,
    as_platform: bool = False,
) -> Verification:
    # Each connector probes its own connections, all at once; the checks keep manifest order.
    # With none selected the default connector still runs: it says when its driver is missing.
    groups: dict[str, list[int]] = {} if desired else {connectors.DEFAULT.name: []}
    for index, connection in enumerate(desired):
        groups.setdefault(connectors.of(connection).name, []).append(index)
    options = connectors.DirectOptions(parallelism, timeout, explore, ca_file, as_platform)
    checks: dict[int, Check] = {}
    for name, indexes in groups.items():
        results = connectors.by_name(name).verify_direct(
            [(desired[i], secret(desired[i].secrets[0])) for i in indexes], options
        )
        for index, result in zip(indexes, results, strict=True):
            status = Status.OK if result.ok else Status.UNREACHABLE
            reason = result.reason
            if reason.startswith("authentication failed"):
                reason += f" {desired[index].secrets[0]}"  # which secret, never its value
            checks[index] = Check(desired[index], status, reason, None, result.tables)
    return Verification("direct", tuple(checks[i] for i in range(len(desired))))
