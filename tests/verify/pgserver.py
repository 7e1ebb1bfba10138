"""A throwaway PostgreSQL server: a temp data dir, a free loopback port, a user, some tables.

Used by the verify suite, `make demo` and `make bench` (run as a script it prints `export`
lines and serves until SIGTERM/SIGINT). It needs Debian's (or any) PostgreSQL server
binaries: ``$PG_BINDIR``, then ``initdb`` on PATH, then ``/usr/lib/postgresql/*/bin``.

PostgreSQL refuses to run as root, so under root the server runs as ``nobody`` in a data
dir that user owns; as a normal user it runs as that user. TLS servers get a self-signed
certificate made with the ``openssl`` CLI at start-up (CN and SAN ``localhost``/127.0.0.1),
or, with ``names``, one signed by a private CA (``ca_file``) that names only those hosts.

Every server has a ``pg_hba.conf`` ``reject`` line for the user ``REJECTED_USER``; with
``admit`` its other lines admit only those databases (any other has no entry at all): the
refusals a DBA configures.
"""

from __future__ import annotations

import argparse
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

DATABASE = "orders"
USER = "aep_reader"
REJECTED_USER = "aep_rejected"
# What the reader sees, schema-qualified and quoted as PostgreSQL quotes names: tables, a
# partitioned table (its partitions are read through it, never listed beside it), a
# materialized view, and two names that only quoting tells apart. `private.payroll` exists
# but is not granted, and `public.audit_log` takes INSERTs only: neither may be listed.
TABLES_SQL = """
CREATE TABLE public.customers (id integer PRIMARY KEY, email text NOT NULL,
                               created_at timestamp with time zone);
CREATE TABLE public.orders (id bigint PRIMARY KEY, customer_id integer, total numeric(10,2),
                            paid boolean, placed_on date, weight double precision);
CREATE SCHEMA sales;
CREATE TABLE sales.regions (code character(2) PRIMARY KEY, name varchar(50), updated timestamp);
CREATE MATERIALIZED VIEW sales.totals AS SELECT code, count(*) AS n FROM sales.regions GROUP BY code;
CREATE SCHEMA private;
CREATE TABLE private.payroll (id integer, salary numeric);
CREATE TABLE public.audit_log (id integer, note text);
CREATE TABLE public.events (id integer, at date) PARTITION BY RANGE (at);
CREATE TABLE public.events_2025 PARTITION OF public.events
    FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE public.events_2026 PARTITION OF public.events
    FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE SCHEMA "x.y";
CREATE TABLE "x.y".z (id integer);
CREATE SCHEMA x;
CREATE TABLE x."y.z" (id integer);
GRANT USAGE ON SCHEMA sales, "x.y", x TO {user};
GRANT SELECT ON public.customers, public.orders, sales.regions, sales.totals, public.events,
    public.events_2025, public.events_2026, "x.y".z, x."y.z" TO {user};
GRANT INSERT ON public.audit_log TO {user};
"""
TABLES = (
    "public.customers",
    "public.events",
    "public.orders",
    "sales.regions",
    "sales.totals",
    'x."y.z"',
    '"x.y".z',
)
COLUMNS = {
    "public.orders": [
        ("id", "bigint"),
        ("customer_id", "integer"),
        ("total", "numeric"),
        ("paid", "boolean"),
        ("placed_on", "date"),
        ("weight", "double precision"),
    ],
}


class PostgresUnavailable(RuntimeError):
    pass


def find_bindir() -> Path:
    candidates = [os.environ.get("PG_BINDIR", "")]
    on_path = shutil.which("initdb")
    candidates.append(str(Path(on_path).parent) if on_path else "")
    debian = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    candidates += [str(p) for p in debian]
    for candidate in filter(None, candidates):
        if (Path(candidate) / "initdb").exists() and (Path(candidate) / "postgres").exists():
            return Path(candidate)
    raise PostgresUnavailable(
        "PostgreSQL server binaries (initdb, postgres) not found: run `make install-postgres` "
        "(as root it installs Debian's postgresql package) or set PG_BINDIR"
    )


@dataclass
class PgServer:
    host: str
    port: int
    database: str
    user: str
    password: str
    tls: bool
    root: Path
    ca_file: Path | None
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def conninfo(self, **overrides: object) -> dict[str, object]:
        params: dict[str, object] = {
            "host": self.host,
            "port": self.port,
            "dbname": self.database,
            "user": self.user,
            "password": self.password,
            "connect_timeout": 5,
        }
        params.update(overrides)
        return params

    @property
    def log_file(self) -> Path:
        return self.root / "server.log"

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # "fast" shutdown
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)


def _runas() -> tuple[int, int] | None:
    # The server refuses to start as root; `nobody` owns nothing else worth protecting.
    if os.geteuid() != 0:
        return None
    entry = pwd.getpwnam("nobody")
    return entry.pw_uid, entry.pw_gid


def _run(args: Sequence[str], runas: tuple[int, int] | None, **kwargs: object) -> None:
    extra: dict[str, object] = {}
    if runas is not None:
        extra = {"user": runas[0], "group": runas[1], "extra_groups": []}
    result = subprocess.run(
        list(args), capture_output=True, text=True, check=False, **extra, **kwargs
    )  # type: ignore[call-overload]
    if result.returncode != 0:
        raise PostgresUnavailable(f"{Path(args[0]).name} failed: {result.stderr.strip()}")


def _die_with_parent() -> None:
    # Runs in the child, after it became the server user: if this process is killed
    # outright (kill -9, a crashed test run), the server gets SIGINT (fast shutdown)
    # instead of living on as an orphan holding a port. Linux only; elsewhere a no-op.
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None).prctl(pr_set_pdeathsig, signal.SIGINT)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _make_certificate(root: Path) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        raise PostgresUnavailable("the openssl command is needed for a TLS test server")
    cert, key = root / "server.crt", root / "server.key"
    _run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        None,
    )  # fmt: skip
    return cert, key


def _make_ca_signed(root: Path, names: Sequence[str]) -> tuple[Path, Path, Path]:
    """A private CA, and a server certificate it signs that names only ``names``."""
    ca_key, ca_cert = root / "ca.key", root / "ca.crt"
    cert, key, request = root / "server.crt", root / "server.key", root / "server.csr"
    _run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-keyout", str(ca_key), "-out", str(ca_cert), "-subj", "/CN=provision test CA",
        ],
        None,
    )  # fmt: skip
    _run(
        [
            "openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
            "-out", str(request), "-subj", f"/CN={names[0]}",
        ],
        None,
    )  # fmt: skip
    (root / "san.ext").write_text("subjectAltName=" + ",".join(f"DNS:{n}" for n in names) + "\n")
    _run(
        [
            "openssl", "x509", "-req", "-in", str(request), "-CA", str(ca_cert),
            "-CAkey", str(ca_key), "-CAcreateserial", "-days", "2", "-out", str(cert),
            "-extfile", str(root / "san.ext"),
        ],
        None,
    )  # fmt: skip
    return cert, key, ca_cert


def start(
    *,
    tls: bool,
    password: str | None = None,
    bindir: Path | None = None,
    names: Sequence[str] = (),
    admit: str = "all",
) -> PgServer:
    bindir = bindir or find_bindir()
    runas = _runas()
    root = Path(tempfile.mkdtemp(prefix="provision-pg-"))
    try:
        return _start(
            root, bindir, runas, tls=tls or bool(names), password=password, names=names, admit=admit
        )
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise


def _start(
    root: Path,
    bindir: Path,
    runas: tuple[int, int] | None,
    *,
    tls: bool,
    password: str | None,
    names: Sequence[str],
    admit: str,
) -> PgServer:
    admin_password = secrets.token_hex(16)
    (root / "pwfile").write_text(admin_password + "\n")
    data = root / "data"
    cert = key = ca = None
    if names:
        cert, key, ca = _make_ca_signed(root, names)
        key.chmod(0o600)
    elif tls:
        cert, key = _make_certificate(root)
        ca = cert
        key.chmod(0o600)  # the server refuses a key others can read
    if runas is not None:
        for path in (root, *root.iterdir()):
            os.chown(path, *runas)
    _run(
        [
            str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "scram-sha-256",
            f"--pwfile={root / 'pwfile'}", "-E", "UTF8", "--locale=C", "--no-sync",
        ],
        runas,
        env={**os.environ, "LC_ALL": "C"},
    )  # fmt: skip
    # The TLS server takes only TLS connections over TCP, like a cloud database that
    # requires encryption; the plain one offers no TLS at all.
    # REJECTED_USER is refused outright; a database `admit` does not list has no entry.
    kind = "hostssl" if tls else "host"
    (data / "pg_hba.conf").write_text(
        f"host all {REJECTED_USER} 127.0.0.1/32 reject\n"
        f"{kind} {admit} all 127.0.0.1/32 scram-sha-256\n{kind} {admit} all ::1/128 scram-sha-256\n"
    )
    settings = {
        "listen_addresses": "127.0.0.1",
        "unix_socket_directories": str(root),
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
        "max_connections": "250",
        "shared_buffers": "16MB",
        "ssl": "on" if tls else "off",
    }
    if cert and key:
        settings.update(ssl_cert_file=str(cert), ssl_key_file=str(key))
    password = password or "pg-" + secrets.token_hex(12)
    server: PgServer | None = None
    for _attempt in range(3):  # another process may take the free port before we bind it
        port = _free_port()
        args = [str(bindir / "postgres"), "-D", str(data), "-p", str(port)]
        args += [f"-c{name}={value}" for name, value in settings.items()]
        log = (root / "server.log").open("ab")
        extra: dict[str, object] = {}
        if runas is not None:
            extra = {"user": runas[0], "group": runas[1], "extra_groups": []}
        process = subprocess.Popen(
            args,
            stdout=log,
            stderr=log,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_die_with_parent,
            **extra,
        )  # type: ignore[call-overload]
        log.close()
        server = PgServer("127.0.0.1", port, DATABASE, USER, password, tls, root, ca, process)
        if _wait_ready(server, admin_password):
            break
        server.process = None
        if process.poll() is None:
            process.kill()
        process.wait()
    else:
        tail = (root / "server.log").read_text(errors="replace")[-2000:]
        raise PostgresUnavailable(f"the PostgreSQL test server did not start:\n{tail}")
    _create_fixtures(server, admin_password)
    return server


def _admin(server: PgServer, password: str, dbname: str = "postgres") -> psycopg.Connection:
    sslmode = "require" if server.tls else "disable"
    return psycopg.connect(
        host=server.host,
        port=server.port,
        dbname=dbname,
        user="postgres",
        password=password,
        sslmode=sslmode,
        connect_timeout=5,
        autocommit=True,
    )


def _wait_ready(server: PgServer, admin_password: str) -> bool:
    assert server.process is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            return False
        try:
            _admin(server, admin_password).close()
            return True
        except psycopg.OperationalError:
            time.sleep(0.1)
    return False


def _create_fixtures(server: PgServer, admin_password: str) -> None:
    with _admin(server, admin_password) as conn:
        conn.execute(
            psycopg.sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                psycopg.sql.Identifier(server.user), psycopg.sql.Literal(server.password)
            )
        )
        conn.execute(
            psycopg.sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                psycopg.sql.Identifier(REJECTED_USER), psycopg.sql.Literal(server.password)
            )
        )
        conn.execute(f"CREATE DATABASE {server.database}")
    with _admin(server, admin_password, server.database) as conn:
        conn.execute(TABLES_SQL.format(user=server.user))  # type: ignore[arg-type]


@contextmanager
def running(
    *, tls: bool, password: str | None = None, names: Sequence[str] = (), admit: str = "all"
) -> Iterator[PgServer]:
    server = start(tls=tls, password=password, names=names, admit=admit)
    try:
        yield server
    finally:
        server.stop()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run a throwaway PostgreSQL server.")
    parser.add_argument("--tls", action="store_true", help="TLS only, self-signed certificate")
    parser.add_argument(
        "--password-env",
        metavar="NAME",
        help="the reader's password is in this environment variable (default: random); "
        "never on the command line, where `ps` shows it",
    )
    parser.add_argument("--prefix", default="PG", help="prefix of the printed variables")
    args = parser.parse_args(argv)
    try:
        password = os.environ.get(args.password_env) if args.password_env else None
        server = start(tls=args.tls, password=password)
    except PostgresUnavailable as error:
        print(f"pgserver: {error}", file=sys.stderr)
        return 1
    stop = [False]

    def on_signal(signum: int, frame: object) -> None:
        stop[0] = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        p = args.prefix
        print(
            f"export {p}_HOST={server.host} {p}_PORT={server.port} {p}_DATABASE={server.database}"
        )
        print(f"export {p}_USER={server.user} {p}_CA_FILE={server.ca_file or ''}", flush=True)
        while not stop[0]:
            time.sleep(0.2)
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
