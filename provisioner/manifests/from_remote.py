"""`provision import`: remote connections to a manifest, as a pure function.

Non-secret fields are copied verbatim; secrets become `{env: NAME}` references (the API
reads them back masked, so there is no value to copy). A connection that exists in several
sandboxes with values that differ only by the sandbox's name becomes one entry templated
with `{{ sandbox.name }}`; identical ones share one entry listing their sandboxes.

Secret variable names follow one rule (docs/lifecycle.md): `<PREFIX>_<SANDBOX>_<KEY>_<SUFFIX>`,
the prefix and suffix the connector's (connectors/<name>/adopt.py), where SANDBOX is
the sandbox name and KEY the connection name without its sandbox part, both upper-cased
with every run of other characters turned into `_`; a KEY taken twice in a sandbox gets
`_2`, `_3`... in name order. Anything the manifest format cannot hold is left out with a
reason, never guessed.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from provisioner import connectors
from provisioner.connectors import Adopted
from provisioner.model import Cloud, RemoteConnection

_HOLE = "\x00"  # where the sandbox name was, while grouping
_JINJA = ("{{", "{%", "{#", "}}", "%}", "#}")
_SANDBOX_ENV = "{{ sandbox.name | upper | replace('-', '_') }}"


@dataclass(frozen=True)
class Imported:
    text: str  # the manifest
    connections: int
    entries: int
    variables: list[tuple[str, str, str]]  # (env name, sandbox, connection name)
    skipped: list[str] = field(default_factory=list)  # "connection 'x' in sandbox 'y': why"


def clouds_of(remote: Mapping[str, Sequence[RemoteConnection]]) -> dict[str, Cloud | None]:
    """Each sandbox's cloud as its connections show it (their connector reads it); None
    when they do not tell or disagree."""
    found: dict[str, Cloud | None] = {}
    for sandbox, items in remote.items():
        seen: set[str] = set()
        for item in items:
            cloud = connectors.of_remote(item).cloud_of(item)
            if cloud is not None:
                seen.add(cloud)
        found[sandbox] = seen.pop() if len(seen) == 1 else None  # type: ignore[assignment]
    return found


def _hollow(value: str, sandbox: str) -> str:
    # Only whole words: "dev" in "orders-dev" is the sandbox, in "devices" it is not.
    return re.sub(rf"(?<![a-z0-9]){re.escape(sandbox)}(?![a-z0-9])", _HOLE, value)


def _template(value: str) -> str:
    """A hollowed value as manifest text: holes become `{{ sandbox.name }}`, and literal
    text that Jinja would read is quoted as a Jinja string."""
    parts = value.split(_HOLE)
    if not any(d in part for part in parts for d in _JINJA):
        return "{{ sandbox.name }}".join(parts)
    pieces = []
    for i, part in enumerate(parts):
        if i:
            pieces.append("sandbox.name")
        if part:
            pieces.append(json.dumps(part, ensure_ascii=False))
    return "{{ " + " ~ ".join(pieces) + " }}"


def _env_key(name: str) -> str:
    key = re.sub(r"[^A-Z0-9]+", "_", name.replace(_HOLE, "").upper()).strip("_")
    return key or "CONNECTION"


def _shape(
    item: RemoteConnection, sandbox: str, cloud: Cloud
) -> tuple[dict[str, Any], Adopted] | str:
    """The manifest entry of one connection with its sandbox hollowed out, or why not."""
    if not item.name.strip() or len(item.name) > 256 or _control(item.name):
        return "the name is empty, too long or holds a control character"
    shape: dict[str, Any] = {"name": _hollow(item.name, sandbox)}
    if item.description:
        if len(item.description) > 4096 or _control(item.description):
            return "the description is longer than 4096 characters or holds a control character"
        shape["description"] = _hollow(item.description, sandbox)
    adopted = connectors.of_remote(item).adopt(item, cloud, lambda text: _hollow(text, sandbox))
    if isinstance(adopted, str):
        return adopted
    shape["auth"] = adopted.auth
    return shape, adopted


def _control(text: str) -> bool:
    # C0, DEL, C1 and the Unicode line separators: YAML reads NEL, LS and PS as line breaks,
    # so such a value would not come back from the manifest as it went in.
    return any(ord(ch) < 32 or 127 <= ord(ch) < 160 or ch in "\u2028\u2029" for ch in text)


def build_manifest(
    org: str,
    clouds: Mapping[str, Cloud],
    remote: Mapping[str, Sequence[RemoteConnection]],
) -> Imported:
    skipped: list[str] = []
    groups: dict[str, tuple[dict[str, Any], Adopted, list[tuple[str, str]]]] = {}
    count = 0
    for sandbox in clouds:
        # Counted once per sandbox: list.count per connection is quadratic in its size.
        names = Counter(item.name for item in remote.get(sandbox, ()))
        for item in remote.get(sandbox, ()):
            where = f"connection {item.name!r} in sandbox {sandbox!r}"
            if names[item.name] > 1:
                skipped.append(f"{where}: {names[item.name]} connections share this name")
                continue
            shape = _shape(item, sandbox, clouds[sandbox])
            if isinstance(shape, str):
                skipped.append(f"{where}: {shape}")
                continue
            key = json.dumps(shape[0], sort_keys=True)
            groups.setdefault(key, (*shape, []))[2].append((sandbox, item.name))
            count += 1
    entries, variables = _entries(groups)
    document = {
        "version": 1,
        "org": org,
        "sandboxes": [{"name": s, "cloud": c} for s, c in clouds.items() if remote.get(s)],
        "connections": entries,
    }
    body = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100_000)
    text = _header(org, list(clouds), variables) + body
    return Imported(text, count, len(entries), variables, skipped)


def _entries(
    groups: Mapping[str, tuple[dict[str, Any], Adopted, list[tuple[str, str]]]],
) -> tuple[list[dict[str, Any]], list[tuple[str, str, str]]]:
    taken: set[tuple[str, str]] = set()
    entries: list[dict[str, Any]] = []
    variables: list[tuple[str, str, str]] = []
    for shape, adopted, members in sorted(
        groups.values(), key=lambda g: (g[0]["name"], g[2][0][0])
    ):
        sandboxes = [s for s, _ in members]
        # A hole shared by several sandboxes is a template; alone it is the name again.
        only = sandboxes[0] if len(members) == 1 else None

        def text(value: str, only: str | None = only) -> str:
            return _template(value if only is None else value.replace(_HOLE, only))

        entry: dict[str, Any] = {"name": text(shape["name"])}
        if "description" in shape:
            entry["description"] = text(shape["description"])
        entry["sandboxes"] = sandboxes
        # Every text of the block is templated: its fixed words (type, ssl) hold no sandbox
        # name and no Jinja, so they come out as they went in.
        auth = {k: text(v) if isinstance(v, str) else v for k, v in shape["auth"].items()}
        base, n = _env_key(shape["name"]), 1
        while any((s, _suffixed(base, n)) in taken for s in sandboxes):
            n += 1
        key = _suffixed(base, n)
        taken.update((s, key) for s in sandboxes)
        prefix, suffix = adopted.env_prefix, adopted.env_suffix
        env = f"{prefix}_{_SANDBOX_ENV}_{key}_{suffix}" if len(members) > 1 else None
        if env is None:
            env = f"{prefix}_{_sandbox_env(sandboxes[0])}_{key}_{suffix}"
        auth[adopted.secret_key] = {"env": env}
        entry["auth"] = auth
        entries.append(entry)
        variables += [
            (f"{prefix}_{_sandbox_env(s)}_{key}_{suffix}", s, name) for s, name in members
        ]
    return entries, variables


def _suffixed(key: str, n: int) -> str:
    return key if n == 1 else f"{key}_{n}"


def _sandbox_env(sandbox: str) -> str:
    return sandbox.upper().replace("-", "_")


def _header(org: str, sandboxes: list[str], variables: list[tuple[str, str, str]]) -> str:
    lines = [
        f"# Imported by `provision import` from {len(sandboxes)} sandbox(es) of {org}:",
        f"#   {', '.join(sandboxes)}",
        "# The Flow Service reads secrets back masked, so no secret is in this file: each",
        "# password or connection string is an {env: NAME} reference. Before `provision apply`",
        "# set these variables from your secret store (`provision plan` needs none of them):",
    ]
    # ascii(): a remote name may hold anything; a comment must stay one line.
    lines += [f"#   {env}  for {name!a} in {sandbox}" for env, sandbox, name in variables]
    lines += [
        "# `provision plan` on this file should show 0 to add and 0 drifted. Add a",
        "# `prune: {names: [...]}` block only once you mean `apply --prune` to delete.",
        "",
    ]
    return "\n".join(lines)
