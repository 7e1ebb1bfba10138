"""The PostgreSQL connection spec the emulator serves and validates payloads against.

Adobe does not publish the live auth-spec schemas [open]; these are written from the documented
parameter lists, with secrets marked ``"format": "password"`` as in Adobe's other auth specs.
Which ``port`` types and ``sslMode`` spellings are accepted comes from the configuration.
"""

from __future__ import annotations

import copy
import hashlib
from typing import Any, cast

import jsonschema

from provisioner.emulator.config import EmulatorConfig
from provisioner.emulator.errors import JsonObject, flow_error

POSTGRES_SPEC_ID = "74a1c565-4e59-48d7-9d67-7c03b8a13137"
POSTGRES_SPEC_VERSION = "1.0"
BASIC_AUTH = "Basic Authentication"
CONNECTION_STRING_AUTH = "Connection String Based Authentication"
DRAFT_07 = "http://json-schema.org/draft-07/schema#"
STARS = "********"


def _basic_schema(config: EmulatorConfig) -> JsonObject:
    port: JsonObject = {"type": "string", "pattern": "^[0-9]{1,5}$"}
    if config.port_type == "string-or-integer":
        port = {"oneOf": [port, {"type": "integer", "minimum": 1, "maximum": 65535}]}
    port["description"] = "Port of the PostgreSQL server."
    return {
        "$schema": DRAFT_07,
        "type": "object",
        "description": "Basic authentication for PostgreSQL.",
        "properties": {
            "server": {"type": "string", "minLength": 1, "description": "Server host name."},
            "port": port,
            "database": {"type": "string", "minLength": 1, "description": "Database name."},
            "username": {"type": "string", "minLength": 1, "description": "User name."},
            "password": {
                "type": "string",
                "format": "password",
                "minLength": 1,
                "description": "Password of the user.",
            },
            "sslMode": {
                "type": "string",
                "enum": list(config.ssl_modes),
                "description": "SSL mode of the connection.",
            },
        },
        "required": ["server", "port", "database", "username", "password"],
        "additionalProperties": False,
    }


def _connection_string_schema() -> JsonObject:
    return {
        "$schema": DRAFT_07,
        "type": "object",
        "description": "Connection string authentication for PostgreSQL.",
        "properties": {
            "connectionString": {
                "type": "string",
                "format": "password",
                "minLength": 1,
                "pattern": "^[^\\x00-\\x1f]*$",
                "description": "Server=...;Database=...;Port=...;UID=...;Password=...",
            }
        },
        "required": ["connectionString"],
        "additionalProperties": False,
    }


class ConnectionSpec:
    """The PostgreSQL spec document plus the validation and masking it drives."""

    def __init__(self, config: EmulatorConfig) -> None:
        self._mask_style = config.mask_style
        self.auth_schemas: dict[str, JsonObject] = {
            BASIC_AUTH: _basic_schema(config),
            CONNECTION_STRING_AUTH: _connection_string_schema(),
        }
        self._validators = {
            name: jsonschema.Draft7Validator(schema) for name, schema in self.auth_schemas.items()
        }
        self._secrets = {
            name: frozenset(
                key
                for key, prop in schema["properties"].items()
                if prop.get("format") == "password"
            )
            for name, schema in self.auth_schemas.items()
        }

    def document(self) -> JsonObject:
        """The body of ``GET /connectionSpecs/{id}``: the ``items`` wrapper with one spec."""
        return {
            "items": [
                {
                    "id": POSTGRES_SPEC_ID,
                    "name": "postgre-sql",
                    "providerId": "0ed90a81-07f4-4586-8190-b40eccef1c5a",
                    "version": POSTGRES_SPEC_VERSION,
                    "authSpec": [
                        {"name": name, "type": type_, "spec": copy.deepcopy(schema)}
                        for (name, schema), type_ in zip(
                            self.auth_schemas.items(),
                            ("PostgreSQLBasicAuth", "PostgreSQLConnectionString"),
                            strict=True,
                        )
                    ],
                    "attributes": {"category": "Database", "isSource": True},
                }
            ]
        }

    def check_spec(self, spec: Any) -> None:
        if not isinstance(spec, dict) or not isinstance(spec.get("id"), str):
            raise flow_error("1100-400", "connectionSpec.id is required.")
        if spec["id"] != POSTGRES_SPEC_ID:
            raise flow_error("1413-400", f"The provided spec ID '{spec['id']}' is invalid.")
        version = spec.get("version")
        if version is not None and version != POSTGRES_SPEC_VERSION:
            raise flow_error(
                "1413-400", f"Version '{version}' of connection spec '{spec['id']}' is invalid."
            )

    def validate_auth(self, auth: Any) -> None:
        if not isinstance(auth, dict) or not isinstance(auth.get("specName"), str):
            raise flow_error("1100-400", "auth.specName is required.")
        name = auth["specName"]
        if name not in self._validators:
            raise flow_error(
                "1415-400",
                f"Auth spec '{name}' not found for connection spec id {POSTGRES_SPEC_ID}.",
            )
        errors = sorted(
            self._validators[name].iter_errors(auth.get("params")), key=lambda e: list(e.path)
        )
        if errors:
            # Never echo the offending value: it may be a secret.
            problems = "; ".join(_describe(err) for err in errors)
            raise flow_error("1100-400", f"auth.params do not match '{name}': {problems}")

    def masked(self, auth: JsonObject) -> JsonObject:
        """A copy of ``auth`` with every password-format param masked per the mask style."""
        secrets = self._secrets.get(str(auth.get("specName")), frozenset())
        params = dict(auth.get("params") or {})
        for key in secrets & params.keys():
            if self._mask_style == "drop":
                del params[key]
            elif self._mask_style == "stars":
                params[key] = STARS
            else:
                digest = hashlib.sha256(str(params[key]).encode()).hexdigest()[:32]
                params[key] = f"ENC({digest})"
        return {**auth, "params": params}


def _describe(error: jsonschema.ValidationError) -> str:
    where = "/".join(str(p) for p in error.path) or "params"
    if error.validator == "required":
        return f"{where}: {error.message}"
    if error.validator == "additionalProperties":
        # The message names keys, never values, so it is safe to show.
        return f"{where}: {error.message}"
    if error.validator == "enum":
        allowed = cast(list[Any], error.validator_value)
        return f"{where}: must be one of {', '.join(map(str, allowed))}"
    return f"{where}: fails '{error.validator}' ({error.validator_value!r})"
