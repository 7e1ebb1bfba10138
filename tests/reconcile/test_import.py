"""`provision import` end to end over a socket: 50 connections in 5 sandboxes (Azure and
AWS, basic and connection string) become a manifest that plans to no change at all."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from provisioner.emulator import Emulator, EmulatorConfig, serve

from .recon_helpers import ORG, basic, connection_string, create_remote, point_at, run_cli

CLOUDS = {"prod": "azure", "dev": "azure", "stage": "azure", "prod-aws": "aws", "dev-aws": "aws"}
AZURE_SSL = ("Verify Full", "Require", "Prefer", "Allow", "Verify Ca", "Disable")
SECRET = "CANARY-import-never-written-{}"


def fleet() -> list[tuple[str, dict[str, Any]]]:
    """(sandbox, payload): what teams made by hand over the years."""
    made: list[tuple[str, dict[str, Any]]] = []
    for sb, cloud in CLOUDS.items():
        on = "true" if cloud == "aws" else "Verify Full"
        off = "false" if cloud == "aws" else "Disable"
        made.append(
            (
                sb,
                basic(
                    f"orders-{sb}",
                    description=f"Orders ({sb})",
                    server=f"pg-orders-{sb}.db.example.test",
                    port="5432",
                    database="orders",
                    username="aep_reader",
                    password=SECRET.format(sb),
                    ssl=on,
                ),
            )
        )
        made.append(
            (
                sb,
                basic(
                    "inventory",
                    server="pg-inventory.db.example.test",
                    port="6432",
                    database="inventory",
                    username="aep_inv",
                    password=SECRET.format(sb),
                    ssl=off,
                ),
            )
        )
        if cloud == "azure":
            made.append(
                (sb, connection_string(f"billing-{sb}", f"Server=b;Password={SECRET.format(sb)}"))
            )
    # One-offs, to fifty: every Azure TLS mode, AWS on and off, ports, descriptions or none.
    sandboxes = list(CLOUDS)
    i = 0
    while len(made) < 50:
        sb = sandboxes[i % len(sandboxes)]
        if CLOUDS[sb] == "azure" and i % 4 == 3:
            made.append(
                (sb, connection_string(f"team{i}-dsn", f"Server=t{i};Password={SECRET.format(i)}"))
            )
        else:
            ssl = ("true", "false")[i % 2] if CLOUDS[sb] == "aws" else AZURE_SSL[i % len(AZURE_SSL)]
            description = None if i % 3 else f'Team {i}: "quoted", back\\slash, caf\u00e9'
            made.append(
                (
                    sb,
                    basic(
                        f"team{i}-db",
                        description=description,
                        server=f"pg{i}.example.test",
                        port=str(5432 + i),
                        database=f"db{i}",
                        username=f"user{i}",
                        password=SECRET.format(i),
                        ssl=ssl,
                    ),
                )
            )
        i += 1
    # Names a template would misread, and a sandbox name inside a longer word.
    made[-1] = (
        "stage",
        basic(
            "odd-{{ x }}-{% y %}",
            server="pg.example.test",
            port="5432",
            database="d",
            username="u",
            password="p",
            ssl="Require",
        ),
    )
    made[-2] = (
        "dev",
        basic(
            "devices",
            server="devices.example.test",
            port="5432",
            database="d",
            username="u",
            password="p",
            ssl="Require",
        ),
    )
    return made


@pytest.fixture
def fleet_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    monkeypatch.chdir(tmp_path)
    emulator = Emulator(
        EmulatorConfig(sandboxes=tuple(CLOUDS), clouds=tuple(CLOUDS.items()), seed=3)
    )
    with serve(emulator, port=0) as running:
        point_at(monkeypatch, running, emulator, secrets={})
        for sandbox, payload in fleet():
            create_remote(emulator, sandbox, payload)
        yield emulator
    emulator.close()


def entries(text: str) -> int:
    return text.split("\nconnections:\n", 1)[1].count("\n- name: ") + 1


def import_argv(*extra: str) -> list[str]:
    argv = ["import", "--org", ORG, "--out", "imported.yaml", *extra]
    for sandbox in CLOUDS:
        argv += ["--sandbox", sandbox]
    return argv


def test_import_then_plan_shows_nothing_to_add_and_nothing_drifted(
    fleet_env: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    assert len(fleet_env.connections()) == 50
    imported = run_cli(capsys, import_argv())
    assert (imported.code, imported.err) == (0, "")
    text = Path("imported.yaml").read_text(encoding="utf-8")
    assert "CANARY" not in text + imported.out
    count = entries(text)
    assert imported.out.endswith(
        f"Imported 50 connection(s) from 5 sandbox(es) as {count} manifest entries into "
        "imported.yaml.\nNo secret was written (the API returns none): set the 50 variable(s) "
        "listed at the top of imported.yaml before `provision apply`; `provision plan "
        "imported.yaml` needs none and should show 0 to add, 0 drifted.\n"
    )
    # One templated entry for orders-<sandbox> across both clouds, one shared inventory.
    assert "- name: orders-{{ sandbox.name }}\n  description: Orders ({{ sandbox.name }})\n" in text
    assert "    server: pg-orders-{{ sandbox.name }}.db.example.test\n" in text
    assert "  sandboxes:\n  - prod\n  - dev\n  - stage\n  - prod-aws\n  - dev-aws\n" in text
    assert "- name: billing-{{ sandbox.name }}\n" in text
    assert "env: PG_{{ sandbox.name | upper | replace('-', '_') }}_ORDERS_PASSWORD" in text
    assert "#   PG_PROD_AWS_ORDERS_PASSWORD  for 'orders-prod-aws' in prod-aws\n" in text
    assert "#   PG_DEV_BILLING_DSN  for 'billing-dev' in dev\n" in text
    assert "- name: devices\n" in text  # "dev" inside a word is not the sandbox
    assert count == 50 - 4 - 4 - 2  # orders x5 and inventory x5 -> 1 each, billing x3 -> 1

    validated = run_cli(capsys, ["validate", "imported.yaml"])
    assert validated.code == 0
    plan = run_cli(capsys, ["plan", "imported.yaml", "--detailed-exitcode"])
    assert (plan.code, plan.err) == (0, "")
    assert plan.out.splitlines()[-1] == "Plan: 0 to add, 50 unchanged, 0 drifted."
    for sandbox in CLOUDS:
        assert f"sandbox {sandbox} ({CLOUDS[sandbox]}, {ORG}): " in plan.out
    assert "unmanaged" not in plan.out


def test_import_refuses_to_overwrite_without_force(
    fleet_env: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    Path("imported.yaml").write_text("# mine\n", encoding="utf-8")
    refused = run_cli(capsys, import_argv())
    assert (refused.code, refused.out, refused.err) == (
        1,
        "",
        "error: imported.yaml exists; nothing was written: pass --force to overwrite it, or "
        "choose another --out\n",
    )
    assert Path("imported.yaml").read_text(encoding="utf-8") == "# mine\n"
    forced = run_cli(capsys, import_argv("--force", "--connection", "orders-*"))
    assert forced.code == 0
    assert entries(Path("imported.yaml").read_text(encoding="utf-8")) == 1


def test_a_sandbox_whose_cloud_cannot_be_told_needs_cloud(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    # Both clouds' forms in one sandbox: the strict emulator pins a sandbox to one cloud, so
    # only its lenient reading can hold the mixed state this test imports from.
    emulator = Emulator(EmulatorConfig(sandboxes=("prod",), seed=3, lenient=True))
    with serve(emulator, port=0) as running:
        point_at(monkeypatch, running, emulator, secrets={})
        create_remote(
            emulator,
            "prod",
            basic(
                "x", server="s", port="5432", database="d", username="u", password="p", ssl="true"
            ),
        )
        create_remote(
            emulator,
            "prod",
            basic(
                "y",
                server="s",
                port="5432",
                database="d",
                username="u",
                password="p",
                ssl="Require",
            ),
        )
        argv = ["import", "--org", ORG, "--sandbox", "prod", "--out", "m.yaml"]
        mixed = run_cli(capsys, argv)
        assert (mixed.code, mixed.err) == (
            1,
            "error: sandbox prod: its connections do not tell whether it runs on Azure or AWS; "
            "pass --cloud prod=azure or --cloud prod=aws (nothing was written)\n",
        )
        assert not Path("m.yaml").exists()
        told = run_cli(capsys, [*argv, "--cloud", "prod=azure"])
        # "true" is no Azure sslMode: that one is left out, named, and the run says so.
        assert told.code == 1
        assert (
            "  skipped connection 'x' in sandbox 'prod': sslMode 'true' is not one azure takes\n"
            in told.out
        )
        assert entries(Path("m.yaml").read_text(encoding="utf-8")) == 1
    emulator.close()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--cloud", "prod=gcp"], "error: --cloud prod=gcp: write SANDBOX=azure or SANDBOX=aws\n"),
        (
            ["--cloud", "stage=aws"],
            "error: --cloud names stage, which no --sandbox selects\n",
        ),
        (
            ["--sandbox", "Prod_EU"],
            "error: --sandbox 'prod_eu' is not a sandbox name (lowercase letters, digits, '-')\n",
        ),
    ],
)
def test_import_usage_errors_are_one_line(
    fleet_env: Emulator, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    run = run_cli(capsys, ["import", "--org", ORG, "--sandbox", "prod", "--out", "m.yaml", *extra])
    assert (run.code, run.out, run.err) == (1, "", message)
    assert not Path("m.yaml").exists()


def test_import_names_a_bad_org(fleet_env: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    run = run_cli(capsys, ["import", "--org", "acme", "--sandbox", "prod", "--out", "m.yaml"])
    assert (run.code, run.err) == (
        1,
        "error: --org 'acme' is not an IMS org id (24 hex characters, then @AdobeOrg)\n",
    )


def test_import_names_a_sandbox_the_org_does_not_have(
    fleet_env: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["import", "--org", ORG, "--sandbox", "prod", "--sandbox", "prdo", "--out", "m.yaml"]
    run = run_cli(capsys, argv)
    assert (run.code, run.out, run.err) == (
        1,
        "",
        f"error: sandbox prdo does not exist in org {ORG} (the API answered 404 "
        "FLOW-2100-404); the sandboxes of --sandbox in this org: prdo, prod. Correct the name, "
        "or create the sandbox in AEP first; nothing was written\n",
    )
    assert not Path("m.yaml").exists()
