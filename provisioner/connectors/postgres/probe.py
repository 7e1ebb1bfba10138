"""Connect from this machine to each target's PostgreSQL and say, in words, why one fails.

psycopg 3 is an optional extra (``aep-provision[postgres]``): only ``verify --direct`` needs it.
Attempts run concurrently on one asyncio loop, bounded by the parallelism, each under one
deadline that covers DNS, TCP, TLS, authentication and the query, so a server that accepts
and never answers costs the timeout and no more. Nothing beyond ``SELECT 1`` (and, with
``explore``, the list of tables the user can see) is sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import re
import socket
import ssl
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from provisioner import DISTRIBUTION, redact
from provisioner.connectors.postgres.targets import Target, TargetProblem, target_for
from provisioner.errors import UsageError
from provisioner.model import DesiredConnection

if TYPE_CHECKING:
    from provisioner.connectors import DirectOptions

TABLES_QUERY = """
SELECT table_schema, table_name FROM information_schema.tables
WHERE table_schema NOT IN ('pg_catalog', 'information_schema')
  AND table_type IN ('BASE TABLE', 'VIEW', 'FOREIGN')
ORDER BY table_schema, table_name
"""
# A path no one can create (procfs): libpq finds no root file and verifies nothing.
NO_ROOT_FILE = "/proc/self/no-root-certificate"
_PREFIX = re.compile(r'^connection failed: connection to server at "[^"]*", port \d+ failed: ')


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    reason: str = ""
    tables: tuple[str, ...] | None = None


def driver() -> ModuleType:
    try:
        import psycopg
    except ImportError:
        raise UsageError(
            f"verify --direct needs the PostgreSQL driver psycopg 3: {install_hint(sys.prefix)}"
        ) from None
    return psycopg


def install_hint(prefix: str) -> str:
    """The command that adds the driver to the environment provision runs from. pipx keeps
    each application in a venv of its own that pip must not be pointed at by hand; it marks
    that venv with a `pipx_metadata.json`."""
    if (Path(prefix) / "pipx_metadata.json").is_file():
        return f"pipx inject {DISTRIBUTION} 'psycopg[binary]'"
    return f"pip install '{DISTRIBUTION}[postgres]'"


def default_ca_file() -> str | None:
    """What verify-ca/verify-full trust: $PGSSLROOTCERT (libpq reads it), else the system's."""
    if os.environ.get("PGSSLROOTCERT"):
        return None
    return ssl.get_default_verify_paths().cafile or "system"


def probe_all(
    targets: Sequence[Target],
    *,
    parallelism: int,
    timeout: float,
    explore: bool = False,
    ca_file: str | None = None,
) -> list[ProbeResult]:
    psycopg = driver()
    roots = ca_file or default_ca_file()

    async def everything() -> list[ProbeResult]:
        gate = asyncio.Semaphore(max(1, parallelism))

        async def one(target: Target) -> ProbeResult:
            async with gate:
                return await _probe(psycopg, target, timeout, explore, roots)

        return list(await asyncio.gather(*(one(t) for t in targets)))

    return asyncio.run(everything())


async def _probe(
    psycopg: Any, target: Target, timeout: float, explore: bool, roots: str | None
) -> ProbeResult:
    resolved = False

    async def attempt() -> tuple[str, ...] | None:
        nonlocal resolved
        addresses = await resolve(target.host, target.port)
        resolved = True
        params: dict[str, Any] = {
            # Resolved here, so libpq and psycopg look nothing up; `host` stays for TLS.
            "host": ",".join([target.host] * len(addresses)),
            "hostaddr": ",".join(addresses),
            "port": target.port,
            "dbname": target.database,
            "user": target.user,
            "password": target.password,
            "sslmode": target.sslmode,
            # libpq's own limit, per address tried; the deadline around it is the real bound.
            "connect_timeout": max(2, math.ceil(timeout)),
            "application_name": "provision-verify",
        }
        if target.sslmode in ("verify-ca", "verify-full"):
            if roots:
                params["sslrootcert"] = roots
        else:
            # libpq verifies `require` too whenever a root file exists ($PGSSLROOTCERT,
            # ~/.postgresql/root.crt); the platform's Require only encrypts.
            params["sslrootcert"] = NO_ROOT_FILE
        conn = await psycopg.AsyncConnection.connect(**params)
        async with conn:
            await conn.execute("SELECT 1")
            if not explore:
                return None
            rows = await (await conn.execute(TABLES_QUERY)).fetchall()
            return tuple(f"{schema}.{name}" for schema, name in rows)

    try:
        tables = await asyncio.wait_for(attempt(), timeout)
    except TimeoutError:
        if not resolved:
            return ProbeResult(
                False,
                f"DNS: no answer for {target.host!r} within {timeout:g} s; "
                "check this machine's DNS",
            )
        return ProbeResult(False, _timed_out(target, timeout))
    except OSError:  # from resolve(): the name does not resolve
        return ProbeResult(False, reason("failed to resolve host", target, timeout))
    except psycopg.Error as error:
        return ProbeResult(False, reason(str(error), target, timeout))
    return ProbeResult(True, tables=tables)


async def resolve(host: str, port: int) -> list[str]:
    """The host's addresses, looked up in a daemon thread of its own: asyncio's resolver
    threads are joined when the loop and the interpreter close, so a resolver that hangs
    would hold the run past its deadline; this one is simply abandoned."""
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[list[str]] = loop.create_future()

    def settle(result: list[str] | OSError) -> None:
        if answer.done():
            return
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

    threading.Thread(target=lookup, name="provision-resolve", daemon=True).start()
    return await answer


def _timed_out(target: Target, timeout: float) -> str:
    return (
        f"timeout: no answer from {target.host}:{target.port} within {timeout:g} s; "
        "a firewall dropping packets, or not a PostgreSQL port"
    )


def reason(message: str, target: Target, timeout: float) -> str:
    """libpq's message as a reason a user acts on; no secret survives it."""
    if len(target.password) >= 4:  # shorter ones would mangle the text, hiding nothing
        message = message.replace(target.password, redact.SENSITIVE)
    text = _PREFIX.sub("", " ".join(redact.scrub(message).split())).removeprefix("FATAL: ")
    low = text.lower()
    where = f"{target.host}:{target.port}"
    if "password authentication failed" in low or "authentication failed" in low:
        return f'authentication failed for user "{target.user}"; check the password secret'
    if "failed to resolve host" in low or "could not translate host name" in low:
        return f"DNS: cannot resolve host {target.host!r}; check server and this machine's DNS"
    if "connection refused" in low:
        return f"connection refused by {where}: nothing listens there (check server and port)"
    if "timeout expired" in low:
        return _timed_out(target, timeout)
    if "does not support ssl" in low:
        return (
            f"TLS: the server offers no TLS but sslmode {target.sslmode} requires it; "
            "enable TLS on the server or lower ssl"
        )
    if "no encryption" in low and "pg_hba" in low:
        return "TLS: the server refuses connections without TLS; set ssl: require or stricter"
    if "certificate" in low or "ssl error" in low:
        return f"TLS certificate: {text}; give the server's CA with --ca-file"
    if re.search(r'database ".*" does not exist', low):
        return f'unknown database "{target.database}"; check database in the manifest'
    if "expected authentication request" in low or "invalid response to ssl negotiation" in low:
        return f"{where} answered, but not as PostgreSQL: check the port ({text})"
    if "no pg_hba.conf entry" in low:
        return f"refused by the server's pg_hba.conf: {text}"
    return text[:300]


def verify_direct(
    connections: Sequence[tuple[DesiredConnection, str]], options: DirectOptions
) -> list[ProbeResult]:
    """Probe each (connection, resolved secret), in order; one that cannot even be
    attempted says why without a probe."""
    results: list[ProbeResult | None] = []
    targets: list[tuple[int, Target]] = []
    for connection, secret in connections:
        try:
            target = target_for(connection, secret)
        except TargetProblem as problem:
            results.append(ProbeResult(False, str(problem)))
            continue
        targets.append((len(results), target))
        results.append(None)
    probed = probe_all(
        [t for _, t in targets],
        parallelism=options.parallelism,
        timeout=options.timeout,
        explore=options.explore,
        ca_file=options.ca_file,
    )
    for (index, _), result in zip(targets, probed, strict=True):
        results[index] = result
    return [r for r in results if r is not None]
