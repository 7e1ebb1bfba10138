from __future__ import annotations

import httpx
import pytest

from provisioner.errors import ApiError

from .client_fakes import FLOW, ORG, SPEC_ID, FakeAdobe

FIRST = f"{FLOW}/connections?property=connectionSpec.id%3D%3D{SPEC_ID}&limit=100"


@pytest.mark.parametrize("href_form", ["relative", "host", "full", "bare"])
@pytest.mark.parametrize("token_form", ["encoded", "raw"])
def test_follows_every_page_without_touching_the_token(href_form: str, token_form: str) -> None:
    adobe = FakeAdobe(page_size=3, href_form=href_form, token_form=token_form)
    names = [f"conn-{n:03}" for n in range(50)]
    for name in names:
        adobe.add("prod", name)
    adobe.add("dev", "elsewhere")
    found = adobe.client().list_connections(ORG, "prod", spec_id=SPEC_ID)
    assert [c.name for c in found] == names
    pages = adobe.seen("list")
    assert len(pages) == 17
    assert str(pages[0].url) == FIRST
    token = "3%2Bb%2Fc%3D%3D" if token_form == "encoded" else "3+b/c=="
    assert pages[1].url.query.decode().startswith(f"continuationToken={token}&")


def test_more_than_a_hundred_connections_are_all_listed(adobe: FakeAdobe) -> None:
    adobe.page_size = 100
    for n in range(250):
        adobe.add("prod", f"c{n}")
    assert len(adobe.client().list_connections(ORG, "prod", spec_id=SPEC_ID)) == 250
    assert len(adobe.seen("list")) == 3


@pytest.mark.parametrize(
    "links",
    [None, {}, {"next": None}, {"next": {}}, {"next": ""}, {"next": {"href": ""}}],
)
def test_a_missing_or_empty_next_ends_the_list(adobe: FakeAdobe, links: object) -> None:
    body: dict[str, object] = {"items": [{"id": "1", "name": "a"}]}
    if links is not None:
        body["_links"] = links
    adobe.fail_next("list", httpx.Response(200, json=body))
    found = adobe.client().list_connections(ORG, "prod", spec_id=SPEC_ID)
    assert [c.id for c in found] == ["1"]


def test_a_next_link_that_loops_back_is_an_error(adobe: FakeAdobe) -> None:
    page = {"items": [], "_links": {"next": {"href": "/connections?continuationToken=A%3D"}}}
    back = {"items": [], "_links": {"next": {"href": "/connections?continuationToken=A%3D"}}}
    adobe.fail_next("list", httpx.Response(200, json=page), httpx.Response(200, json=back))
    with pytest.raises(ApiError) as caught:
        adobe.client().list_connections(ORG, "prod", spec_id=SPEC_ID)
    assert str(caught.value) == (
        "list connections in sandbox 'prod' failed: GET "
        f"{FLOW}/connections?continuationToken=A%3D: next page link loops back to "
        f"{FLOW}/connections?continuationToken=A%3D"
    )
    assert len(adobe.seen("list")) == 2


def test_an_endless_chain_stops_at_the_page_cap(adobe: FakeAdobe) -> None:
    served = iter(range(10**6))

    def endless(request: httpx.Request) -> httpx.Response:
        href = f"/connections?continuationToken={next(served)}"
        return httpx.Response(200, json={"items": [], "_links": {"next": {"href": href}}})

    adobe.fail_next("list", *[endless] * 30)
    with pytest.raises(ApiError) as caught:
        adobe.client(max_pages=25).list_connections(ORG, "prod", spec_id=SPEC_ID)
    assert str(caught.value) == (
        "list connections in sandbox 'prod' failed: GET "
        f"{caught.value.url}: more than 25 pages; stopped following _links.next"
    )
    assert caught.value.url.startswith(f"{FLOW}/connections?continuationToken=")
    assert len(adobe.seen("list")) == 25


def test_a_next_link_to_another_host_is_refused(adobe: FakeAdobe) -> None:
    href = "https://evil.example/connections?continuationToken=x"
    adobe.fail_next(
        "list", httpx.Response(200, json={"items": [], "_links": {"next": {"href": href}}})
    )
    with pytest.raises(ApiError) as caught:
        adobe.client().list_connections(ORG, "prod", spec_id=SPEC_ID)
    assert str(caught.value) == (
        f"list connections in sandbox 'prod' failed: GET {FIRST}: next page link leaves "
        f"https://platform.adobe.io: {href}"
    )
    assert len(adobe.requests) == 2  # the token and the first page, nothing to evil.example


def test_page_size_is_configurable(adobe: FakeAdobe) -> None:
    adobe.client(page_size=7).list_connections(ORG, "prod", spec_id=SPEC_ID)
    assert adobe.seen("list")[0].url.params["limit"] == "7"
