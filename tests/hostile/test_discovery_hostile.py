"""A pull request that plants links and special files among the manifests.

A symbolic link to `~/.netrc` named `configs/netrc.yaml` once made validate print the token in
a diagnostic (and the CI step put it in a pull-request comment); a FIFO would block the run.
Whatever lies in the tree, nothing outside the paths given is read as a manifest, nothing
blocks, and each refusal is one line naming the path, never the content or the target."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from .hostile import MANIFEST, run_cli
from .test_plan_hostile import Api, Handler, use_api

__all__ = ["use_api"]  # the fixture, used by name below

CANARY = "ghp_CANARYdiscovery0123456789abcdefABCDEF"
NETRC = f"machine github.com login x-access-token password {CANARY}\n"
COMMANDS = [["validate"], ["render"], ["plan"]]


def _nothing_listed(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"items": []})


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """`configs/` holding one good manifest, and a secret file beside (outside) it."""
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / ".netrc").write_text(NETRC, encoding="utf-8")
    configs = tmp_path / "configs"
    configs.mkdir()
    (configs / "orders.yaml").write_text(MANIFEST, encoding="utf-8")
    (configs / "secrets").mkdir()
    (configs / "secrets" / "crm.txt").write_text("crm-secret\n", encoding="utf-8")
    for name in ("ORDERS_PG_PASSWORD", "BILLING_PG_DSN", "INVENTORY_PG_PASSWORD"):
        monkeypatch.setenv(name, "x")
    monkeypatch.chdir(tmp_path)
    yield configs


def _refused(use_api: Callable[[Handler], Api], argv: list[str], message: str) -> None:
    api = use_api(_nothing_listed)
    run = run_cli(argv)
    assert CANARY not in run.out + run.err
    assert (run.code, run.out, run.err) == (1, "", f"error: {message}\n")
    assert api.requests == []


@pytest.mark.parametrize("command", COMMANDS)
def test_a_link_to_a_file_outside_the_tree_is_not_read(
    tree: Path, use_api: Callable[[Handler], Api], command: list[str]
) -> None:
    (tree / "netrc.yaml").symlink_to(tree.parent / "home" / ".netrc")
    _refused(
        use_api,
        [*command, "configs/"],
        "configs/netrc.yaml: not read: a symbolic link to a file outside configs; manifests "
        "are read only inside the paths given: copy it into configs, or give its own path on "
        "the command line",
    )


def test_a_link_named_on_the_command_line_may_not_leave_its_folder(
    tree: Path, use_api: Callable[[Handler], Api]
) -> None:
    # The pipeline names `configs/prod.yaml`; the pull request made it a link.
    (tree / "prod.yaml").symlink_to(tree.parent / "home" / ".netrc")
    _refused(
        use_api,
        ["plan", "configs/prod.yaml"],
        "configs/prod.yaml: not read: a symbolic link to a file outside configs; manifests "
        "are read only inside the paths given: copy it into configs, or give its own path on "
        "the command line",
    )


def test_a_link_to_a_folder_outside_the_tree_is_refused_not_skipped(
    tree: Path, use_api: Callable[[Handler], Api]
) -> None:
    (tree.parent / "home" / "hosts.yml").write_text(f"oauth_token: {CANARY}\n", "utf-8")
    (tree / "team-b").symlink_to(tree.parent / "home", target_is_directory=True)
    _refused(
        use_api,
        ["validate", "configs"],
        "configs/team-b: not read: a symbolic link to a folder outside configs; manifests "
        "are read only inside the paths given: copy it into configs, or give its own path on "
        "the command line",
    )


def test_a_broken_link_is_an_error_not_an_absence(
    tree: Path, use_api: Callable[[Handler], Api]
) -> None:
    (tree / "orders-b.yaml").symlink_to(tree / "gone.yaml")
    _refused(
        use_api,
        ["validate", "configs"],
        "configs/orders-b.yaml: not read: a symbolic link whose target does not exist or "
        "loops; remove the link or point it at a manifest",
    )


@pytest.mark.parametrize("command", COMMANDS)
def test_a_fifo_in_the_tree_is_refused_without_blocking(
    tree: Path, command: list[str], tmp_path: Path
) -> None:
    # In a child process: were the FIFO opened, the run would wait for a writer forever,
    # and the timeout (far beyond the run's second) turns that hang into a failure.
    os.mkfifo(tree / "pipe.yaml")
    # Were discovery to let it through, `plan` would still send nothing off this machine.
    nowhere = "http://127.0.0.1:9"
    env = {
        **os.environ,
        "AEP_CLIENT_ID": "c",
        "AEP_CLIENT_SECRET": "s",
        "AEP_IMS_URL": nowhere,
        "AEP_PLATFORM_URL": nowhere,
    }
    run = subprocess.run(
        [sys.executable, "-m", "provisioner", *command, "configs"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=env,
        check=False,
    )
    assert (run.returncode, run.stdout, run.stderr) == (
        1,
        "",
        "error: configs/pipe.yaml: not read: a FIFO (named pipe); a manifest must be a "
        "regular file\n",
    )


def test_a_fifo_named_on_the_command_line_is_refused(
    tree: Path, use_api: Callable[[Handler], Api]
) -> None:
    os.mkfifo(tree / "pipe.yaml")
    _refused(
        use_api,
        ["validate", "configs/pipe.yaml"],
        "configs/pipe.yaml: not read: a FIFO (named pipe); a manifest must be a regular file",
    )


def test_a_device_is_refused(tree: Path, use_api: Callable[[Handler], Api]) -> None:
    (tree / "zero.yaml").symlink_to("/dev/zero")
    _refused(
        use_api,
        ["validate", "configs"],
        "configs/zero.yaml: not read: a symbolic link to a file outside configs; manifests "
        "are read only inside the paths given: copy it into configs, or give its own path on "
        "the command line",
    )
    _refused(
        use_api,
        ["validate", "/dev/zero"],
        "/dev/zero: not read: a character device; a manifest must be a regular file",
    )


def test_a_socket_is_refused(tree: Path, use_api: Callable[[Handler], Api]) -> None:
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind("configs/agent.yaml")
        _refused(
            use_api,
            ["validate", "configs"],
            "configs/agent.yaml: not read: a socket; a manifest must be a regular file",
        )


def test_every_refusal_is_reported_at_once(tree: Path, use_api: Callable[[Handler], Api]) -> None:
    (tree / "netrc.yaml").symlink_to(tree.parent / "home" / ".netrc")
    os.mkfifo(tree / "pipe.yml")
    run = run_cli(["validate", "configs"])
    assert (run.code, run.out) == (1, "")
    assert [line.split(":")[1] for line in run.err.splitlines()] == [
        " configs/netrc.yaml",
        " configs/pipe.yml",
    ]


def test_links_inside_the_tree_are_followed_once_and_loops_end(
    tree: Path, use_api: Callable[[Handler], Api]
) -> None:
    # A shared folder linked from two places, a link back to the root, a link to a file
    # beside it, and an upper-case suffix: every manifest is read once, none is missed.
    shared = tree / "shared"
    shared.mkdir()
    (shared / "extra.YAML").write_text(
        MANIFEST.replace(
            "org: 0123456789ABCDEF01234567@AdobeOrg", "org: 0123456789ABCDEF01234568@AdobeOrg"
        ),
        encoding="utf-8",
    )
    (tree / "team-a").mkdir()
    (tree / "team-a" / "shared").symlink_to(shared, target_is_directory=True)
    (tree / "team-a" / "loop").symlink_to(tree, target_is_directory=True)
    (tree / "alias.yaml").symlink_to(tree / "orders.yaml")
    run = run_cli(["validate", "configs"])
    assert (run.code, run.err) == (0, ""), run.err
    assert "from 2 file(s)" in run.out


def _denied(monkeypatch: pytest.MonkeyPatch, name: str, target: str) -> None:
    """`os.NAME` refusing `target` as an unreadable path would (the suite runs as root in
    CI containers, where permissions do not stop a read)."""
    real = getattr(os, name)

    def refuse(path: Any, *args: Any, **kwargs: Any) -> Any:
        if os.fspath(path).endswith(target):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, name, refuse)


def test_a_folder_that_cannot_be_listed_is_an_error_not_an_absence(
    tree: Path, monkeypatch: pytest.MonkeyPatch, use_api: Callable[[Handler], Api]
) -> None:
    (tree / "team-b").mkdir()
    (tree / "team-b" / "orders-b.yaml").write_text(MANIFEST, encoding="utf-8")
    _denied(monkeypatch, "scandir", "team-b")
    _refused(
        use_api,
        ["plan", "configs"],
        "configs/team-b: cannot list the folder: Permission denied; make it readable or "
        "leave it out of the paths given",
    )


def test_a_file_that_cannot_be_read_is_an_error_not_an_absence(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tree / "orders-b.YML").write_text(MANIFEST, encoding="utf-8")
    _denied(monkeypatch, "open", "orders-b.YML")
    run = run_cli(["validate", "configs"])
    assert (run.code, run.out) == (1, "")
    assert run.err == (
        "configs/orders-b.YML:1:1: $: cannot read: Permission denied\n"
        "1 problem found; nothing was done.\n"
    )
