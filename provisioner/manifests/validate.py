"""Stage 2, validate: manifest documents to the connections they ask for.

Runs the schema, renders the templates for every (connection, sandbox) pair, and applies
the rules a schema cannot express: identities, clouds that must agree across files, the
syntax of secret references, and each connector's own (connectors/<name>/rules.py: its
per-cloud auth and TLS). Every problem of every file is collected before one
ManifestError reports them all.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, cast

from provisioner import connectors, ownermark
from provisioner.errors import Diagnostic, Location, ManifestError
from provisioner.manifests import dataflows, diagnose, excerpt, secrets
from provisioner.manifests.load import Document, JsonPath, format_path
from provisioner.model import Cloud, DesiredConnection, SecretRef

MAX_NAME_LENGTH = 256

_PORT = re.compile(r"[1-9][0-9]{0,4}")
# One C-level scan instead of a Python loop per character: 50,000 connections have
# 200,000 of these values.
_CONTROL = re.compile(r"[\x00-\x1f]")


@dataclass
class _Collector:
    document: Document
    # One problem found in several sandboxes is reported once, naming them all.
    per_sandbox: dict[tuple[JsonPath, str], list[str]] = field(default_factory=dict)
    plain: list[Diagnostic] = field(default_factory=list)
    flows: list[dataflows.Declared] = field(default_factory=list)  # rendered, with their paths

    def add(self, path: JsonPath, message: str, *, sandbox: str | None = None) -> None:
        if sandbox is None:
            location = self.document.locate(path)
            self.plain.append(Diagnostic(location, format_path(path), message))
        else:
            self.per_sandbox.setdefault((path, message.rstrip(".")), []).append(sandbox)

    @property
    def diagnostics(self) -> list[Diagnostic]:
        found = list(self.plain)
        for (path, message), sandboxes in self.per_sandbox.items():
            names = ", ".join(repr(s) for s in sandboxes)
            plural = "sandboxes" if len(sandboxes) > 1 else "sandbox"
            location = self.document.locate(path)
            found.append(Diagnostic(location, format_path(path), f"{message} ({plural} {names})"))
        return found


def desired_connections(
    documents: Sequence[Document],
    secrets_dirs: Sequence[Path] = (),
    load_problems: Sequence[Diagnostic] = (),
) -> list[DesiredConnection]:
    return desired_manifests(documents, secrets_dirs, load_problems).connections


def desired_manifests(
    documents: Sequence[Document],
    secrets_dirs: Sequence[Path] = (),
    load_problems: Sequence[Diagnostic] = (),
) -> dataflows.Desired:
    """Every connection and dataflow the manifests ask for, or a ManifestError listing every
    problem (including `load_problems`, those of files that did not load)."""
    diagnostics: list[Diagnostic] = list(load_problems)
    desired: list[DesiredConnection] = []
    flows: list[dataflows.Declared] = []
    invalid: set[int] = set()  # ids of the documents the schema refused
    for document in documents:
        collector = _Collector(document)
        schema_problems = list(diagnose.manifest_diagnostics(document))
        if schema_problems:
            diagnostics.extend(schema_problems)
            invalid.add(id(document))
            continue
        desired.extend(_expand(document, collector, secrets_dirs))
        diagnostics.extend(collector.diagnostics)
        flows.extend(collector.flows)
    diagnostics.extend(_cross_file_problems(documents, desired))
    diagnostics.extend(dataflows.duplicate_problems(flows))
    claiming = [d for d in documents if id(d) not in invalid and _prune_block(d) is not None]
    if claiming:  # only then: validate of a file without prune: stays on the fast path
        from provisioner.manifests.ownership import claim_problems

        diagnostics.extend(claim_problems(claiming))
    if diagnostics:
        raise ManifestError(diagnostics)
    return dataflows.Desired(desired, [flow for flow, _ in flows])


def _prune_block(document: Document) -> dict[str, Any] | None:
    block = document.data.get("prune") if isinstance(document.data, dict) else None
    return block if isinstance(block, dict) else None


def _expand(
    document: Document, out: _Collector, secrets_dirs: Sequence[Path]
) -> list[DesiredConnection]:
    data = document.data
    org: str = data["org"]
    file_vars: dict[str, Any] = data.get("vars") or {}
    clouds: dict[str, Cloud] = {}
    contexts: dict[str, dict[str, Any]] = {}
    for i, sandbox in enumerate(data["sandboxes"]):
        name = sandbox["name"]
        if name in clouds:
            out.add(("sandboxes", i, "name"), f"sandbox {name!r} is listed twice in this file")
            continue
        clouds[name] = sandbox["cloud"]
        sandbox_vars = sandbox.get("vars") or {}
        contexts[name] = {
            "sandbox": {"name": name, "cloud": sandbox["cloud"], "vars": sandbox_vars},
            "vars": {**file_vars, **sandbox_vars},
            "org": org,
        }
    base_dir = document.path.parent
    block = _prune_block(document)
    owner = block.get("owner") if block else None  # marked on what this file creates
    result: list[DesiredConnection] = []
    for i, entry in enumerate(data["connections"]):
        targets = entry.get("sandboxes") or list(clouds)
        for j, target in enumerate(targets):
            if target not in clouds:
                known = ", ".join(clouds)
                out.add(
                    ("connections", i, "sandboxes", j),
                    f"unknown sandbox {excerpt.name(target)}; this file defines: {known}",
                )
                continue
            renderer = _Renderer(
                out, ("connections", i), contexts[target], target, base_dir, secrets_dirs
            )
            connection = renderer.connection(entry, org, clouds[target])
            if connection is not None:
                result.append(replace(connection, owner=owner))
                out.flows += dataflows.render(entry.get("dataflows", ()), result[-1], renderer)
    return result


class _Renderer:
    """Renders one connection entry for one sandbox, reporting problems as it goes."""

    def __init__(
        self,
        out: _Collector,
        path: JsonPath,
        context: Mapping[str, Any],
        sandbox: str,
        base_dir: Path,
        secrets_dirs: Sequence[Path],
    ) -> None:
        self.out = out
        self.path = path
        self.context = context
        self.sandbox = sandbox
        self.base_dir = base_dir
        self.secrets_dirs = secrets_dirs
        self.failed = False

    def fail(self, path: JsonPath, message: str) -> None:
        self.failed = True
        self.out.add((*self.path, *path), message, sandbox=self.sandbox)

    def child(self, path: JsonPath) -> _Renderer:
        part = copy.copy(self)  # a part of this entry (a dataflow), failing on its own
        part.path, part.failed = (*self.path, *path), False
        return part

    def locate(self, path: JsonPath = ()) -> Location:
        return self.out.document.locate((*self.path, *path))

    def text(self, value: str, path: JsonPath) -> str:
        if "{" not in value:  # no template syntax: Jinja2 need not even be imported
            return value
        from provisioner.manifests import templating

        try:
            return templating.render(value, self.context)
        except templating.TemplateError as error:
            hint = (
                "; define it under vars: or the sandbox's vars:"
                if "undefined" in str(error)
                else ""
            )
            self.fail(path, f"{error}{hint}")
            return ""

    def port(self, value: int | str, path: JsonPath) -> int:
        if isinstance(value, int):
            return value
        text = self.text(value, path)
        if self.failed:
            return 0
        # No leading zeros: `05432` is octal to some readers and decimal to others.
        if not _PORT.fullmatch(text) or int(text) > 65535:
            self.fail(
                path,
                f"port {excerpt.name(text)} is not a number from 1 to 65535 (write it without "
                "quotes or leading zeros, e.g. 5432)",
            )
            return 0
        return int(text)

    def secret(self, value: Mapping[str, str], path: JsonPath) -> SecretRef:
        kind = "env" if "env" in value else "file"
        name = self.text(value[kind], (*path, kind))
        location = self.out.document.locate((*self.path, *path))
        ref = SecretRef(kind, name, self.base_dir, location)  # type: ignore[arg-type]
        if not self.failed:
            problem = secrets.reference_problem(ref, self.secrets_dirs)
            if problem:
                self.fail((*path, kind), problem)
        return ref

    def connection(
        self,
        entry: Mapping[str, Any],
        org: str,
        cloud: Cloud,
    ) -> DesiredConnection | None:
        name = self.text(entry["name"], ("name",))
        if not self.failed:
            self._check_name(name)
        description = entry.get("description")
        if description is not None:
            description = self.text(description, ("description",)) or None
            if ownermark.owner_of(description) is not None:
                # It would read back as an owner mark: a manifest would forge ownership.
                self.fail(
                    ("description",),
                    f"ends with an owner mark ({ownermark.TRAILER}...); provision writes "
                    "that line itself from prune: owner, remove it from the description",
                )
        auth = connectors.of_entry(entry).auth(entry["auth"], cloud, self)
        if self.failed or auth is None:
            return None
        location = self.out.document.locate(self.path)
        return DesiredConnection(org, self.sandbox, cloud, name, description, auth, location)

    def _check_name(self, name: str) -> None:
        if not name.strip():
            self.fail(("name",), "the name renders empty")
        elif len(name) > MAX_NAME_LENGTH:
            self.fail(("name",), f"the name is longer than {MAX_NAME_LENGTH} characters")
        elif _CONTROL.search(name):
            self.fail(("name",), "the name contains a control character")


def _cross_file_problems(
    documents: Sequence[Document], desired: Sequence[DesiredConnection]
) -> list[Diagnostic]:
    problems: list[Diagnostic] = []
    seen_cloud: dict[tuple[str, str], tuple[str, Location]] = {}
    for document in documents:
        if not isinstance(document.data, dict):
            continue
        sandboxes = document.data.get("sandboxes")
        if not isinstance(sandboxes, list):
            continue  # the schema reports it
        for i, sandbox in enumerate(sandboxes):
            if not isinstance(sandbox, dict) or not isinstance(document.data.get("org"), str):
                continue
            key = (document.data["org"], str(sandbox.get("name")))
            here = document.locate(("sandboxes", i, "cloud"))
            cloud = cast(str, sandbox.get("cloud"))
            if cloud not in ("azure", "aws"):
                continue  # the schema reports it; echoing it here could print anything
            if key in seen_cloud and seen_cloud[key][0] != cloud:
                other_cloud, other = seen_cloud[key]
                problems.append(
                    Diagnostic(
                        here,
                        format_path(("sandboxes", i, "cloud")),
                        f"sandbox {key[1]!r} is on {other_cloud} at {other}, here on {cloud}; "
                        "one sandbox runs on one cloud, make them agree",
                    )
                )
            seen_cloud.setdefault(key, (cloud, here))
    first: dict[tuple[str, str, str], DesiredConnection] = {}
    for connection in desired:
        previous = first.setdefault(connection.identity, connection)
        if previous is not connection:
            problems.append(
                Diagnostic(
                    connection.source,
                    "$.connections",
                    f"connection {connection.name!r} in sandbox {connection.sandbox!r} is also "
                    f"defined at {previous.source}; names must be unique within a sandbox",
                )
            )
    return problems
