from __future__ import annotations

import threading
import time
import types
from collections.abc import Iterator

import httpx
import pytest

from provisioner.emulator import Emulator, EmulatorConfig, Faults, serve
from provisioner.emulator import app as app_module

from .emu_helpers import BASE, FLOW, api_headers, fetch_token, flow_code, make_client, pg_payload


def statuses(emu: Emulator, n: int = 60) -> list[int]:
    with make_client(emu) as api:
        return [api.get(f"{FLOW}/connections").status_code for _ in range(n)]


def test_faults_are_reproducible_from_the_seed() -> None:
    faults = Faults(rate_429=0.3, rate_5xx=0.2)
    runs = [statuses(Emulator(EmulatorConfig(faults=faults, seed=seed))) for seed in (7, 7, 8)]
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]
    assert {429, 200} <= set(runs[0]) and set(runs[0]) <= {200, 429, 500, 503, 504}


def test_reseeding_at_run_time_replays_the_same_faults(emulator: Emulator) -> None:
    emulator.set_faults(rate_429=0.5, seed=3)
    first = statuses(emulator, 20)
    # make_client's token request is not an API route, so it draws nothing: exact replay.
    emulator.set_faults(seed=3)
    assert statuses(emulator, 20) == first


def test_429_with_and_without_retry_after(emulator: Emulator, api: httpx.Client) -> None:
    emulator.set_faults(rate_429=1.0, retry_after_s=7)
    limited = api.get(f"{FLOW}/connections")
    assert limited.status_code == 429
    assert limited.json() == {"error_code": "429050", "message": "Too many requests"}
    assert limited.headers["Retry-After"] == "7"
    emulator.set_faults(rate_429_no_retry_after=1.0)
    bare = api.get(f"{FLOW}/connections")
    assert bare.status_code == 429 and "Retry-After" not in bare.headers


def test_5xx_use_the_flow_shape(emulator: Emulator, api: httpx.Client) -> None:
    emulator.set_faults(rate_5xx=1.0)
    seen = {}
    for _ in range(30):
        response = api.get(f"{FLOW}/connections")
        seen[response.status_code] = flow_code(response)
    assert seen == {500: "1102-500", 503: "1103-503", 504: "1104-504"}
    assert emulator.connections() == []


def test_5xx_before_a_create_stores_nothing(emulator: Emulator, api: httpx.Client) -> None:
    emulator.set_faults(rate_5xx=1.0)
    assert api.post(f"{FLOW}/connections", json=pg_payload()).status_code >= 500
    assert emulator.connections() == []


def test_commit_then_500_stores_the_connection(emulator: Emulator, api: httpx.Client) -> None:
    emulator.set_faults(rate_commit_then_500=1.0)
    response = api.post(f"{FLOW}/connections", json=pg_payload())
    assert (response.status_code, flow_code(response)) == (500, "1102-500")
    assert [c["name"] for c in emulator.connections()] == ["orders-prod"]
    # Only creates are affected.
    assert api.get(f"{FLOW}/connections").status_code == 200


def test_commit_then_drop_in_process(emulator: Emulator, api: httpx.Client) -> None:
    emulator.set_faults(rate_commit_then_drop=1.0)
    with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
        api.post(f"{FLOW}/connections", json=pg_payload())
    assert len(emulator.connections()) == 1


@pytest.fixture
def socket_client(emulator: Emulator) -> Iterator[httpx.Client]:
    with serve(emulator) as running:
        with httpx.Client(base_url=running.url) as ims:
            token = fetch_token(ims, emulator)
        with httpx.Client(base_url=running.url, headers=api_headers(token, emulator)) as client:
            yield client


def test_commit_then_drop_over_a_socket(emulator: Emulator, socket_client: httpx.Client) -> None:
    emulator.set_faults(rate_commit_then_drop=1.0)
    with pytest.raises(httpx.RemoteProtocolError):
        socket_client.post(f"{FLOW}/connections", json=pg_payload())
    assert len(emulator.connections()) == 1
    emulator.set_faults(rate_commit_then_drop=0.0)
    # The client reconnects and the server keeps serving.
    assert len(socket_client.get(f"{FLOW}/connections").json()["items"]) == 1


def test_faults_flip_at_run_time_through_the_admin_route(
    emulator: Emulator, socket_client: httpx.Client
) -> None:
    assert socket_client.put("/__emulator/faults", json={"rate_5xx": 1.0}).json()["rate_5xx"] == 1.0
    assert socket_client.get(f"{FLOW}/connections").status_code in (500, 503, 504)
    # Admin routes never see faults.
    assert socket_client.get("/__emulator/faults").status_code == 200
    socket_client.put("/__emulator/faults", json={"rate_5xx": 0, "page_size": 1})
    assert socket_client.get(f"{FLOW}/connections").status_code == 200
    for name in ("a", "b"):
        socket_client.post(f"{FLOW}/connections", json=pg_payload(name))
    page = socket_client.get(f"{FLOW}/connections", params={"limit": "10"}).json()
    assert len(page["items"]) == 1 and "next" in page["_links"]
    assert emulator.injector.faults == Faults(page_size=1)


@pytest.mark.parametrize(
    "body",
    [{"rate_5xx": 2}, {"nope": 1}, {"latency_ms": "slow"}, {"page_size": 0}, [1], {"seed": "x"}],
)
def test_bad_fault_settings_are_refused(socket_client: httpx.Client, body: object) -> None:
    response = socket_client.put("/__emulator/faults", json=body)
    assert response.status_code == 400
    assert response.json()["error"] == "bad_request"
    assert socket_client.get("/__emulator/faults").json()["rate_5xx"] == 0.0


def test_token_route_faults_are_opt_in(emulator: Emulator) -> None:
    emulator.set_faults(rate_429=1.0)
    with httpx.Client(transport=emulator.transport(), base_url=BASE) as client:
        token = fetch_token(client, emulator)  # unaffected by default
        emulator.set_faults(apply_to_token=True)
        assert client.post("/ims/token/v3", data={"grant_type": "x"}).status_code == 429
    assert token


def test_latency_is_not_serialised(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    # Proof without a stopwatch: every injected latency sleep waits at a barrier that only
    # opens once all sixteen requests are sleeping at the same time. Were the latency
    # serialised, the first sleeper would wait alone until the barrier breaks (500s).
    barrier = threading.Barrier(16, timeout=30)
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        barrier.wait()

    monkeypatch.setattr(app_module, "time", types.SimpleNamespace(**{**vars(time), "sleep": sleep}))
    emulator.set_faults(latency_ms=200)
    with serve(emulator) as running:
        with httpx.Client(base_url=running.url) as ims:
            headers = api_headers(fetch_token(ims, emulator), emulator)
        results: list[int] = []

        def one() -> None:
            with httpx.Client(base_url=running.url, headers=headers, timeout=60) as client:
                results.append(client.get(f"{FLOW}/connections").status_code)

        threads = [threading.Thread(target=one) for _ in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert results == [200] * 16
    assert slept == [0.2] * 16
    assert not barrier.broken


def test_request_counters(emulator: Emulator, api: httpx.Client) -> None:
    api.get(f"{FLOW}/connections")
    api.post(f"{FLOW}/connections", json=pg_payload())
    api.get(f"{FLOW}/nothing-here")
    api.get("/__emulator/health")
    counts = api.get("/__emulator/requests").json()
    assert counts == {
        "total": 4,
        "by_route": {
            "POST /ims/token/v3": 1,
            f"GET {FLOW}/connections": 1,
            f"POST {FLOW}/connections": 1,
            "GET <unknown>": 1,
        },
        "throttled": 0,
    }
    assert emulator.request_count == 4
    assert api.delete("/__emulator/requests").status_code == 204
    assert emulator.request_count == 0


def test_5xx_on_writes_only_leaves_reads_working(emulator: Emulator, api: httpx.Client) -> None:
    emulator.set_faults(rate_5xx_writes=1.0)
    assert api.get(f"{FLOW}/connections").status_code == 200
    response = api.post(f"{FLOW}/connections", json=pg_payload())
    assert response.status_code in (500, 503, 504)
    assert emulator.connections() == []
