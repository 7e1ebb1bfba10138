"""Examples are tests: every manifest in configs/ validates and renders."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from provisioner.commands import load_desired
from provisioner.connectors.postgres.payload import render_payload
from provisioner.manifests.selection import Selection
from provisioner.redact import SENSITIVE

CONFIGS = Path(__file__).resolve().parent.parent / "configs"


@pytest.mark.parametrize("manifest", sorted(CONFIGS.glob("*.yaml")), ids=lambda p: p.name)
def test_example_validates_and_renders(manifest: Path) -> None:
    desired = load_desired([str(manifest)], Selection(), [])
    assert desired
    for connection in desired:
        payload = render_payload(connection, lambda ref: SENSITIVE)
        assert payload["name"] == connection.name


def test_examples_cover_both_clouds_and_auth_types() -> None:
    desired = load_desired([str(CONFIGS)], Selection(), [])
    assert {c.cloud for c in desired} == {"azure", "aws"}
    assert {type(c.auth).__name__ for c in desired} == {
        "BasicAuth",
        "ConnectionStringSecret",
        "ConnectionStringParts",
    }
    assert len({c.sandbox for c in desired}) >= 4


def test_examples_plan_and_apply_against_the_emulator() -> None:
    import httpx

    from provisioner.apply.create import Status, apply_plan
    from provisioner.apply.progress import Progress
    from provisioner.commands.session import plan_for
    from provisioner.emulator import Emulator, EmulatorConfig
    from provisioner.plan.make import Action
    from provisioner.remote.client import Credentials, Endpoints, FlowServiceClient

    desired = load_desired([str(CONFIGS)], Selection(), [])
    sandboxes = tuple(sorted({c.sandbox for c in desired}))
    emulator = Emulator(EmulatorConfig(sandboxes=sandboxes))
    config = emulator.config
    with httpx.Client(transport=emulator.transport()) as http:
        client = FlowServiceClient(
            http,
            Credentials(config.client_id, config.client_secret),
            Endpoints("http://emulator", "http://emulator"),
        )
        plan = plan_for(client, desired, parallelism=4)
        assert {p.action for p in plan.connections} == {Action.CREATE}
        result = apply_plan(
            plan,
            client,
            lambda c: render_payload(c, lambda ref: f"secret-for-{ref.name}"),
            parallelism=4,
            progress=Progress(io.StringIO(), live=False),
        )
        assert result.count(Status.CREATED) == len(desired)
        again = plan_for(client, desired, parallelism=4)
        assert {p.action for p in again.connections} == {Action.UNCHANGED}
