"""Answers of the wrong shape to the dataflow reads: an error naming the request and saying
what is wrong, never a shorter list (a flow we fail to see is one apply would make twice).
And the org router sends every dataflow call through the client of the org it names."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from provisioner.emulator import POSTGRES_SPEC_ID, Emulator
from provisioner.errors import ApiError
from provisioner.remote.client import Endpoints, FlowServiceClient
from provisioner.remote.routing import OrgClients

from .client_helpers import ORG, Handler, base_connection, connect

Read = Callable[[FlowServiceClient], object]
FLOWS: Read = lambda c: c.list_flows(ORG, "prod")  # noqa: E731
RUNS: Read = lambda c: c.list_runs(ORG, "prod", ["f-1"])  # noqa: E731
MAPPINGS: Read = lambda c: c.list_mapping_sets(ORG, "prod")  # noqa: E731
DATASETS: Read = lambda c: c.list_datasets(ORG, "prod")  # noqa: E731
SOURCES: Read = lambda c: c.list_source_connections(ORG, "prod", spec_id=POSTGRES_SPEC_ID)  # noqa: E731
TARGETS: Read = lambda c: c.list_target_connections(ORG, "prod")  # noqa: E731
ONE_SET: Read = lambda c: c.get_mapping_set(ORG, "prod", "m-1", version="2")  # noqa: E731
ONE_FLOW: Read = lambda c: c.get_flow(ORG, "prod", "f-1")  # noqa: E731
FLOW = {"id": "f", "name": "n"}

CASES: list[tuple[str, Read, str, object, str]] = [
    ("/flows", FLOWS, "list flows", {"items": "x"}, "response has no 'items' list"),
    (
        "/flows",
        FLOWS,
        "list flows",
        {"items": [FLOW | {"sourceConnectionIds": "x"}]},
        "items[0] has a 'sourceConnectionIds' that is not a list of strings",
    ),
    (
        "/flows",
        FLOWS,
        "list flows",
        {"items": [FLOW | {"scheduleParams": ["minute"]}]},
        "items[0] has a 'scheduleParams' that is not an object",
    ),
    (
        "/flows",
        FLOWS,
        "list flows",
        {"items": [FLOW | {"transformations": [{"name": "Copy", "params": {"deltaColumn": {}}}]}]},
        "items[0] Copy deltaColumn has no string 'name'",
    ),
    ("/flows/f-1", ONE_FLOW, "get flow 'f-1'", {"items": []}, "response holds no flow"),
    (
        "/sourceConnections",
        SOURCES,
        "list sourceConnections",
        {"items": [FLOW | {"params": {"columns": [{"type": "integer"}]}}]},
        "items[0] params.columns[0] has no string 'name'",
    ),
    (
        "/targetConnections",
        TARGETS,
        "list targetConnections",
        {"items": [{"name": "t"}]},
        "items[0] has no string 'id'",
    ),
    ("/mappingSets", MAPPINGS, "list mapping sets", {"data": {}}, "response has no 'data' list"),
    (
        "/mappingSets",
        MAPPINGS,
        "list mapping sets",
        {"data": [{"id": "m"}]},
        "data[0] has no 'version'",
    ),
    (
        "/mappingSets",
        MAPPINGS,
        "list mapping sets",
        {"data": [{"id": "m", "version": 0, "mappings": [{"source": "id"}]}]},
        "data[0] mappings[0] has no string source and destination",
    ),
    (
        "/mappingSets/m-1",
        ONE_SET,
        "get mapping set 'm-1' version 2",
        {"id": "m-1"},
        "response has no 'version'",
    ),
    (
        "/dataSets",
        DATASETS,
        "list datasets",
        [],
        "response is not a JSON object keyed by dataset id",
    ),
    (
        "/dataSets",
        DATASETS,
        "list datasets",
        {"0a1b": {"schemaRef": {}}},
        "dataset '0a1b' has no string 'name'",
    ),
    ("/runs", RUNS, "list runs", {"items": [{"id": "r"}]}, "items[0] has no string 'flowId'"),
    (
        "/runs",
        RUNS,
        "list runs",
        {"items": [{"id": "r", "flowId": "f-1", "metrics": {"statusSummary": {"errors": "boom"}}}]},
        "items[0] statusSummary has a 'errors' that is not a list",
    ),
    ("/runs", RUNS, "list runs", "<html>", "response is not JSON: <html>"),
]


def answering(path_end: str, body: object, from_call: int = 1) -> Callable[[Handler], Handler]:
    """GETs of a path ending in `path_end`, from the `from_call`th on, answer `body`."""
    calls = [0]

    def wrap(emulated: Handler) -> Handler:
        def handler(request: httpx.Request) -> httpx.Response:
            if request.method == "GET" and request.url.path.endswith(path_end):
                calls[0] += 1
                if calls[0] >= from_call:
                    text = body if isinstance(body, str) else json.dumps(body)
                    return httpx.Response(200, content=text.encode())
            return emulated(request)

        return handler

    return wrap


@pytest.mark.parametrize(("path", "read", "subject", "body", "problem"), CASES)
def test_a_malformed_answer_names_the_request(
    emulator: Emulator, path: str, read: Read, subject: str, body: object, problem: str
) -> None:
    client = connect(emulator, wrap=answering(path, body))
    with pytest.raises(ApiError) as error:
        read(client)
    message = str(error.value)
    assert message.startswith(f"{subject} in sandbox 'prod' failed: GET http://emulator.test/")
    assert message.endswith(f": {problem}") and "\n" not in message


@pytest.mark.parametrize(
    ("path", "read", "bad"),
    [
        ("/flows", FLOWS, {"items": [{"id": 7}]}),
        ("/mappingSets", MAPPINGS, {"data": [{"version": 0}]}),
        ("/dataSets", DATASETS, {"x": "not a dataset"}),
    ],
)
def test_an_unreadable_later_page_fails_the_listing_never_shortens_it(
    emulator: Emulator, path: str, read: Read, bad: object
) -> None:
    client = connect(emulator)
    base = base_connection(client)
    for n in range(7):
        emulator.add_dataflow(ORG, "prod", base, f"orders {n}")
    paged = connect(emulator, page_size=3, wrap=answering(path, bad, from_call=2))
    with pytest.raises(ApiError, match="failed: GET"):
        read(paged)


def test_every_dataflow_call_goes_through_its_orgs_own_client() -> None:
    seen: list[tuple[str, str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/ims/token/v3":
            return httpx.Response(200, json={"access_token": "t", "expires_in": 3600})
        path = request.url.path
        seen.append((request.headers["x-api-key"], request.headers["x-gw-ims-org-id"], path))
        if path.endswith("/mappingSets") and request.method == "GET":
            return httpx.Response(200, json={"data": [], "_page": {"count": 0, "limit": 100}})
        if path.endswith("/dataSets"):
            return httpx.Response(200, json={})
        if path.endswith("/explore"):
            return httpx.Response(200, json={"schema": {"columns": []}})
        if "/mappingSets" in path:
            return httpx.Response(200, json={"id": "m-1", "version": 0})
        if path.endswith("/flows/f-1"):
            return httpx.Response(200, json={"items": [{"id": "f-1", "name": "f"}]})
        if request.method in ("POST", "PATCH"):
            return httpx.Response(200, json={"id": "x-1", "etag": '"e"'})
        if request.method == "DELETE":
            return httpx.Response(204)
        return httpx.Response(200, json={"items": []})

    other = "FEDCBA9876543210FEDCBA98@AdobeOrg"
    environ = {
        "AEP_CLIENT_ID": "plain",
        "AEP_CLIENT_SECRET": "plain-secret",
        "AEP_CLIENT_ID__FEDCBA9876543210FEDCBA98": "own",
        "AEP_CLIENT_SECRET__FEDCBA9876543210FEDCBA98": "own-secret",
    }
    base = "http://aep.test"
    with httpx.Client(transport=httpx.MockTransport(handler)) as http:
        endpoints = Endpoints(ims_url=base, platform_url=base)
        router = OrgClients(environ, lambda c: FlowServiceClient(http, c, endpoints))
        calls: list[Callable[[str], object]] = [
            lambda org: router.list_flows(org, "prod"),
            lambda org: router.list_source_connections(org, "prod", spec_id="s"),
            lambda org: router.list_target_connections(org, "prod"),
            lambda org: router.list_mapping_sets(org, "prod"),
            lambda org: router.get_mapping_set(org, "prod", "m-1", version=None),
            lambda org: router.list_datasets(org, "prod"),
            lambda org: router.explore_columns(org, "prod", "c-1", "public.t", name="c"),
            lambda org: router.create_source_connection(org, "prod", {}, name="s"),
            lambda org: router.create_target_connection(org, "prod", {}, name="t"),
            lambda org: router.create_mapping_set(org, "prod", {}, name="m"),
            lambda org: router.update_mapping_set(org, "prod", "m-1", {}, name="m"),
            lambda org: router.create_flow(org, "prod", {}, name="f"),
            lambda org: router.get_flow(org, "prod", "f-1"),
            lambda org: router.update_flow(org, "prod", "f-1", [], etag='"e"', name="f"),
            lambda org: router.flow_action(org, "prod", "f-1", "disable", name="f"),
            lambda org: router.delete_flow(org, "prod", "f-1", name="f"),
            lambda org: router.delete_source_connection(org, "prod", "s-1", name="s"),
            lambda org: router.delete_target_connection(org, "prod", "t-1", name="t"),
            lambda org: router.list_runs(org, "prod", ["f-1"]),
        ]
        for call in calls:
            call(other)
            call(ORG)
    assert len(seen) == 2 * len(calls)
    assert {(key, org) for key, org, _ in seen[0::2]} == {("own", other)}
    assert {(key, org) for key, org, _ in seen[1::2]} == {("plain", ORG)}
