"""`plan --out FILE` and `apply --plan FILE`: applied as reviewed, refused when stale."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from provisioner.commands import session as remote
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
            "version 2); plan again\n",
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


class DevUnreadable(httpx.BaseTransport):
    """The emulator, except that listing sandbox dev is refused (403, not retried)."""

    def __init__(self, emulator: Emulator) -> None:
        self.inner = emulator.transport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and request.headers.get("x-sandbox-name") == "dev":
            return httpx.Response(403, json={"error_code": "403027", "message": "No access"})
        return self.inner.handle_request(request)


def test_a_sandbox_that_cannot_be_listed_at_apply_time_is_an_error_not_a_change(
    manifest: Path,
    emulator: Emulator,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    existing = create_remote(emulator, "dev", orders("dev", "Verify Full"))
    plan_file = save_plan(capsys, manifest)
    monkeypatch.setenv("AEP_IMS_URL", "http://emulator.test")
    monkeypatch.setenv("AEP_PLATFORM_URL", "http://emulator.test")
    monkeypatch.setattr(
        remote,
        "build_http_client",
        lambda timeout, parallelism: httpx.Client(transport=DevUnreadable(emulator)),
    )

    apply = run_cli(capsys, ["apply", "--plan", str(plan_file), "-q"])
    # Nothing says orders-dev is gone: dev could not be read, so nothing is done there,
    # and the other sandboxes go on (SPEC 5), as they do without a saved plan.
    assert apply.code == 1
    assert apply.err == ""
    assert apply.out == (
        "  ? dev: cannot list connections: list connections in sandbox 'dev' failed: GET "
        "http://emulator.test/data/foundation/flowservice/connections?property=connectionSpec"
        ".id%3D%3D74a1c565-4e59-48d7-9d67-7c03b8a13137&limit=100 returned 403 403027: No "
        "access\n"
        "  prod: 3 created\n  prod-aws: 2 created\n"
        "Apply complete: 5 created; re-run apply to converge (it never duplicates).\n"
    )
    assert sorted(r["name"] for r in stored(emulator, "dev")) == ["orders-dev"]
    assert [r["id"] for r in stored(emulator, "dev")] == [existing]
    assert len(stored(emulator)) == 6
