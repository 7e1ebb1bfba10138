"""`make_plan` with literal values: no I/O, every action, the counts and the summary."""

from __future__ import annotations

from provisioner.errors import Location
from provisioner.model import PruneRule
from provisioner.plan.make import (
    Action,
    Drift,
    ListingFailed,
    PlannedConnection,
    PlanOptions,
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


# --- the lifecycle options: update, rotate, prune ----------------------------------------

UPDATE = PlanOptions(update=True)
RULE = PruneRule(
    ORG, "prod", "azure", ("orders-*", "legacy"), Location("team/orders.yaml", 3, 1), "team-a"
)
OURS = "Orders\nmanaged-by: provision owner=team-a"  # the description team-a's apply writes


def test_updates_rotations_and_what_patch_cannot_change() -> None:
    moved = desired("orders", server="pg-new.example.test")
    same, crm = desired("inv", line=20), desired("crm", line=30)
    observed = {
        (ORG, "prod"): [
            remote("orders", "o-1", server="pg-old.example.test"),
            remote("inv", "i-1"),
            remote("crm", "c-1", spec_name="Connection String Based Authentication"),
        ]
    }
    plan = make_plan([moved, same, crm], observed, options=UPDATE)
    assert [p.action for p in plan.connections] == [Action.UPDATE, Action.UNCHANGED, Action.REPLACE]
    assert plan.connections[0].patch_ops(lambda ref: "unused") == [
        {"op": "replace", "path": "/auth/params/server", "value": "pg-new.example.test"}
    ]
    assert plan.connections[2].reason is not None
    assert plan.connections[2].reason.startswith("the API cannot change the auth type")
    assert plan.summary() == "Plan: 0 to add, 1 to update, 1 unchanged, 0 drifted. 1 in error."
    assert (plan.has_changes, plan.has_errors) == (True, True)

    rotating = make_plan([moved, same], observed, options=PlanOptions(update=True, rotate=True))
    first, second = rotating.connections
    assert (first.action, first.rotate, second.action, second.rotate) == (
        Action.UPDATE,
        True,
        Action.ROTATE,
        True,
    )
    assert second.patch_ops(lambda ref: "(sensitive)") == [
        {"op": "replace", "path": "/auth/params/password", "value": "(sensitive)"}
    ]
    assert rotating.summary() == "Plan: 0 to add, 1 to update, 1 to rotate, 0 unchanged, 0 drifted."
    # --no-update --rotate-secrets: the secret is re-sent, the drift only reported.
    only_rotate = make_plan([moved], observed, options=PlanOptions(rotate=True))
    (entry,) = only_rotate.connections
    assert (entry.action, entry.drift[0].field) == (Action.ROTATE, "server")
    assert entry.patch_ops(lambda ref: "x") == [
        {"op": "replace", "path": "/auth/params/password", "value": "x"}
    ]


def test_description_ops_add_replace_and_remove() -> None:
    observed = {(ORG, "prod"): [remote("a", "a-1", description=None), remote("b", "b-1")]}
    plan = make_plan(
        [desired("a", description="New"), desired("b", description=None, line=20)],
        observed,
        options=UPDATE,
    )
    assert [p.patch_ops(lambda ref: "") for p in plan.connections] == [
        [{"op": "add", "path": "/description", "value": "New"}],
        [{"op": "remove", "path": "/description"}],
    ]


def test_prune_deletes_claimed_undeclared_names_only_when_asked() -> None:
    observed = {
        (ORG, "prod"): [
            remote("orders", "o-1"),
            remote("orders-old", "o-2", description=OURS),
            remote("orders-old", "o-3", description=OURS),  # a retired name's duplicates go too
            remote("legacy", "l-1", description=OURS),
            remote("legacy-2", "l-2", description=OURS),  # "legacy" claims only that name
            remote("orders-other-team", "x-1", description=OURS),  # declared elsewhere
            remote("crm", "c-1", description=OURS),
            # Claimed, but not team-a's: hand-made or made by 0.2 (no mark), or team-b's.
            remote("orders-by-hand", "h-1", description="Orders"),
            remote("orders-b", "b-1", description="B\nmanaged-by: provision owner=team-b"),
        ],
        (ORG, "dev"): [remote("orders-dev-old", "d-1", description=OURS)],  # no rule for dev
    }
    wanted = [desired("orders"), desired("orders", "dev")]
    managed = {(ORG, "prod", "orders-other-team")}
    assert make_plan(wanted, observed, managed, rules=[RULE]).deletions == ()
    plan = make_plan(
        wanted,
        observed,
        managed,
        options=PlanOptions(prune=True),
        rules=[RULE],
        usage={(ORG, "prod"): {"l-1": ("nightly",)}},
    )
    assert [(d.remote.id, d.pattern, d.used_by) for d in plan.deletions] == [
        ("o-2", "orders-*", ()),
        ("o-3", "orders-*", ()),
        ("l-1", "legacy", ("nightly",)),
    ]
    assert plan.summary() == "Plan: 1 to add, 3 to delete, 1 unchanged, 0 drifted."
    assert plan.has_changes
    (prod, _) = plan.sandboxes
    assert [(k.remote.id, k.pattern, k.mark) for k in prod.kept] == [
        ("h-1", "orders-*", None),
        ("b-1", "orders-*", "team-b"),
    ]
    narrowed = make_plan(
        wanted,
        observed,
        managed,
        options=PlanOptions(prune=True),
        rules=[RULE],
        connection_globs=("legacy*",),
    )
    assert [d.remote.id for d in narrowed.deletions] == ["l-1"]


def test_a_sandbox_only_a_rule_names_is_listed_and_pruned() -> None:
    stage = PruneRule(
        ORG, "stage", "aws", ("orders-*",), Location("team/orders.yaml", 3, 1), "team-a"
    )
    plan = make_plan(
        [],
        {(ORG, "stage"): [remote("orders-gone", "g-1", description=OURS)]},
        options=PlanOptions(prune=True),
        rules=[stage],
    )
    assert plan.sandboxes == (
        SandboxState(ORG, "stage", "aws", unmanaged=1, unmanaged_names=("orders-gone",)),
    )
    assert [d.remote.id for d in plan.deletions] == ["g-1"]


def test_another_connection_spec_version_is_not_changed_in_place() -> None:
    import dataclasses

    found = dataclasses.replace(remote("orders", "o-1", server="pg-old"), spec_version="2.0")
    plan = make_plan([desired("orders")], {(ORG, "prod"): [found]}, options=UPDATE)
    (entry,) = plan.connections
    assert entry.action is Action.REPLACE
    assert entry.reason == (
        f"the API cannot change the connection spec {found.spec_id} version 2.0 in place; "
        "create the new connection under another name and move its dataflows, or delete o-1 "
        "by hand (its dataflows first) and apply again"
    )
    # Without updates it is plain drift, as before: reported, nothing else.
    assert make_plan([desired("orders")], {(ORG, "prod"): [found]}).connections[0].action is (
        Action.DRIFT
    )
