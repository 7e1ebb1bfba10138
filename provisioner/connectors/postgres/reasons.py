"""libpq's failure message as one reason a DBA acts on, read one connection attempt at a time.

libpq tries more than once: ``prefer`` tries TLS then plain text, ``allow`` plain text then
TLS, and every address of the host is tried in turn. Its message holds one line per attempt
(``connection to server at "h" (a), port p failed: ...``), so each attempt is classified on
its own and the verdict weighs them: a wrong password or a ``pg_hba.conf`` refusal is the
answer whichever attempt met it, and "needs TLS" is never guessed from a refusal.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from provisioner import redact
from provisioner.connectors.postgres.targets import Target

_ATTEMPT = re.compile(r'connection to server at "[^"]*"(?: \([^)]*\))?, port \d+ failed: ')
_HBA = re.compile(
    r'(?P<rule>no pg_hba\.conf entry|pg_hba\.conf rejects connection) for host "(?P<host>[^"]*)"'
    r'(?:, user "[^"]*")?(?:, database "[^"]*")?(?:, (?P<tls>no encryption|SSL encryption|'
    r"GSS encryption))?",
    re.IGNORECASE,
)
# Longest a text from the server is quoted: enough to recognise, never a flood.
_QUOTE_LIMIT = 200


@dataclass(frozen=True)
class Attempt:
    kind: str  # auth, hba, database, no-tls, certificate, tls, not-postgres, refused, timeout
    text: str  # libpq's words for this attempt, secret-free and single-line
    hba: re.Match[str] | None = None


def attempts(message: str, target: Target) -> list[Attempt]:
    """Each attempt libpq made, classified; the secrets cut out before anything is read."""
    if len(target.password) >= 4:  # shorter ones would mangle the text, hiding nothing
        message = message.replace(target.password, redact.SENSITIVE)
    message = redact.scrub(message).removeprefix("connection failed: ")
    found = []
    for part in _ATTEMPT.split(message):
        text = printable(" ".join(part.split()).removeprefix("FATAL: ").strip())
        if text:
            found.append(_classify(text))
    return found or [Attempt("other", printable(message))]


def printable(text: str) -> str:
    """Remote text as data: control characters escaped, length bounded."""
    shown = "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text)
    return shown if len(shown) <= _QUOTE_LIMIT else shown[: _QUOTE_LIMIT - 1] + "…"


def _classify(text: str) -> Attempt:
    low = text.lower()
    hba = _HBA.search(text)
    if hba:
        return Attempt("hba", text, hba)
    if "authentication failed" in low:
        return Attempt("auth", text)
    if re.search(r'database ".*" does not exist', low):
        return Attempt("database", text)
    if "does not support ssl" in low:
        return Attempt("no-tls", text)
    if "certificate" in low:
        return Attempt("certificate", text)
    if "ssl" in low or "tls" in low:
        return Attempt("tls", text)  # a handshake that broke: not PostgreSQL, or a bad TLS stack
    if "expected authentication request" in low or "invalid response" in low:
        return Attempt("not-postgres", text)
    if "connection refused" in low:
        return Attempt("refused", text)
    if "timeout expired" in low:
        return Attempt("timeout", text)
    if "failed to resolve host" in low or "could not translate host name" in low:
        return Attempt("dns", text)
    return Attempt("other", text)


# Which attempt explains the failure when they differ: the first kind found wins.
_WEIGHT = (
    "auth", "database", "hba", "certificate", "not-postgres", "tls", "no-tls",
    "other", "dns", "timeout", "refused",
)  # fmt: skip


def verdict(found: Sequence[Attempt]) -> Attempt:
    return min(found, key=lambda a: _WEIGHT.index(a.kind))


def hba_reason(found: Sequence[Attempt], target: Target) -> str:
    """A pg_hba.conf refusal quoted as the server states it: the client host it saw, the
    user, the database, and with or without TLS for each attempt."""
    refusals = [a.hba for a in found if a.hba is not None]
    first = refusals[0]
    ways = list(dict.fromkeys(_tls_words(m["tls"]) for m in refusals))
    rejected = "rejects" in first["rule"].lower()
    rule = "a `reject` line matches" if rejected else "no line admits"
    text = (
        f'refused by the server\'s pg_hba.conf: {rule} host "{first["host"]}" (this machine, '
        f"as the server sees it), {target.shown_user}, {target.shown_database}, "
        f"{' and '.join(ways)}"
    )
    if rejected:
        return text + "; only the DBA can change that (no password or TLS setting helps)"
    text += "; ask the DBA to add a line for it"
    tried_tls = any(m["tls"] and m["tls"].lower().startswith("ssl") for m in refusals)
    if not tried_tls:
        text += (
            ", or, if the server admits only TLS connections (hostssl), set "
            + target.tls_advice("require")
        )
    return text


def _tls_words(tls: str | None) -> str:
    if not tls:
        return "TLS unknown"
    if tls.lower() == "no encryption":
        return "without TLS"
    return "with TLS" if tls.lower().startswith("ssl") else "with GSS encryption"
