from __future__ import annotations

import re
import time

import httpx
import pytest

from provisioner.emulator import POSTGRES_SPEC_ID, Emulator, EmulatorConfig

from .emu_helpers import BASE, FLOW, ORG, create, cs_payload, flow_code, make_client, pg_payload

ETAG = re.compile(r'^"[0-9a-f]{8}-0000-0200-0000-[0-9a-f]{12}"$')


def test_create_returns_id_quoted_etag_and_location(api: httpx.Client) -> None:
    response = api.post(f"{FLOW}/connections", json=pg_payload())
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "etag"}
    assert ETAG.match(body["etag"])
    assert response.headers["Location"] == f"{FLOW}/connections/{body['id']}"


def test_read_back_wraps_one_item_with_all_documented_fields(
    api: httpx.Client, emulator: Emulator
) -> None:
    before = int(time.time() * 1000)
    created = create(api)
    response = api.get(f"{FLOW}/connections/{created['id']}")
    assert response.status_code == 200
    (item,) = response.json()["items"]
    assert item["id"] == created["id"]
    assert item["etag"] == item["version"] == created["etag"]
    assert before <= item["createdAt"] == item["updatedAt"] <= int(time.time() * 1000)
    assert item["createdBy"] == item["createdClient"] == "emulator-client@AdobeID"
    assert item["updatedBy"] == item["updatedClient"] == "emulator-client@AdobeID"
    assert item["state"] == "enabled"
    assert (item["sandboxName"], item["imsOrgId"]) == ("prod", ORG)
    assert re.fullmatch(r"[0-9a-f-]{36}", item["sandboxId"])
    assert item["connectionSpec"] == {"id": POSTGRES_SPEC_ID, "version": "1.0"}
    assert item["auth"] == {
        "specName": "Basic Authentication",
        "params": {
            "server": "pg-prod.db.acme.internal",
            "port": "5432",
            "database": "orders",
            "username": "aep_reader",
            "password": "********",
            "sslMode": "Verify Full",
        },
    }
    # The raw record keeps the secret; only reads mask it.
    assert emulator.connections()[0]["auth"]["params"]["password"] == "hunter2-secret"


def test_description_is_omitted_when_not_given(api: httpx.Client) -> None:
    created = create(api, cs_payload())
    (item,) = api.get(f"{FLOW}/connections/{created['id']}").json()["items"]
    assert "description" not in item
    assert item["auth"]["params"] == {"connectionString": "********"}


def test_names_are_not_unique(api: httpx.Client) -> None:
    create(api, pg_payload("same"))
    create(api, pg_payload("same"))
    assert len(api.get(f"{FLOW}/connections").json()["items"]) == 2


@pytest.mark.parametrize(
    ("style", "expected"),
    [("stars", "********"), ("drop", None), ("encrypted", "ENC(")],
)
def test_mask_styles(style: str, expected: str | None) -> None:
    emu = Emulator(EmulatorConfig(mask_style=style))  # type: ignore[arg-type]
    with make_client(emu) as client:
        created = create(client)
        listed = client.get(f"{FLOW}/connections").json()["items"][0]["auth"]["params"]
        read = client.get(f"{FLOW}/connections/{created['id']}").json()["items"][0]
    params = read["auth"]["params"]
    assert params == listed
    if expected is None:
        assert "password" not in params
    else:
        assert params["password"].startswith(expected)
        assert "hunter2" not in params["password"]


@pytest.mark.parametrize(
    ("payload", "code", "message"),
    [
        (
            {**pg_payload(), "connectionSpec": {"id": "32e8f412-cdf7-464c-9885-78184cb113fd"}},
            "1413-400",
            "The provided spec ID '32e8f412-cdf7-464c-9885-78184cb113fd' is invalid.",
        ),
        (
            {**pg_payload(), "auth": {"specName": "OAuth", "params": {}}},
            "1415-400",
            f"Auth spec 'OAuth' not found for connection spec id {POSTGRES_SPEC_ID}.",
        ),
        (
            pg_payload(sslMode="verify-full"),
            "1100-400",
            "auth.params do not match 'Basic Authentication': sslMode: must be one of "
            "Disable, Allow, Prefer, Require, Verify Ca, Verify Full, true, false",
        ),
        (
            pg_payload(port=5432),
            "1100-400",
            "auth.params do not match 'Basic Authentication': port: fails 'type' ('string')",
        ),
        (
            {**pg_payload(), "name": ""},
            "1100-400",
            "name is required and must be a non-empty string.",
        ),
    ],
)
def test_create_validation(
    api: httpx.Client, payload: dict[str, object], code: str, message: str
) -> None:
    response = api.post(f"{FLOW}/connections", json=payload)
    assert flow_code(response) == code
    assert response.json()["errorMessage"] == message


def test_missing_password_names_the_param_never_a_value(api: httpx.Client) -> None:
    payload = pg_payload()
    del payload["auth"]["params"]["password"]  # type: ignore[index]
    payload["auth"]["params"]["extra"] = "hunter2"  # type: ignore[index]
    response = api.post(f"{FLOW}/connections", json=payload)
    message = response.json()["errorMessage"]
    assert "'password' is a required property" in message
    assert "'extra' was unexpected" in message


def test_port_as_integer_when_configured() -> None:
    emu = Emulator(EmulatorConfig(port_type="string-or-integer"))
    with make_client(emu) as client:
        assert client.post(f"{FLOW}/connections", json=pg_payload(port=5432)).status_code == 201


def test_ssl_modes_are_configurable() -> None:
    emu = Emulator(EmulatorConfig(ssl_modes=("true", "false"), clouds=(("prod", "aws"),)))
    with make_client(emu) as client:
        assert (
            client.post(f"{FLOW}/connections", json=pg_payload(sslMode="true")).status_code == 201
        )
        refused = client.post(f"{FLOW}/connections", json=pg_payload(sslMode="Require"))
        assert flow_code(refused) == "1100-400"


def test_unknown_id_is_1101(api: httpx.Client) -> None:
    for response in (
        api.get(f"{FLOW}/connections/nope"),
        api.delete(f"{FLOW}/connections/nope"),
        api.get(f"{FLOW}/connections/nope/test"),
        api.patch(f"{FLOW}/connections/nope", json=[], headers={"If-Match": '"x"'}),
    ):
        assert (response.status_code, flow_code(response)) == (404, "1101-404")


def test_delete_then_get_is_404(api: httpx.Client, emulator: Emulator) -> None:
    created = create(api)
    response = api.delete(f"{FLOW}/connections/{created['id']}")
    assert (response.status_code, response.content) == (204, b"")
    assert flow_code(api.get(f"{FLOW}/connections/{created['id']}")) == "1101-404"
    assert emulator.connections() == []


def test_trailing_slash_route_from_the_openapi_file(api: httpx.Client) -> None:
    created = create(api)
    assert api.delete(f"{FLOW}/connections/{created['id']}/").status_code == 204


def test_connection_test_route(api: httpx.Client) -> None:
    ok = create(api)
    down = create(api, pg_payload(server="pg.unreachable.invalid"))
    assert api.get(f"{FLOW}/connections/{ok['id']}/test").json() == {"result": True}
    assert api.get(f"{FLOW}/connections/{down['id']}/test").json() == {
        "result": False,
        "errorMessage": "DNS: host 'pg.unreachable.invalid' not found",
    }


def test_connection_spec(api: httpx.Client) -> None:
    response = api.get(f"{FLOW}/connectionSpecs/{POSTGRES_SPEC_ID}")
    (spec,) = response.json()["items"]
    assert (spec["id"], spec["name"], spec["version"]) == (POSTGRES_SPEC_ID, "postgre-sql", "1.0")
    names = [a["name"] for a in spec["authSpec"]]
    assert names == ["Basic Authentication", "Connection String Based Authentication"]
    basic = spec["authSpec"][0]["spec"]
    assert basic["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert basic["properties"]["password"]["format"] == "password"
    assert spec["authSpec"][1]["spec"]["properties"]["connectionString"]["format"] == "password"
    unknown = api.get(f"{FLOW}/connectionSpecs/32e8f412-cdf7-464c-9885-78184cb113fd")
    assert flow_code(unknown) == "1413-400"


def test_auth_spec_schemas_are_valid_draft7(api: httpx.Client) -> None:
    import jsonschema

    spec = api.get(f"{FLOW}/connectionSpecs/{POSTGRES_SPEC_ID}").json()["items"][0]
    for auth in spec["authSpec"]:
        jsonschema.Draft7Validator.check_schema(auth["spec"])


def test_in_process_base_url_does_not_matter(emulator: Emulator) -> None:
    with httpx.Client(transport=emulator.transport(), base_url="http://anything") as client:
        assert client.get("/__emulator/health").json() == {"ok": True}
    assert BASE


def test_an_unknown_body_key_is_refused_with_the_closest_name(api: httpx.Client) -> None:
    payload = pg_payload()
    payload["descripton"] = payload.pop("description")
    refused = api.post(f"{FLOW}/connections", json=payload)
    assert flow_code(refused) == "1100-400"
    assert refused.json()["errorMessage"] == (
        "Unknown field 'descripton' in the request body. Did you mean 'description'?"
    )
    nested = pg_payload()
    nested["connectionSpec"]["versoin"] = "1.0"
    assert api.post(f"{FLOW}/connections", json=nested).json()["errorMessage"] == (
        "Unknown field 'connectionSpec.versoin' in the request body. Did you mean 'version'?"
    )


def test_lenient_drops_an_unknown_body_key() -> None:
    emu = Emulator(EmulatorConfig(lenient=True))
    with make_client(emu) as client:
        payload = {**pg_payload(), "descripton": "typo"}
        assert client.post(f"{FLOW}/connections", json=payload).status_code == 201
        (stored,) = emu.connections()
        assert "descripton" not in stored
    emu.close()
