"""provision: declarative provisioner for AEP PostgreSQL base connections."""

# The release version; docs/versioning.md says what a change to each part means.
__version__ = "0.2.0"

# The name on PyPI (`provision` there is an unrelated project); the command stays `provision`
# and the import package `provisioner`.
DISTRIBUTION = "aep-provision"

# Most concurrent API requests by default (--parallelism). Here, not in select.py, so the
# CLI can show it in --help without importing anything else.
DEFAULT_PARALLELISM = 8
