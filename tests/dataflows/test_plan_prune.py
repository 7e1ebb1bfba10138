"""--prune and dataflows, with literal records: what is deleted, and what is kept and shown."""

from __future__ import annotations

from provisioner.errors import Location
from provisioner.model import PruneRule
from provisioner.plan.dataflow_make import plan_dataflows
from provisioner.plan.dataflows import PlannedChainDeletion
from provisioner.plan.make import PlanOptions, make_plan
from tests.dataflows.literals import (
    ORG,
    desired,
    flow,
    listing,
    plan_of,
    remote,
    source,
    target,
    wanted,
)

PRUNE = PlanOptions(update=True, prune=True)
RULE = PruneRule(ORG, "prod", "azure", ("orders*",), Location("team/orders.yaml", 3, 3), "team-a")
MARKED = "Orders\nmanaged-by: provision owner=team-a"


def test_an_undeclared_flow_of_ours_under_a_claim_is_deleted_flow_first() -> None:
    old = flow("orders/public.old", "f-old")
    found = listing([old], [source()], [target()])
    plan = plan_of([], found, options=PRUNE, rules=[RULE])
    assert plan.chain_deletions == (
        PlannedChainDeletion(
            ORG,
            "prod",
            "orders",
            old,
            ("s-1",),
            ("t-1",),
            "m-1",
            "pruned",
            owner="team-a",
            pattern="orders*",
        ),
    )
    assert plan.summary() == (
        "Plan: 0 to add, 1 unchanged, 0 drifted. Dataflows: 0 to add, 1 to delete, 0 unchanged."
    )
    assert plan.has_changes


def test_without_prune_nothing_is_deleted() -> None:
    found = listing([flow("orders/public.old", "f-old")], [source()], [target()])
    plan = plan_of([], found, options=PlanOptions(update=True), rules=[RULE])
    assert plan.chain_deletions == ()


def test_declared_unmarked_other_owners_and_unclaimed_flows_are_kept() -> None:
    declared = flow("orders/public.orders", "f-1")
    hand_made = flow("orders/public.hand", "f-hand", owner=None)
    theirs = flow("orders/public.theirs", "f-b", owner="team-b")
    unclaimed = flow("billing/public.x", "f-x", base="c-billing")
    connections = [remote("orders", "c-1"), remote("billing", "c-billing")]
    found = listing([declared, hand_made, theirs, unclaimed], [source()], [target()])
    plan = plan_of([wanted()], found, options=PRUNE, rules=[RULE], connections=connections)
    assert plan.chain_deletions == ()
    assert [(a.id, a.why) for a in plan.dataflows_left_alone] == [
        (
            "f-hand",
            "prune 'orders*' of owner team-a matches its connection, but it carries no owner mark",
        ),
        (
            "f-b",
            "prune 'orders*' of owner team-a matches its connection, but it carries owner=team-b",
        ),
    ]


def test_a_dataflow_declared_outside_the_selection_protects_its_flow_by_table() -> None:
    other = flow("orders/public.orders", "f-1")
    found = listing([other], [source()], [target()])
    managed = frozenset({(ORG, "prod", "orders", "public.orders")})
    plan = plan_of([], found, options=PRUNE, rules=[RULE], managed=managed)
    assert plan.chain_deletions == ()


def test_a_renamed_dataflow_prunes_its_old_flow() -> None:
    old = flow("orders/old name", "f-1")
    found = listing([old], [source()], [target()])
    managed = frozenset({(ORG, "prod", "orders", "public.orders")})
    plan = plan_of([wanted()], found, options=PRUNE, rules=[RULE], managed=managed)
    assert [(d.flow.id, d.why) for d in plan.chain_deletions] == [("f-1", "pruned")]


def test_a_pruned_base_connection_has_its_flows_deleted_first_and_names_only_the_rest() -> None:
    ours = flow("orders-old/public.a", "f-a", base="c-old")
    hand_made = flow("orders-old/by hand", "f-h", base="c-old", owner=None)
    connections = [remote("orders", "c-1"), remote("orders-old", "c-old", description=MARKED)]
    found = listing([ours, hand_made], [source(base="c-old")], [target()])
    plan = plan_of([], found, options=PRUNE, rules=[RULE], connections=connections)
    (deleted_connection,) = plan.deletions
    assert deleted_connection.remote.id == "c-old"
    # The API refuses the delete (FLOW-1418-400) for the flow it keeps, not for ours.
    assert deleted_connection.used_by == ("orders-old/by hand",)
    assert [(d.flow.id, d.connection) for d in plan.chain_deletions] == [("f-a", "orders-old")]


def test_connection_globs_limit_what_prune_deletes() -> None:
    found = listing([flow("orders/public.old", "f-old")], [source()], [target()])
    observed = {(ORG, "prod"): [remote("orders", "c-1")]}
    base_plan = make_plan([desired("orders")], observed, options=PRUNE, rules=[RULE])
    selected = plan_dataflows(
        base_plan,
        [],
        {(ORG, "prod"): found},
        observed,
        now_s=0,
        rules=[RULE],
        connection_globs=["billing*"],
    )
    assert selected.chain_deletions == ()
