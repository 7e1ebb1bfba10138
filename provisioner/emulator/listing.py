"""One list answer for every Flow Service collection: count, filters, order, pages.

A continuation token carries the whole query it continues (the collection, the ``property``
filters, ``orderby`` and ``limit``) plus the sort key of the last item served, so
``GET /connections?continuationToken=...`` alone gives the right next page, as Adobe's
documented ``_links.next.href`` form has it. Parameters sent beside a token must agree with
the ones it carries (aepp re-sends its ``limit``): a different query is a 400, since the
client would otherwise get a page of one listing glued to another.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from urllib.parse import quote, urlencode

from provisioner.emulator.errors import JsonObject, flow_error
from provisioner.emulator.fields import path_checker
from provisioner.emulator.filters import (
    compare_keys,
    compile_filters,
    parse_orderby,
    sort_key,
    sort_records,
)
from provisioner.emulator.http import Request, Response

# The parameters that shape a listing; a token carries them.
QUERY_KEYS = ("property", "orderby", "limit", "count")
# Bytes whose base64 is "++//": every token then carries URL-significant characters, so a
# client that mangles them (splits on '=', forgets to encode '+') fails loudly, as on Adobe.
_TOKEN_MAGIC = b"\xfb\xef\xff"

PageSize = Callable[[str | None], int]


def list_response(
    records: list[JsonObject],
    request: Request,
    collection: str,
    page_size: PageSize,
    *,
    lenient: bool = False,
) -> Response:
    """A list route's answer, as Adobe documents it for every Flow Service collection."""
    query = [(k, v) for k, v in request.query if k in QUERY_KEYS]
    after: list[object] | None = None
    token = request.param("continuationToken")
    if token is not None:
        carried, after = decode_token(token, collection)
        _check_agrees(query, carried, lenient)
        query = carried
    params = Request(request.method, request.path, query, request.headers)
    count = (params.param("count") or "false").lower()
    if count not in ("true", "false"):
        raise flow_error("1100-400", "count must be true or false.")
    limit_raw = params.param("limit")
    if count == "true" and limit_raw is not None:
        raise flow_error("1401-400")
    matches = compile_filters(params.params("property"), path_checker(collection, lenient=lenient))
    order = parse_orderby(
        params.param("orderby"), path_checker(collection, lenient=lenient, ordering=True)
    )
    records = [r for r in records if matches(r)]
    if count == "true":
        return Response(200, {"count": len(records)})
    records = sort_records(records, order)
    if after is not None:
        if len(after) != len(order) + 1:
            raise flow_error("1100-400", "continuationToken does not match this orderby.")
        records = [r for r in records if compare_keys(sort_key(r, order), after, order) > 0]
    size = page_size(limit_raw)
    page, more = records[:size], len(records) > size
    result: JsonObject = {"items": page}
    if more:
        next_token = encode_token(collection, query, sort_key(page[-1], order))
        href = urlencode([("continuationToken", next_token)], quote_via=quote)
        result["_links"] = {"next": {"href": f"/{collection}?{href}"}}
    return Response(200, result)


def _check_agrees(
    sent: list[tuple[str, str]], carried: list[tuple[str, str]], lenient: bool
) -> None:
    if lenient:
        return
    for key in {k for k, _ in sent}:
        mine = [v for k, v in sent if k == key]
        theirs = [v for k, v in carried if k == key]
        # The first value is the one that counts (see Request.param); filters all count.
        if (mine if key == "property" else mine[:1]) != (
            theirs if key == "property" else theirs[:1]
        ):
            raise flow_error(
                "1100-400",
                f"The continuationToken belongs to another query: '{key}' differs from the "
                "listing it continues. Send the token alone, as in _links.next.href.",
            )


def encode_token(collection: str, query: list[tuple[str, str]], last_key: list[object]) -> str:
    data = {"c": collection, "q": [list(pair) for pair in query], "after": last_key}
    payload = json.dumps(data, separators=(",", ":")).encode()
    # Pad so the base64 always ends in "==" (length ≡ 1 mod 3).
    payload += b" " * ((1 - len(_TOKEN_MAGIC + payload)) % 3)
    return base64.b64encode(_TOKEN_MAGIC + payload).decode("ascii")


def decode_token(token: str, collection: str) -> tuple[list[tuple[str, str]], list[object]]:
    """The query a token carries and the sort key it continues after."""
    try:
        raw = base64.b64decode(token.encode("ascii"), validate=True)
        if not raw.startswith(_TOKEN_MAGIC):
            raise ValueError("bad magic")
        data = json.loads(raw[len(_TOKEN_MAGIC) :])
        after, pairs, owner = data["after"], data["q"], data["c"]
        if not isinstance(after, list) or not isinstance(pairs, list):
            raise ValueError("bad shape")
        query = [(str(k), str(v)) for k, v in pairs]
    except (ValueError, KeyError, TypeError, UnicodeEncodeError):
        raise flow_error(
            "1100-400",
            "Invalid continuationToken: pass the token from _links.next.href unchanged.",
        ) from None
    if owner != collection:
        raise flow_error(
            "1100-400", f"The continuationToken continues another listing, not {collection}."
        )
    return query, after
