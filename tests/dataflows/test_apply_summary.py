"""The dataflow lines of apply's summary: a failure is one escaped line naming the dataflow
and its sandbox, the mapping sets left behind are listed by id, then the tally."""

from __future__ import annotations

import io

from provisioner.apply.chain_result import DataflowOutcome, DataflowStatus
from provisioner.report.apply_summary import dataflow_failures, dataflow_tally

from .helpers import ORG


def test_failures_left_behind_mapping_sets_and_the_tally() -> None:
    outcomes = [
        DataflowOutcome(ORG, "prod", "orders/public.orders", DataflowStatus.CREATED, flow_id="f1"),
        DataflowOutcome(
            ORG,
            "prod",
            "evil\x1b[2J\u202ename",
            DataflowStatus.FAILED,
            message="create flow 'evil' in sandbox 'prod' failed: HTTP 400\n::error::x",
            left_behind=("m1",),
        ),
        DataflowOutcome(
            ORG,
            "dev",
            "old",
            DataflowStatus.DELETED,
            kind="deletion",
            flow_id="f0",
            left_behind=("m0",),
        ),
        DataflowOutcome(ORG, "dev", "items/public.items", DataflowStatus.REPLACED, flow_id="f2"),
    ]
    out = io.StringIO()
    dataflow_failures(outcomes, out)
    dataflow_tally(outcomes, out)
    assert out.getvalue() == (
        "  ! dataflow 'evil\\x1b[2J\\u202ename' (prod): create flow 'evil' in sandbox 'prod' "
        "failed: HTTP 400\\n::error::x\n"
        "  prod: 1 mapping set left behind, unused (Adobe documents no delete for them): m1\n"
        "  dev: 1 mapping set left behind, unused (Adobe documents no delete for them): m0\n"
        "Dataflows: 1 created, 1 replaced, 1 deleted, 1 failed.\n"
    )


def test_nothing_is_written_when_the_plan_has_no_dataflow() -> None:
    out = io.StringIO()
    dataflow_failures([], out)
    dataflow_tally([], out)
    assert out.getvalue() == ""


def test_many_left_behind_are_bounded_in_text() -> None:
    outcomes = [
        DataflowOutcome(
            ORG, "prod", f"f{i}", DataflowStatus.DELETED, kind="deletion", left_behind=(f"m{i}",)
        )
        for i in range(12)
    ]
    out = io.StringIO()
    dataflow_tally(outcomes, out)
    first = out.getvalue().splitlines()[0]
    assert first == (
        "  prod: 12 mapping sets left behind, unused (Adobe documents no delete for them): "
        "m0, m1, m2, m3, m4, m5, m6, m7, m8, m9 and 2 more"
    )
