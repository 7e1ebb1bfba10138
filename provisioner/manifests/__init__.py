"""Manifests: discover and load YAML, validate, template, resolve secrets, select, ownership."""
