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

import functools
import itertools
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from provisioner import connectors, ownermark
from provisioner.connectors import Adopted
from provisioner.escape import quoted
from provisioner.manifests.from_remote_dataflows import map_texts, texts
from provisioner.manifests.yamldump import dump
from provisioner.model import Cloud, RemoteConnection

_SURROGATE = re.compile("[\ud800-\udfff]")
# What validate.py refuses in a rendered name (its _CONTROL): C0 only. A description may hold
# anything; YAML's double-quoted escapes carry every character but a lone surrogate.
_NAME_CONTROL = re.compile("[\x00-\x1f]")
_MAX_NAME, _MAX_DESCRIPTION = 256, 4096  # the manifest schema's maxLength (auth texts: 4096)
_MAX_KEY = 128  # of a secret variable's KEY part; the whole name may hold 256
_JINJA = ("{{", "{%", "{#", "}}", "%}", "#}")
_SANDBOX_ENV = "{{ sandbox.name | upper | replace('-', '_') }}"


# One manifest entry in the making: its hollowed shape, the connector's adoption, and the
# (sandbox, name) of each connection it declares.
_Group = tuple[dict[str, Any], Adopted, list[tuple[str, str]]]


@dataclass(frozen=True)
class Imported:
    text: str  # the manifest
    connections: int
    entries: int
    variables: list[tuple[str, str, str]]  # (env name, sandbox, connection name)
    skipped: list[str] = field(default_factory=list)  # "connection 'x' in sandbox 'y': why"
    dataflows: int = 0


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


def _free_hole(remote: Mapping[str, Sequence[RemoteConnection]], more: Iterable[str]) -> str:
    """Where the sandbox name was, while grouping: a private-use character that no text of
    the listing holds (any character can come back from the API, NUL included)."""
    used: set[str] = set()
    for items in remote.values():
        for item in items:
            used.update(item.name, item.description or "")
            used.update(*(v for v in item.params.values() if isinstance(v, str)))
    used.update(*more)
    candidates = itertools.chain(range(0xE000, 0xF900), range(0xF0000, 0x10FFFE))
    return next(chr(code) for code in candidates if chr(code) not in used)


def _hollow(value: str, sandbox: str, hole: str) -> str:
    # Only whole words: "dev" in "orders-dev" is the sandbox, in "devices" it is not.
    return re.sub(rf"(?<![a-z0-9]){re.escape(sandbox)}(?![a-z0-9])", hole, value)


def _template(value: str, hole: str) -> str:
    """A hollowed value as manifest text: holes become `{{ sandbox.name }}`, and literal
    text that Jinja would read or change is quoted as a Jinja string."""
    parts = value.split(hole)
    if not _needs_quoting(parts):
        return "{{ sandbox.name }}".join(parts)
    pieces = []
    for i, part in enumerate(parts):
        if i:
            pieces.append("sandbox.name")
        if part:
            pieces.append(_jinja_string(part))
    return "{{ " + " ~ ".join(pieces) + " }}"


def _needs_quoting(parts: list[str]) -> bool:
    if any(d in part for part in parts for d in _JINJA):
        return True
    # A `{` before a hole would open `{{{ sandbox.name }}`; Jinja turns `\r\n` into `\n`
    # and drops a final line break in a template's text; YAML cannot hold a lone surrogate.
    if any(part.endswith("{") for part in parts[:-1]):
        return True
    if len(parts) > 1 and any("\r" in part or "\n" in part for part in parts):
        return True
    return any(_SURROGATE.search(part) for part in parts)


def _jinja_string(text: str) -> str:
    # A Jinja string literal decodes Python escapes: a lone surrogate travels as `\udc80`.
    literal = json.dumps(text, ensure_ascii=False)
    return _SURROGATE.sub(lambda found: f"\\u{ord(found.group()):04x}", literal)


def _env_key(name: str, hole: str) -> str:
    key = re.sub(r"[^A-Z0-9]+", "_", name.replace(hole, "").upper()).strip("_")
    # Cut so the variable name stays within the schema's 256 (a taken key gets `_2`).
    return key[:_MAX_KEY].rstrip("_") or "CONNECTION"


def _written(value: str, only: str | None, hole: str) -> str:
    """A hollowed value as the manifest says it: templated for a group of sandboxes, the
    sandbox's own text for a single one."""
    return _template(value if only is None else value.replace(hole, only), hole)


def _fits(shape: Mapping[str, Any], only: str | None, hole: str) -> bool:
    texts = [(shape["name"], _MAX_NAME)]
    if "description" in shape:
        texts.append((shape["description"], _MAX_DESCRIPTION))
    texts += [(v, _MAX_DESCRIPTION) for v in shape["auth"].values() if isinstance(v, str)]
    return all(len(_written(value, only, hole)) <= limit for value, limit in texts)


def _fitted(groups: Mapping[str, _Group], hole: str) -> tuple[dict[str, _Group], list[str]]:
    """The groups as the schema's lengths allow: a group whose templated text would be too
    long becomes one entry per sandbox; a connection whose own text is too long once quoted
    for Jinja (a name near 256 characters holding `{{`) is left out with its reason."""
    kept: dict[str, _Group] = {}
    skipped: list[str] = []
    for key, (shape, adopted, members) in groups.items():
        if _fits(shape, None if len(members) > 1 else members[0][0], hole):
            kept[key] = (shape, adopted, members)
            continue
        for i, (sandbox, name) in enumerate(members):
            if len(members) > 1 and _fits(shape, sandbox, hole):
                kept[f"{key}/{i}"] = (shape, adopted, [(sandbox, name)])
            else:
                skipped.append(
                    f"connection {name!r} in sandbox {sandbox!r}: a text of it, written for the "
                    "manifest (quoted for Jinja), would be longer than the manifest allows"
                )
    return kept, skipped


def _shape(
    item: RemoteConnection, sandbox: str, cloud: Cloud, hole: str
) -> tuple[dict[str, Any], Adopted] | str:
    """The manifest entry of one connection with its sandbox hollowed out, or why not."""
    if not item.name.strip():
        return "the name is empty; a manifest cannot declare that"
    if len(item.name) > _MAX_NAME:
        return f"the name is longer than {_MAX_NAME} characters; a manifest cannot declare that"
    if _NAME_CONTROL.search(item.name):
        return "the name holds a control character (U+0000-U+001F); a manifest cannot declare that"
    shape: dict[str, Any] = {"name": _hollow(item.name, sandbox, hole)}
    # The owner mark is provision's own line, never the manifest's (validate refuses it):
    # the manifest declares the text above it, and its `prune: owner` writes the mark.
    description = ownermark.split(item.description)[0]
    if description:
        if len(description) > _MAX_DESCRIPTION:
            return f"the description is longer than {_MAX_DESCRIPTION} characters"
        shape["description"] = _hollow(description, sandbox, hole)
    adopted = connectors.of_remote(item).adopt(
        item, cloud, lambda text: _hollow(text, sandbox, hole)
    )
    if isinstance(adopted, str):
        return adopted
    shape["auth"] = adopted.auth
    return shape, adopted


def build_manifest(
    org: str,
    clouds: Mapping[str, Cloud],
    remote: Mapping[str, Sequence[RemoteConnection]],
    dataflows: Mapping[tuple[str, str], list[dict[str, Any]]] | None = None,
) -> Imported:
    """`dataflows`: each (sandbox, connection id)'s entries (from_remote_dataflows.py)."""
    dataflows = dataflows or {}
    skipped: list[str] = []
    groups: dict[str, _Group] = {}
    count = 0
    hole = _free_hole(remote, texts(list(dataflows.values())))
    for sandbox in clouds:
        # Counted once per sandbox: list.count per connection is quadratic in its size.
        names = Counter(item.name for item in remote.get(sandbox, ()))
        for item in remote.get(sandbox, ()):
            where = f"connection {item.name!r} in sandbox {sandbox!r}"
            if names[item.name] > 1:
                skipped.append(f"{where}: {names[item.name]} connections share this name")
                continue
            shape = _shape(item, sandbox, clouds[sandbox], hole)
            if isinstance(shape, str):
                skipped.append(f"{where}: {shape}")
                continue
            if dataflows.get((sandbox, item.id)):
                # Hollowed too: flows that differ only by the sandbox's name group as one.
                hollow = functools.partial(_hollow, sandbox=sandbox, hole=hole)
                shape[0]["dataflows"] = map_texts(dataflows[(sandbox, item.id)], hollow)
            key = json.dumps(shape[0], sort_keys=True)
            groups.setdefault(key, (*shape, []))[2].append((sandbox, item.name))
            count += 1
    groups, unfit = _fitted(groups, hole)
    skipped += unfit
    count -= len(unfit)
    entries, variables = _entries(groups, hole)
    document = {
        "version": 1,
        "org": org,
        "sandboxes": [{"name": s, "cloud": c} for s, c in clouds.items() if remote.get(s)],
        "connections": entries,
    }
    body = dump(document)
    text = _header(org, list(clouds), variables) + body
    flows = sum(len(e.get("dataflows", ())) * len(e["sandboxes"]) for e in entries)
    return Imported(text, count, len(entries), variables, skipped, flows)


def _entries(
    groups: Mapping[str, _Group], hole: str
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
            return _written(value, only, hole)

        entry: dict[str, Any] = {"name": text(shape["name"])}
        if "description" in shape:
            entry["description"] = text(shape["description"])
        entry["sandboxes"] = sandboxes
        # Every text of the block is templated: its fixed words (type, ssl) hold no sandbox
        # name and no Jinja, so they come out as they went in.
        auth = {k: text(v) if isinstance(v, str) else v for k, v in shape["auth"].items()}
        base, n = _env_key(shape["name"], hole), 1
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
        if "dataflows" in shape:
            entry["dataflows"] = map_texts(shape["dataflows"], text)
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
    # quoted(): a remote name may hold anything; a comment must stay one line of data.
    lines += [f"#   {env}  for {quoted(name)} in {sandbox}" for env, sandbox, name in variables]
    lines += [
        "# `provision plan` on this file should show 0 to add and 0 drifted. Add a",
        "# `prune: {names: [...]}` block only once you mean `apply --prune` to delete.",
        "",
    ]
    return "\n".join(lines)
