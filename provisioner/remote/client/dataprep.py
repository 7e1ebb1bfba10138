"""The Data Prep and Catalog calls of a dataflow: mapping sets and datasets.

A mixin of ``FlowServiceClient``. Both services page by offset, not by ``_links.next``:
Data Prep's ``/mappingSets`` needs ``limit`` and ``start`` and answers ``{data, _page}``;
Catalog's ``/dataSets`` takes ``limit`` (1-100) and a 0-based ``start`` and answers an
object keyed by dataset id [doc MS, CAT]. A page shorter than the page size is the last.
(The widely used wrapper starts Catalog at 1 and so never returns one dataset a page: the
offsets here are 0, limit, 2*limit...)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TypeVar
from urllib.parse import quote

import httpx

from provisioner.dataflow import CreatedMappingSet, Dataset, RemoteMappingSet
from provisioner.errors import ApiError
from provisioner.remote import decode_dataflows as decode
from provisioner.remote.client.dataflows import send_create
from provisioner.remote.client.failures import Call, CreateOutcomeUnknown, malformed
from provisioner.remote.client.transport import Endpoints, Transport
from provisioner.remote.decode import Malformed

CATALOG_MAX_LIMIT = 100  # [doc CAT] limit is 1-100
T = TypeVar("T")
# A page: its items and the page size the server says it used (None: as asked).
Page = tuple[list[T], int | None]


class DataPrepCalls:
    _transport: Transport
    _endpoints: Endpoints
    _page_size: int
    _max_pages: int

    def list_mapping_sets(self, org: str, sandbox: str) -> list[RemoteMappingSet]:
        """Every mapping set of the sandbox, each at its latest version."""
        what = f"list mapping sets in sandbox '{sandbox}'"
        url = f"{self._endpoints.conversion_url}/mappingSets"
        return self._pages(org, sandbox, what, url, self._page_size, _mapping_sets)

    def list_datasets(self, org: str, sandbox: str) -> list[Dataset]:
        """Every Catalog dataset of the sandbox: id, name and schema only."""
        what = f"list datasets in sandbox '{sandbox}'"
        url = f"{self._endpoints.catalog_url}/dataSets"
        limit = min(self._page_size, CATALOG_MAX_LIMIT)
        query = {"properties": "name,schemaRef"}
        by_id: dict[str, Dataset] = {}
        for item in self._pages(org, sandbox, what, url, limit, _datasets, query):
            # A dataset created while the pages are read can shift one into the next page.
            by_id.setdefault(item.id, item)
        return list(by_id.values())

    def get_mapping_set(
        self, org: str, sandbox: str, mapping_id: str, *, version: str | None
    ) -> RemoteMappingSet:
        """One mapping set, at ``version`` (None: the latest)."""
        at = "" if version is None else f" version {version}"
        what = f"get mapping set '{mapping_id}'{at} in sandbox '{sandbox}'"
        query = {} if version is None else {"version": version}
        url = str(httpx.URL(self._mapping_url(mapping_id), params=query))
        call = Call("read", what, "GET", url, org, sandbox)
        try:
            body = self._transport.json(call, self._transport.send(call))
            return decode.mapping_set(body, "response")
        except Malformed as problem:
            raise malformed(call, str(problem)) from None

    def create_mapping_set(
        self, org: str, sandbox: str, payload: Mapping[str, object], *, name: str
    ) -> CreatedMappingSet:
        """POST a mapping set: 200 (not 201) with its id and version 0 [doc MS]."""
        what = f"create mapping set '{name}' in sandbox '{sandbox}'"
        url = f"{self._endpoints.conversion_url}/mappingSets"
        call = Call("create", what, "POST", url, org, sandbox, json.dumps(payload).encode())
        # A new set is version 0 [doc MS]: an answer that leaves it out still names the set.
        found = _created(send_create(self._transport, call, "mapping set"), "0")
        if found is None:
            raise CreateOutcomeUnknown(
                f"{what} may have succeeded: POST {url} answered a version that is not a "
                "number; the set may exist without a flow using it",
                method="POST",
                url=url,
            )
        return found

    def update_mapping_set(
        self,
        org: str,
        sandbox: str,
        mapping_id: str,
        payload: Mapping[str, object],
        *,
        name: str,
    ) -> CreatedMappingSet:
        """PUT the whole body: the set's next version. Data Prep has no If-Match; a PUT sent
        again after a lost answer makes one more version of the same rules, and the answer
        names the latest, which the flow is then pointed at."""
        what = f"update mapping set '{name}' ({mapping_id}) in sandbox '{sandbox}'"
        body = json.dumps(payload).encode()
        call = Call("update", what, "PUT", self._mapping_url(mapping_id), org, sandbox, body)
        response = self._transport.send(call)
        data = self._transport.json(call, response)
        found = _created(data) if isinstance(data, dict) else None
        if found is None:
            raise malformed(call, "response holds no mapping set id and version")
        return found

    def _pages(
        self,
        org: str,
        sandbox: str,
        what: str,
        url: str,
        limit: int,
        read: Callable[[object], Page[T]],
        query: Mapping[str, str] | None = None,
    ) -> list[T]:
        """Every item of every offset page, each page decoded by ``read`` (an item's place
        in an error is its place in the page the error's URL names)."""
        found: list[T] = []
        start = 0
        for _ in range(self._max_pages):
            params = {**(query or {}), "limit": str(limit), "start": str(start)}
            call = Call("read", what, "GET", str(httpx.URL(url, params=params)), org, sandbox)
            try:
                items, used = read(self._transport.json(call, self._transport.send(call)))
            except Malformed as problem:
                raise malformed(call, str(problem)) from None
            found.extend(items)
            if len(items) < (used or limit) or not items:
                return found
            start += len(items)
        raise ApiError(
            f"{what} failed: GET {url}: more than {self._max_pages} pages; stopped reading",
            method="GET",
            url=url,
        )

    def _mapping_url(self, mapping_id: str) -> str:
        return f"{self._endpoints.conversion_url}/mappingSets/{quote(mapping_id, safe='')}"


def _mapping_sets(body: object) -> Page[RemoteMappingSet]:
    items, used = decode.mapping_page(body)
    return [decode.mapping_set(item, f"data[{i}]") for i, item in enumerate(items)], used


def _datasets(body: object) -> Page[Dataset]:
    return decode.datasets(body), None


def _created(data: Mapping[str, object], default: str | None = None) -> CreatedMappingSet | None:
    set_id, version = data.get("id"), data.get("version", default)
    if not isinstance(set_id, str) or not set_id:
        return None
    if isinstance(version, bool) or not isinstance(version, int | str):
        return None
    return CreatedMappingSet(set_id, str(version))
