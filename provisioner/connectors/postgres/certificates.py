"""Which CA `verify --direct` trusts, and why a server's certificate or handshake failed.

libpq says only "certificate verify failed", or "SSL error: unexpected eof" for a port that
is not PostgreSQL at all. When it does, the probe asks the server itself, within the same
deadline: PostgreSQL's SSLRequest, then a TLS handshake against the same roots, which names
the cause (self-signed, unknown CA, expired, the names the certificate holds), or shows that
the port greets with something else (an SSH banner) and is no PostgreSQL server.
"""

from __future__ import annotations

import asyncio
import os
import ssl
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from provisioner.connectors.postgres.reasons import printable
from provisioner.connectors.postgres.targets import Target

_SSL_REQUEST = struct.pack("!ii", 8, 80877103)
# OpenSSL's X509_V_ERR_* codes, as the causes a DBA names them.
_CAUSES = {
    9: "is not valid yet (checked against {roots})",
    10: "has expired (checked against {roots})",
    18: "is self-signed and not in {roots}",
    19: "chains to a self-signed CA that is not in {roots}",
    20: "is signed by a CA that is not in {roots}",
    21: "is signed by a CA that is not in {roots}",
}


@dataclass(frozen=True)
class CaSource:
    """The roots verify-ca/verify-full trust: the path handed to libpq and its name in words."""

    path: str
    label: str


def ca_source(
    ca_file: str | None, environ: Mapping[str, str] = os.environ, home: Path | None = None
) -> CaSource:
    """libpq's own order: --ca-file, $PGSSLROOTCERT, ~/.postgresql/root.crt, else the
    system's bundle (the one psql would not use, but the platform's roots are public CAs)."""
    if ca_file:
        return CaSource(ca_file, f"--ca-file {ca_file}")
    if environ.get("PGSSLROOTCERT"):
        return CaSource(environ["PGSSLROOTCERT"], f"$PGSSLROOTCERT ({environ['PGSSLROOTCERT']})")
    own = (home or Path.home()) / ".postgresql" / "root.crt"
    if own.is_file():
        return CaSource(str(own), f"libpq's {own}")
    bundle = ssl.get_default_verify_paths().cafile
    return CaSource(bundle or "system", f"the system's CA bundle ({bundle or 'system'})")


async def greeting(target: Target, address: str) -> str | None:
    """Why the port is not PostgreSQL, when its answer to an SSLRequest shows it; else None."""
    reader, writer = await asyncio.open_connection(address, target.port)
    try:
        writer.write(_SSL_REQUEST)
        await writer.drain()
        answer = await reader.read(256)
        return None if answer in (b"S", b"N", b"") else _not_postgres(answer, target)
    finally:
        # Abort: a polite TLS close would wait on the server, inside the deadline.
        writer.transport.abort()


async def diagnose(target: Target, address: str, source: CaSource, verify: bool) -> str | None:
    """Why the server's TLS failed, in words; None when this look finds nothing to add."""
    reader, writer = await asyncio.open_connection(address, target.port)
    try:
        writer.write(_SSL_REQUEST)
        await writer.drain()
        answer = await reader.read(256)
        if answer != b"S":
            return _not_postgres(answer, target) if answer not in (b"N", b"") else None
        context = ssl.create_default_context()
        if source.path != "system":
            context = ssl.create_default_context(cafile=source.path)
        context.check_hostname = False
        if not verify:
            context.verify_mode = ssl.CERT_NONE
        try:
            await writer.start_tls(context, server_hostname=target.host)
        except ssl.SSLCertVerificationError as error:
            cause = _CAUSES.get(error.verify_code, "does not verify against {roots}")
            return (
                f"TLS certificate: the server's certificate {cause.format(roots=source.label)}; "
                "give the server's CA with --ca-file"
            )
        certificate = writer.get_extra_info("peercert") or {}
        names = [
            value
            for kind, value in certificate.get("subjectAltName", ())
            if kind in ("DNS", "IP Address")
        ]
        if names and target.host not in names:
            return (
                f"TLS certificate: the server's certificate names {printable(', '.join(names))}, "
                f"not {target.shown_host} (its CA, {source.label}, is trusted); connect by one of "
                f"those names, or check the CA only with {target.tls_advice('verify-ca')}"
            )
        return None
    finally:
        # Abort: a polite TLS close would wait on the server, inside the deadline.
        writer.transport.abort()


def _not_postgres(answer: bytes, target: Target) -> str:
    greeting = printable(answer.split(b"\n")[0].decode("ascii", "replace").strip())
    what = " (an SSH server)" if answer.startswith(b"SSH-") else ""
    return (
        f"{target.shown_address} is not a PostgreSQL server: it greets with "
        f"{greeting!r}{what}; check the port"
    )
