"""provisioner/remote/orgs.py with literal values: which variables each org's credential comes
from, every problem at once, messages naming the org's own variables, the plan cut per org."""

from __future__ import annotations

import dataclasses

import pytest

from provisioner.errors import UsageError
from provisioner.plan.make import Action, make_plan, plan_of_org
from provisioner.remote.orgs import (
    OrgCredential,
    for_org,
    org_variables,
    orgs_in,
    resolve,
)

from .plan_literals import ORG, desired, remote

OTHER = "FEDCBA9876543210fedcba98@AdobeOrg"
OWN_ID, OWN_SECRET = (
    "AEP_CLIENT_ID__FEDCBA9876543210FEDCBA98",
    "AEP_CLIENT_SECRET__FEDCBA9876543210FEDCBA98",
)


def in_org(org: str, name: str, sandbox: str, line: int = 10) -> object:
    return dataclasses.replace(desired(name, sandbox, line=line), org=org)


TWO_ORGS = [desired("orders", "dev"), in_org(OTHER, "orders", "prod", line=20)]


def test_the_org_variables_are_the_id_before_the_at_sign_in_capitals() -> None:
    assert org_variables(OTHER) == (OWN_ID, OWN_SECRET)


def test_one_org_uses_the_plain_pair() -> None:
    [credential] = resolve(
        orgs_in([desired("orders")]), {"AEP_CLIENT_ID": "id", "AEP_CLIENT_SECRET": "s3cret"}
    )
    assert (credential.org, credential.variables) == (ORG, ("AEP_CLIENT_ID", "AEP_CLIENT_SECRET"))
    assert (credential.credentials.client_id, credential.credentials.client_secret) == (
        "id",
        "s3cret",
    )
    assert credential.where == "team/orders.yaml:10"


def test_an_org_with_its_own_pair_uses_it_and_the_others_the_plain_pair() -> None:
    environ = {
        "AEP_CLIENT_ID": "nonprod-id",
        "AEP_CLIENT_SECRET": "nonprod-secret",
        OWN_ID: "prod-id",
        OWN_SECRET: "prod-secret",
        "AEP_SCOPES": "openid, AdobeID",
    }
    first, second = resolve(orgs_in(TWO_ORGS), environ)  # type: ignore[arg-type]
    assert (first.org, first.credentials.client_id) == (ORG, "nonprod-id")
    assert (second.org, second.credentials.client_id, second.variables) == (
        OTHER,
        "prod-id",
        (OWN_ID, OWN_SECRET),
    )
    assert second.credentials.scopes == ("openid", "AdobeID")


def test_one_org_missing_its_credential_keeps_the_known_message() -> None:
    with pytest.raises(UsageError) as caught:
        resolve(orgs_in([desired("orders")]), {"AEP_CLIENT_ID": "id"})
    assert str(caught.value) == (
        "AEP_CLIENT_SECRET must be set: the OAuth server-to-server credentials of your Adobe "
        "Developer Console project (for a local rehearsal, `provision emulator` prints values "
        "to export)"
    )


def test_every_org_without_a_credential_is_listed_at_once() -> None:
    with pytest.raises(UsageError) as caught:
        resolve(orgs_in(TWO_ORGS), {OWN_SECRET: "prod-secret"})  # type: ignore[arg-type]
    assert str(caught.value).splitlines() == [
        f"org {ORG} (team/orders.yaml:10): no credential: set "
        "AEP_CLIENT_ID__0123456789ABCDEF01234567 and AEP_CLIENT_SECRET__0123456789ABCDEF01234567 "
        "(or AEP_CLIENT_ID and AEP_CLIENT_SECRET, used by every org without its own)",
        f"org {OTHER} (team/orders.yaml:20): {OWN_SECRET} is set but {OWN_ID} is not; set both, "
        "or neither to use AEP_CLIENT_ID and AEP_CLIENT_SECRET",
    ]


def test_a_problem_names_the_org_and_its_own_variables() -> None:
    [_, own] = resolve(  # type: ignore[arg-type]
        orgs_in(TWO_ORGS),
        {"AEP_CLIENT_ID": "a", "AEP_CLIENT_SECRET": "b", OWN_ID: "c", OWN_SECRET: "d"},
    )
    message = (
        "IMS refused; check AEP_CLIENT_SECRET (AEP_CLIENT_ID is the API key); nothing was listed"
    )
    assert for_org(own, message) == (
        f"org {OTHER} (team/orders.yaml:20): IMS refused; check {OWN_SECRET} ({OWN_ID} is the "
        "API key); nothing was done in this org"
    )
    plain = OrgCredential(ORG, own.credentials, ("AEP_CLIENT_ID", "AEP_CLIENT_SECRET"), "x.yaml:3")
    # On the shared pair (one of several orgs): how to give it its own.
    assert for_org(plain, "check AEP_CLIENT_SECRET") == (
        f"org {ORG} (x.yaml:3): check AEP_CLIENT_SECRET; this org uses AEP_CLIENT_ID and "
        "AEP_CLIENT_SECRET: to give it its own credential, set "
        "AEP_CLIENT_ID__0123456789ABCDEF01234567 and AEP_CLIENT_SECRET__0123456789ABCDEF01234567"
    )


def test_a_plan_is_cut_per_org() -> None:
    plan = make_plan(
        [desired("a", "dev"), in_org(OTHER, "b", "prod"), desired("c", "dev")],  # type: ignore[list-item]
        {(ORG, "dev"): [remote("c", "c-1")], (OTHER, "prod"): []},
    )
    mine = plan_of_org(plan, ORG)
    assert [p.desired.name for p in mine.connections] == ["a", "c"]
    assert mine.counts == {Action.CREATE: 1, Action.UNCHANGED: 1}
    assert [s.org for s in mine.sandboxes] == [ORG]
    other = plan_of_org(plan, OTHER)
    assert other.summary() == "Plan: 1 to add, 0 unchanged, 0 drifted."
