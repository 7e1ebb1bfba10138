"""Data Prep mapping sets and Catalog datasets, under their own base paths."""

from __future__ import annotations

import httpx
import pytest

from provisioner.emulator import Emulator, EmulatorConfig

from .chain_helpers import CATALOG, CONVERSION, SCHEMA, mapping_body
from .emu_helpers import ORG, make_client


def test_mapping_sets_create_read_versions_and_list(api: httpx.Client) -> None:
    made = api.post(f"{CONVERSION}/mappingSets", json=mapping_body())
    assert made.status_code == 200  # not 201 [doc MS]
    body = made.json()
    assert set(body) == {"id", "version", "createdDate", "modifiedDate", "createdBy", "modifiedBy"}
    assert len(body["id"]) == 32 and body["version"] == 0
    read = api.get(f"{CONVERSION}/mappingSets/{body['id']}").json()
    first = read["mappings"][0]
    assert (first["sourceType"], first["sourceAttribute"], first["destinationXdmPath"]) == (
        "text/x.schema-path",
        "id",
        "_id",
    )
    assert read["xdmSchema"] == SCHEMA
    changed = mapping_body()
    changed["mappings"] = changed["mappings"][:1]
    put = api.put(f"{CONVERSION}/mappingSets/{body['id']}", json=changed).json()
    assert (put["version"], len(put["mappings"])) == (1, 1)
    old = api.get(f"{CONVERSION}/mappingSets/{body['id']}", params={"version": "0"}).json()
    assert len(old["mappings"]) == 2
    assert api.get(f"{CONVERSION}/mappingSets/{body['id']}?version=7").status_code == 404
    listed = api.get(f"{CONVERSION}/mappingSets", params={"limit": "5", "start": "0"}).json()
    assert listed["_page"] == {"count": 1, "limit": 5}
    assert [m["version"] for m in listed["data"]] == [1]
    needs_start = api.get(f"{CONVERSION}/mappingSets", params={"limit": "5"})
    assert needs_start.status_code == 400
    assert needs_start.json()["detail"] == "start is required and must be a non-negative integer."


def test_the_legacy_mapping_body_is_accepted(api: httpx.Client) -> None:
    legacy = {
        "version": 0,
        "xdmSchema": SCHEMA,
        "xdmVersion": "1.0",
        "id": None,
        "mappings": [
            {"destinationXdmPath": "_id", "sourceAttribute": "id", "identity": False, "version": 0}
        ],
    }
    assert api.post(f"{CONVERSION}/mappingSets", json=legacy).status_code == 200


@pytest.mark.parametrize(
    ("change", "detail"),
    [
        (
            {"mappingz": []},
            "Unknown field 'mappingz' in the request body. Did you mean 'mappings'?",
        ),
        (
            {"mappings": [{"sourceType": "ATRIBUTE", "source": "a", "destination": "b"}]},
            "mappings[0].sourceType must be one of ATTRIBUTE, EXPRESSION, STATIC. "
            "Did you mean 'ATTRIBUTE'?",
        ),
        ({"mappings": []}, "mappings must be a non-empty array."),
    ],
)
def test_bad_mapping_sets_are_400(
    api: httpx.Client, change: dict[str, object], detail: str
) -> None:
    response = api.post(f"{CONVERSION}/mappingSets", json={**mapping_body(), **change})
    assert (response.status_code, response.json()["detail"]) == (400, detail)


def test_mapping_set_delete_is_an_option(api: httpx.Client, emulator: Emulator) -> None:
    set_id = api.post(f"{CONVERSION}/mappingSets", json=mapping_body()).json()["id"]
    assert api.delete(f"{CONVERSION}/mappingSets/{set_id}").status_code == 405
    emulator.set_dataflow_options(mapping_delete="allowed")
    assert api.delete(f"{CONVERSION}/mappingSets/{set_id}").status_code == 204
    assert api.get(f"{CONVERSION}/mappingSets/{set_id}").status_code == 404


def test_catalog_answers_an_object_keyed_by_id(api: httpx.Client, emulator: Emulator) -> None:
    ids = [
        emulator.add_dataset(ORG, "prod", name=name, schemaId=SCHEMA)["id"]
        for name in ("Orders", "Orders (PostgreSQL)", "Items", "Star*Name")
    ]
    everything = api.get(f"{CATALOG}/dataSets").json()
    assert list(everything) == ids
    assert everything[ids[0]]["schemaRef"]["id"] == SCHEMA
    exact = api.get(f"{CATALOG}/dataSets", params={"name": "Orders"}).json()
    assert list(exact) == [ids[0]]
    wildcard = api.get(f"{CATALOG}/dataSets", params={"name": "Orders*"}).json()
    assert list(wildcard) == ids[:2]
    either = api.get(f"{CATALOG}/dataSets", params={"name": "Items,Orders"}).json()
    assert list(either) == [ids[0], ids[2]]
    literal = api.get(f"{CATALOG}/dataSets", params={"name": "Star**Name"}).json()
    assert list(literal) == [ids[3]]
    projected = api.get(
        f"{CATALOG}/dataSets", params={"property": "name==Items", "properties": "name"}
    ).json()
    assert projected == {ids[2]: {"name": "Items"}}
    page = api.get(f"{CATALOG}/dataSets", params={"limit": "2", "start": "2"}).json()
    assert list(page) == ids[2:]
    one = api.get(f"{CATALOG}/dataSets/{ids[1]}").json()
    assert list(one) == [ids[1]]
    assert api.get(f"{CATALOG}/dataSets/{'f' * 24}").status_code == 404
    for limit in ("0", "101", "x"):
        assert api.get(f"{CATALOG}/dataSets", params={"limit": limit}).status_code == 400


def test_catalog_and_data_prep_sit_behind_the_gateway(emulator: Emulator) -> None:
    raw = httpx.Client(transport=emulator.transport(), base_url="http://emulator.test")
    for path in (f"{CATALOG}/dataSets", f"{CONVERSION}/mappingSets?limit=1&start=0"):
        assert raw.get(path).json() == {
            "error_code": "403010",
            "message": "Oauth token is missing.",
        }
    with make_client(emulator, sandbox="dev") as dev:
        emulator.add_dataset(ORG, "prod", name="Orders", schemaId=SCHEMA)
        assert dev.get(f"{CATALOG}/dataSets").json() == {}  # another sandbox's datasets


def test_datasets_belong_to_their_sandbox() -> None:
    emu = Emulator(EmulatorConfig())
    with make_client(emu, sandbox="prod") as prod:
        emu.add_dataset(ORG, "dev", name="Orders", schemaId=SCHEMA)
        assert prod.get(f"{CATALOG}/dataSets").json() == {}
    emu.close()
