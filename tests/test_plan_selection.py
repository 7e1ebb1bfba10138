"""A connection outside the selection that a manifest names is not "unmanaged"."""

from __future__ import annotations

from pathlib import Path

from provisioner.connectors.postgres.auth import BasicAuth
from provisioner.errors import Location
from provisioner.model import DesiredConnection, SecretRef
from provisioner.plan.make import make_plan
from provisioner.remote.client import RemoteConnection

ORG = "0123456789ABCDEF01234567@AdobeOrg"
HERE = Location("m.yaml", 1, 1)


def desired(name: str) -> DesiredConnection:
    auth = BasicAuth("h", 5432, "d", "u", SecretRef("env", "PW", Path("."), HERE), "require")
    return DesiredConnection(ORG, "prod", "azure", name, None, auth, HERE)


def remote(name: str) -> RemoteConnection:
    return RemoteConnection(f"id-{name}", name, '"e"', None, None, None, {}, "enabled", 1, None)


def test_unselected_but_managed_names_are_not_unmanaged() -> None:
    observed = {(ORG, "prod"): [remote("orders"), remote("billing"), remote("hand-made")]}
    selected = [desired("orders")]
    everything = {(ORG, "prod", "orders"), (ORG, "prod", "billing")}
    assert make_plan(selected, observed).sandboxes[0].unmanaged == 2
    assert make_plan(selected, observed, everything).sandboxes[0].unmanaged == 1
