"""``provision emulator``: run the Flow Service + IMS emulator on a local socket."""

from __future__ import annotations

import argparse
import re
import shlex
import signal
import sqlite3
import sys
import threading
from collections.abc import Callable, Sequence
from types import FrameType

from provisioner.emulator import config as defaults
from provisioner.emulator.app import Emulator
from provisioner.emulator.config import EmulatorConfig
from provisioner.emulator.databases import psycopg_available
from provisioner.emulator.dataflow_options import DataflowOptions, parse_option
from provisioner.emulator.fault_options import add_fault_options, faults_from_args
from provisioner.emulator.hosts import is_loopback
from provisioner.emulator.rehearsal import Rehearsal, Scope, preload
from provisioner.emulator.server import serve

DESCRIPTION = """\
Run a local stand-in for Adobe's Flow Service (connections and dataflows), Data Prep mapping
sets, Catalog datasets (read-only, preloaded) and the IMS token endpoint, so `provision
plan/apply` can be rehearsed with no Adobe account. All are served on one host:port; on
start the emulator prints the environment to export to point `provision` at it.
State lives in memory unless --state names a SQLite file (kept across restarts).
Given manifests, it serves exactly the orgs and sandboxes (with their clouds) they name, so
`provision plan` on the same manifests works against it with no other flag. When they name
several orgs, every org after the first gets a client credential of its own, printed as
AEP_CLIENT_ID__<ORG> / AEP_CLIENT_SECRET__<ORG> (the variables provision reads for it).
The datasets their dataflows name are preloaded into Catalog, and the tables they name are
listed by offline explore with their columns, so a dataflow can be rehearsed too.
"""

EPILOG = """\
examples:
  provision emulator                          # http://127.0.0.1:8080, sandboxes prod,dev,stage
  provision emulator configs/                 # the orgs and sandboxes configs/ names
  provision emulator --sandboxes prod,prod-aws:aws   # a sandbox on AWS takes AWS payloads only
  provision emulator --port 0 --state emu.db  # a free port; connections survive restarts
  provision emulator --latency-ms 50 --rate-429 0.1 --rate-commit-then-drop 0.05 --seed 7
  provision emulator --latency-ms 50 --rate-limit 100   # Adobe-like throttle: 100 req/s per org

faults can also be changed while it runs:
  curl -X PUT localhost:8080/__emulator/faults -d '{"rate_5xx": 0.2}'
  curl -X PUT localhost:8080/__emulator/faults -d '{"rate_limit": null}'   # lift the limit
  curl localhost:8080/__emulator/requests     # request counters
  curl -X DELETE localhost:8080/__emulator/tokens   # revoke every token (clients see 401)
  curl -X POST localhost:8080/__emulator/dataflows -d '{"org": "...", "sandbox": "prod",
    "connection_id": "...", "name": "nightly"}'   # deleting that connection: FLOW-1418-400
  curl -X POST localhost:8080/__emulator/datasets -d '{"org": "...", "sandbox": "prod",
    "name": "Orders", "schemaId": "https://ns.adobe.com/acme/schemas/1234"}'
  curl -X POST localhost:8080/__emulator/tables -d '{"host": "pg.example.test",
    "database": "orders", "path": "public.orders", "columns": [{"name": "id", "type":
    "integer"}, {"name": "updated_at", "type": "timestamp"}]}'   # what offline explore lists
  curl -X POST localhost:8080/__emulator/runs -d '{"org": "...", "sandbox": "prod",
    "flowId": "...", "failedRecordCount": 3, "errors": [{"code": "X", "message": "..."}]}'
  curl -X PUT localhost:8080/__emulator/options -d '{"repeated_action": "accepted"}'
"""


def _csv(text: str) -> tuple[str, ...]:
    items = tuple(part.strip() for part in text.split(",") if part.strip())
    if not items:
        raise argparse.ArgumentTypeError("expected a comma-separated list")
    return items


def _sandboxes(text: str) -> tuple[tuple[str, str | None], ...]:
    pairs = []
    for item in _csv(text):
        name, _, cloud = item.partition(":")
        if cloud and cloud not in defaults.CLOUDS:
            raise argparse.ArgumentTypeError(
                f"{item!r}: the cloud after ':' is one of {', '.join(defaults.CLOUDS)}"
            )
        pairs.append((name.strip(), cloud or None))
    return tuple(pairs)


def _dataflow_option(text: str) -> tuple[str, str]:
    try:
        key, value = parse_option(text)
        DataflowOptions().changed({key: value})
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return key, value


def build_parser(prog: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=prog,
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="manifests: serve the orgs and sandboxes (and clouds) they name",
    )
    net = p.add_argument_group("where")
    net.add_argument("--host", default="127.0.0.1", help="interface to bind (default: %(default)s)")
    net.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="also answer requests for this Host name, e.g. a container's service name; "
        "repeatable (default: loopback names and addresses, --host, and with --host 0.0.0.0 "
        "any IP address: a web page cannot rebind those)",
    )
    net.add_argument(
        "--port", type=int, default=8080, help="port; 0 picks a free one (default: %(default)s)"
    )
    net.add_argument(
        "--state", metavar="FILE", help="SQLite file to keep the state in (default: memory)"
    )

    who = p.add_argument_group("identity (fake credentials, not secrets)")
    who.add_argument(
        "--client-id", default=defaults.DEFAULT_CLIENT_ID, help="(default: %(default)s)"
    )
    who.add_argument(
        "--client-secret", default=defaults.DEFAULT_CLIENT_SECRET, help="(default: %(default)s)"
    )
    who.add_argument(
        "--org",
        action="append",
        metavar="ORG",
        help=f"IMS org id, repeatable (default: {defaults.DEFAULT_ORG})",
    )
    who.add_argument(
        "--sandboxes",
        type=_sandboxes,
        metavar="A,B:aws",
        help="sandboxes of every org, each optionally NAME:azure or NAME:aws (no cloud: see "
        "--unnamed-cloud); others get FLOW-2100-404 (default: those the manifests name, else "
        "prod,dev,stage)",
    )
    who.add_argument(
        "--any-sandbox",
        action="store_true",
        help="accept any lowercase sandbox name instead of a fixed list",
    )
    who.add_argument(
        "--token-lifetime",
        type=int,
        default=defaults.DEFAULT_TOKEN_LIFETIME,
        metavar="SECONDS",
        help="expires_in of issued tokens (default: %(default)s)",
    )

    api = p.add_argument_group("open choices (Adobe does not document these)")
    api.add_argument(
        "--unnamed-cloud",
        choices=defaults.UNNAMED_CLOUDS,
        default="pinned",
        help="a sandbox given no cloud: pinned by its first connection whose form only one "
        "cloud takes, or azure (AEP's default cloud) (default: %(default)s)",
    )
    api.add_argument(
        "--dataflow-option",
        action="append",
        type=_dataflow_option,
        default=[],
        metavar="KEY=VALUE",
        help="one of Adobe's open dataflow choices, repeatable; `GET /__emulator/options` "
        "lists them with their defaults (e.g. min_interval_other=1, repeated_action=accepted)",
    )
    api.add_argument(
        "--lenient",
        action="store_true",
        help="the laxer readings where Adobe is silent: unknown body keys dropped, filters "
        "and orderby on unknown fields match nothing, a sandbox with no cloud takes both "
        "clouds' forms (default: all refused, with a 400 naming the closest field)",
    )
    api.add_argument(
        "--page-size",
        type=int,
        default=defaults.DEFAULT_PAGE_SIZE,
        metavar="N",
        help="items per page without `limit` (default: %(default)s)",
    )
    api.add_argument(
        "--max-page-size",
        type=int,
        default=defaults.DEFAULT_MAX_PAGE_SIZE,
        metavar="N",
        help="larger `limit`s are clamped to this (default: %(default)s)",
    )
    api.add_argument(
        "--port-type",
        choices=defaults.PORT_TYPES,
        default="string",
        help="whether auth.params.port may be a JSON integer (default: %(default)s)",
    )
    api.add_argument(
        "--ssl-modes",
        type=_csv,
        default=defaults.DEFAULT_SSL_MODES,
        metavar="A,B",
        help=f"accepted sslMode spellings (default: {','.join(defaults.DEFAULT_SSL_MODES)})",
    )
    api.add_argument(
        "--mask-style",
        choices=defaults.MASK_STYLES,
        default="stars",
        help="how secret params read back: ******** / omitted / ENC(hash) (default: %(default)s)",
    )
    api.add_argument(
        "--max-body-bytes",
        type=int,
        default=defaults.DEFAULT_MAX_BODY_BYTES,
        metavar="N",
        help="larger request bodies get 413 (default: %(default)s)",
    )

    db = p.add_argument_group("databases (GET /connections/{id}/test and /explore)")
    db.add_argument(
        "--databases",
        choices=defaults.DATABASE_MODES,
        default="connect" if psycopg_available() else "offline",
        help="connect: open a real PostgreSQL connection to the server each connection names; "
        "offline: hosts under .invalid fail, the rest pass, explore lists the preloaded tables "
        "(default: connect when psycopg is installed, else offline)",
    )
    db.add_argument(
        "--database-timeout",
        type=float,
        default=defaults.DEFAULT_DATABASE_TIMEOUT,
        metavar="SECONDS",
        help="give up on a database after this long (default: %(default)s)",
    )
    db.add_argument(
        "--database-ca-file",
        metavar="FILE",
        help="CA certificates for sslMode Verify Ca/Verify Full (default: the system's)",
    )

    add_fault_options(p)
    return p


# Reads manifests into what they name (scopes, datasets, tables). The provisioner's CLI passes
# it: this package imports nothing from the provisioner, which owns manifest loading.
ManifestLoader = Callable[[Sequence[str]], Rehearsal]


def config_from_args(args: argparse.Namespace, scopes: Sequence[Scope] = ()) -> EmulatorConfig:
    faults = faults_from_args(args)
    sandboxes: dict[str, str | None] = {sandbox: cloud for _, sandbox, cloud in scopes}
    for name, cloud in args.sandboxes or ():
        sandboxes[name] = cloud or sandboxes.get(name)
    if not sandboxes:
        sandboxes = dict.fromkeys(defaults.DEFAULT_SANDBOXES)
    orgs = dict.fromkeys([*(org for org, _, _ in scopes), *(args.org or ())])
    # Like real orgs, each org after the first answers only a client of its own.
    org_clients = tuple(
        (org, f"{args.client_id}-{n}", f"{args.client_secret}-{n}")
        for n, org in enumerate(list(orgs)[1:], start=2)
    )
    config = EmulatorConfig(
        client_id=args.client_id,
        client_secret=args.client_secret,
        orgs=tuple(orgs or (defaults.DEFAULT_ORG,)),
        org_clients=org_clients,
        sandboxes=tuple(sandboxes),
        clouds=tuple((name, cloud) for name, cloud in sandboxes.items() if cloud),
        any_sandbox=args.any_sandbox,
        lenient=args.lenient,
        unnamed_cloud=args.unnamed_cloud,
        dataflow=DataflowOptions().changed(dict(args.dataflow_option)),
        token_lifetime_s=args.token_lifetime,
        page_size=args.page_size,
        max_page_size=args.max_page_size,
        port_type=args.port_type,
        ssl_modes=tuple(args.ssl_modes),
        mask_style=args.mask_style,
        max_body_bytes=args.max_body_bytes,
        faults=faults,
        seed=args.seed,
        state_file=args.state,
        databases=args.databases,
        database_timeout_s=args.database_timeout,
        database_ca_file=args.database_ca_file,
    )
    config.validate()
    return config


def org_suffix(org: str) -> str:
    # provisioner/remote/orgs.py's rule, repeated: this package imports nothing from the
    # provisioner (tests/emulator/test_emu_orgs.py checks the two agree).
    return re.sub(r"[^A-Z0-9]", "_", org.split("@", 1)[0].upper())


def banner(url: str, config: EmulatorConfig, preloaded: tuple[int, int] = (0, 0)) -> str:
    q = shlex.quote
    clouds = dict(config.clouds)
    named = (f"{name} ({clouds[name]})" if name in clouds else name for name in config.sandboxes)
    sandboxes = "any lowercase name" if config.any_sandbox else ", ".join(named)
    return "\n".join(
        [
            f"# provision emulator listening on {url} (state: {config.state_file or 'in memory'})",
            "# The client secret below is the emulator's own fake credential, not a real secret.",
            f"export AEP_IMS_URL={q(url)}",
            f"export AEP_PLATFORM_URL={q(url)}",
            f"export AEP_CLIENT_ID={q(config.client_id)}",
            f"export AEP_CLIENT_SECRET={q(config.client_secret)}",
            *(
                line
                for org, client_id, secret in config.org_clients
                for line in (
                    f"export AEP_CLIENT_ID__{org_suffix(org)}={q(client_id)}",
                    f"export AEP_CLIENT_SECRET__{org_suffix(org)}={q(secret)}",
                )
            ),
            f"# org: {', '.join(config.orgs)}",
            f"# sandboxes: {sandboxes}",
            *(
                [
                    f"# from the manifests' dataflows: {preloaded[0]} dataset(s) in Catalog, "
                    f"{preloaded[1]} table(s) explore answers without a database"
                ]
                if any(preloaded)
                else []
            ),
            "# /test and /explore: "
            + (
                "connect to each connection's PostgreSQL server"
                if config.databases == "connect"
                else "offline (hosts under .invalid fail, the rest pass)"
            ),
            "# Press Ctrl-C to stop.",
        ]
    )


def exposed_warning(prog: str, host: str, port: int) -> str:
    return (
        f"{prog}: warning: listening on {host}, not a loopback address: whoever can reach "
        f"port {port} can read every stored password (GET /__emulator/state) and change the "
        "emulator, with no authentication; use --host 127.0.0.1 unless other machines must "
        "reach it"
    )


def main(
    argv: Sequence[str] | None = None,
    prog: str = "provision emulator",
    load_manifests: ManifestLoader | None = None,
) -> int:
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    if args.paths and load_manifests is None:
        parser.error("manifest paths are read by `provision emulator PATH...`, not this entry")
    rehearsal = load_manifests(args.paths) if args.paths and load_manifests else Rehearsal(())
    try:
        config = config_from_args(args, rehearsal.scopes)
        emulator = Emulator(config)
        preloaded = preload(emulator, rehearsal)
    except (ValueError, OSError, sqlite3.Error) as exc:
        where = f" (state file {args.state})" if isinstance(exc, sqlite3.Error) else ""
        print(f"{prog}: error: {exc}{where}", file=sys.stderr)
        return 1
    try:
        running = serve(emulator, args.host, args.port, args.allow_host)
    except OSError as exc:
        emulator.close()
        print(f"{prog}: error: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    if not is_loopback(args.host):
        print(exposed_warning(prog, args.host, running.port), file=sys.stderr, flush=True)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        print(banner(running.url, config, preloaded), flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        running.close()
        emulator.close()
    print("# provision emulator stopped", flush=True)
    return 0
