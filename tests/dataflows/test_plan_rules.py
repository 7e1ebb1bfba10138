"""The pure dataflow plan, rule by rule, with literal records (DATAFLOWS.md, "The plan")."""

from __future__ import annotations

from dataclasses import replace

import pytest

from provisioner.dataflow import Incremental, MappingRule, Schedule
from provisioner.plan.dataflow_make import REPLACE_HINT, plan_dataflows
from provisioner.plan.dataflows import Chain, Leftover, PlannedChainDeletion, PlannedDataflow
from provisioner.plan.diff import Drift
from provisioner.plan.make import (
    CREATE_ONLY,
    DEFAULT_LIFECYCLE,
    Action,
    ListingFailed,
    PlanOptions,
    make_plan,
)
from tests.dataflows.literals import (
    DATASET,
    NOW,
    ORG,
    desired,
    flow,
    listing,
    mapping_set,
    plan_of,
    remote,
    source,
    target,
    wanted,
    whole_chain,
)

REPLACING = PlanOptions(update=True, replace_dataflows=True)


def only(plan_dataflows: tuple[PlannedDataflow, ...]) -> PlannedDataflow:
    (entry,) = plan_dataflows
    return entry


def test_a_dataflow_with_no_flow_is_created_on_its_base_connection() -> None:
    plan = plan_of([wanted()], listing())
    assert plan.dataflows == (
        PlannedDataflow(wanted(), Action.CREATE, dataset=DATASET, base_connection_id="c-1"),
    )
    assert (plan.has_changes, plan.has_errors) == (True, False)
    assert plan.summary() == (
        "Plan: 0 to add, 1 unchanged, 0 drifted. Dataflows: 1 to add, 0 unchanged."
    )


def test_the_summary_keeps_its_wording_when_no_dataflow_is_declared() -> None:
    plan = plan_of([], listing())
    assert plan.summary() == "Plan: 0 to add, 1 unchanged, 0 drifted."


def test_a_matching_chain_is_unchanged() -> None:
    plan = plan_of([wanted()], whole_chain())
    entry = only(plan.dataflows)
    assert entry.action is Action.UNCHANGED
    assert entry.chain == Chain(flow(), source(), target(), mapping_set())
    assert (entry.drift, entry.flow_ops, plan.chain_deletions) == ((), (), ())
    assert not plan.has_changes
    assert plan.summary().endswith("Dataflows: 0 to add, 1 unchanged.")


def test_a_connection_created_in_the_same_plan_creates_its_dataflows_without_a_base_id() -> None:
    plan = plan_of([wanted()], listing(), connections=[])
    assert plan.connections[0].action is Action.CREATE
    assert only(plan.dataflows) == PlannedDataflow(wanted(), Action.CREATE, dataset=DATASET)


@pytest.mark.parametrize(
    ("connections", "why"),
    [
        (
            [remote("orders", "c-1"), remote("orders", "c-2")],
            "shares its name with other connections",
        ),
        (
            [remote("orders", "c-1", description="x\nmanaged-by: provision owner=team-b")],
            "is another owner's",
        ),
    ],
)
def test_a_dataflow_of_an_unusable_connection_is_unknown(connections: list, why: str) -> None:  # type: ignore[type-arg]
    owned = [replace(desired("orders"), owner="team-a")]
    plan = plan_of([wanted()], whole_chain(), connections=connections, declared=owned)
    entry = only(plan.dataflows)
    assert entry.action is Action.UNKNOWN
    assert entry.reason == (
        f"its connection 'orders' {why}: nothing is planned for its dataflows until that is "
        "resolved"
    )
    assert plan.has_errors


def test_a_sandbox_whose_dataflows_cannot_be_listed_plans_nothing_for_them() -> None:
    plan = plan_of([wanted()], ListingFailed("list flows in sandbox 'prod': HTTP 503"))
    entry = only(plan.dataflows)
    assert (entry.action, entry.reason) == (
        Action.UNKNOWN,
        "the dataflows of sandbox prod could not be listed: list flows in sandbox 'prod': HTTP 503",
    )


def test_a_missing_dataset_is_an_error_saying_what_to_do() -> None:
    plan = plan_of([wanted()], listing(datasets=[]))
    entry = only(plan.dataflows)
    assert (entry.action, entry.reason) == (
        Action.UNKNOWN,
        "dataset 'Orders (PostgreSQL)' does not exist in sandbox prod: create it in AEP first "
        "(provision never creates datasets)",
    )
    assert plan.summary().endswith("Dataflows: 0 to add, 0 unchanged. 1 in error.")


def test_a_dataset_name_held_twice_is_ambiguous_naming_both() -> None:
    twin = replace(DATASET, id="ds-2")
    entry = only(plan_of([wanted()], listing(datasets=[DATASET, twin])).dataflows)
    assert (entry.action, entry.reason) == (
        Action.AMBIGUOUS,
        "2 datasets are named 'Orders (PostgreSQL)' in sandbox prod (ds-1, ds-2); rename all "
        "but one in AEP",
    )


def test_two_flows_answering_to_one_dataflow_are_ambiguous() -> None:
    twins = [flow(), flow(id="f-2")]
    entry = only(plan_of([wanted()], listing(twins, [source()], [target()])).dataflows)
    assert entry.action is Action.AMBIGUOUS
    assert entry.matches == tuple(twins)
    assert entry.reason == (
        "2 flows named 'orders/public.orders' read through this connection (f-1, f-2); nothing "
        "will be done for it until only one remains"
    )


def test_flows_of_another_spec_or_base_connection_do_not_answer() -> None:
    others = [flow(id="f-8", spec="another-spec"), flow(id="f-9", base="c-other")]
    entry = only(plan_of([wanted()], listing(others)).dataflows)
    assert entry.action is Action.CREATE


def test_a_flow_marked_by_another_owner_is_never_touched() -> None:
    found = whole_chain(owner="team-b", state="disabled")
    entry = only(plan_of([wanted()], found).dataflows)
    assert entry.action is Action.FOREIGN
    assert entry.reason is not None and entry.reason.startswith(
        "marked owner=team-b, not owner=team-a: another owner's manifests manage this flow"
    )
    assert (entry.flow_ops, entry.toggle) == ((), None)


# --- in place -------------------------------------------------------------------------------


def test_description_and_a_missing_owner_mark_are_one_description_patch() -> None:
    entry = only(plan_of([wanted()], whole_chain(description="Old", owner=None)).dataflows)
    assert entry.action is Action.UPDATE
    assert entry.drift == (
        Drift("description", "Orders into AEP", "Old"),
        Drift("owner", "team-a", None),
    )
    assert entry.flow_ops == (
        {
            "op": "replace",
            "path": "/description",
            "value": "Orders into AEP\nmanaged-by: provision owner=team-a",
        },
    )


def test_frequency_interval_and_a_future_start_change_in_place() -> None:
    later = NOW + 86_400
    schedule = Schedule("hour", 2, later, True)
    found = whole_chain(
        schedule={
            "frequency": "minute",
            "interval": "15",
            "startTime": str(NOW + 60),
            "backfill": "true",
        }
    )
    entry = only(plan_of([wanted(schedule=schedule)], found).dataflows)
    assert entry.action is Action.UPDATE
    assert entry.drift == (
        Drift("frequency", "hour", "minute"),
        Drift("interval", "2", "15"),
        Drift("start", str(later), str(NOW + 60)),
    )
    assert entry.flow_ops == (
        {"op": "replace", "path": "/scheduleParams/frequency", "value": "hour"},
        {"op": "replace", "path": "/scheduleParams/interval", "value": "2"},
        {"op": "replace", "path": "/scheduleParams/startTime", "value": str(later)},
    )
    assert (entry.new_mapping, entry.toggle) == (False, None)


def test_backfill_changes_in_place() -> None:
    entry = only(
        plan_of([wanted(schedule=Schedule("minute", 15, None, False))], whole_chain()).dataflows
    )
    assert entry.flow_ops == (
        {"op": "replace", "path": "/scheduleParams/backfill", "value": "false"},
    )


def test_an_undeclared_start_is_never_compared() -> None:
    assert only(plan_of([wanted()], whole_chain()).dataflows).action is Action.UNCHANGED


def test_a_mapping_change_is_a_new_mapping_version_not_a_flow_op() -> None:
    rules = (
        MappingRule("attribute", "id", "_id"),
        MappingRule("attribute", "email", "personalEmail.address"),
    )
    entry = only(plan_of([wanted(mapping=rules)], whole_chain()).dataflows)
    assert entry.action is Action.UPDATE
    assert entry.drift == (
        Drift(
            "mapping",
            "id -> _id; email -> personalEmail.address",
            "id -> _id; expression lower(email) -> personalEmail.address",
        ),
    )
    assert (entry.new_mapping, entry.flow_ops) == (True, ())


def test_mapping_rules_in_another_order_are_the_same_mapping() -> None:
    found = listing(
        [flow()], [source()], [target()], [mapping_set(rules=tuple(reversed(wanted().mapping)))]
    )
    assert only(plan_of([wanted()], found).dataflows).action is Action.UNCHANGED


@pytest.mark.parametrize(
    ("enabled", "state", "toggle"),
    [
        (False, "enabled", "disable"),
        (False, "enabling", "disable"),
        (True, "disabled", "enable"),
        (True, "disabling", "enable"),
    ],
)
def test_enabled_is_the_flow_action_read_from_its_state(
    enabled: bool, state: str, toggle: str
) -> None:
    entry = only(plan_of([wanted(enabled=enabled)], whole_chain(state=state)).dataflows)
    assert (entry.action, entry.toggle, entry.flow_ops) == (Action.UPDATE, toggle, ())
    wanted_state = "enabled" if enabled else "disabled"
    assert entry.drift == (Drift("state", wanted_state, state),)


def test_with_no_update_in_place_drift_is_reported_only() -> None:
    no_update = PlanOptions(update=False)
    entry = only(plan_of([wanted(description="New")], whole_chain(), options=no_update).dataflows)
    assert entry.action is Action.DRIFT
    assert (entry.flow_ops, entry.toggle, entry.new_mapping) == ((), None, False)
    assert not plan_of([wanted(description="New")], whole_chain(), options=CREATE_ONLY).has_changes


# --- not in place ----------------------------------------------------------------------------

ONCE = Schedule("once", None, NOW + 600, None)
ONCE_REMOTE = {"frequency": "once", "startTime": str(NOW + 300)}
NOT_IN_PLACE = [
    ("table", {"table": "public.orders2"}, {}, "the table"),
    ("columns", {"columns": ("id", "updated_at")}, {}, "the columns"),
    ("dataset", {"dataset": "Orders v2"}, {}, "the dataset (Orders v2)"),
    (
        "incremental",
        {"incremental": Incremental("updated_at", timezone="UTC")},
        {},
        "the incremental column",
    ),
    ("to once", {"schedule": ONCE}, {}, "once <-> periodic"),
    ("from once", {}, {"schedule": ONCE_REMOTE}, "once <-> periodic"),
    (
        "once start",
        {"schedule": ONCE},
        {"schedule": ONCE_REMOTE},
        "the schedule of a flow scheduled once",
    ),
    (
        "passed start",
        {"schedule": Schedule("minute", 15, NOW + 60, True)},
        {},
        "a start time that has passed",
    ),
    (
        "no source",
        {},
        {"sources": ("s-gone",)},
        "its chain is broken (missing source connection s-gone)",
    ),
    (
        "no target",
        {},
        {"targets": ("t-gone",)},
        "its chain is broken (missing target connection t-gone)",
    ),
    ("no mapping", {}, {"mapping": "m-gone"}, "its chain is broken (missing mapping set m-gone)"),
]


def _blocked_case(wanted_changes: dict, remote_changes: dict) -> tuple:  # type: ignore[type-arg]
    datasets = [DATASET, replace(DATASET, id="ds-2", name="Orders v2")]
    found = listing([flow(**remote_changes)], [source()], [target()], [mapping_set()], datasets)
    return [wanted(**wanted_changes)], found


@pytest.mark.parametrize(
    ("case", "wanted_changes", "remote_changes", "what"),
    NOT_IN_PLACE,
    ids=[c[0] for c in NOT_IN_PLACE],
)
def test_what_cannot_change_in_place_is_an_error_without_the_flag(
    case: str,
    wanted_changes: dict,
    remote_changes: dict,
    what: str,  # type: ignore[type-arg]
) -> None:
    plan = plan_of(*_blocked_case(wanted_changes, remote_changes))
    entry = only(plan.dataflows)
    assert entry.action is Action.REPLACE
    assert entry.reason == f"the API cannot change in place: {what}; {REPLACE_HINT}"
    assert REPLACE_HINT == (
        "--replace-dataflows makes a new flow; with backfill it re-ingests history into the "
        "same dataset"
    )
    assert (plan.has_errors, plan.chain_deletions) == (True, ())


@pytest.mark.parametrize(
    ("case", "wanted_changes", "remote_changes", "what"),
    NOT_IN_PLACE,
    ids=[c[0] for c in NOT_IN_PLACE],
)
def test_with_replace_dataflows_it_is_recreated_and_the_old_chain_deleted(
    case: str,
    wanted_changes: dict,
    remote_changes: dict,
    what: str,  # type: ignore[type-arg]
) -> None:
    plan = plan_of(*_blocked_case(wanted_changes, remote_changes), options=REPLACING)
    entry = only(plan.dataflows)
    old = flow(**remote_changes)
    assert entry.action is Action.RECREATE
    assert entry.reason == (
        f"the API cannot change in place: {what}. The old flow is disabled, "
        "a new chain is made, then the old one is deleted; with backfill the new flow "
        "re-ingests history into the same dataset"
    )
    present = lambda ids, there: tuple(i for i in ids if i in there)  # noqa: E731
    assert plan.chain_deletions == (
        PlannedChainDeletion(
            ORG,
            "prod",
            "orders",
            old,
            present(old.source_connection_ids, {"s-1"}),
            present(old.target_connection_ids, {"t-1"}),
            old.mapping_id,
            "replaced",
            owner="team-a",
        ),
    )
    assert (plan.has_changes, plan.has_errors) == (True, False)
    assert plan.summary().endswith("Dataflows: 0 to add, 1 to replace, 1 to delete, 0 unchanged.")


def test_a_once_flow_cannot_take_a_new_mapping_in_place() -> None:
    rules = (MappingRule("attribute", "id", "_id"),)
    found = whole_chain(schedule=ONCE_REMOTE)
    entry = only(
        plan_of([wanted(schedule=replace(ONCE, start=NOW + 300), mapping=rules)], found).dataflows
    )
    assert entry.action is Action.REPLACE
    assert entry.reason == (
        f"the API cannot change in place: the mapping of a flow scheduled once; {REPLACE_HINT}"
    )


def test_a_flow_of_ours_left_renamed_replaced_is_deleted_without_prune() -> None:
    old = flow(
        "orders/public.orders (replaced)",
        "f-0",
        state="disabled",
        sources=("s-0",),
        targets=("t-0",),
    )
    hand_made = flow("orders/public.orders (replaced)", "f-h", owner=None)
    found = listing([old, hand_made], [source("s-0")], [target("t-0")])
    plan = plan_of([wanted()], found)
    assert only(plan.dataflows).action is Action.CREATE
    assert plan.chain_deletions == (
        PlannedChainDeletion(
            ORG, "prod", "orders", old, ("s-0",), ("t-0",), "m-1", "replaced", owner="team-a"
        ),
    )


# --- leftovers --------------------------------------------------------------------------------


def test_leftovers_are_reused_when_they_match_discarded_when_not_and_else_left_alone() -> None:
    found = listing(
        [],
        [
            source("s-ok"),
            source("s-old", columns=("id",)),
            source("s-hand", owner=None),
            source("s-other-table", table="public.other"),
        ],
        [target("t-ok"), target("t-elsewhere", dataset="ds-9")],
    )
    plan = plan_of([wanted()], found)
    entry = only(plan.dataflows)
    assert entry.action is Action.CREATE
    assert entry.reuse == (
        Leftover("source", "s-ok", "orders/public.orders (source)", '"se"'),
        Leftover("target", "t-ok", "orders/public.orders (target)", '"te"'),
    )
    assert entry.discard == (
        Leftover("source", "s-old", "orders/public.orders (source)", '"se"'),
        Leftover("target", "t-elsewhere", "orders/public.orders (target)", '"te"'),
    )
    (alone,) = plan.dataflows_left_alone
    assert (alone.kind, alone.id, alone.why) == (
        "source",
        "s-hand",
        "a leftover source connection of dataflow 'orders/public.orders' that no flow uses, "
        "carrying no owner mark: never reused or deleted by provision",
    )


def test_parts_a_flow_still_uses_are_never_leftovers() -> None:
    found = listing([flow("unrelated", "f-9")], [source("s-1")], [target("t-1")])
    entry = only(plan_of([wanted()], found).dataflows)
    assert (entry.reuse, entry.discard) == ((), ())


def test_defaults_give_the_plan_no_dataflow_options() -> None:
    assert DEFAULT_LIFECYCLE.replace_dataflows is False


def test_a_changed_dataset_is_shown_by_name_and_id() -> None:
    other = replace(DATASET, id="ds-2", name="Orders v2")
    found = listing([flow()], [source()], [target()], [mapping_set()], [DATASET, other])
    entry = only(plan_of([wanted(dataset="Orders v2")], found).dataflows)
    assert entry.drift == (Drift("dataset", "Orders v2 (ds-2)", "Orders (PostgreSQL) (ds-1)"),)


def test_a_dataflow_whose_connections_cannot_be_listed_is_unknown() -> None:
    failed = {(ORG, "prod"): ListingFailed("HTTP 503")}
    connections = make_plan([desired("orders")], failed, options=DEFAULT_LIFECYCLE)
    made = plan_dataflows(
        connections, [wanted()], {(ORG, "prod"): whole_chain()}, failed, now_s=NOW
    )
    entry = only(made.dataflows)
    assert (entry.action, entry.reason) == (
        Action.UNKNOWN,
        "its connection 'orders' could not be listed: nothing is planned for its dataflows "
        "until that is resolved",
    )
