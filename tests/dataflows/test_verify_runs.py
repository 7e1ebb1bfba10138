"""`provision verify` on dataflows: each declared dataflow's flow state and last run, a
failed last run inside the `--since` window fails the verify; run errors and names from the
API are shown escaped and bounded."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from provisioner.dataflow import (
    FLOW_SPEC_ID,
    DesiredDataflow,
    FlowRun,
    Incremental,
    MappingRule,
    RemoteFlow,
    Schedule,
)
from provisioner.emulator import Emulator, EmulatorConfig, serve
from provisioner.errors import ApiError, Location, UsageError
from provisioner.escape import json_text
from provisioner.plan.dataflows import Chain, PlannedDataflow
from provisioner.plan.make import Action, Plan
from provisioner.report import verify as report
from provisioner.verify.checks import Verification
from provisioner.verify.runs import (
    DataflowCheck,
    FlowStatus,
    found_flow,
    judged,
    last_runs,
    verify_dataflows,
    window_start,
)
from tests.reconcile.recon_helpers import point_at, run_cli

from . import remote_chains

ORG = "0123456789ABCDEF01234567@AdobeOrg"
NOW = 1796342400.0  # 2026-12-04T00:00:00Z
HOUR_MS = 3_600_000


def desired(name: str = "orders-prod/public.orders") -> DesiredDataflow:
    return DesiredDataflow(
        org=ORG,
        sandbox="prod",
        connection="orders-prod",
        table="public.orders",
        name=name,
        description=None,
        dataset="Orders",
        columns=None,
        incremental=Incremental("updated_at"),
        schedule=Schedule("minute", 15),
        mapping=(MappingRule("attribute", "id", "_id"),),
        enabled=True,
        source=Location("orders.yaml", 7, 7),
    )


def flow(state: str = "enabled", flow_id: str = "flow-1") -> RemoteFlow:
    return RemoteFlow(
        id=flow_id, name="orders-prod/public.orders", etag='"f"', description=None,
        spec_id=FLOW_SPEC_ID, state=state, source_connection_ids=("s",),
        target_connection_ids=("t",), base_connection_id="base", schedule={},
        mapping_id="m", mapping_version="0", mapping_index=1, incremental=Incremental("updated_at"),
    )  # fmt: skip


def run(hours_ago: float, status: str = "success", **more: Any) -> FlowRun:
    started = int(NOW * 1000 - hours_ago * HOUR_MS)
    return FlowRun(
        id=f"run-{hours_ago}",
        flow_id=more.pop("flow_id", "flow-1"),
        status=status,
        started_at=started,
        completed_at=started + 60_000,
        records_read=more.pop("read", 10),
        records_written=more.pop("written", 10),
        records_failed=more.pop("failed", 0),
        errors=more.pop("errors", ()),
    )


def verdict(runs: list[FlowRun], since_ms: int | None) -> DataflowCheck:
    found = DataflowCheck(desired(), FlowStatus.OK, "", flow())
    return judged(found, last_runs(runs, since_ms), since_ms)


def test_since_takes_a_duration_or_an_rfc3339_time() -> None:
    assert window_start("24h", NOW) == int(NOW * 1000) - 24 * HOUR_MS
    assert window_start("7d", NOW) == int(NOW * 1000) - 7 * 24 * HOUR_MS
    assert window_start("30m", NOW) == int(NOW * 1000) - HOUR_MS // 2
    assert window_start("2w", NOW) == int(NOW * 1000) - 14 * 24 * HOUR_MS
    assert window_start("2026-12-03T00:00:00Z", NOW) == int(NOW * 1000) - 24 * HOUR_MS
    assert window_start("2026-12-03T02:00:00+02:00", NOW) == int(NOW * 1000) - 24 * HOUR_MS


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "yesterday",
            "--since 'yesterday': give a duration back from now (30m, 24h, 7d, 2w) or an "
            "RFC 3339 time with its offset (2026-12-01T00:00:00Z)",
        ),
        (
            "2026-12-01",
            "--since '2026-12-01': give a duration back from now (30m, 24h, 7d, 2w) or an "
            "RFC 3339 time with its offset (2026-12-01T00:00:00Z)",
        ),
        (
            "2026-12-01T00:00:00",
            "--since '2026-12-01T00:00:00': the time has no offset; add Z for UTC or one like "
            "+02:00 (e.g. 2026-12-01T00:00:00Z)",
        ),
        (
            "2027-01-01T00:00:00Z",
            "--since '2027-01-01T00:00:00Z' is in the future; give a time already past",
        ),
    ],
)
def test_a_window_that_cannot_be_read_is_one_line_that_teaches(text: str, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        window_start(text, NOW)
    assert str(caught.value) == message


def test_the_last_run_decides_and_the_window_narrows_it() -> None:
    failed_then_ok = [run(30, "failed"), run(2, "success")]
    assert verdict(failed_then_ok, None).status is FlowStatus.OK
    ok_then_failed = [run(30, "success"), run(2, "failed")]
    assert verdict(ok_then_failed, None).status is FlowStatus.FAILED
    old_failure = [run(30, "failed")]
    assert verdict(old_failure, None).status is FlowStatus.FAILED
    narrowed = verdict(old_failure, window_start("24h", NOW))
    assert (narrowed.status, narrowed.reason) == (
        FlowStatus.NO_RUN,
        "no run since 2026-12-03T00:00:00Z",
    )
    assert verdict([], None).reason == "no run yet"
    # Another flow's runs are not this one's.
    assert verdict([run(1, "failed", flow_id="flow-2")], None).status is FlowStatus.NO_RUN


def result(*checks: DataflowCheck, since_ms: int | None = None) -> Verification:
    return Verification("api", (), dataflows=checks, since_ms=since_ms)


HOSTILE = "updated_at is null\n::error::approved\x1b[2J" + "x" * 5000


def test_a_failed_run_is_reported_escaped_and_bounded_and_fails() -> None:
    errors = tuple((f"CONNECTOR-200{i}-500", HOSTILE) for i in range(5))
    failed = verdict([run(1, "failed", read=10, written=7, failed=3, errors=errors)], None)
    outcome = result(
        failed,
        DataflowCheck(desired("later"), FlowStatus.MISSING, "not created yet; apply creates it"),
    )
    assert not outcome.passed
    out = io.StringIO()
    report.write_text(outcome, out, colour=False)
    text = out.getvalue()
    assert "\x1b" not in text and "\n::" not in text
    lines = text.splitlines()
    assert (
        lines[0]
        == "Verifying 0 connection(s) through the Flow Service (GET /connections/{id}/test)"
    )
    assert lines[1] == "Dataflows: 2, last runs (any time)"
    assert lines[2] == f"sandbox prod ({ORG})"
    assert lines[3] == (
        "  failed   orders-prod/public.orders (orders-prod, public.orders): flow enabled, "
        "last run 2026-12-03T23:00:00Z failed: records read 10, written 7, failed 3  (orders.yaml:7)"
    )
    shown = "updated_at is null\\n::error::approved\\x1b[2J" + "x" * (300 - 40)
    assert lines[4] == f"             CONNECTOR-2000-500: {shown}... (5040 characters)"
    assert lines[7] == "             ... and 2 more error(s)"
    assert lines[8] == (
        "  missing  later (orders-prod, public.orders): not created yet; apply creates it  (orders.yaml:7)"
    )
    assert lines[9] == "Verify FAILED: nothing to verify; dataflows: 1 failed, 1 missing."
    assert max(len(line) for line in lines) < 500


def test_the_json_output_holds_the_last_run() -> None:
    errors = (("CONNECTOR-2001-500", HOSTILE),)
    failed = verdict([run(1, "failed", errors=errors)], window_start("24h", NOW))
    document = json.loads(
        json_text(report.document(result(failed, since_ms=window_start("24h", NOW))))
    )
    assert document["passed"] is False
    assert document["runs_since"] == "2026-12-03T00:00:00Z"
    [entry] = document["dataflows"]
    assert entry["status"] == "failed"
    assert entry["state"] == "enabled"
    assert entry["flow_id"] == "flow-1"
    assert entry["last_run"] == {
        "id": "run-1",
        "status": "failed",
        "started_at": "2026-12-03T23:00:00Z",
        "completed_at": "2026-12-03T23:01:00Z",
        "records_read": 10,
        "records_written": 10,
        "records_failed": 0,
        "errors": [
            {"code": "CONNECTOR-2001-500", "message": HOSTILE[:300] + "... (5040 characters)"}
        ],
        "more_errors": 0,
    }
    assert "\\u001b" in json_text(report.document(result(failed)))  # escaped, not raw


def test_a_success_or_no_run_passes_and_missing_fails_only_when_asked() -> None:
    ok = verdict([run(1)], None)
    missing = DataflowCheck(desired("later"), FlowStatus.MISSING, "not created yet")
    assert result(ok, missing).passed
    assert not result(ok, missing).missing_failing().passed
    assert result(verdict([], None)).passed


# -- end to end: `provision verify` against the emulator on a loopback socket ---------------

MANIFEST = f"""\
version: 1
org: {ORG}
sandboxes:
  - {{name: prod, cloud: azure}}
connections:
  - name: orders-prod
    auth:
      type: basic
      server: pg.example.test
      port: 5432
      database: orders
      username: aep_reader
      password: {{env: PG_PROD_ORDERS_PASSWORD}}
      ssl: verify-full
    dataflows:
      - table: public.orders
        dataset: Orders (PostgreSQL)
        incremental: updated_at
        schedule: {{frequency: minute, interval: 15}}
        mapping: [{{source: id, destination: _id}}]
      - table: public.customers
        dataset: Customers
        incremental: updated_at
        schedule: {{frequency: hour, interval: 1}}
        mapping: [{{source: id, destination: _id}}]
"""
EMU_NOW = int(remote_chains.NOW)
RUN_ERROR = "updated_at is null\n::error::approved\x1b[2J"


@pytest.fixture
def emu(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    monkeypatch.chdir(tmp_path)
    Path("prod.yaml").write_text(MANIFEST, encoding="utf-8")
    emulator = Emulator(
        EmulatorConfig(sandboxes=("prod",), clouds=(("prod", "azure"),)),
        clock=lambda: remote_chains.NOW,
    )
    with serve(emulator, port=0) as running:
        point_at(monkeypatch, running, emulator, secrets={})
        yield emulator
    emulator.close()


def orders_flow_that_failed(emu: Emulator) -> str:
    """orders-prod/public.orders ran fine two hours ago, then failed an hour ago."""
    base = remote_chains.base_connection(emu, "prod", "orders-prod")
    orders = remote_chains.dataset(emu, "prod", "Orders (PostgreSQL)")
    remote_chains.dataset(emu, "prod", "Customers")  # for the dataflow not created yet
    flow = remote_chains.chain(emu, "prod", base, orders, name="orders-prod/public.orders")["flow"]
    emu.add_run(ORG, "prod", {"flowId": flow, "status": "success", "startedAt": EMU_NOW - 7200,
                              "inputRecordCount": 5, "outputRecordCount": 5})  # fmt: skip
    errors = [{"code": "CONNECTOR-2001-500", "message": RUN_ERROR}] * 4
    emu.add_run(ORG, "prod", {"flowId": flow, "status": "failed", "startedAt": EMU_NOW - 3600,
                              "inputRecordCount": 10, "outputRecordCount": 7,
                              "failedRecordCount": 3, "errors": errors})  # fmt: skip
    return flow


def test_verify_shows_the_failed_last_run_escaped_and_fails(
    emu: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    orders_flow_that_failed(emu)
    verified = run_cli(capsys, ["verify", "prod.yaml"])
    assert verified.code == 1
    assert "\x1b" not in verified.out and "\n::" not in verified.out
    assert verified.out.splitlines()[3:] == [
        "Dataflows: 2, last runs (any time)",
        f"sandbox prod ({ORG})",
        "  failed   orders-prod/public.orders (orders-prod, public.orders): flow enabled, last "
        "run 2025-12-31T23:00:00Z failed: records read 10, written 7, failed 3  (prod.yaml:16)",
        "             CONNECTOR-2001-500: updated_at is null\\n::error::approved\\x1b[2J",
        "             CONNECTOR-2001-500: updated_at is null\\n::error::approved\\x1b[2J",
        "             CONNECTOR-2001-500: updated_at is null\\n::error::approved\\x1b[2J",
        "             ... and 1 more error(s)",
        "  missing  orders-prod/public.customers (orders-prod, public.customers): not created "
        "yet; apply creates it  (prod.yaml:21)",
        "Verify FAILED: 1 ok; dataflows: 1 failed, 1 missing.",
    ]


def test_since_narrows_the_window_past_the_failure(
    emu: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    orders_flow_that_failed(emu)
    after = run_cli(capsys, ["verify", "prod.yaml", "--since", "2025-12-31T23:30:00Z"])
    assert after.code == 0
    assert (
        "  no-run   orders-prod/public.orders (orders-prod, public.orders): flow enabled, no run "
        "since 2025-12-31T23:30:00Z  (prod.yaml:16)"
    ) in after.out.splitlines()
    before = run_cli(capsys, ["verify", "prod.yaml", "--since", "2025-12-31T22:30:00+00:00"])
    assert before.code == 1
    typo = run_cli(capsys, ["verify", "prod.yaml", "--since", "24 hours"])
    assert (typo.code, typo.out) == (1, "")
    assert typo.err == (
        "error: --since '24 hours': give a duration back from now (30m, 24h, 7d, 2w) or an "
        "RFC 3339 time with its offset (2026-12-01T00:00:00Z)\n"
    )


def test_verify_json_holds_each_dataflow_and_its_last_run(
    emu: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    flow = orders_flow_that_failed(emu)
    verified = run_cli(capsys, ["verify", "prod.yaml", "--format", "json"])
    assert verified.code == 1
    assert "\x1b" not in verified.out
    document = json.loads(verified.out)
    orders, customers = document["dataflows"]
    assert (orders["status"], orders["flow_id"], orders["state"]) == ("failed", flow, "enabled")
    assert orders["last_run"]["records_failed"] == 3
    assert orders["last_run"]["errors"][0] == {"code": "CONNECTOR-2001-500", "message": RUN_ERROR}
    assert orders["last_run"]["more_errors"] == 1
    assert (customers["status"], customers["last_run"]) == ("missing", None)
    assert document["summary"]["text"] == "Verify FAILED: 1 ok; dataflows: 1 failed, 1 missing."


def test_the_markdown_comment_lists_failures_first_escaped() -> None:
    failed = verdict([run(1, "failed", errors=(("E-1", "bad | row\n::error::x"),))], None)
    ok = DataflowCheck(desired("fine"), FlowStatus.OK, "", flow(), run(2))
    text = report.render_markdown(result(ok, failed))
    rows = [line for line in text.splitlines() if line.startswith("| prod |")]
    assert rows[0].startswith("| prod | orders-prod/public.orders | failed | enabled | last run")
    assert "bad \\| row\\n::error::x" in rows[0]
    assert rows[1].startswith("| prod | fine | ok | enabled |")


def test_since_with_direct_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    refused = run_cli(capsys, ["verify", "configs/", "--direct", "--since", "24h"])
    assert (refused.code, refused.out) == (1, "")
    assert refused.err == "error: --since applies to dataflows, which --direct does not check\n"


def test_a_run_time_out_of_range_is_shown_as_its_number() -> None:
    odd = FlowRun("r", "flow-1", "failed", 10**20, None, None, None, None)
    out = io.StringIO()
    report.write_text(result(verdict([odd], None)), out, colour=False)
    assert (
        "last run 100000000000000000000 ms failed: records read ?, written ?, failed ?"
        in out.getvalue()
    )


def test_the_flow_is_the_one_the_plan_found() -> None:
    made = desired()
    chain = Chain(flow(), None, None, None)
    assert found_flow(PlannedDataflow(made, Action.UNCHANGED, chain)).flow == flow()
    assert found_flow(PlannedDataflow(made, Action.FOREIGN, chain, reason="x")).flow == flow()
    missing = found_flow(PlannedDataflow(made, Action.CREATE))
    assert (missing.status, missing.reason) == (
        FlowStatus.MISSING,
        "not created yet; apply creates it",
    )
    twins = found_flow(
        PlannedDataflow(made, Action.AMBIGUOUS, matches=(flow(), flow(flow_id="flow-2")))
    )
    assert (twins.status, twins.reason) == (
        FlowStatus.AMBIGUOUS,
        "2 flows answer to it (flow-1, flow-2)",
    )
    why = "dataset 'Orders' does not exist in sandbox prod: create it in AEP first"
    unknown = found_flow(PlannedDataflow(made, Action.UNKNOWN, reason=why))
    assert (unknown.status, unknown.reason) == (FlowStatus.ERROR, why)


class RunsRefused:
    """A FlowService whose runs listing fails (the one call verify_dataflows makes)."""

    def list_runs(self, *args: Any, **kwargs: Any) -> list[FlowRun]:
        raise ApiError("list runs in sandbox 'prod': FLOW-1101-500 \x1b[2Jdown")


def test_runs_that_cannot_be_listed_are_an_error_that_fails() -> None:
    made = desired()
    plan = Plan(
        (),
        (),
        dataflows=(PlannedDataflow(made, Action.UNCHANGED, Chain(flow(), None, None, None)),),
    )
    [check] = verify_dataflows(RunsRefused(), plan, since_ms=None, parallelism=2)  # type: ignore[arg-type]
    assert (check.status, check.reason) == (
        FlowStatus.ERROR,
        "cannot list runs: list runs in sandbox 'prod': FLOW-1101-500 \x1b[2Jdown",
    )
    assert not result(check).passed
    out = io.StringIO()
    report.write_text(result(check), out, colour=False)
    assert (
        "cannot list runs: list runs in sandbox 'prod': FLOW-1101-500 \\x1b[2Jdown"
        in out.getvalue()
    )
