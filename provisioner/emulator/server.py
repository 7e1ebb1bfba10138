"""A threaded HTTP/1.1 server with keep-alive that runs the emulator's WSGI app.

wsgiref's server closes every connection and handles one request at a time; this one gives
each connection a daemon thread and keeps it open, which is what real clients (and the load
check) need. It understands just enough HTTP for JSON APIs: no chunked request bodies.
"""

from __future__ import annotations

import contextlib
import io
import json
import socket
import sys
import threading
from collections.abc import Iterable
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from provisioner.emulator.app import Emulator
from provisioner.emulator.faults import ConnectionDropped
from provisioner.emulator.hosts import HostCheck

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256  # the default 5 drops bursts of new connections

    def __init__(self, address: tuple[str, int], emulator: Emulator, hosts: HostCheck) -> None:
        self.emulator = emulator
        self.hosts = hosts
        self.open_sockets: set[socket.socket] = set()
        self.sockets_lock = threading.Lock()
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that vanished mid-response is routine; anything else is worth a traceback.
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)

    def close_all(self) -> None:
        with self.sockets_lock:
            sockets = list(self.open_sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "provision-emulator"
    timeout = 120  # idle keep-alive connections are closed after this many seconds
    server: _Server

    def setup(self) -> None:
        super().setup()
        # One write per response already; NODELAY also avoids delayed-ACK stalls.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.sockets_lock:
            self.server.open_sockets.add(self.connection)

    def finish(self) -> None:
        with self.server.sockets_lock:
            self.server.open_sockets.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: the CLI prints where it listens; counters are on the admin route

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # The stdlib answers bad request lines with HTML (and no status line for "HTTP/0.9");
        # answer JSON in the gateway's shape instead and drop the connection.
        self.close_connection = True
        reason = self.responses.get(code, ("Error",))[0]
        body = {"error_code": f"{code}000", "message": message or reason}
        self._write(
            f"{code} {reason}", [("Content-Type", "application/json")], json.dumps(body).encode()
        )

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    def _serve(self) -> None:
        host = self.headers.get("Host")
        if not self.server.hosts.accepts(host):
            self.send_error(
                403, self.server.hosts.refusal(host or "", self.server.server_address[1])
            )
            return
        if self.headers.get("Transfer-Encoding"):
            self.send_error(411, "Content-Length required; chunked bodies are not supported")
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        body = b""
        if length < 0:
            self.send_error(400, "Bad Content-Length")
            return
        if length <= self.server.emulator.config.max_body_bytes:
            body = self.rfile.read(length)
            if len(body) < length:  # the client hung up mid-body: nobody to answer
                self.close_connection = True
                return
        else:
            # The app answers 413 from the header alone; the unread body poisons the
            # connection, so close it afterwards.
            self.close_connection = True
        self._run_app(self._environ(body, length))

    def _environ(self, body: bytes, length: int) -> WSGIEnvironment:
        path, _, query = self.path.partition("?")
        environ: dict[str, Any] = {
            "REQUEST_METHOD": self.command,
            # PEP 3333: PATH_INFO is the decoded path as latin-1 text.
            "PATH_INFO": unquote(path, encoding="latin-1"),
            "QUERY_STRING": query,
            "SERVER_NAME": self.server.server_address[0],
            "SERVER_PORT": str(self.server.server_address[1]),
            "SERVER_PROTOCOL": self.request_version,
            "REMOTE_ADDR": self.client_address[0],
            "CONTENT_LENGTH": str(length) if length else "",
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        for name, value in self.headers.items():
            key = "HTTP_" + name.upper().replace("-", "_")
            if key not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
                environ[key] = f"{environ[key]},{value}" if key in environ else value
        return environ

    def _run_app(self, environ: WSGIEnvironment) -> None:
        started: list[Any] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            started[:] = [status, headers]
            return lambda data: None

        try:
            chunks = self.server.emulator(environ, start_response)
            payload = b"".join(chunks)
        except ConnectionDropped:
            # Injected fault: the request took effect, the client gets no response at all.
            self.close_connection = True
            return
        status, headers = started
        self._write(status, headers, payload)

    def _write(self, status: str, headers: list[tuple[str, str]], payload: bytes) -> None:
        lines = [
            f"HTTP/1.1 {status}",
            f"Server: {self.server_version}",
            f"Date: {formatdate(usegmt=True)}",
        ]
        lines += [f"{k}: {v}" for k, v in headers if k.lower() != "content-length"]
        lines.append(f"Content-Length: {len(payload)}")
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        if self.command == "HEAD":
            payload = b""
        self.wfile.write(head + payload)


class RunningServer:
    """The emulator serving on a socket in background threads; close it (or use ``with``)."""

    def __init__(
        self, emulator: Emulator, host: str, port: int, allowed_hosts: Iterable[str] = ()
    ) -> None:
        self.emulator = emulator
        names = frozenset(name.strip().lower().rstrip(".") for name in allowed_hosts)
        self._server = _Server((host, port), emulator, HostCheck(host, names))
        bound_host, bound_port = self._server.server_address[:2]
        self.host = str(bound_host)
        self.port = int(bound_port)
        self._thread = threading.Thread(
            # A short poll keeps close() quick; the loop is idle otherwise.
            target=lambda: self._server.serve_forever(poll_interval=0.05),
            name="emulator-server",
            daemon=True,
        )
        self._thread.start()

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def open_connections(self) -> int:
        """Client connections currently open (keep-alive makes this one per client)."""
        with self._server.sockets_lock:
            return len(self._server.open_sockets)

    def close(self) -> None:
        self._server.shutdown()
        self._server.close_all()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def serve(
    emulator: Emulator, host: str = "127.0.0.1", port: int = 0, allowed_hosts: Iterable[str] = ()
) -> RunningServer:
    """Serve ``emulator`` on ``host:port`` (0: a free port) until ``.close()``; requests are
    answered only for loopback Host names, ``host`` itself and ``allowed_hosts`` (hosts.py)."""
    return RunningServer(emulator, host, port, allowed_hosts)
