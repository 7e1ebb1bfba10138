"""The schemas ship in the package, are valid against their metaschema, and are strict."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import pytest

from provisioner import schemas

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("name", schemas.ALL)
def test_schema_is_valid_against_its_metaschema(name: str) -> None:
    schema = schemas.load(name)  # through the installed package's resources
    jsonschema.validators.validator_for(schema).check_schema(schema)


@pytest.mark.parametrize("name", schemas.ALL)
def test_top_level_schemas_folder_is_the_packaged_one(name: str) -> None:
    assert json.loads((ROOT / "schemas" / name).read_text()) == schemas.load(name)


def test_every_object_in_the_manifest_schema_is_closed_and_documented() -> None:
    def walk(node: object, path: str) -> None:
        if isinstance(node, dict):
            if node.get("type") == "object" and "properties" in node and "allOf" not in node:
                assert node.get("additionalProperties") is False, path
            if "properties" in node:
                for key, child in node["properties"].items():
                    documented = isinstance(child, dict) and (
                        "description" in child or "$ref" in child or "const" in child
                    )
                    assert documented or path.startswith("$defs"), f"{path}.{key}"
            for key, child in node.items():
                walk(child, f"{path}.{key}")
        elif isinstance(node, list):
            for i, child in enumerate(node):
                walk(child, f"{path}[{i}]")

    walk(schemas.load(schemas.MANIFEST), "$")


def test_wheel_contains_the_schemas_and_templates(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    wheel = next(tmp_path.glob("aep_provision-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in schemas.ALL:
        assert f"provisioner/schemas/{name}" in names
    assert "provisioner/connectors/postgres/templates/azure-basic.json.j2" in names
