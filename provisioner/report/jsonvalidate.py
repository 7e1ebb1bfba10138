"""`provision validate --format json`: what was validated, or every diagnostic, for machines.

The shape (docs/versioning.md lists it as public, under its own `format_version`):

    {"format": "provision-validate", "format_version": 1, "provision_version": "0.3.0",
     "valid": true,
     "files": [{"file": "teams/a.yaml", "connections": 3, "sandboxes": ["dev", "prod"]}],
     "connections": [{"org": "...", "sandbox": "prod", "name": "orders-prod",
                      "source": {"file": "teams/a.yaml", "line": 7, "column": 5}}],
     "diagnostics": []}

An invalid run has `"valid": false`, empty `files` and `connections`, and a diagnostic per
problem, sorted by location: `{"file", "line", "column", "path", "message"}` (`path` is the
JSON path, `$.connections[0].auth`). Text from the manifests stays data: JSON escapes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from provisioner import __version__
from provisioner.errors import Diagnostic, Location
from provisioner.model import DesiredConnection
from provisioner.redact import scrub

FORMAT_VERSION = 1


def _location(location: Location) -> dict[str, Any]:
    return {"file": location.file, "line": location.line, "column": location.column}


def _diagnostic(diagnostic: Diagnostic) -> dict[str, Any]:
    return {
        **_location(diagnostic.location),
        "path": diagnostic.path,
        "message": scrub(diagnostic.message),
    }


def validate_document(
    desired: Sequence[DesiredConnection], diagnostics: Sequence[Diagnostic] = ()
) -> dict[str, Any]:
    files = sorted({c.source.file for c in desired})
    return {
        "format": "provision-validate",
        "format_version": FORMAT_VERSION,
        "provision_version": __version__,
        "valid": not diagnostics,
        "files": [
            {
                "file": file,
                "connections": sum(1 for c in desired if c.source.file == file),
                "sandboxes": sorted({c.sandbox for c in desired if c.source.file == file}),
            }
            for file in files
        ],
        "connections": [
            {"org": c.org, "sandbox": c.sandbox, "name": c.name, "source": _location(c.source)}
            for c in desired
        ],
        "diagnostics": [_diagnostic(d) for d in diagnostics],
    }
