"""The client against the project's emulator, in process: token, create, pages, get, delete."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from provisioner.emulator import POSTGRES_SPEC_ID, Emulator, EmulatorConfig
from provisioner.errors import ApiError, AuthError
from provisioner.remote.client import (
    CreateOutcomeUnknown,
    Credentials,
    Endpoints,
    FlowServiceClient,
)
from provisioner.remote.retry import RetryPolicy

from .client_fakes import FakeClock

BASE = "http://emulator.test"
PASSWORD = "hunter2-emulated-secret"


def payload(name: str) -> dict[str, object]:
    return {
        "name": name,
        "description": f"Orders DB ({name})",
        "auth": {
            "specName": "Basic Authentication",
            "params": {
                "server": "pg-prod.db.acme.internal",
                "port": "5432",
                "database": "orders",
                "username": "aep_reader",
                "password": PASSWORD,
                "sslMode": "Verify Full",
            },
        },
        "connectionSpec": {"id": POSTGRES_SPEC_ID, "version": "1.0"},
    }


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    emu = Emulator(EmulatorConfig(seed=3, page_size=7))
    yield emu
    emu.close()


def connect(
    emulator: Emulator, clock: FakeClock, *, secret: str | None = None, **options: object
) -> FlowServiceClient:
    config = emulator.config
    return FlowServiceClient(
        httpx.Client(transport=emulator.transport()),
        Credentials(config.client_id, config.client_secret if secret is None else secret),
        Endpoints(ims_url=BASE, platform_url=BASE),
        sleep=clock.sleep,
        clock=clock,
        **options,  # type: ignore[arg-type]
    )


def test_create_list_get_delete(emulator: Emulator, clock: FakeClock) -> None:
    org = emulator.config.orgs[0]
    client = connect(emulator, clock, page_size=5)
    names = [f"orders-{n:02}" for n in range(23)]
    created = {
        name: client.create_connection(org, "prod", payload(name), name=name) for name in names
    }
    client.create_connection(org, "dev", payload("dev-only"), name="dev-only")

    listed = client.list_connections(org, "PROD", spec_id=POSTGRES_SPEC_ID)
    assert sorted(c.name for c in listed) == names
    assert {c.name: c.id for c in listed} == {n: c.id for n, c in created.items()}
    assert client.requests_sent["GET"] == 5  # 23 connections, 5 a page

    one = client.get_connection(org, "prod", created["orders-07"].id)
    assert (one.name, one.description, one.spec_id) == (
        "orders-07",
        "Orders DB (orders-07)",
        POSTGRES_SPEC_ID,
    )
    assert one.auth_spec_name == "Basic Authentication"
    assert one.params["server"] == "pg-prod.db.acme.internal"
    assert one.params.get("password") != PASSWORD  # secrets never come back
    assert one.state == "enabled"
    assert one.etag == created["orders-07"].etag
    assert isinstance(one.created_at, int)

    client.delete_connection(org, "prod", one.id, name=one.name)
    with pytest.raises(ApiError) as caught:
        client.get_connection(org, "prod", one.id)
    assert caught.value.status == 404
    assert caught.value.code.endswith("-404")
    assert client.requests_sent["TOKEN"] == 1


def test_a_revoked_token_is_replaced(emulator: Emulator, clock: FakeClock) -> None:
    org = emulator.config.orgs[0]
    client = connect(emulator, clock)
    client.list_connections(org, "prod", spec_id=POSTGRES_SPEC_ID)
    assert emulator.revoke_tokens() >= 1
    client.list_connections(org, "prod", spec_id=POSTGRES_SPEC_ID)
    assert client.requests_sent["TOKEN"] == 2


def test_wrong_credentials_are_an_auth_error(emulator: Emulator, clock: FakeClock) -> None:
    client = connect(emulator, clock, secret="not-the-emulator-secret")
    with pytest.raises(AuthError) as caught:
        client.list_connections(emulator.config.orgs[0], "prod", spec_id=POSTGRES_SPEC_ID)
    assert str(caught.value).endswith("; check AEP_CLIENT_SECRET")
    assert "not-the-emulator-secret" not in str(caught.value)


def test_lists_survive_429s_and_5xx(emulator: Emulator, clock: FakeClock) -> None:
    org = emulator.config.orgs[0]
    policy = RetryPolicy(max_attempts=30, deadline=1e6)
    client = connect(emulator, clock, retry=policy, page_size=2)
    for n in range(20):
        client.create_connection(org, "prod", payload(f"c{n}"), name=f"c{n}")
    emulator.set_faults(rate_429=0.3, rate_429_no_retry_after=0.5, rate_5xx=0.2, seed=11)
    assert len(client.list_connections(org, "prod", spec_id=POSTGRES_SPEC_ID)) == 20
    assert clock.sleeps  # some faults were hit and waited out


@pytest.mark.parametrize("fault", ["rate_commit_then_500", "rate_commit_then_drop"])
def test_a_committed_create_that_failed_is_unknown_and_exists(
    emulator: Emulator, clock: FakeClock, fault: str
) -> None:
    org = emulator.config.orgs[0]
    client = connect(emulator, clock)
    emulator.set_faults(**{fault: 1.0})
    with pytest.raises(CreateOutcomeUnknown):
        client.create_connection(org, "prod", payload("orders"), name="orders")
    emulator.set_faults()
    assert client.requests_sent["POST"] == 1
    found = client.list_connections(org, "prod", spec_id=POSTGRES_SPEC_ID)
    assert [c.name for c in found] == ["orders"]  # apply's relist sees it: no second create
