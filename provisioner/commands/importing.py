"""`provision import`: write a manifest from the PostgreSQL connections that already exist."""

from __future__ import annotations

import fnmatch
import os
import re
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO

from provisioner import escape
from provisioner.commands.importing_dataflows import adopted_dataflows
from provisioner.commands.session import RemoteOptions, open_session
from provisioner.errors import ApiError, ManifestError, ProvisionError, UsageError
from provisioner.manifests.from_remote import build_manifest, clouds_of
from provisioner.manifests.load import load_documents
from provisioner.manifests.validate import desired_connections
from provisioner.model import Cloud, RemoteConnection
from provisioner.plan.make import ListingFailed
from provisioner.remote.client.notices import Notices

_ORG = re.compile(r"[0-9A-Fa-f]{24}@AdobeOrg")
_SANDBOX = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,254}[a-z0-9])?")


def parse_clouds(values: Sequence[str]) -> dict[str, Cloud]:
    clouds: dict[str, Cloud] = {}
    for value in values:
        sandbox, _, cloud = value.partition("=")
        if cloud not in ("azure", "aws") or not sandbox:
            raise UsageError(f"--cloud {value}: write SANDBOX=azure or SANDBOX=aws")
        clouds[sandbox.lower()] = cloud  # type: ignore[assignment]
    return clouds


def run(
    *,
    org: str,
    sandboxes: Sequence[str],
    clouds: Mapping[str, Cloud],
    connection_globs: Sequence[str],
    out_file: Path,
    force: bool,
    options: RemoteOptions,
    environ: Mapping[str, str],
    quiet: bool = False,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    if not _ORG.fullmatch(org):
        raise UsageError(f"--org {org!r} is not an IMS org id (24 hex characters, then @AdobeOrg)")
    wanted = list(dict.fromkeys(s.lower() for s in sandboxes))
    bad = [s for s in wanted if not _SANDBOX.fullmatch(s)]
    if bad:
        raise UsageError(
            f"--sandbox {bad[0]!r} is not a sandbox name (lowercase letters, digits, '-')"
        )
    unknown = sorted(set(clouds) - set(wanted))
    if unknown:
        raise UsageError(f"--cloud names {', '.join(unknown)}, which no --sandbox selects")
    if out_file.is_dir():
        raise UsageError(
            f"--out {out_file} is a folder; nothing was written: give a file name, e.g. "
            f"--out {out_file / 'imported.yaml'}"
        )
    if out_file.exists() and not force:
        raise UsageError(
            f"{out_file} exists; nothing was written: pass --force to overwrite it, or choose "
            "another --out"
        )
    notices = None if quiet else Notices(lambda line: print(line, file=err, flush=True))
    with open_session(environ, options, notices) as session:
        session.client.fetch_token()
        observed = session.observe([(org, s) for s in wanted], "the sandboxes of --sandbox")
        remote: dict[str, list[RemoteConnection]] = {}
        for (_, sandbox), listing in observed.items():
            if isinstance(listing, ListingFailed):
                # Half an import would read as "these are all": refuse it whole.
                raise ApiError(f"{listing.message.rstrip('.')}; nothing was written")
            remote[sandbox] = [
                r
                for r in listing
                if not connection_globs
                or any(fnmatch.fnmatchcase(r.name, g) for g in connection_globs)
            ]
        flows, flows_skipped = adopted_dataflows(session.client, org, remote, options.parallelism)
    inferred = clouds_of(remote)
    resolved: dict[str, Cloud] = {}
    for sandbox in wanted:
        cloud = clouds.get(sandbox) or inferred.get(sandbox)
        if cloud is None and remote[sandbox]:
            raise UsageError(
                f"sandbox {sandbox}: its connections do not tell whether it runs on Azure or "
                f"AWS; pass --cloud {sandbox}=azure or --cloud {sandbox}=aws (nothing was written)"
            )
        if cloud is not None:
            resolved[sandbox] = cloud
    result = build_manifest(org, resolved, remote, flows)
    if not result.connections:
        raise UsageError(
            f"no PostgreSQL connection to import in {', '.join(wanted)}"
            + (
                f" ({len(result.skipped)} could not be: {result.skipped[0]})"
                if result.skipped
                else ""
            )
            + "; nothing was written"
        )
    _write_checked(out_file, result.text)
    for reason in [*result.skipped, *flows_skipped]:
        out.write(escape.line(f"  skipped {reason}") + "\n")
    empty = [s for s in wanted if not remote[s]]
    if empty:
        out.write(f"  no PostgreSQL connection in: {', '.join(empty)}\n")
    adopted = f" and {result.dataflows} dataflow(s)" if result.dataflows else ""
    out.write(
        f"Imported {result.connections} connection(s){adopted} from {len(wanted) - len(empty)} "
        f"sandbox(es) as {result.entries} manifest entr{'y' if result.entries == 1 else 'ies'} "
        f"into {out_file}.\n"
        f"No secret was written (the API returns none): set the {len(result.variables)} "
        f"variable(s) listed at the top of {out_file} before `provision apply`; "
        f"`provision plan {out_file}` needs none and should show 0 to add, 0 drifted.\n"
    )
    if result.skipped:
        err.write(
            f"error: {len(result.skipped)} connection(s) could not be imported and were left "
            f"out of {out_file} (listed above); declare them by hand or fix them in AEP\n"
        )
    if flows_skipped:
        err.write(
            f"error: {len(flows_skipped)} dataflow(s) could not be imported and were left out "
            f"of {out_file} (listed above); fix them in AEP, or declare them by hand\n"
        )
    return 1 if result.skipped or flows_skipped else 0


def _write_checked(path: Path, text: str) -> None:
    """Write the manifest only once the real loader accepts it, whole or not at all."""
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise UsageError(f"--out {path}: the folder {folder} does not exist; nothing was written")
    with tempfile.NamedTemporaryFile(
        "w", dir=folder, prefix=f".{path.name}.", suffix=".yaml", delete=False, encoding="utf-8"
    ) as handle:
        handle.write(text)
    try:
        documents, problems = load_documents([handle.name])
        desired_connections(documents, (), problems)
        os.replace(handle.name, path)
    except ManifestError as error:
        raise ProvisionError(
            "the imported manifest does not validate, so nothing was written; this is a bug "
            "in provision import, please report it:\n" + str(error)
        ) from None
    except OSError as error:  # --out turned into a folder meanwhile, a read-only file...
        raise ProvisionError(
            f"--out {path}: cannot write it ({error.strerror}); nothing was written"
        ) from None
    finally:
        if os.path.lexists(handle.name):  # never leave the temporary file behind
            os.unlink(handle.name)
