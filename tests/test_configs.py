"""Examples are tests: every manifest in configs/ validates and renders."""

from __future__ import annotations

from pathlib import Path

import pytest

from provisioner.commands import load_desired
from provisioner.payloads import render_payload
from provisioner.redact import SENSITIVE
from provisioner.select import Selection

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
