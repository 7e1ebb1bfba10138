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
import logging
import math
import socket
import ssl
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from provisioner import DISTRIBUTION
from provisioner.connectors.postgres import certificates, reasons
from provisioner.connectors.postgres.certificates import CaSource, ca_source
from provisioner.connectors.postgres.promises import platform_sslmode
from provisioner.connectors.postgres.targets import Target, TargetProblem, target_for
from provisioner.errors import UsageError
from provisioner.model import DesiredConnection

if TYPE_CHECKING:
    from provisioner.connectors import DirectOptions

# What the user can SELECT (a column grant counts), as PostgreSQL quotes names (`"x.y".z`):
# tables, views, materialized views, foreign tables and partitioned tables, whose partitions
# are read through their parent and so are not listed beside it.
TABLES_QUERY = """
SELECT format('%I.%I', n.nspname, c.relname)
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'v', 'm', 'f', 'p') AND NOT c.relispartition
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
  AND has_schema_privilege(n.oid, 'USAGE') AND has_any_column_privilege(c.oid, 'SELECT')
ORDER BY n.nspname, c.relname
"""
# A path no one can create (procfs): libpq finds no root file and verifies nothing.
NO_ROOT_FILE = "/proc/self/no-root-certificate"


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


def probe_all(
    targets: Sequence[Target],
    *,
    parallelism: int,
    timeout: float,
    explore: bool = False,
    ca_file: str | None = None,
) -> list[ProbeResult]:
    psycopg = driver()
    quiet_driver()
    roots = ca_source(ca_file)

    async def everything() -> list[ProbeResult]:
        gate = asyncio.Semaphore(max(1, parallelism))

        async def one(target: Target) -> ProbeResult:
            async with gate:
                return await _probe(psycopg, target, timeout, explore, roots)

        return list(await asyncio.gather(*(one(t) for t in targets)))

    return asyncio.run(everything())


def quiet_driver() -> None:
    """psycopg logs its own warnings ("query cancellation failed ...") through `logging`,
    which with no handler configured prints them on stderr: the reasons say it all."""
    logger = logging.getLogger("psycopg")
    logger.propagate = False
    if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
        logger.addHandler(logging.NullHandler())


async def _probe(
    psycopg: Any, target: Target, timeout: float, explore: bool, roots: CaSource
) -> ProbeResult:
    resolved: list[str] = []
    opened: list[Any] = []

    async def attempt() -> ProbeResult:
        addresses = await resolve(target.host, target.port)
        resolved.extend(addresses)
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
        verifying = target.sslmode in ("verify-ca", "verify-full")
        # libpq verifies `require` too whenever a root file exists ($PGSSLROOTCERT,
        # ~/.postgresql/root.crt); the platform's Require only encrypts.
        params["sslrootcert"] = roots.path if verifying else NO_ROOT_FILE
        try:
            conn = await psycopg.AsyncConnection.connect(**params)
        except psycopg.Error as error:
            return ProbeResult(False, await explain(str(error), target, timeout, roots, addresses))
        opened.append(conn)
        try:
            await conn.execute("SELECT 1")
            if not explore:
                return ProbeResult(True)
            return ProbeResult(True, tables=await visible_tables(conn))
        except psycopg.Error as error:
            return ProbeResult(False, await explain(str(error), target, timeout, roots, addresses))
        finally:
            await conn.close()

    # A port that answers TLS's first step with something else (an SSH banner) leaves libpq
    # waiting inside the handshake: the last fifth of the deadline asks the port itself.
    asks_tls = target.sslmode != "disable"
    task = asyncio.ensure_future(attempt())
    try:
        done, _ = await asyncio.wait({task}, timeout=timeout * (0.8 if asks_tls else 1.0))
    except BaseException:
        task.cancel()
        raise
    if task in done:
        try:
            return task.result()
        except OSError:  # from resolve(): the name does not resolve
            return ProbeResult(False, reason("failed to resolve host", target, timeout))
    # The deadline. Cancelling would make psycopg send the server a cancel request and wait
    # for it (seconds more, on a server that stalls); closing the socket ends it now.
    for conn in opened:
        conn.pgconn.finish()
    task.cancel()
    with contextlib.suppress(BaseException):
        await task
    if not resolved:
        return ProbeResult(
            False,
            f"DNS: no answer for {target.shown_host} within {timeout:g} s; "
            "check this machine's DNS",
        )
    if asks_tls:
        with contextlib.suppress(OSError, TimeoutError, EOFError):
            told = await asyncio.wait_for(
                certificates.greeting(target, resolved[-1]), timeout * 0.2
            )
            if told:
                return ProbeResult(False, told)
    return ProbeResult(False, _timed_out(target, timeout))


async def visible_tables(conn: Any) -> tuple[str, ...]:
    rows = await (await conn.execute(TABLES_QUERY)).fetchall()
    return tuple(str(name) for (name,) in rows)


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
        f"timeout: no answer from {target.shown_address} within {timeout:g} s; "
        "a firewall dropping packets, a server that stalls, or not a PostgreSQL port"
    )


async def explain(
    message: str, target: Target, timeout: float, roots: CaSource, addresses: Sequence[str]
) -> str:
    """The reason, and for a certificate or a handshake that broke, the server's own answer
    to a TLS handshake of ours (what libpq does not say)."""
    found = reasons.attempts(message, target)
    main = reasons.verdict(found)
    if main.kind in ("certificate", "tls", "not-postgres") and addresses:
        verify = target.sslmode in ("verify-ca", "verify-full")
        with contextlib.suppress(OSError, ssl.SSLError, EOFError):
            told = await certificates.diagnose(target, addresses[-1], roots, verify)
            if told:
                return told
    return reason(message, target, timeout, found, roots)


def reason(
    message: str,
    target: Target,
    timeout: float,
    found: Sequence[reasons.Attempt] | None = None,
    roots: CaSource | None = None,
) -> str:
    """libpq's message as a reason a user acts on; no secret survives it."""
    found = found or reasons.attempts(message, target)
    main = reasons.verdict(found)
    text = main.text
    if main.kind == "auth":
        return f"authentication failed for {target.shown_user}; check the password secret"
    if main.kind == "hba":
        return reasons.hba_reason(found, target)
    if main.kind == "database":
        return f"unknown {target.shown_database}; check database in the manifest"
    if main.kind == "dns":
        return f"DNS: cannot resolve host {target.shown_host}; check server and this machine's DNS"
    if main.kind == "refused":
        return (
            f"connection refused by {target.shown_address}: nothing listens there "
            "(check server and port)"
        )
    if main.kind == "timeout":
        return _timed_out(target, timeout)
    if main.kind == "no-tls":
        return (
            f"TLS: the server offers no TLS but sslmode {target.sslmode} requires it; "
            f"enable TLS on the server or lower {target.tls_setting}"
        )
    if main.kind == "certificate" and "does not match host name" in text:
        return (
            f"TLS certificate: {_scrubbed(text, target) if target.from_secret else text}; "
            f"connect by a name the certificate holds, or check the CA only with "
            f"{target.tls_advice('verify-ca')}"
        )
    if main.kind == "certificate":
        trusted = f" (trusting {roots.label})" if roots else ""
        return f"TLS certificate: {text}{trusted}; give the server's CA with --ca-file"
    if main.kind in ("not-postgres", "tls"):
        return f"{target.shown_address} answered, but not as PostgreSQL: check the port ({text})"
    return _scrubbed(text, target) if target.from_secret else text


def _scrubbed(text: str, target: Target) -> str:
    """The server's words without a value read out of a connection-string secret."""
    for value, name in (
        (target.user, "UID="),
        (target.database, "Database="),
        (target.host, "Server="),
    ):
        if len(value) >= 2:
            text = text.replace(f'"{value}"', name).replace(value, name)
    return text


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
            if options.as_platform:
                target = replace(target, sslmode=platform_sslmode(connection, target.sslmode))
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
