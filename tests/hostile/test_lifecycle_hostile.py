"""Hostile answers to the lifecycle's requests: a PATCH or DELETE answered with garbage, and
dataflow listings that cannot be read. Each ends in one line naming the connection and its
sandbox (or a warning, where the plan can do without the answer), never a traceback."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from provisioner.commands import session as remote

from .hostile import check, run_cli

ORG = "0123456789ABCDEF01234567@AdobeOrg"
MANIFEST = f"""\
version: 1
org: {ORG}
prune: {{owner: team-a, names: ["old-*"]}}
sandboxes:
  - {{name: prod, cloud: azure}}
connections:
  - name: orders
    auth:
      type: basic
      server: pg-new.example.test
      database: orders
      username: reader
      password: {{env: ORDERS_PW}}
"""
ITEMS = [
    {
        "id": "o-1",
        "name": "orders",
        "etag": '"e1"',
        "auth": {
            "specName": "Basic Authentication",
            "params": {
                "server": "pg-old.example.test",
                "port": "5432",
                "database": "orders",
                "username": "reader",
                "password": "***",
                "sslMode": "Verify Full",
            },
        },
    },
    {
        "id": "x-1",
        "name": "old-crm",
        "etag": '"e2"',
        "description": "managed-by: provision owner=team-a",  # team-a made it: prunable
        "auth": {"specName": "Basic Authentication"},
    },
]
Handler = Callable[[httpx.Request], httpx.Response]


def fake_api(
    monkeypatch: pytest.MonkeyPatch, answer: Handler, flows: Handler | None = None
) -> list[httpx.Request]:
    seen: list[httpx.Request] = []

    def api(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/ims/token/v3":
            return httpx.Response(200, json={"access_token": "t0k", "expires_in": 3600})
        if request.url.path.endswith("/connectionSpecs/74a1c565-4e59-48d7-9d67-7c03b8a13137"):
            return httpx.Response(200, json={"items": [{}]})
        if request.method == "GET" and request.url.path.endswith("/connections"):
            return httpx.Response(200, json={"items": ITEMS})
        if request.method == "GET" and request.url.path.endswith("/connections/x-1"):
            # Apply reads a connection once more before deleting it (its owner mark).
            return httpx.Response(200, json={"items": ITEMS[1:]})
        if request.url.path.endswith(("/flows", "/sourceConnections")):
            return (flows or answer)(request)
        return answer(request)

    monkeypatch.setattr(
        remote,
        "build_http_client",
        lambda timeout, parallelism: httpx.Client(transport=httpx.MockTransport(api)),
    )
    for name, value in {
        "AEP_CLIENT_ID": "c",
        "AEP_CLIENT_SECRET": "hostile-secret-value",
        "AEP_IMS_URL": "https://ims.example.test",
        "AEP_PLATFORM_URL": "https://platform.example.test",
        "ORDERS_PW": "hostile-db-password",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("CI", raising=False)
    return seen


ANSWERS: dict[str, Handler] = {
    "html-200": lambda r: httpx.Response(200, content=b"<html>ok</html>"),
    "json-list": lambda r: httpx.Response(200, json=[]),
    "412-forever": lambda r: httpx.Response(
        412, json={"type": "https://ns.adobe.com/aep/errors/FLOW-1404-412", "title": "x"}
    ),
    "400-echo": lambda r: httpx.Response(400, text=r.content.decode() or "boom"),
    "404": lambda r: httpx.Response(404, json={"title": "gone"}),
}


@pytest.mark.parametrize("name", sorted(ANSWERS))
def test_hostile_answers_to_patch_and_delete_are_one_line_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    fake_api(monkeypatch, ANSWERS[name], lambda r: httpx.Response(200, json={"items": []}))
    manifest = tmp_path / "m.yaml"
    manifest.write_text(MANIFEST, encoding="utf-8")
    argv = ["apply", str(manifest), "--auto-approve", "--prune", "--rotate-secrets", "-q"]
    run = run_cli(argv)
    check(run, reported_on_stdout=True)
    assert "hostile-db-password" not in run.out + run.err
    problems = [line for line in run.out.splitlines() if line.startswith("  ! ")]
    if name in ("html-200", "json-list"):
        # A 2xx is the API saying it is done; only the new etag was in the body.
        assert (run.code, problems) == (0, [])
        assert run.out.endswith("Apply complete: 0 created, 1 updated, 1 deleted.\n")
    elif name == "404":  # the PATCH target is gone: named; the delete's target too: done
        assert [line.split(":")[0] for line in problems] == ["  ! orders (prod)"]
        assert "1 deleted" in run.out
    else:
        assert [line.split(":")[0] for line in problems] == [
            "  ! orders (prod)",
            "  ! old-crm (prod)",
        ]
    for line in problems:
        assert len(line) < 700, line


@pytest.mark.parametrize(
    "listing",
    [
        lambda r: httpx.Response(200, content=b"<html>"),
        lambda r: httpx.Response(200, json={"items": [{"id": 7}]}),
        lambda r: httpx.Response(
            200, json={"items": [{"id": "f", "name": "n", "sourceConnectionIds": "x"}]}
        ),
        lambda r: httpx.Response(403, json={"error_code": "403027", "message": "no flows for you"}),
    ],
)
def test_unreadable_dataflow_listings_only_cost_the_in_use_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, listing: Handler
) -> None:
    fake_api(monkeypatch, listing)
    manifest = tmp_path / "m.yaml"
    manifest.write_text(MANIFEST, encoding="utf-8")
    run = run_cli(["plan", str(manifest), "--prune"])
    check(run)
    assert run.code == 0
    assert "  - old-crm  (x-1) will delete" in run.out and "dataflow(s)" not in run.out
    assert "could not list" in run.err and "Traceback" not in run.err
