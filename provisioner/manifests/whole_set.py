"""The owner's whole set: every manifest of the repository the given paths live in.

`--prune` deletes what no manifest declares, so "declared" must not depend on which paths
a run was given: `plan configs/team-a/ --prune` must not offer to delete what
`configs/team-b/` declares. When the paths are inside a git repository, every manifest of
that repository (tracked, or new and not ignored: `git ls-files`) is read for what it
declares. A file counts as a manifest when it is a `*.yaml`/`*.yml` (any case) with
top-level `version:` and `connections:` keys; one that cannot be read or does not
validate is an error, never an absence. A file that looks like a manifest but is none
(a test fixture, a deliberately broken example) is left out in `.gitattributes`, reviewed
like everything else: `tests/examples/** -provision`. Outside a git repository the paths
given are the whole set.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Sequence
from pathlib import Path

from provisioner.errors import Diagnostic, Location, ManifestError
from provisioner.manifests.load import MAX_FILE_BYTES, Document, load_file, printable

_MANIFEST_KEYS = (re.compile(rb"^version\s*:", re.M), re.compile(rb"^connections\s*:", re.M))
_SUFFIXES = (".yaml", ".yml")
_LS_FILES = ("ls-files", "-z", "--cached", "--others", "--exclude-standard")
_CHECK_ATTR = ("check-attr", "-z", "--stdin", "provision")


def repository_root(path: Path) -> Path | None:
    """The top of the git work tree holding `path` (a `.git` folder or file), or None."""
    here = path.resolve()
    for folder in (here, *here.parents):
        if (folder / ".git").exists():
            return folder
    return None


def _git(root: Path, args: Sequence[str], given: bytes = b"") -> list[str]:
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args],
            input=given,
            capture_output=True,
            check=False,
            timeout=120,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise _unlisted(root, str(error)) from None
    if done.returncode != 0:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise _unlisted(root, lines[0][:300] if lines else f"exit {done.returncode}")
    return done.stdout.decode("utf-8", "surrogateescape").split("\0")


def _listing(root: Path) -> list[Path]:
    names = sorted({n for n in _git(root, _LS_FILES) if n.lower().endswith(_SUFFIXES)})
    if not names:
        return []
    # `<path> NUL provision NUL <unset|set|unspecified|value> NUL` per path.
    answer = _git(root, _CHECK_ATTR, "\0".join(names).encode("utf-8", "surrogateescape"))
    left_out = {answer[i] for i in range(0, len(answer) - 2, 3) if answer[i + 2] == "unset"}
    return [root / n for n in names if n not in left_out]


def _unlisted(root: Path, why: str) -> ManifestError:
    message = (
        f"cannot list the manifests of the git repository {printable(str(root))} "
        f"(git ls-files: {printable(why)}); --prune must know what every manifest of the "
        "repository declares before it deletes anything"
    )
    return ManifestError([Diagnostic(Location(printable(str(root)), 1, 1), "$", message)])


def _display(path: Path) -> str:
    try:
        return printable(os.path.relpath(path))
    except ValueError:  # another drive (Windows)
        return printable(str(path))


def _looks_like_manifest(path: Path) -> bool:
    with path.open("rb") as handle:
        head = handle.read(MAX_FILE_BYTES + 1)
    return all(key.search(head) for key in _MANIFEST_KEYS)


def repository_documents(
    paths: Sequence[str], loaded: Sequence[Document]
) -> tuple[list[Document], list[Diagnostic]]:
    """The manifests of the repositories holding `paths` that `loaded` does not hold yet,
    and the problems of those that cannot be read."""
    roots = sorted({root for p in paths if (root := repository_root(Path(p))) is not None})
    known = {d.path.resolve() for d in loaded}
    documents: list[Document] = []
    problems: list[Diagnostic] = []
    for root in roots:
        for path in _listing(root):
            if not os.path.lexists(path):
                continue  # deleted in the work tree: it declares nothing any more
            real = path.resolve()
            display = _display(path)
            if real in known:
                continue
            known.add(real)
            problem = None
            if not real.is_relative_to(root):
                problem = "a link leaving the repository; make it a file, or remove it"
            elif not real.is_file():
                problem = "not a regular file; a manifest must be one"
            if problem is None:
                try:
                    if not _looks_like_manifest(real):
                        continue
                    documents.append(load_file(real, display))
                    continue
                except OSError as error:
                    problem = f"cannot read: {error.strerror}"
                except ManifestError as error:
                    problems.extend(error.diagnostics)
                    continue
            problems.append(
                Diagnostic(
                    Location(display, 1, 1),
                    "$",
                    f"{problem} (a manifest of the repository: --prune reads them all to "
                    "know what they declare)",
                )
            )
    return documents, problems
