"""Following a listing's ``_links.next`` to the end, without leaving the API's origin.

A listing we read short is a connection the plan would create a second time, so every
irregularity (a loop, a foreign origin, too many pages, an unreadable page) is an error,
never a shorter list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TypeVar
from urllib.parse import urlsplit

from provisioner.errors import ApiError
from provisioner.remote import decode
from provisioner.remote.client.failures import Call, malformed
from provisioner.remote.client.transport import Transport

T = TypeVar("T")


def collect(
    transport: Transport,
    first: Call,
    *,
    flow_url: str,
    max_pages: int,
    parse: Callable[[object, str], T],
) -> list[T]:
    """Every item of every page from ``first`` on, each read by ``parse(item, where)``."""
    url = first.url
    seen: set[str] = set()
    found: list[T] = []
    notices, since = transport.notices, transport.clock()
    for page in range(1, max_pages + 1):
        if notices is not None and page > 1:  # a long listing says how far it has got
            notices.progress(
                first.what, f"{first.what}: {len(found)} read so far (page {page})", since=since
            )

        seen.add(url)
        call = replace(first, url=url)
        try:
            items, next_href = decode.page(transport.json(call, transport.send(call)))
            found.extend(parse(item, f"items[{i}]") for i, item in enumerate(items))
        except decode.Malformed as problem:
            raise malformed(call, str(problem)) from None
        if next_href is None:
            return found
        url = resolve(next_href, flow_url, call)
        if url in seen:
            raise malformed(call, f"next page link loops back to {url}")
    raise ApiError(
        f"{first.what} failed: GET {url}: more than {max_pages} pages; "
        "stopped following _links.next",
        method="GET",
        url=url,
    )


def resolve(href: str, flow_url: str, call: Call) -> str:
    """The URL of a next-page link, its query kept byte for byte (tokens hold =+/)."""
    base = urlsplit(flow_url)
    origin = f"{base.scheme}://{base.netloc}"
    if href.startswith(("http://", "https://")):
        target = urlsplit(href)
        if f"{target.scheme}://{target.netloc}" != origin:
            # It would receive our bearer token.
            raise malformed(call, f"next page link leaves {origin}: {href}")
        return href
    if href.startswith(base.path + "/"):
        return origin + href
    return flow_url + ("" if href.startswith("/") else "/") + href
