"""`make_plan` with literal values: no I/O, every action, the counts and the summary."""

from __future__ import annotations

from provisioner.plan import (
    Action,
    Drift,
    ListingFailed,
    PlannedConnection,
    SandboxState,
    make_plan,
)

from .plan_literals import ORG, desired, desired_dsn, remote


def test_absent_is_created_present_is_unchanged() -> None:
    orders, billing = desired("orders"), desired_dsn("billing")
    existing = remote(
        "billing", "b-1", description=None, spec_name="Connection String Based Authentication"
    )
    plan = make_plan([orders, billing], {(ORG, "prod"): [existing]})
    assert plan.connections == (
        PlannedConnection(orders, Action.CREATE),
        PlannedConnection(billing, Action.UNCHANGED, (existing,)),
    )
    assert plan.sandboxes == (SandboxState(ORG, "prod", "azure", unmanaged=0),)
    assert plan.creates == (PlannedConnection(orders, Action.CREATE),)
    assert (plan.has_changes, plan.has_errors) == (True, False)
    assert plan.summary() == "Plan: 1 to add, 1 unchanged, 0 drifted."


def test_readable_fields_that_differ_are_drift() -> None:
    wanted = desired("orders", description="Orders DB", server="pg-new.example.test", port=6432)
    found = remote("orders", "o-1", description="Old", server="pg-old.example.test", port=5432)
    plan = make_plan([wanted], {(ORG, "prod"): [found]})
    (planned,) = plan.connections
    assert planned.action is Action.DRIFT
    assert planned.drift == (
        Drift("description", "Orders DB", "Old"),
        Drift("server", "pg-new.example.test", "pg-old.example.test"),
        Drift("port", "6432", "5432"),  # an integer port read back compares as text
    )
    assert (plan.has_changes, plan.has_errors) == (False, False)  # drift is never acted on
    assert plan.summary() == "Plan: 0 to add, 0 unchanged, 1 drifted."


def test_drift_in_tls_auth_type_and_missing_description() -> None:
    aws = desired("orders", "prod-aws", cloud="aws", ssl="disable", description=None)
    plan = make_plan(
        [aws, desired("crm")],
        {
            (ORG, "prod-aws"): [remote("orders", "o-1", description="", sslMode="true")],
            (ORG, "prod"): [
                remote("crm", "c-1", spec_name="Connection String Based Authentication")
            ],
        },
    )
    assert [p.drift for p in plan.connections] == [
        (Drift("sslMode", "false", "true"),),  # "" and absent descriptions are the same
        (
            Drift("auth type", "Basic Authentication", "Connection String Based Authentication"),
            Drift("server", "pg.example.test", None),
            Drift("port", "5432", None),
            Drift("database", "orders", None),
            Drift("username", "reader", None),
            Drift("sslMode", "Verify Full", None),
        ),
    ]


def test_a_name_held_twice_is_ambiguous() -> None:
    wanted = desired("orders")
    twins = (remote("orders", "o-1"), remote("orders", "o-2"))
    plan = make_plan([wanted, desired("other", line=20)], {(ORG, "prod"): list(twins)})
    assert plan.connections[0] == PlannedConnection(wanted, Action.AMBIGUOUS, twins)
    assert plan.connections[1].action is Action.CREATE
    assert (plan.has_changes, plan.has_errors) == (True, True)
    assert plan.summary() == "Plan: 1 to add, 0 unchanged, 0 drifted. 1 in error."


def test_a_sandbox_that_could_not_be_listed_is_unknown_and_only_it() -> None:
    prod, dev, stage = desired("orders"), desired("orders", "dev"), desired("orders", "stage")
    plan = make_plan(
        [prod, dev, stage],
        {(ORG, "prod"): [], (ORG, "dev"): ListingFailed("list connections failed: 503")},
    )
    assert [p.action for p in plan.connections] == [
        Action.CREATE,
        Action.UNKNOWN,
        Action.UNKNOWN,  # stage was never listed at all
    ]
    assert plan.sandboxes == (
        SandboxState(ORG, "prod", "azure"),
        SandboxState(ORG, "dev", "azure", error="list connections failed: 503"),
        SandboxState(ORG, "stage", "azure", error="not listed"),
    )
    assert plan.creates == (PlannedConnection(prod, Action.CREATE),)
    assert plan.summary() == "Plan: 1 to add, 0 unchanged, 0 drifted. 2 in error."


def test_remote_connections_nobody_names_are_counted_unmanaged() -> None:
    plan = make_plan(
        [desired("orders"), desired("orders", "dev")],
        {
            (ORG, "prod"): [
                remote("orders", "o-1"),
                remote("legacy", "l-1"),
                remote("legacy", "l-2"),  # a duplicate nobody manages is still one each
                remote("crm", "c-1"),
            ],
            (ORG, "dev"): [],
        },
    )
    assert [s.unmanaged for s in plan.sandboxes] == [3, 0]
    assert plan.counts == {Action.UNCHANGED: 1, Action.CREATE: 1}


def test_no_desired_connections_is_an_empty_plan() -> None:
    plan = make_plan([], {(ORG, "prod"): [remote("legacy", "l-1")]})
    assert (plan.connections, plan.sandboxes, dict(plan.counts)) == ((), (), {})
    assert plan.summary() == "Plan: 0 to add, 0 unchanged, 0 drifted."
