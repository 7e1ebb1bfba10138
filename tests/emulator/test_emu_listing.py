from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from provisioner.emulator import POSTGRES_SPEC_ID, Emulator, EmulatorConfig

from .emu_helpers import FLOW, create, flow_code, make_client, pg_payload


def names(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["items"]]


def follow(api: httpx.Client, first: httpx.Response) -> tuple[list[dict[str, Any]], list[str]]:
    """Every item across pages, and every next href seen."""
    items, hrefs = [], []
    response = first
    while True:
        body = response.json()
        items += body["items"]
        href = body.get("_links", {}).get("next", {}).get("href")
        if href is None:
            return items, hrefs
        hrefs.append(href)
        response = api.get(f"{FLOW}{href}")


@pytest.fixture
def seeded(api: httpx.Client) -> httpx.Client:
    for name in ("charlie", "alpha", "bravo", "delta"):
        create(api, pg_payload(name))
    return api


def test_default_order_is_creation(seeded: httpx.Client) -> None:
    assert names(seeded.get(f"{FLOW}/connections")) == ["charlie", "alpha", "bravo", "delta"]


@pytest.mark.parametrize(
    ("orderby", "expected"),
    [
        ("name", ["alpha", "bravo", "charlie", "delta"]),
        ("+name", ["alpha", "bravo", "charlie", "delta"]),
        ("-name", ["delta", "charlie", "bravo", "alpha"]),
        ("-createdAt", ["delta", "bravo", "alpha", "charlie"]),
    ],
)
def test_orderby(seeded: httpx.Client, orderby: str, expected: list[str]) -> None:
    assert names(seeded.get(f"{FLOW}/connections", params={"orderby": orderby})) == expected


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (["name==alpha"], ["alpha"]),
        (['name=="alpha"'], ["alpha"]),
        (["name==alpha,delta"], ["alpha", "delta"]),
        (['name=="alpha","bravo"'], ["alpha", "bravo"]),
        (["name>bravo"], ["charlie", "delta"]),
        (["name>=bravo", "name<delta"], ["charlie", "bravo"]),
        (["name<=alpha"], ["alpha"]),
        (
            [f"connectionSpec.id=={POSTGRES_SPEC_ID}", "state==enabled"],
            ["charlie", "alpha", "bravo", "delta"],
        ),
        (["state==disabled"], []),
        (["name==alpha", "name==bravo"], []),  # repeated parameters AND
        (["auth.params.password==hunter2-secret"], []),  # secrets filter on the masked view
    ],
)
def test_property_filters(seeded: httpx.Client, filters: list[str], expected: list[str]) -> None:
    response = seeded.get(f"{FLOW}/connections", params=[("property", f) for f in filters])
    assert names(response) == expected


def test_quoted_value_may_contain_commas(api: httpx.Client) -> None:
    create(api, pg_payload("a,b"))
    create(api, pg_payload("a"))
    assert names(api.get(f"{FLOW}/connections", params={"property": 'name=="a,b"'})) == ["a,b"]


def test_numeric_filters_on_timestamps(seeded: httpx.Client) -> None:
    items = seeded.get(f"{FLOW}/connections").json()["items"]
    cut = items[2]["createdAt"]
    after = seeded.get(f"{FLOW}/connections", params={"property": f"createdAt>={cut}"})
    assert {i["id"] for i in after.json()["items"]} >= {items[2]["id"], items[3]["id"]}
    by_id = seeded.get(f"{FLOW}/connections", params={"property": f"id=={items[1]['id']}"})
    assert names(by_id) == ["alpha"]


@pytest.mark.parametrize(
    "query",
    [
        {"property": "name"},
        {"property": "name!=alpha"},
        {"property": "name=="},
        {"property": 'name=="open'},
        {"property": "name>a,b"},
        {"orderby": "na me"},
        {"limit": "ten"},
        {"limit": "0"},
        {"count": "maybe"},
        {"continuationToken": "not-a-token"},
        {"continuationToken": "a+b/c=="},
    ],
)
def test_invalid_list_queries_are_400(seeded: httpx.Client, query: dict[str, str]) -> None:
    response = seeded.get(f"{FLOW}/connections", params=query)
    assert (response.status_code, flow_code(response)) == (400, "1100-400")


def test_count(seeded: httpx.Client) -> None:
    assert seeded.get(f"{FLOW}/connections", params={"count": "true"}).json() == {"count": 4}
    filtered = seeded.get(f"{FLOW}/connections", params={"count": "True", "property": "name>b"})
    assert filtered.json() == {"count": 3}


def test_count_with_limit_is_1401(seeded: httpx.Client) -> None:
    response = seeded.get(f"{FLOW}/connections", params={"count": "true", "limit": "2"})
    assert (response.status_code, flow_code(response)) == (400, "1401-400")


def test_pages_follow_next_href_holding_only_the_token(api: httpx.Client) -> None:
    for i in range(25):
        create(api, pg_payload(f"conn-{i:02d}"))
    first = api.get(
        f"{FLOW}/connections",
        params=[
            ("limit", "7"),
            ("orderby", "-name"),
            ("property", "name>conn-02"),
            ("property", "state==enabled"),
        ],
    )
    items, hrefs = follow(api, first)
    assert [i["name"] for i in items] == [f"conn-{i:02d}" for i in range(24, 2, -1)]
    assert len(hrefs) == 3
    for href in hrefs:
        parts = urlsplit(href)
        assert parts.path == "/connections" and not parts.scheme and not parts.netloc
        assert href.startswith("/connections?continuationToken=")
        query = parse_qsl(parts.query)
        # The documented form (OpenAPI PageLink example): the token alone carries the query.
        assert [k for k, _ in query] == ["continuationToken"]
        raw_token = parts.query.split("&")[0].split("=", 1)[1]
        token = dict(query)["continuationToken"]
        # The token has URL-significant characters, and the href percent-encodes them.
        assert {"+", "/", "="} <= set(token)
        assert "%2B" in raw_token and "%2F" in raw_token and raw_token.endswith("%3D%3D")


def test_default_and_max_page_size() -> None:
    emu = Emulator(EmulatorConfig(page_size=3, max_page_size=5))
    with make_client(emu) as api:
        for i in range(8):
            create(api, pg_payload(f"c{i}"))
        assert len(api.get(f"{FLOW}/connections").json()["items"]) == 3
        # [open] a limit above the maximum is clamped, not refused.
        big = api.get(f"{FLOW}/connections", params={"limit": "1000"})
        assert len(big.json()["items"]) == 5
        items, _ = follow(api, big)
        assert len(items) == 8


def test_no_links_on_last_page(seeded: httpx.Client) -> None:
    body = seeded.get(f"{FLOW}/connections", params={"limit": "4"}).json()
    assert "_links" not in body
    body = seeded.get(f"{FLOW}/connections", params={"limit": "3"}).json()
    assert "next" in body["_links"]


def test_pages_stay_consistent_when_items_are_added_and_deleted(api: httpx.Client) -> None:
    ids = [create(api, pg_payload(f"n{i}"))["id"] for i in range(6)]
    first = api.get(f"{FLOW}/connections", params={"limit": "3"}).json()
    api.delete(f"{FLOW}/connections/{ids[0]}")  # already returned: must not shift page two
    create(api, pg_payload("n6"))
    second = api.get(f"{FLOW}{first['_links']['next']['href']}").json()
    assert [i["name"] for i in second["items"]] == ["n3", "n4", "n5"]


def test_repeated_limit_takes_the_first(seeded: httpx.Client) -> None:
    # aepp re-sends its params on top of the next href; the first value wins.
    response = seeded.get(f"{FLOW}/connections", params=[("limit", "1"), ("limit", "3")])
    assert len(response.json()["items"]) == 1


def test_token_from_another_orderby_is_refused(seeded: httpx.Client) -> None:
    href = seeded.get(f"{FLOW}/connections", params={"limit": "1"}).json()["_links"]["next"]["href"]
    token = dict(parse_qsl(urlsplit(href).query))["continuationToken"]
    response = seeded.get(
        f"{FLOW}/connections", params={"continuationToken": token, "orderby": "name,createdAt"}
    )
    assert flow_code(response) == "1100-400"


def test_a_token_alone_continues_the_filtered_ordered_listing(api: httpx.Client) -> None:
    for i in range(9):
        create(api, pg_payload(f"conn-{i}"))
    first = api.get(
        f"{FLOW}/connections",
        params=[("limit", "2"), ("orderby", "-name"), ("property", "name>conn-3")],
    ).json()
    token = dict(parse_qsl(urlsplit(first["_links"]["next"]["href"]).query))["continuationToken"]
    second = api.get(f"{FLOW}/connections", params={"continuationToken": token})
    assert names(second) == ["conn-6", "conn-5"]  # filtered, descending, two per page
    # Re-sending the same parameters beside the token is fine (aepp does).
    again = api.get(f"{FLOW}/connections", params={"continuationToken": token, "limit": "2"})
    assert names(again) == ["conn-6", "conn-5"]


def test_a_token_with_another_query_beside_it_is_refused(api: httpx.Client) -> None:
    for i in range(3):
        create(api, pg_payload(f"c{i}"))
    href = api.get(f"{FLOW}/connections", params={"limit": "1"}).json()["_links"]["next"]["href"]
    token = dict(parse_qsl(urlsplit(href).query))["continuationToken"]
    response = api.get(f"{FLOW}/connections", params={"continuationToken": token, "limit": "5"})
    assert flow_code(response) == "1100-400"
    assert response.json()["errorMessage"] == (
        "The continuationToken belongs to another query: 'limit' differs from the listing it "
        "continues. Send the token alone, as in _links.next.href."
    )
    lenient = Emulator(EmulatorConfig(lenient=True))
    with make_client(lenient) as other:
        for i in range(3):
            create(other, pg_payload(f"c{i}"))
        href = other.get(f"{FLOW}/connections", params={"limit": "1"}).json()["_links"]["next"]
        token = dict(parse_qsl(urlsplit(href["href"]).query))["continuationToken"]
        mixed = other.get(f"{FLOW}/connections", params={"continuationToken": token, "limit": "5"})
        assert names(mixed) == ["c1"]  # the token's own query wins
    lenient.close()


def test_a_token_from_another_collection_is_refused(api: httpx.Client) -> None:
    for i in range(3):
        create(api, pg_payload(f"c{i}"))
    href = api.get(f"{FLOW}/connections", params={"limit": "1"}).json()["_links"]["next"]["href"]
    token = dict(parse_qsl(urlsplit(href).query))["continuationToken"]
    response = api.get(f"{FLOW}/flows", params={"continuationToken": token})
    assert response.json()["errorMessage"] == (
        "The continuationToken continues another listing, not flows."
    )


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            {"property": "nmae==alpha"},
            "Cannot filter on 'nmae': connections have no such field. Did you mean 'name'?",
        ),
        (
            {"orderby": "-craetedAt"},
            "Cannot order by 'craetedAt': connections have no such field. "
            "Did you mean 'createdAt'?",
        ),
        ({"property": "zzz==1"}, "Cannot filter on 'zzz': connections have no such field."),
    ],
)
def test_unknown_fields_in_filters_and_orderby_are_400(
    seeded: httpx.Client, query: dict[str, str], message: str
) -> None:
    response = seeded.get(f"{FLOW}/connections", params=query)
    assert flow_code(response) == "1100-400"
    assert response.json()["errorMessage"] == message


def test_lenient_unknown_filter_fields_match_nothing() -> None:
    emu = Emulator(EmulatorConfig(lenient=True))
    with make_client(emu) as api:
        create(api, pg_payload("alpha"))
        assert names(api.get(f"{FLOW}/connections", params={"property": "nmae==alpha"})) == []
    emu.close()
