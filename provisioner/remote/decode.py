"""What the Flow Service sends, read tolerantly: unknown fields ignored, wrong shapes refused.

Anything unreadable raises `Malformed`, never yields an empty or shorter list: a connection
we fail to see is one the plan would create a second time. The client turns `Malformed`
into an error naming the request.
"""

from __future__ import annotations

from collections.abc import Mapping

from provisioner.model import RemoteConnection


class Malformed(ValueError):
    """A response body that does not have the documented shape; the message says how."""


def page(body: object) -> tuple[list[object], str | None]:
    """The items of one list page, and the next page's href (None on the last page)."""
    if not isinstance(body, dict):
        raise Malformed("response is not a JSON object")
    items = body.get("items")
    if not isinstance(items, list):
        raise Malformed("response has no 'items' list")
    links = body.get("_links")
    if links is None:
        return items, None
    if not isinstance(links, dict):
        raise Malformed("response has a '_links' that is not an object")
    next_link = links.get("next")
    if isinstance(next_link, dict) and next_link and "href" not in next_link:
        raise Malformed("response has a '_links.next' without a string 'href'")
    href = next_link.get("href") if isinstance(next_link, dict) else next_link
    if href is None or href == "":
        return items, None
    if not isinstance(href, str):
        raise Malformed("response has a '_links.next' without a string 'href'")
    return items, href


def connection(item: object, where: str) -> RemoteConnection:
    if not isinstance(item, dict):
        raise Malformed(f"{where} is not an object")
    for key in ("id", "name"):
        if not isinstance(item.get(key), str):
            raise Malformed(f"{where} has no string '{key}'")
    auth = obj(item.get("auth"))
    created_at = item.get("createdAt")
    return RemoteConnection(
        id=item["id"],
        name=item["name"],
        etag=text(item.get("etag")) or text(item.get("version")) or "",
        description=text(item.get("description")),
        spec_id=text(obj(item.get("connectionSpec")).get("id")),
        auth_spec_name=text(auth.get("specName")),
        # A plain dict copy, not a read-only proxy: dataclasses.asdict cannot copy those.
        params=dict(obj(auth.get("params"))),
        state=text(item.get("state")),
        created_at=created_at if type(created_at) is int else None,
        created_client=text(item.get("createdClient")),
        spec_version=text(obj(item.get("connectionSpec")).get("version")),
    )


def obj(value: object) -> Mapping[str, object]:
    return value if isinstance(value, dict) else {}


def text(value: object) -> str | None:
    return value if isinstance(value, str) else None
