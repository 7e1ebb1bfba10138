from __future__ import annotations

import os
from pathlib import Path

import pytest

from provisioner import redact
from provisioner.errors import Location, SecretError
from provisioner.manifests.secrets import SecretResolver, reference_problem
from provisioner.model import SecretRef

HERE = Location("m.yaml", 1, 1)


def ref(kind: str, name: str, base: Path) -> SecretRef:
    return SecretRef(kind, name, base, HERE)  # type: ignore[arg-type]


def test_env_reference_resolves_and_is_registered_for_scrubbing(tmp_path: Path) -> None:
    value = "canary-env-7f3a9"
    resolved = SecretResolver({"PG": value}).resolve(ref("env", "PG", tmp_path))
    assert resolved == value
    assert redact.scrub(f"echo {value}!") == "echo (sensitive)!"


def test_file_reference_strips_one_trailing_newline(tmp_path: Path) -> None:
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "pg.txt").write_text("p@ss word\n")
    assert SecretResolver({}).resolve(ref("file", "secrets/pg.txt", tmp_path)) == "p@ss word"


def test_file_reference_may_not_escape_the_manifest_folder(tmp_path: Path) -> None:
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    outside = tmp_path / "vault"
    outside.mkdir()
    (outside / "pg.txt").write_text("x")
    escaping = ref("file", "../vault/pg.txt", manifests)
    assert "outside the manifest's folder" in (reference_problem(escaping) or "")
    with pytest.raises(SecretError, match="outside the manifest's folder"):
        SecretResolver({}).resolve(escaping)
    assert SecretResolver({}, [outside]).resolve(escaping) == "x"
    absolute = ref("file", str(outside / "pg.txt"), manifests)
    assert reference_problem(absolute) is not None
    assert reference_problem(absolute, [outside]) is None


def test_symlink_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    (tmp_path / "shadow").write_text("root-secret")
    os.symlink(tmp_path / "shadow", manifests / "pg.txt")
    with pytest.raises(SecretError, match="resolves outside"):
        SecretResolver({}).resolve(ref("file", "pg.txt", manifests))


@pytest.mark.parametrize("name", ["AEP_CLIENT_SECRET", "AEP_CLIENT_ID", "aep_client_secret"])
def test_tool_credentials_are_not_secrets_for_connections(name: str, tmp_path: Path) -> None:
    assert "provision's own credentials" in (reference_problem(ref("env", name, tmp_path)) or "")


def test_resolve_all_lists_every_missing_secret(tmp_path: Path) -> None:
    refs = [
        ref("env", "A_PW", tmp_path),
        ref("env", "B_PW", tmp_path),
        ref("file", "nope.txt", tmp_path),
        ref("env", "SET", tmp_path),
    ]
    with pytest.raises(SecretError) as caught:
        SecretResolver({"SET": "value-1", "B_PW": ""}).resolve_all(refs)
    message = str(caught.value)
    assert message.splitlines() == [
        "3 secret(s) cannot be resolved; nothing was changed:",
        "m.yaml:1:1: cannot read secret file 'nope.txt': No such file or directory",
        "m.yaml:1:1: environment variable A_PW is not set",
        "m.yaml:1:1: secret {env: B_PW} is empty; give it a value",
    ]


@pytest.mark.parametrize("name", ["GITHUB_TOKEN", "CI_JOB_TOKEN", "aws_secret_access_key"])
def test_ci_credentials_are_not_secrets_for_connections(name: str, tmp_path: Path) -> None:
    assert reference_problem(ref("env", name, tmp_path)) == (
        f"{name} holds a CI or cloud credential, never a database password; "
        "put the database secret in a variable of its own"
    )
