"""Fast start: the offline commands import only what they use (timings are in `make bench`).

Each case runs the CLI in a fresh interpreter and reports the modules it loaded, so the
assertions are about imports, never about time.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = """
import contextlib, io, json, sys
from provisioner.cli.main import main
out, err = io.StringIO(), io.StringIO()
with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
    try:
        code = main(sys.argv[1:])
    except SystemExit as stop:
        code = stop.code
json.dump({"code": code, "out": out.getvalue(), "err": err.getvalue(),
           "modules": sorted(sys.modules)}, sys.__stdout__)
"""

NETWORK_AND_EMULATOR = {"httpx", "httpcore", "provisioner.remote", "provisioner.emulator"}
HEAVY = NETWORK_AND_EMULATOR | {"jsonschema", "jinja2", "yaml"}
PLANNING = {
    "provisioner.plan.make",
    "provisioner.plan.diff",
    "provisioner.manifests.ownership",
    "provisioner.report",
}

PLAIN = """\
version: 1
org: 0123456789ABCDEF01234567@AdobeOrg
sandboxes:
  - {name: prod, cloud: azure}
connections:
  - name: orders
    auth:
      type: basic
      server: pg.example.test
      database: orders
      username: reader
      password: {env: ORDERS_PG_PASSWORD}
"""
TEMPLATED = PLAIN.replace("name: orders", 'name: "orders-{{ sandbox.name }}"')
INVALID = PLAIN.replace("database: orders", "database: orders\n      colour: blue")


def run(*argv: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, check=True
    )
    result: dict[str, object] = json.loads(done.stdout)
    return result


def loaded(result: dict[str, object]) -> set[str]:
    """Every package and module the run imported, with each dotted prefix of a provisioner
    module (so "provisioner.plan.make" is there when any module of the plan package loaded)."""
    modules = result["modules"]
    assert isinstance(modules, list)
    names = {m.split(".")[0] for m in modules}
    for module in modules:
        if module.startswith("provisioner."):
            parts = module.split(".")
            names |= {".".join(parts[:n]) for n in range(2, len(parts) + 1)}
    return names


def test_help_imports_nothing_heavy() -> None:
    result = run("--help")
    assert result["code"] == 0 and "provision validate configs/" in str(result["out"])
    assert not loaded(result) & HEAVY


def test_schema_imports_nothing_heavy() -> None:
    result = run("schema")
    assert result["code"] == 0
    assert json.loads(str(result["out"]))["title"]
    assert not loaded(result) & HEAVY


@pytest.mark.parametrize(("text", "jinja"), [(PLAIN, False), (TEMPLATED, True)])
def test_validating_a_valid_file_stays_on_the_fast_path(
    tmp_path: Path, text: str, jinja: bool
) -> None:
    manifest = tmp_path / "small.yaml"
    manifest.write_text(text)
    result = run("validate", str(manifest))
    assert result["code"] == 0, result["err"]
    modules = loaded(result)
    assert not modules & (NETWORK_AND_EMULATOR | {"jsonschema"})
    # Nor the planning machinery (plan, diff, payload rendering): validate only checks.
    assert not {m for m in result["modules"] if m in PLANNING}  # type: ignore[attr-defined]
    assert ("jinja2" in modules) is jinja  # Jinja2 only for a file that has templates


def test_an_invalid_file_does_load_the_full_validator_for_its_message(tmp_path: Path) -> None:
    manifest = tmp_path / "small.yaml"
    manifest.write_text(INVALID)
    result = run("validate", str(manifest))
    assert result["code"] == 1
    assert "unknown key 'colour'" in str(result["err"])
    modules = loaded(result)
    assert "jsonschema" in modules
    assert not modules & NETWORK_AND_EMULATOR
