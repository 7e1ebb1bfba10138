"""`provision import` on hostile remote connections: whatever names, descriptions and params
the API holds, the manifest written is valid, declares exactly the connections it did not
leave out (with the same names and readable fields), and contains nothing it should not.

The property runs the pure importer and the real loader; one case runs the whole command
against a fake API answering hostile listings."""

from __future__ import annotations

import dataclasses
import json
import tempfile
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from provisioner.commands import session as remote_commands
from provisioner.connectors.postgres.spec import SPEC_ID as POSTGRES_SPEC_ID
from provisioner.manifests.from_remote import build_manifest
from provisioner.manifests.load import load_documents
from provisioner.manifests.validate import desired_connections
from provisioner.model import RemoteConnection
from provisioner.plan.diff import drift_between

from .hostile import FUZZ, check, run_cli
from .test_fuzz_manifests import HOSTILE_STRINGS, TEMPLATES

ORG = "0123456789ABCDEF01234567@AdobeOrg"
SANDBOXES = {"prod": "azure", "dev": "azure", "prod-aws": "aws"}
PIECES = [*HOSTILE_STRINGS, *TEMPLATES, "prod", "dev", "-prod", "prod-", "yes", "~", "null",
          "- x", ": y", "# z", "&a", "*a", "!!python/object", "%TAG", "0o17", "1e3", "\x85"]  # fmt: skip

# What once made import give up on the whole run or leave a connection out: braces beside
# the sandbox part (`a{ta`/`a{tb` -> `a{{{ sandbox.name }}`), lone surrogates, line breaks
# (descriptions written by hand hold them), and characters YAML or Jinja would change.
AWKWARD = ["{", "}", "{{", "}}", "{%", "\ud800", "\udfff", "\n", "\r\n", "\r", "\n\n",
           "\u2028", "\x85", "\x7f", "\u200b", "\u202e", "\ufeff", "\\", '"', "'",
           "n" * 240]  # near the 256 a name may hold: templated or quoted, still within  # fmt: skip
text = st.lists(st.sampled_from(PIECES + AWKWARD) | st.text(max_size=8), max_size=5).map("".join)

# What the remote holds for a password or connection string. The API masks it as `********`,
# which `text` can generate as a name; a secret that leaked into the manifest must be told
# apart from a name, so the remote's secret here is a canary that `text` can never spell:
# 60 characters that no piece holds, longer than the 5 free pieces of 8 together.
SECRET = "\u79d8\u5bc6" * 30
assert not any(ch in piece for piece in PIECES for ch in set(SECRET))
assert len(SECRET) > 5 * 8


@st.composite
def connections(draw: st.DrawFn) -> tuple[str, RemoteConnection]:
    sandbox = draw(st.sampled_from(sorted(SANDBOXES)))
    name = draw(text)
    if draw(st.booleans()):
        name = f"{name}{draw(st.sampled_from(['-', '{', '{{', '}', ' ', '']))}{sandbox}"
    string_auth = SANDBOXES[sandbox] == "azure" and draw(st.booleans())
    params: dict[str, object]
    if string_auth:
        params = {"connectionString": SECRET}
    else:
        ssl = draw(st.sampled_from(["Verify Full", "Disable", "true", "false", "Bogus", "", 1]))
        params = {
            "server": draw(text),
            "port": draw(st.sampled_from(["5432", "05432", "99999", "0", "x", 5432, ""])),
            "database": draw(text),
            "username": draw(text),
            "password": SECRET,
            "sslMode": ssl,
        }
    return sandbox, RemoteConnection(
        id=draw(st.uuids()).hex,
        name=name,
        etag='"e"',
        description=draw(st.none() | text),
        spec_id=POSTGRES_SPEC_ID,
        auth_spec_name="Connection String Based Authentication"
        if string_auth
        else draw(
            st.sampled_from(["Basic Authentication", "Basic Authentication", "OAuth 2", None])
        ),
        params=params,
        state="enabled",
        created_at=1,
        created_client="c",
    )


@st.composite
def twins(draw: st.DrawFn) -> list[tuple[str, RemoteConnection]]:
    """One connection made alike in prod and dev, its sandbox's name in its texts: import
    writes it as one templated entry, which must render back to each exactly."""
    _, item = draw(connections())
    sep = draw(st.sampled_from(["-", "{", "{{", "}", "", "\n"]))
    pair = []
    for sandbox in ("prod", "dev"):
        params = {
            k: v.replace("prod", sandbox) if isinstance(v, str) else v
            for k, v in item.params.items()
        }
        named = dataclasses.replace(
            item,
            id=f"{item.id}-{sandbox}",
            name=f"{item.name}{sep}{sandbox}",
            description=None if item.description is None else f"{item.description}{sep}{sandbox}",
            params=params,
        )
        pair.append((sandbox, named))
    return pair


remote_states = st.lists(connections().map(lambda one: [one]) | twins(), max_size=8).map(
    lambda groups: [item for group in groups for item in group]
)


@FUZZ
@given(remote_states)
def test_any_remote_state_imports_to_a_manifest_that_declares_it_exactly(
    found: list[tuple[str, RemoteConnection]],
) -> None:
    remote: dict[str, list[RemoteConnection]] = {s: [] for s in SANDBOXES}
    for sandbox, item in found:
        remote[sandbox].append(item)
    result = build_manifest(ORG, SANDBOXES, remote)  # type: ignore[arg-type]
    assert SECRET not in result.text
    if not result.connections:
        return  # `provision import` refuses to write an empty manifest
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "imported.yaml"
        path.write_text(result.text, encoding="utf-8")
        documents, problems = load_documents([str(path)])
        desired = desired_connections(documents, (), problems)  # raises if invalid
    declared = {(c.sandbox, c.name): c for c in desired}
    kept = {
        (s, r.name): r
        for s, items in remote.items()
        for r in items
        if not any(
            why.startswith(f"connection {r.name!r} in sandbox {s!r}:") for why in result.skipped
        )
    }
    assert set(declared) == set(kept)
    assert result.connections == len(kept)
    for key, connection in declared.items():
        assert drift_between(connection, kept[key]) == [], (
            key,
            drift_between(connection, kept[key]),
        )


def test_import_against_hostile_listings_ends_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def api(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/ims/token/v3":
            return httpx.Response(200, json={"access_token": "t0k", "expires_in": 9})
        sandbox = request.headers["x-sandbox-name"]
        if sandbox == "dev":
            return httpx.Response(200, content=b"<html>oops</html>")
        item: dict[str, Any] = {
            "id": "c-1",
            "name": "orders\x1b[2J\nprod",
            "auth": {"specName": "Basic Authentication", "params": {"sslMode": "Require"}},
        }
        good = {
            "id": "c-2",
            "name": "billing",
            "auth": {
                "specName": "Connection String Based Authentication",
                "params": {"connectionString": "***"},
            },
        }
        return httpx.Response(200, json={"items": [item, good]})

    monkeypatch.setattr(
        remote_commands,
        "build_http_client",
        lambda timeout, parallelism: httpx.Client(transport=httpx.MockTransport(api)),
    )
    monkeypatch.chdir(tmp_path)
    for name, value in {
        "AEP_CLIENT_ID": "c",
        "AEP_CLIENT_SECRET": "hostile-secret-value",
        "AEP_IMS_URL": "https://ims.example.test",
        "AEP_PLATFORM_URL": "https://platform.example.test",
    }.items():
        monkeypatch.setenv(name, value)
    both = ["import", "--org", ORG, "--sandbox", "prod", "--out", "m.yaml"]
    failed = run_cli([*both, "--sandbox", "dev"])
    check(failed)
    assert failed.code == 1 and not Path("m.yaml").exists()
    assert "nothing was written" in failed.err and "\x1b" not in failed.err
    skipped = run_cli(both)
    check(skipped)
    assert "\x1b" not in skipped.out and "\\x1b" in skipped.out  # named, never executed
    assert "- name: billing\n" in Path("m.yaml").read_text(encoding="utf-8")
    assert json.dumps("hostile-secret-value")[1:-1] not in skipped.out + skipped.err
