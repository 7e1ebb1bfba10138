"""The "may import" rules of docs/architecture.md, held against every import in the package.

Every import counts: at module level, inside a function (the lazy ones that keep start-up
fast), and under TYPE_CHECKING, since a type import is still a dependency a reader follows.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "provisioner"

BASE = {"provisioner", "errors", "model", "dataflow", "redact", "escape", "ownermark"}
STAGES = {"schemas", "connectors", "manifests", "remote", "plan", "apply", "verify"}
# Each part of the package, and the parts it may import besides itself. The core (the
# stages) never imports report/, commands/ or cli/; nothing imports the emulator but the CLI.
MAY_IMPORT: dict[str, set[str]] = {
    "provisioner": set(),
    "errors": set(),
    "redact": set(),
    "escape": set(),
    "ownermark": set(),
    "model": {"errors", "ownermark"},
    "dataflow": {"errors", "ownermark"},
    "schemas": BASE,
    "connectors": BASE | {"schemas"},
    "manifests": BASE | {"schemas", "connectors"},
    "remote": BASE | {"connectors"},
    "plan": BASE | {"schemas", "connectors", "manifests", "remote"},
    "apply": BASE | {"connectors", "manifests", "remote", "plan"},
    "verify": BASE | {"connectors", "manifests", "remote", "plan"},
    "report": BASE | STAGES,
    "commands": BASE | STAGES | {"report", "emulator"},
    "cli": BASE | STAGES | {"commands", "emulator"},
    "__main__": {"cli"},
    "ci": BASE | {"remote"},  # the pure retry rules (Retry-After), never the client
    "emulator": set(),
}


def part_of(module: str) -> str:
    """`provisioner.plan.make` -> `plan`; `provisioner.errors` -> `errors`."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "provisioner"


def imports(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            # `from provisioner import redact` imports the module provisioner.redact.
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.ImportFrom) and node.level:
            raise AssertionError(f"{path}:{node.lineno}: use an absolute import")
    return [(line, name) for line, name in found if name.startswith("provisioner.")]


def module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    return ".".join(relative.parts).removesuffix(".__init__")


def known(name: str) -> bool:
    """Only names that are modules or packages of ours (not `provisioner.__version__`)."""
    part = part_of(name)
    return (PACKAGE / part).is_dir() or (PACKAGE / f"{part}.py").is_file()


SOURCES = sorted(
    p for p in PACKAGE.rglob("*.py") if "emulator" not in p.relative_to(PACKAGE).parts[:1]
)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_every_import_follows_the_layering(path: Path) -> None:
    part = part_of(module_name(path))
    assert part in MAY_IMPORT, f"{path}: a new part of the package: add it to MAY_IMPORT"
    wrong = [
        f"{path.relative_to(PACKAGE.parent)}:{line}: {part} may not import {name}"
        for line, name in imports(path)
        if known(name) and part_of(name) != part and part_of(name) not in MAY_IMPORT[part]
    ]
    assert not wrong, "\n".join(wrong)


def test_the_emulator_imports_nothing_from_the_provisioner() -> None:
    # It stands in for Adobe: sharing code with the client would let a shared bug agree
    # with itself. Inside, it uses relative imports of its own modules.
    wrong = []
    for path in sorted((PACKAGE / "emulator").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            wrong += [
                f"{path.name}:{node.lineno}: {n}"
                for n in names
                if n.startswith("provisioner.") and not n.startswith("provisioner.emulator")
            ]
    assert not wrong, wrong


def test_the_rules_catch_an_import_that_runs_back_up(tmp_path: Path) -> None:
    # The check itself: a plan module importing a reporter is found.
    bad = tmp_path / "bad.py"
    bad.write_text("from provisioner.report.text import write_text\n", encoding="utf-8")
    found = [name for _, name in imports(bad) if known(name)]
    assert "report" not in MAY_IMPORT["plan"] and part_of(found[0]) == "report"
