"""Which files a run reads as manifests: the files given, and every *.yaml/*.yml beneath the
folders given, and nothing else.

A manifest is data from a pull request. A symbolic link in it may point at any file the
runner can read (`~/.netrc`, `.pgpass`, a mounted token), and a FIFO would block the run, so
`refusal` decides for every candidate, before anything is opened: a manifest must be a
regular file whose real path lies inside the folder it was found in (a folder given on the
command line, or the folder holding a file given). What is refused is one error naming the
path, never the target or the content. Nothing is skipped silently: a broken link, a link
to a folder outside and a folder that cannot be listed are errors too.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from pathlib import Path

from provisioner.errors import UsageError

# Compared without regard to case: `orders.YAML` is a manifest, not a file to pass over.
MANIFEST_SUFFIXES = (".yaml", ".yml")

_KINDS = {
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
    stat.S_IFDIR: "a folder",
}


def is_manifest_name(name: str) -> bool:
    return name.lower().endswith(MANIFEST_SUFFIXES)


def refusal(
    candidate: Path, root: Path, shown: str, root_shown: str, *, folder: bool = False
) -> str | None:
    """Why `candidate` must not be read as a manifest (or, with `folder`, entered as a
    folder of manifests), or None when it may be: it leads outside `root` (a real path),
    leads nowhere, or is not a regular file. `shown` and `root_shown` are the escaped names
    the message uses."""
    try:
        real = candidate.resolve(strict=True)
        kind = stat.S_IFMT(real.stat().st_mode)
    except (OSError, RuntimeError):
        return (
            f"{shown}: not read: a symbolic link whose target does not exist or loops; "
            "remove the link or point it at a manifest"
        )
    if not real.is_relative_to(root):
        what = "a folder" if kind == stat.S_IFDIR else "a file"
        return (
            f"{shown}: not read: a symbolic link to {what} outside {root_shown}; manifests are "
            f"read only inside the paths given: copy it into {root_shown}, or give its own "
            "path on the command line"
        )
    if kind != stat.S_IFREG and not (folder and kind == stat.S_IFDIR):
        return (
            f"{shown}: not read: {_KINDS.get(kind, 'not a regular file')}; "
            "a manifest must be a regular file"
        )
    return None


def discover(paths: Sequence[str]) -> list[tuple[Path, str]]:
    """Every manifest of `paths`, as (real path, escaped name as found), each once; or a
    UsageError naming every path that cannot be read as one."""
    from provisioner.manifests.load import printable

    found: list[tuple[Path, str]] = []
    problems: list[str] = []
    for given in paths:
        path, shown = Path(given), printable(given)
        if not os.path.lexists(path):
            problems.append(f"{shown}: no such file or directory")
        elif path.is_dir():
            # The folder given is trusted as named, a link or not; what lies beneath it
            # stays beneath it.
            before, shown = (len(found), len(problems)), printable(str(path))
            _walk(path, shown, path.resolve(), shown, set(), found, problems)
            if (len(found), len(problems)) == before:
                problems.append(
                    f"{shown}: no manifests found (no *.yaml or *.yml files inside); "
                    "pass a manifest file or a directory that holds some"
                )
        else:
            # A file named on the command line may be a link only within its own folder:
            # a pipeline names `configs/prod.yaml`, a pull request replaces it.
            folder = path.parent
            problem = refusal(path, folder.resolve(), shown, printable(str(folder)))
            if problem:
                problems.append(problem)
            else:
                found.append((path.resolve(), shown))
    if problems:
        raise UsageError("\n".join(problems))
    unique: dict[Path, str] = {}
    for real, shown in found:
        unique.setdefault(real, shown)
    return list(unique.items())


def _walk(
    folder: Path,
    shown: str,
    root: Path,
    root_shown: str,
    seen: set[Path],
    found: list[tuple[Path, str]],
    problems: list[str],
) -> None:
    from provisioner.manifests.load import printable

    real = folder.resolve()
    if real in seen:
        return  # a link back to a folder already read: a loop, or the same files twice
    seen.add(real)
    try:
        with os.scandir(folder) as listing:
            entries = sorted(listing, key=lambda entry: entry.name)
    except OSError as error:
        problems.append(
            f"{shown}: cannot list the folder: {error.strerror}; make it readable or "
            "leave it out of the paths given"
        )
        return
    for entry in entries:
        child, child_shown = folder / entry.name, f"{shown}/{printable(entry.name)}"
        if entry.is_symlink():
            leads_to_folder = child.is_dir()
            if not leads_to_folder and not is_manifest_name(entry.name):
                continue  # not a manifest whatever it leads to; never opened
            problem = refusal(child, root, child_shown, root_shown, folder=leads_to_folder)
            if problem:
                problems.append(problem)
            elif leads_to_folder:
                _walk(child, child_shown, root, root_shown, seen, found, problems)
            else:
                found.append((child.resolve(), child_shown))
        elif entry.is_dir(follow_symlinks=False):
            _walk(child, child_shown, root, root_shown, seen, found, problems)
        elif is_manifest_name(entry.name):
            problem = refusal(child, root, child_shown, root_shown)
            if problem:
                problems.append(problem)
            else:
                found.append((child.resolve(), child_shown))
