"""``/test`` and ``/explore`` for real: connect to the PostgreSQL server a connection names.

The stored auth params (basic, or a DataDirect connection string) become libpq parameters;
``sslMode`` (Azure's enum or AWS's boolean) and ``EncryptionMethod``/``ValidateServerCertificate``
become libpq's ``sslmode``. Every attempt runs under one deadline (connect, TLS, auth and the
query together), so a server that accepts and never answers costs at most the timeout. The
password goes to libpq only: reasons are libpq's words with the password cut out, and nothing
here logs. The emulator imports nothing from ``provisioner``, so this keeps its own small ODBC
reader and mapping (the provisioner's are in ``provisioner/connectors/postgres/targets.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import re
import socket
import ssl
import threading
from dataclasses import dataclass, field
from typing import Any

SSL_MODES = {
    "disable": "disable",
    "allow": "allow",
    "prefer": "prefer",
    "require": "require",
    "verify ca": "verify-ca",
    "verify full": "verify-full",
    # AWS sends a boolean as a string; "true" can only mean "encrypt".
    "true": "require",
    "false": "disable",
}
_PREFIX = re.compile(r'^connection failed: connection to server at "[^"]*", port \d+ failed: ')
# What the user can SELECT, quoted as PostgreSQL quotes names: tables, views, materialized
# views, foreign and partitioned tables; partitions are read through their parent.
_TABLES = """
SELECT n.nspname, c.relname, format('%I.%I', n.nspname, c.relname)
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'v', 'm', 'f', 'p') AND NOT c.relispartition
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
  AND has_schema_privilege(n.oid, 'USAGE') AND has_any_column_privilege(c.oid, 'SELECT')
ORDER BY n.nspname, c.relname
"""
_COLUMNS = """
SELECT column_name, data_type FROM information_schema.columns
WHERE table_schema = %s AND table_name = %s
  AND has_column_privilege(format('%%I.%%I', table_schema, table_name), column_name, 'SELECT')
ORDER BY ordinal_position
"""
# PostgreSQL type -> (Adobe's explore type, XDM format or None).
_TYPES = {
    "smallint": ("integer", None),
    "integer": ("integer", None),
    "bigint": ("long", None),
    "numeric": ("double", None),
    "real": ("double", None),
    "double precision": ("double", None),
    "boolean": ("boolean", None),
    "date": ("string", "date"),
    "timestamp without time zone": ("string", "date-time"),
    "timestamp with time zone": ("string", "date-time"),
}


class Unreachable(Exception):
    """The server cannot be reached or refused us; the message is the reason, secret-free."""


@dataclass(frozen=True)
class Target:
    host: str
    port: int
    dbname: str
    user: str
    password: str = field(repr=False)
    sslmode: str
    # Read out of a connection string, a secret: messages name its fields, never a value.
    from_string: bool = False

    def shown(self, key: str) -> str:
        value = {"Server": self.host, "Database": self.dbname, "UID": self.user}[key]
        return f"the connection string's {key}=" if self.from_string else repr(value)

    @property
    def where(self) -> str:
        if self.from_string:
            return "the connection string's Server= and Port="
        return f"{self.host}:{self.port}"


def odbc_attributes(text: str) -> dict[str, str]:
    """``Key=value;Key={va;lue}`` -> {"key": "value"}; ``}}`` inside braces is one ``}``."""
    found: dict[str, str] = {}
    i = 0
    while i < len(text):
        if text[i] in "; ":  # empty attributes and spaces between them
            i += 1
            continue
        eq = text.find("=", i)
        if eq < 0:
            break
        key = text[i:eq].strip().lower()
        i = eq + 1
        if text[i : i + 1] == "{":
            value, i = [], i + 1
            while i < len(text):
                if text[i] == "}":
                    if text[i + 1 : i + 2] == "}":
                        value.append("}")
                        i += 2
                        continue
                    i += 1
                    break
                value.append(text[i])
                i += 1
            found[key] = "".join(value)
            i = text.find(";", i) + 1 or len(text)
        else:
            end = text.find(";", i)
            end = len(text) if end < 0 else end
            found[key] = text[i:end].strip()
            i = end + 1
    return found


def target_of(params: dict[str, Any]) -> Target:
    if "connectionString" in params:
        attrs = odbc_attributes(str(params["connectionString"]))
        method = attrs.get("encryptionmethod", "0")
        validate = attrs.get("validateservercertificate", "1") == "1"
        sslmode = {"0": "disable", "6": "prefer"}.get(
            method, "verify-full" if validate else "require"
        )
        values = {
            "host": attrs.get("server", ""),
            "port": attrs.get("port", "5432"),
            "dbname": attrs.get("database", ""),
            "user": attrs.get("uid", attrs.get("user", "")),
            "password": attrs.get("password", attrs.get("pwd", "")),
        }
    else:
        sslmode = SSL_MODES.get(str(params.get("sslMode", "prefer")).lower(), "prefer")
        values = {k: str(params.get(k, "")) for k in ("server", "port", "database", "username")}
        values = {
            "host": values["server"],
            "port": values["port"] or "5432",
            "dbname": values["database"],
            "user": values["username"],
            "password": str(params.get("password", "")),
        }
    from_string = "connectionString" in params

    def bad(key: str, value: str, what: str) -> Unreachable:
        # A connection string is a secret in every piece (a typo pulls the password into
        # the value before it): name the field, never its value.
        shown = f"the connection string's {key}=" if from_string else f"{key.lower()} {value!r}"
        return Unreachable(f"{shown} is not {what}")

    if not values["host"]:
        raise Unreachable("the connection names no server")
    # One TCP host: libpq would also read a list, or a socket folder on the emulator's machine.
    if any(ch in values["host"] for ch in "/,\\ ") or values["host"].startswith("@"):
        raise bad("Server", values["host"], "a host name or address")
    # libpq expands a dbname that looks like a connection string or URI: data, never options.
    if "=" in values["dbname"] or "://" in values["dbname"]:
        raise bad("Database", values["dbname"], "a database name")
    if not values["port"].isdigit() or not 0 < int(values["port"]) < 65536:
        raise bad("Port", values["port"], "a TCP port")
    return Target(
        values["host"],
        int(values["port"]),
        values["dbname"],
        values["user"],
        values["password"],
        sslmode,
        from_string,
    )


class Prober:
    """Connects with a deadline; ``ca_file`` is what verify-ca/verify-full trust."""

    def __init__(self, timeout_s: float, ca_file: str | None) -> None:
        import psycopg  # optional extra: the emulator checks for it before choosing this mode

        # psycopg's own warnings ("query cancellation failed") would reach stderr through
        # logging's last resort; the answer carries the reason.
        driver_log = logging.getLogger("psycopg")
        driver_log.propagate = False
        if not driver_log.handlers:
            driver_log.addHandler(logging.NullHandler())
        self._psycopg = psycopg
        self._timeout = timeout_s
        self._ca_file = ca_file or ssl.get_default_verify_paths().cafile or "system"

    def test(self, target: Target) -> None:
        self._run(target, lambda conn: conn.execute("SELECT 1"))

    def tables(self, target: Target) -> list[str]:
        rows = self._run(target, lambda conn: conn.execute(_TABLES))
        return [str(quoted) for _schema, _name, quoted in rows]

    def columns(self, target: Target, path: str) -> list[dict[str, Any]] | None:
        # Adobe's paths are schema-qualified; a bare name is looked up in public.
        names = split_path(path)
        schema, table = names if len(names) == 2 else ("public", names[0])
        rows = self._run(target, lambda conn: conn.execute(_COLUMNS, (schema, table)))
        if not rows:
            return None
        return [explore_column(column, data_type) for column, data_type in rows]

    def _run(self, target: Target, query: Any) -> list[tuple[Any, ...]]:
        params: dict[str, Any] = {
            "port": target.port,
            "dbname": target.dbname,
            "user": target.user,
            "password": target.password,
            "sslmode": target.sslmode,
            "connect_timeout": max(2, math.ceil(self._timeout)),
            "application_name": "provision-emulator",
        }
        # libpq verifies `require` too whenever a root file exists ($PGSSLROOTCERT,
        # ~/.postgresql/root.crt); the platform's Require only encrypts. The other path is
        # one no one can create (procfs), so libpq finds no root file there.
        verifying = target.sslmode in ("verify-ca", "verify-full")
        params["sslrootcert"] = self._ca_file if verifying else "/proc/self/no-root-certificate"

        opened: list[Any] = []

        async def attempt() -> list[tuple[Any, ...]]:
            addresses = await _resolve(target.host, target.port)
            # Resolved here, so libpq and psycopg look nothing up; `host` stays for TLS.
            params["host"] = ",".join([target.host] * len(addresses))
            params["hostaddr"] = ",".join(addresses)
            conn = await self._psycopg.AsyncConnection.connect(**params)
            opened.append(conn)
            try:
                cursor = await query(conn)
                return list(await cursor.fetchall())
            finally:
                await conn.close()

        async def bounded() -> list[tuple[Any, ...]]:
            task = asyncio.ensure_future(attempt())
            done, _ = await asyncio.wait({task}, timeout=self._timeout)
            if task in done:
                return task.result()
            # Cancelling would have psycopg send a cancel request and wait on a server that
            # stalls; closing the socket ends the attempt at the deadline.
            for conn in opened:
                conn.pgconn.finish()
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
            raise TimeoutError

        try:
            return asyncio.run(bounded())
        except TimeoutError:
            raise Unreachable(
                f"timeout: {target.where} did not answer within {self._timeout:g} s"
            ) from None
        except OSError:  # from _resolve(): the name does not resolve
            raise Unreachable(f"DNS: host {target.shown('Server')} not found") from None
        except self._psycopg.Error as error:
            raise Unreachable(reason(str(error), target)) from None


async def _resolve(host: str, port: int) -> list[str]:
    """The host's addresses from a daemon thread of its own: asyncio's resolver threads are
    joined when the loop closes, so a hanging resolver would hold a request past its
    deadline; this one is simply abandoned."""
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[list[str]] = loop.create_future()

    def settle(result: list[str] | OSError) -> None:
        if not answer.done():
            if isinstance(result, OSError):
                answer.set_exception(result)
            else:
                answer.set_result(result)

    def lookup() -> None:
        result: list[str] | OSError
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            result = list(dict.fromkeys(str(info[4][0]) for info in infos))
        except OSError as error:
            result = error
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is waiting
            loop.call_soon_threadsafe(settle, result)

    threading.Thread(target=lookup, name="emulator-resolve", daemon=True).start()
    return await answer


def reason(message: str, target: Target) -> str:
    """libpq's message as a short reason; the password never survives."""
    if len(target.password) >= 4:  # shorter ones would mangle the text, hiding nothing
        message = message.replace(target.password, "(sensitive)")
    text = " ".join(message.split())
    text = _PREFIX.sub("", text)
    text = text.removeprefix("FATAL: ").strip()
    lowered = text.lower()
    user = target.shown("UID") if target.from_string else f'user "{target.user}"'
    if "password authentication failed" in lowered:
        return f"authentication failed for {user}"
    if "failed to resolve host" in lowered or "could not translate host name" in lowered:
        return f"DNS: host {target.shown('Server')} not found"
    if "connection refused" in lowered:
        return f"connection refused by {target.where}"
    if "timeout expired" in lowered:
        return f"timeout: {target.where} did not answer"
    if "does not support ssl" in lowered:
        return f"TLS: the server does not offer TLS but sslMode {target.sslmode} requires it"
    if "no encryption" in lowered and "pg_hba" in lowered:
        return "TLS: the server refuses connections without TLS"
    if "certificate" in lowered:
        return f"TLS certificate: {text}"
    if "expected authentication request" in lowered or "response to ssl negotiation" in lowered:
        return f"{target.where} answered, but not as PostgreSQL"
    if re.search(r'database ".*" does not exist', lowered):
        if target.from_string:
            return f"unknown database: {target.shown('Database')}"
        return f'unknown database "{target.dbname}"'
    if target.from_string:
        for value in (target.user, target.dbname, target.host):
            if len(value) >= 2:
                text = text.replace(value, "(from the connection string)")
    return text[:300]


def split_path(path: str) -> list[str]:
    """`schema.table` as PostgreSQL reads it: `"x.y".z` is schema `x.y`, table `z`."""
    names: list[str] = []
    i = 0
    while i <= len(path):
        if path.startswith('"', i):
            end, name = i + 1, []
            while end < len(path):
                if path[end] == '"':
                    if path.startswith('"', end + 1):
                        name.append('"')
                        end += 2
                        continue
                    break
                name.append(path[end])
                end += 1
            names.append("".join(name))
            i = end + 2  # past the closing quote and the dot
        else:
            dot = path.find(".", i)
            dot = len(path) if dot < 0 else dot
            names.append(path[i:dot].lower())  # unquoted names fold to lower case
            i = dot + 1
    return names[:2] if len(names) <= 2 else [".".join(names[:-1]), names[-1]]


def explore_column(name: str, data_type: str) -> dict[str, Any]:
    """A column as explore answers it, from its information_schema type name."""
    kind, fmt = _TYPES.get(data_type, ("string", None))
    column: dict[str, Any] = {"name": name, "type": kind, "xdm": {"type": kind}}
    if fmt:
        column["meta:xdmType"] = fmt
        column["xdm"]["format"] = fmt
    return column
