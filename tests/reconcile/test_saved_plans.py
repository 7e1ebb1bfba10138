"""`plan --out FILE` and `apply --plan FILE`: applied as reviewed, refused when stale."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provisioner.emulator import Emulator

from .recon_helpers import (
    FLOW_POSTS,
    MANIFEST,
    SECRETS,
    TOTAL,
    connection_string,
    create_remote,
    direct_client,
    orders,
    run_cli,
    stored,
)

pytestmark = pytest.mark.usefixtures("aep_env")


def save_plan(capsys: pytest.CaptureFixture[str], manifest: Path, *extra: str) -> Path:
    result = run_cli(capsys, ["plan", str(manifest), "--out", "plan.json", *extra])
    assert (result.code, result.err) == (0, "")
    assert result.out.endswith(
        "Saved the plan to plan.json; apply it with `provision apply --plan plan.json`.\n"
    )
    return Path("plan.json")


def test_saved_plan_is_applied_as_reviewed(
    manifest: Path, emulator: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    plan_file = save_plan(capsys, manifest, "--sandbox", "prod", "--connection", "[bi]*")

    apply = run_cli(capsys, ["apply", "--plan", str(plan_file)])
    assert apply.code == 0
    assert apply.out.endswith("  prod: 2 created\nApply complete: 2 created.\n")
    # The saved selection came back with the plan: only prod's billing and inventory.
    assert sorted(r["name"] for r in stored(emulator)) == ["billing", "inventory"]

    # A saved plan is good for one apply: afterwards what it planned to create exists.
    ids = {r["name"]: r["id"] for r in stored(emulator)}
    again = run_cli(capsys, ["apply", "--plan", str(plan_file)])
    assert (again.code, again.out) == (1, "")
    assert again.err == (
        "error: plan.json: the plan is stale, nothing was changed; plan again:\n"
        "error:   connection 'inventory' in sandbox 'prod' was absent and now exists "
        f"({ids['inventory']})\n"
        "error:   connection 'billing' in sandbox 'prod' was absent and now exists "
        f"({ids['billing']})\n"
    )
    assert len(stored(emulator)) == 2


def test_plan_file_holds_no_secret_values(
    manifest: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run_cli(capsys, ["plan", str(manifest), "--format", "json", "--out", "plan.json"])
    text = Path("plan.json").read_text(encoding="utf-8")
    assert json.loads(text) == json.loads(result.out)
    for value in SECRETS.values():
        assert value not in text
    assert text.count('"(sensitive)"') == 6  # five passwords and a whole connection string
    assert "Password=(sensitive);" in text  # the string built from parts keeps its shape


def test_stale_plan_a_planned_absent_connection_now_exists(
    manifest: Path, emulator: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    plan_file = save_plan(capsys, manifest)
    # Someone else (another pipeline) created one of the planned connections meanwhile.
    billing = create_remote(emulator, "prod", connection_string("billing", "Server=elsewhere"))
    posts = emulator.request_counts()[FLOW_POSTS]

    apply = run_cli(capsys, ["apply", "--plan", str(plan_file)])
    assert (apply.code, apply.out) == (1, "")
    assert apply.err == (
        "error: plan.json: the plan is stale, nothing was changed; plan again:\n"
        f"error:   connection 'billing' in sandbox 'prod' was absent and now exists ({billing})\n"
    )
    assert [r["id"] for r in stored(emulator)] == [billing]
    assert emulator.request_counts()[FLOW_POSTS] == posts


def test_stale_plan_a_planned_existing_connection_is_gone(
    manifest: Path, emulator: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    existing = create_remote(emulator, "dev", orders("dev", "Verify Full"))
    plan_file = save_plan(capsys, manifest)
    direct_client(emulator).delete_connection(
        "0123456789ABCDEF01234567@AdobeOrg", "dev", existing, name="orders-dev"
    )
    posts = emulator.request_counts()[FLOW_POSTS]

    apply = run_cli(capsys, ["apply", "--plan", str(plan_file)])
    assert apply.code == 1
    assert apply.err == (
        "error: plan.json: the plan is stale, nothing was changed; plan again:\n"
        f"error:   connection 'orders-dev' in sandbox 'dev' existed ({existing}) and is now gone\n"
    )
    assert stored(emulator) == []
    assert emulator.request_counts()[FLOW_POSTS] == posts


def test_stale_plan_the_manifest_was_edited(
    manifest: Path, emulator: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    plan_file = save_plan(capsys, manifest)
    manifest.write_text(MANIFEST.replace("port: 6432", "port: 6433"), encoding="utf-8")

    apply = run_cli(capsys, ["apply", "--plan", str(plan_file)])
    assert (apply.code, apply.out) == (1, "")
    assert apply.err == (
        "error: plan.json: the plan is stale, nothing was changed; plan again:\n"
        "error:   the manifests changed since the plan was made\n"
    )
    assert stored(emulator) == []
    assert FLOW_POSTS not in emulator.request_counts()


def test_a_comment_or_a_secret_value_is_no_manifest_change(
    manifest: Path,
    emulator: Emulator,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plan_file = save_plan(capsys, manifest)
    manifest.write_text("# reviewed\n" + MANIFEST, encoding="utf-8")
    monkeypatch.setenv("RECON_ORDERS_PASSWORD", "rotated-pw-0b7e")

    apply = run_cli(capsys, ["apply", "--plan", str(plan_file)])
    assert apply.code == 0, apply.err
    assert len(stored(emulator)) == TOTAL
    (orders_dev,) = (r for r in stored(emulator, "dev") if r["name"] == "orders-dev")
    assert orders_dev["auth"]["params"]["password"] == "rotated-pw-0b7e"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "error: plan.json: cannot read the plan file: No such file or directory\n"),
        (
            "{not json",
            "error: plan.json: not a plan file (invalid JSON); make one with "
            "`provision plan ... --out FILE`\n",
        ),
        ('{"format": "other"}', "error: plan.json: not a provision plan file\n"),
        (
            '{"format": "provision-plan", "format_version": 99}',
            "error: plan.json: plan format version 99 is not supported (this provision writes "
            "version 1); plan again\n",
        ),
    ],
)
def test_unusable_plan_files(
    manifest: Path,
    emulator: Emulator,
    capsys: pytest.CaptureFixture[str],
    content: str | None,
    message: str,
) -> None:
    if content is not None:
        Path("plan.json").write_text(content, encoding="utf-8")
    apply = run_cli(capsys, ["apply", "--plan", "plan.json"])
    assert (apply.code, apply.out, apply.err) == (1, "", message)
    assert emulator.request_count == 0
