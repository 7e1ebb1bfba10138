from __future__ import annotations

import socket
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provisioner.emulator import Emulator, serve

from .emu_helpers import FLOW, api_headers, create, fetch_token, flow_code


def test_body_too_large_is_413(api: httpx.Client, emulator: Emulator) -> None:
    big = b'{"name": "' + b"x" * (emulator.config.max_body_bytes + 1) + b'"}'
    response = api.post(
        f"{FLOW}/connections", content=big, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json() == {
        "error_code": "413000",
        "message": "Request body is too large (limit 1048576 bytes)",
    }


@pytest.mark.parametrize("body", [b"{", b"not json", b'{"a": }', b"\xff\xfe", b"[1, 2"])
def test_malformed_json_is_400(api: httpx.Client, body: bytes) -> None:
    response = api.post(
        f"{FLOW}/connections", content=body, headers={"Content-Type": "application/json"}
    )
    assert (response.status_code, flow_code(response)) == (400, "1100-400")
    assert response.json()["errorMessage"].startswith("The request body is not valid JSON")


@pytest.mark.parametrize("body", [b"[]", b"42", b'"text"', b"null"])
def test_non_object_body_is_400(api: httpx.Client, body: bytes) -> None:
    response = api.post(
        f"{FLOW}/connections", content=body, headers={"Content-Type": "application/json"}
    )
    assert flow_code(response) == "1100-400"


def test_empty_create_body_is_1405(api: httpx.Client) -> None:
    response = api.post(
        f"{FLOW}/connections", content=b"", headers={"Content-Type": "application/json"}
    )
    assert flow_code(response) == "1405-400"


def test_unknown_routes_are_404(api: httpx.Client) -> None:
    outside = api.get("/data/foundation/schemaregistry/tenant/schemas")
    assert (outside.status_code, outside.json()) == (
        404,
        {"error_code": "404010", "message": "Service not found"},
    )
    inside = api.get(f"{FLOW}/runs/{{id}}/action")
    assert (inside.status_code, flow_code(inside)) == (404, "1101-404")


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "/connections", "GET, POST"),
        ("POST", "/connections/abc", "GET, PATCH, DELETE"),
        ("DELETE", "/connections/abc/test", "GET"),
        ("GET", "/ims/token/v3", "POST"),
    ],
)
def test_wrong_methods_are_405(api: httpx.Client, method: str, path: str, allow: str) -> None:
    url = path if path.startswith("/ims") else f"{FLOW}{path}"
    response = api.request(method, url)
    assert response.status_code == 405
    assert response.headers["Allow"] == allow
    assert flow_code(response) == "1100-405"


def test_a_bug_in_a_handler_is_a_500_not_a_crash(
    api: httpx.Client, emulator: Emulator, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    def boom(*args: object) -> None:
        raise KeyError("bug")

    monkeypatch.setattr(emulator.api, "list", boom)
    response = api.get(f"{FLOW}/connections")
    assert (response.status_code, flow_code(response)) == (500, "1102-500")
    assert "emulator bug" in caplog.text
    monkeypatch.undo()
    assert api.get(f"{FLOW}/connections").status_code == 200


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    query=st.lists(
        st.tuples(
            st.sampled_from(["property", "orderby", "limit", "count", "continuationToken", "x"]),
            st.text(max_size=30),
        ),
        max_size=4,
    )
)
def test_no_query_string_breaks_listing(api: httpx.Client, query: list[tuple[str, str]]) -> None:
    response = api.get(f"{FLOW}/connections", params=query)
    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert flow_code(response) in ("1100-400", "1401-400")


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=10),
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(
                st.sampled_from(
                    [
                        "name",
                        "auth",
                        "connectionSpec",
                        "params",
                        "specName",
                        "id",
                        "op",
                        "path",
                        "value",
                    ]
                ),
                inner,
                max_size=4,
            )
        ),
        max_leaves=12,
    )
)
def test_no_json_body_breaks_create_or_patch(api: httpx.Client, body: Any) -> None:
    created = api.post(f"{FLOW}/connections", json=body)
    assert created.status_code in (201, 400)
    conn = create(api)
    patched = api.patch(
        f"{FLOW}/connections/{conn['id']}", json=body, headers={"If-Match": conn["etag"]}
    )
    assert patched.status_code in (200, 400)


def raw_exchange(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(data)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except (ConnectionResetError, TimeoutError):
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)


def test_bad_requests_over_a_socket_never_stop_the_server(emulator: Emulator) -> None:
    with serve(emulator) as running:
        port = running.port
        assert raw_exchange(port, b"GARBAGE\r\n\r\n").startswith(b"HTTP/1.1 400")
        assert raw_exchange(port, b"BREW /pot HTTP/1.1\r\nHost: localhost\r\n\r\n").startswith(
            b"HTTP/1.1 501"
        )
        assert raw_exchange(port, b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n").startswith(
            b"HTTP/1.1 414"
        )
        chunked = raw_exchange(
            port,
            b"POST /data/foundation/flowservice/connections HTTP/1.1\r\nHost: localhost\r\n"
            b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        )
        assert chunked.startswith(b"HTTP/1.1 411")
        bad_length = raw_exchange(
            port, b"POST /x HTTP/1.1\r\nHost: localhost\r\nContent-Length: -3\r\n\r\n"
        )
        assert bad_length.startswith(b"HTTP/1.1 400")
        # A client that hangs up mid-body.
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall(
                b"POST /ims/token/v3 HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\nab"
            )
        with httpx.Client(base_url=running.url) as client:
            big = client.post(
                f"{FLOW}/connections",
                content=b"x" * (emulator.config.max_body_bytes + 10),
                headers={"Content-Type": "application/json"},
            )
            assert big.status_code == 413
            assert big.headers["Connection"] == "close"
            headers = api_headers(fetch_token(client, emulator), emulator)
            bad_json = client.post(
                f"{FLOW}/connections",
                content=b"{",
                headers={**headers, "Content-Type": "application/json"},
            )
            assert bad_json.status_code == 400
            # Still serving, on a kept-alive connection.
            for _ in range(3):
                assert client.get(f"{FLOW}/connections", headers=headers).status_code == 200
            assert client.get("/__emulator/health").json() == {"ok": True}


def test_keep_alive_reuses_one_connection(emulator: Emulator) -> None:
    with serve(emulator) as running, httpx.Client(base_url=running.url) as client:
        for _ in range(5):
            assert client.get("/__emulator/health").status_code == 200
        assert running.open_connections == 1
        with httpx.Client(base_url=running.url) as other:
            other.get("/__emulator/health")
            assert running.open_connections == 2
