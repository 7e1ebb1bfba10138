"""One module per subcommand; each takes plain values and returns an exit code."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from provisioner.model import DesiredConnection
from provisioner.select import Selection
from provisioner.validate import desired_connections
from provisioner.yamlload import load_documents


def load_desired(
    paths: Sequence[str], selection: Selection, secrets_dirs: Sequence[Path]
) -> list[DesiredConnection]:
    """Load, validate and select: the connections a command works on."""
    documents, load_problems = load_documents(paths)
    return selection.apply(desired_connections(documents, secrets_dirs, load_problems))
