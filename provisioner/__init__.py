"""provision: declarative provisioner for AEP PostgreSQL base connections."""

__version__ = "0.1.0"
