"""A saved plan with dataflows: it round-trips, and apply --plan's staleness check refuses it
when a flow changed, its owner mark changed, or the deletions are no longer those reviewed."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from provisioner.dataflow import Schedule
from provisioner.manifests.selection import Selection
from provisioner.plan import planfile
from provisioner.plan.make import Plan, PlanOptions
from provisioner.plan.planfile import desired_digest
from provisioner.report.jsonplan import plan_document
from tests.dataflows.literals import flow, listing, mapping_set, plan_of, source, target, wanted
from tests.dataflows.test_plan_prune import RULE
from tests.reconcile.plan_literals import desired

PRUNE = PlanOptions(update=True, prune=True, replace_dataflows=True)
DECLARED = [wanted(schedule=Schedule("minute", 30, None, True))]


def planned(**flow_changes: object) -> Plan:
    """An update of the declared dataflow and a pruned undeclared flow of ours."""
    found = listing(
        [flow(**flow_changes), flow("orders/public.old", "f-old", sources=(), targets=())],  # type: ignore[arg-type]
        [source()],
        [target()],
        [mapping_set()],
    )
    return plan_of(DECLARED, found, options=PRUNE, rules=[RULE])


def saved(tmp_path: Path, plan: Plan) -> planfile.SavedPlan:
    digest = desired_digest([desired("orders")], DECLARED)
    document = plan_document(plan, paths=["team"], selection=Selection(), digest=digest)
    path = tmp_path / "plan.json"
    planfile.write(path, document)
    return planfile.read(path)


def stale(tmp_path: Path, now: Plan) -> list[str]:
    return planfile.staleness(
        saved(tmp_path, planned()), desired_digest([desired("orders")], DECLARED), now
    )


def test_a_saved_plan_with_dataflows_round_trips_and_is_fresh(tmp_path: Path) -> None:
    plan = planned()
    back = saved(tmp_path, plan)
    assert back.options == PRUNE
    (entry,) = back.document["connections"][0]["dataflows"]
    assert (entry["action"], entry["flow"]["id"]) == ("update", "f-1")
    assert stale(tmp_path, planned()) == []


def test_the_digest_covers_the_declared_dataflows() -> None:
    connections = [desired("orders")]
    assert desired_digest(connections, DECLARED) != desired_digest(
        connections, [replace(DECLARED[0], dataset="Other")]
    )
    # Without dataflows the digest is the one plans saved before them carry.
    assert desired_digest(connections, ()) == desired_digest(connections)


def test_a_flow_changed_since_the_plan_is_refused(tmp_path: Path) -> None:
    assert stale(tmp_path, planned(etag='"e-2"')) == [
        "dataflow 'orders/public.orders' in sandbox 'prod' changed since the plan was made "
        '(etag "e-1", now "e-2")'
    ]


def test_a_flow_replaced_by_another_since_the_plan_is_refused(tmp_path: Path) -> None:
    assert stale(tmp_path, planned(id="f-new")) == [
        "dataflow 'orders/public.orders' in sandbox 'prod' was flow f-1 and is now f-new"
    ]


def test_a_deletion_whose_owner_mark_changed_is_refused(tmp_path: Path) -> None:
    found = listing(
        [flow(), flow("orders/public.old", "f-old", owner="team-b", sources=(), targets=())],
        [source()],
        [target()],
        [mapping_set()],
    )
    now = plan_of(DECLARED, found, options=PRUNE, rules=[RULE])
    assert stale(tmp_path, now) == [
        "dataflow 'orders/public.old' (f-old) in sandbox 'prod': its owner mark changed since "
        "the plan was made (owner=team-a, now owner=team-b); it is not deleted"
    ]


def test_a_deletion_the_plan_did_not_show_is_refused(tmp_path: Path) -> None:
    found = listing(
        [
            flow(),
            flow("orders/public.old", "f-old", sources=(), targets=()),
            flow("orders/public.new", "f-new", sources=(), targets=()),
        ],
        [source()],
        [target()],
        [mapping_set()],
    )
    now = plan_of(DECLARED, found, options=PRUNE, rules=[RULE])
    assert stale(tmp_path, now) == [
        "dataflow 'orders/public.new' (f-new) in sandbox 'prod' would now be deleted too, which "
        "the plan did not show"
    ]


def test_a_deleted_flow_that_changed_is_not_deleted_unseen(tmp_path: Path) -> None:
    found = listing(
        [flow(), flow("orders/public.old", "f-old", sources=(), targets=(), etag='"x"')],
        [source()],
        [target()],
        [mapping_set()],
    )
    now = plan_of(DECLARED, found, options=PRUNE, rules=[RULE])
    assert stale(tmp_path, now) == [
        "dataflow 'orders/public.old' (f-old) in sandbox 'prod' changed since the plan was "
        'made (etag "e-1", now "x"); it is not deleted unseen'
    ]
