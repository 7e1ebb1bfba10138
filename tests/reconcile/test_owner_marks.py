"""The owner mark in the pure plan: adoption, updates that keep the mark, another owner's
connection, and the trailer kept out of the description drift."""

from __future__ import annotations

import dataclasses

from provisioner import ownermark
from provisioner.plan.make import Action, PlanOptions, make_plan

from .plan_literals import ORG, desired, remote

UPDATE = PlanOptions(update=True)
MARK_A = "managed-by: provision owner=team-a"


def owned(name: str, owner: str | None = "team-a", **fields: object):  # type: ignore[no-untyped-def]
    return dataclasses.replace(desired(name, **fields), owner=owner)  # type: ignore[arg-type]


def test_the_mark_is_a_last_line_read_back_through_any_whitespace() -> None:
    assert ownermark.compose("Orders", "team-a") == f"Orders\n{MARK_A}"
    assert ownermark.compose(None, "team-a") == MARK_A
    assert ownermark.compose("Orders", None) == "Orders"
    assert ownermark.split(f"Orders\n{MARK_A}") == ("Orders", "team-a")
    assert ownermark.split(f"Orders {MARK_A}  ") == ("Orders", "team-a")  # a UI folded it
    assert ownermark.split(MARK_A) == (None, "team-a")
    assert ownermark.split(f"{MARK_A}\nmore text") == (f"{MARK_A}\nmore text", None)
    assert ownermark.split("Orders by team-a") == ("Orders by team-a", None)
    assert ownermark.split(None) == (None, None)


def test_a_declared_connection_without_the_mark_is_adopted_by_an_update() -> None:
    observed = {(ORG, "prod"): [remote("orders", "o-1", description="Orders")]}
    (entry,) = make_plan([owned("orders")], observed, options=UPDATE).connections
    assert entry.action is Action.UPDATE
    assert [(d.field, d.observed, d.desired) for d in entry.drift] == [("owner", None, "team-a")]
    assert entry.patch_ops(lambda ref: "") == [
        {"op": "replace", "path": "/description", "value": f"Orders\n{MARK_A}"}
    ]
    # --no-update reports it and writes nothing.
    (reported,) = make_plan([owned("orders")], observed).connections
    assert reported.action is Action.DRIFT


def test_a_marked_connection_is_unchanged_and_its_description_compared_without_the_mark() -> None:
    observed = {(ORG, "prod"): [remote("orders", "o-1", description=f"Orders\n{MARK_A}")]}
    (same,) = make_plan([owned("orders")], observed, options=UPDATE).connections
    assert same.action is Action.UNCHANGED
    (edited,) = make_plan(
        [owned("orders", description="Orders v2")], observed, options=UPDATE
    ).connections
    assert [(d.field, d.observed, d.desired) for d in edited.drift] == [
        ("description", "Orders", "Orders v2")
    ]
    assert edited.patch_ops(lambda ref: "") == [
        {"op": "replace", "path": "/description", "value": f"Orders v2\n{MARK_A}"}
    ]
    # A file without an owner never drops the mark an earlier owner wrote.
    (no_owner,) = make_plan(
        [owned("orders", None, description=None)], observed, options=UPDATE
    ).connections
    assert no_owner.patch_ops(lambda ref: "") == [
        {"op": "replace", "path": "/description", "value": MARK_A}
    ]


def test_another_owners_connection_is_an_error_and_never_remarked() -> None:
    theirs = "Orders\nmanaged-by: provision owner=team-b"
    observed = {(ORG, "prod"): [remote("orders", "o-1", description=theirs, server="old")]}
    plan = make_plan([owned("orders")], observed, options=UPDATE)
    (entry,) = plan.connections
    assert entry.action is Action.FOREIGN
    assert entry.reason == (
        "marked owner=team-b, not owner=team-a: another owner's manifests manage it, and its "
        "mark is never overwritten; remove it from this manifest, or, if the ownership really "
        "moves, edit the last line of its description in Adobe's UI"
    )
    assert (plan.has_errors, plan.has_changes, plan.patches) == (True, False, ())
    assert plan.summary() == "Plan: 0 to add, 0 unchanged, 0 drifted. 1 in error."
