"""verify --direct's targets: every manifest TLS setting maps to one libpq sslmode, and
libpq's messages become reasons a user acts on (docs/verify.md holds the same table)."""

from __future__ import annotations

from pathlib import Path

import pytest

from provisioner.connectors.postgres import odbc
from provisioner.connectors.postgres.auth import (
    BasicAuth,
    ConnectionStringParts,
    ConnectionStringSecret,
)
from provisioner.connectors.postgres.probe import reason
from provisioner.connectors.postgres.targets import Target, TargetProblem, target_for
from provisioner.errors import Location
from provisioner.model import DesiredConnection, SecretRef

HERE = Location("m.yaml", 3, 5)
REF = SecretRef("env", "PG_SECRET", Path("."), HERE)


def connection(auth: object, cloud: str = "azure") -> DesiredConnection:
    return DesiredConnection("ORG@AdobeOrg", "prod", cloud, "orders", None, auth, HERE)  # type: ignore[arg-type]


@pytest.mark.parametrize("cloud", ["azure", "aws"])
@pytest.mark.parametrize(
    "ssl", ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]
)
def test_basic_ssl_is_used_as_written_on_both_clouds(cloud: str, ssl: str) -> None:
    auth = BasicAuth("pg.example.com", 6432, "orders", "reader", REF, ssl)
    assert target_for(connection(auth, cloud), "pw") == Target(
        "pg.example.com", 6432, "orders", "reader", "pw", ssl
    )


@pytest.mark.parametrize(
    ("encryption", "validate", "sslmode"),
    [
        ("none", True, "disable"),
        ("none", False, "disable"),
        ("ssl", True, "verify-full"),
        ("ssl", False, "require"),
        ("request-ssl", True, "prefer"),
        ("request-ssl", False, "prefer"),
    ],
)
def test_connection_string_parts(encryption: str, validate: bool, sslmode: str) -> None:
    auth = ConnectionStringParts("h", 5432, "db", "u", REF, encryption, validate)
    assert target_for(connection(auth), "pw").sslmode == sslmode


@pytest.mark.parametrize(
    ("tail", "sslmode"),
    [
        ("", "disable"),  # DataDirect's default: no encryption
        (";EncryptionMethod=0", "disable"),
        (";EncryptionMethod=1", "verify-full"),  # validation defaults to on
        (";EncryptionMethod=1;ValidateServerCertificate=1", "verify-full"),
        (";encryptionmethod=1;validateservercertificate=0", "require"),
        (";EncryptionMethod=6", "prefer"),
    ],
)
def test_whole_connection_string_settings(tail: str, sslmode: str) -> None:
    secret = "Server=pg;Database=orders;UID=u;Password={p;w}}d}" + tail
    target = target_for(connection(ConnectionStringSecret(REF)), secret)
    assert target == Target("pg", 5432, "orders", "u", "p;w}d", sslmode, "EncryptionMethod")


SERVER = (
    "the connection string in {env: PG_SECRET} has a Server= that is not a host name or address "
    "(is a `;` missing after it?); fix the secret"
)


@pytest.mark.parametrize(
    ("secret", "problem"),
    [
        ("Database=orders", "the connection string in {env: PG_SECRET} has no Server=; add it"),
        (
            "Port=1",
            "the connection string in {env: PG_SECRET} has no Server= and Database=; add it",
        ),
        # Every value below came out of a secret: the field is named, never its value
        # (issue 17: a missing `;` pulls the password into the value before it).
        (
            "Server=h;Database=d;Port=http",
            "the connection string in {env: PG_SECRET} has a Port= that is not a port (a "
            "number from 1 to 65535; is a `;` missing after it?); fix the secret",
        ),
        (
            "Server=h;Database=d;EncryptionMethod=2",
            "the connection string in {env: PG_SECRET} has an EncryptionMethod= that PostgreSQL "
            "does not take: 0 (none), 1 (SSL) or 6 (request SSL); fix the secret",
        ),
        ("Server=/var/run;Database=d", SERVER),
        ("Server=a,b;Database=d", SERVER),
        (
            "Server=h;Database={host=evil}",
            "the connection string in {env: PG_SECRET} has a Database= that is not a database "
            "name (is a `;` missing after it?); fix the secret",
        ),
    ],
)
def test_strings_that_cannot_be_attempted(secret: str, problem: str) -> None:
    with pytest.raises(TargetProblem) as caught:
        target_for(connection(ConnectionStringSecret(REF)), secret)
    assert str(caught.value) == problem


def test_odbc_parse_reads_what_build_writes() -> None:
    parts = ConnectionStringParts(" h ", 5432, "d;b", "u{}", REF, "ssl", False)
    built = odbc.build(parts, "p=}{;")
    assert odbc.parse(built) == {
        "server": " h ",
        "database": "d;b",
        "port": "5432",
        "uid": "u{}",
        "password": "p=}{;",
        "encryptionmethod": "1",
        "validateservercertificate": "0",
    }
    assert odbc.parse("A = 1 ;; B=;C") == {"a": "1", "b": ""}


TARGET = Target("db.example.com", 5432, "orders", "reader", "hunter2-pw", "verify-full")
AT = 'connection failed: connection to server at "10.0.0.5", port 5432 failed: '


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            AT + 'FATAL:  password authentication failed for user "reader"',
            'authentication failed for user "reader"; check the password secret',
        ),
        (
            "failed to resolve host 'db.example.com': [Errno -2] Name or service not known",
            "DNS: cannot resolve host 'db.example.com'; check server and this machine's DNS",
        ),
        (
            AT + "Connection refused\n\tIs the server running on that host?",
            "connection refused by db.example.com:5432: nothing listens there "
            "(check server and port)",
        ),
        (
            "connection timeout expired",
            "timeout: no answer from db.example.com:5432 within 5 s; a firewall dropping "
            "packets, a server that stalls, or not a PostgreSQL port",
        ),
        (
            AT + "server does not support SSL, but SSL was required",
            "TLS: the server offers no TLS but sslmode verify-full requires it; enable TLS on "
            "the server or lower ssl",
        ),
        (
            # Not "needs TLS": a pg_hba.conf refusal says nothing certain about TLS (issue 21).
            AT + 'FATAL:  no pg_hba.conf entry for host "1.2.3.4", user "reader", database '
            '"orders", no encryption',
            'refused by the server\'s pg_hba.conf: no line admits host "1.2.3.4" (this '
            'machine, as the server sees it), user "reader", database "orders", without TLS; '
            "ask the DBA to add a line for it, or, if the server admits only TLS connections "
            "(hostssl), set ssl: require",
        ),
        (
            AT + "SSL error: certificate verify failed",
            "TLS certificate: SSL error: certificate verify failed; give the server's CA with "
            "--ca-file",
        ),
        (
            AT + 'server certificate for "other.example.com" does not match host name '
            '"db.example.com"',
            # The CA is fine: a name mismatch is not fixed with --ca-file (issue 21).
            'TLS certificate: server certificate for "other.example.com" does not match host '
            'name "db.example.com"; connect by a name the certificate holds, or check the CA '
            "only with ssl: verify-ca",
        ),
        (
            AT + 'FATAL:  database "orders" does not exist',
            'unknown database "orders"; check database in the manifest',
        ),
        (
            AT + 'FATAL:  no pg_hba.conf entry for host "1.2.3.4", user "reader", database '
            '"orders", SSL encryption',
            'refused by the server\'s pg_hba.conf: no line admits host "1.2.3.4" (this '
            'machine, as the server sees it), user "reader", database "orders", with TLS; ask '
            "the DBA to add a line for it",
        ),
        (
            AT + "expected authentication request from server, but received H",
            "db.example.com:5432 answered, but not as PostgreSQL: check the port (expected "
            "authentication request from server, but received H)",
        ),
        ("something odd about hunter2-pw", "something odd about (sensitive)"),
    ],
)
def test_reasons_a_user_acts_on(message: str, expected: str) -> None:
    assert reason(message, TARGET, 5.0) == expected


def test_a_short_password_does_not_mangle_the_reason() -> None:
    short = Target("h", 5432, "d", "u", "p", "disable")
    assert reason(AT + "server closed the connection", short, 5.0) == (
        "server closed the connection"
    )


def test_each_attempt_of_a_multi_attempt_message_is_read_on_its_own() -> None:
    # sslmode allow against a server without TLS: plain text met a `reject` line, then the
    # TLS retry met no TLS. The reason is the refusal, not "the server offers no TLS".
    message = (
        'connection failed: connection to server at "127.0.0.1", port 5432 failed: FATAL:  '
        'pg_hba.conf rejects connection for host "127.0.0.1", user "reader", database '
        '"orders", no encryption\nconnection to server at "127.0.0.1", port 5432 failed: '
        "server does not support SSL, but SSL was required"
    )
    allow = Target("db.example.com", 5432, "orders", "reader", "hunter2-pw", "allow")
    assert reason(message, allow, 5.0) == (
        'refused by the server\'s pg_hba.conf: a `reject` line matches host "127.0.0.1" (this '
        'machine, as the server sees it), user "reader", database "orders", without TLS; only '
        "the DBA can change that (no password or TLS setting helps)"
    )


def test_a_connection_string_target_is_told_about_its_own_keys_never_its_values() -> None:
    secret = Target("db.internal", 5432, "orders", "reader", "hunter2-pw", "disable",
                    "EncryptionMethod")  # fmt: skip
    message = AT + (
        'FATAL:  no pg_hba.conf entry for host "10.1.1.1", user "reader", database "orders", '
        "no encryption"
    )
    assert reason(message, secret, 5.0) == (
        'refused by the server\'s pg_hba.conf: no line admits host "10.1.1.1" (this machine, '
        "as the server sees it), the connection string's UID=, the connection string's "
        "Database=, without TLS; ask the DBA to add a line for it, or, if the server admits "
        "only TLS connections (hostssl), set EncryptionMethod=1 in the connection string"
    )
    assert reason(AT + "Connection refused", secret, 5.0) == (
        "connection refused by the connection string's Server= and Port=: nothing listens "
        "there (check server and port)"
    )
