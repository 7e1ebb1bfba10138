"""provision: declarative provisioner for AEP PostgreSQL base connections."""

# The release version; docs/versioning.md says what a change to each part means.
__version__ = "0.2.0"
