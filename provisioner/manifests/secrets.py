"""Secret references: their rules, and resolving them to values (at apply time only)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from provisioner import redact
from provisioner.errors import Location, SecretError
from provisioner.manifests import excerpt
from provisioner.model import SecretRef

# The tool's own credentials and settings: a manifest (from a pull request) that names
# them could send the client secret to a server as a "password".
TOOL_VARIABLES = frozenset(
    {"AEP_CLIENT_ID", "AEP_CLIENT_SECRET", "AEP_SCOPES", "AEP_IMS_URL", "AEP_PLATFORM_URL"}
)
# The credentials CI systems and clouds put in a job's environment. A manifest merged by
# mistake (or malice) that names one would send it to the server it names as a "password";
# no database password lives in these, so refusing them costs nothing.
CI_CREDENTIALS = frozenset(
    {
        "GITHUB_TOKEN", "GH_TOKEN", "ACTIONS_RUNTIME_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
        "CI_JOB_TOKEN", "CI_JOB_JWT", "CI_JOB_JWT_V2", "CI_REGISTRY_PASSWORD",
        "CI_DEPLOY_PASSWORD", "SYSTEM_ACCESSTOKEN", "BITBUCKET_STEP_OIDC_TOKEN",
        "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AZURE_CLIENT_SECRET",
        "ARM_CLIENT_SECRET", "GOOGLE_APPLICATION_CREDENTIALS", "NPM_TOKEN", "PYPI_TOKEN",
    }
)  # fmt: skip
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
MAX_SECRET_BYTES = 65_536
# A reference names a variable or a path, never a secret: shown, but not at any length.
MAX_NAME_SHOWN = 256


def _shown(ref: SecretRef) -> str:
    return excerpt.name(ref.name, MAX_NAME_SHOWN)


def reference_problem(ref: SecretRef, secrets_dirs: Sequence[Path] = ()) -> str | None:
    """What is wrong with a reference's syntax or place, without reading any secret."""
    if ref.kind == "env":
        if not _ENV_NAME.fullmatch(ref.name):
            return (
                f"{_shown(ref)} is not an environment variable name "
                "(letters, digits and _, not starting with a digit)"
            )
        if ref.name.upper() in TOOL_VARIABLES or ref.name.upper().startswith("AEP_CLIENT"):
            return (
                f"{ref.name} holds provision's own credentials and cannot be used as a "
                "connection secret; put the database secret in a variable of its own"
            )
        if ref.name.upper() in CI_CREDENTIALS:
            return (
                f"{ref.name} holds a CI or cloud credential, never a database password; "
                "put the database secret in a variable of its own"
            )
        return None
    if "\x00" in ref.name:
        return "the file path contains a NUL character"
    if not _is_confined(ref.base_dir / ref.name, ref.base_dir, secrets_dirs, resolve=False):
        return (
            f"{_shown(ref)} lies outside the manifest's folder; move the file "
            "beside the manifest or allow its folder with --secrets-dir"
        )
    return None


def _is_confined(
    path: Path, base_dir: Path, secrets_dirs: Sequence[Path], *, resolve: bool
) -> bool:
    def normal(p: Path) -> str:
        return os.path.realpath(p) if resolve else os.path.normpath(os.path.abspath(p))

    target = normal(path)
    for root in (base_dir, *secrets_dirs):
        top = normal(root)
        if target == top or target.startswith(top.rstrip(os.sep) + os.sep):
            return True
    return False


class SecretResolver:
    """Reads secret values; every value read is registered with the scrubber first."""

    def __init__(self, environ: Mapping[str, str], secrets_dirs: Sequence[Path] = ()) -> None:
        self._environ = environ
        self._secrets_dirs = tuple(secrets_dirs)

    def resolve(self, ref: SecretRef) -> str:
        problem = reference_problem(ref, self._secrets_dirs)
        if problem:
            raise SecretError(f"{ref.location}: {problem}")
        value = self._env(ref) if ref.kind == "env" else self._file(ref)
        if not value:
            raise SecretError(f"{ref.location}: secret {ref} is empty; give it a value")
        redact.register_secret(value)
        return value

    def resolve_all(
        self, refs: Iterable[SecretRef], *, outcome: str = "nothing was changed"
    ) -> dict[SecretRef, str]:
        """Resolve every reference, or raise one error listing every one that failed
        (`outcome`: what the command did not do, for its first line)."""
        values: dict[SecretRef, str] = {}
        problems: dict[str, Location] = {}
        for ref in refs:
            if ref in values:
                continue
            try:
                values[ref] = self.resolve(ref)
            except SecretError as error:
                problems.setdefault(str(error), ref.location)
        if problems:
            ordered = sorted(problems, key=lambda message: (problems[message], message))
            raise SecretError(
                f"{len(problems)} secret(s) cannot be resolved; {outcome}:\n" + "\n".join(ordered)
            )
        return values

    def _env(self, ref: SecretRef) -> str:
        if ref.name not in self._environ:
            raise SecretError(f"{ref.location}: environment variable {ref.name} is not set")
        return self._environ[ref.name]

    def _file(self, ref: SecretRef) -> str:
        path = ref.base_dir / ref.name
        # Checked again on the real path: a symlink inside the folder may point outside.
        if not _is_confined(path, ref.base_dir, self._secrets_dirs, resolve=True):
            raise SecretError(
                f"{ref.location}: {_shown(ref)} resolves outside the manifest's folder "
                "(a symlink?); allow its folder with --secrets-dir"
            )
        try:
            with path.open("rb") as handle:
                data = handle.read(MAX_SECRET_BYTES + 1)
        except OSError as error:
            raise SecretError(
                f"{ref.location}: cannot read secret file {_shown(ref)}: {error.strerror}"
            ) from None
        if len(data) > MAX_SECRET_BYTES:
            raise SecretError(f"{ref.location}: secret file {_shown(ref)} is too large")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise SecretError(f"{ref.location}: secret file {_shown(ref)} is not UTF-8") from None
        # Editors end files with a newline; it is never part of the secret.
        return text.removesuffix("\n").removesuffix("\r")
