"""Services that are not (quite) PostgreSQL, on loopback: a proxy that forwards the login and
then stalls, like a PgBouncer whose pool is exhausted, and an SSH-style banner."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class StallingProxy:
    """Forwards to a plain-text PostgreSQL until the server says ReadyForQuery, then swallows
    everything the client sends and answers nothing. `connections` counts every connection
    made to it: a driver that sends a cancel request opens a second one."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.connections = 0
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        server.close()
        tasks = asyncio.all_tasks(self._loop)
        for task in tasks:
            task.cancel()
        self._loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
        self._loop.run_until_complete(server.wait_closed())
        self._loop.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        stalled = asyncio.Event()

        async def client_to_server() -> None:
            while data := await reader.read(65536):
                if not stalled.is_set():  # the query never reaches the server
                    up_writer.write(data)
                    await up_writer.drain()

        async def server_to_client() -> None:
            pending = b""
            while not stalled.is_set() and (data := await up_reader.read(65536)):
                writer.write(data)
                await writer.drain()
                pending += data
                while len(pending) >= 5:  # a message: type, then its length with itself
                    length = int.from_bytes(pending[1:5], "big")
                    if len(pending) < 1 + length:
                        break
                    if pending[:1] == b"Z":
                        stalled.set()
                    pending = pending[1 + length :]

        try:
            await asyncio.gather(client_to_server(), server_to_client(), return_exceptions=True)
        finally:
            for w in (writer, up_writer):
                w.close()

    def __enter__(self) -> StallingProxy:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


@contextmanager
def banner_service(banner: bytes = b"SSH-2.0-OpenSSH_9.6\r\n") -> Iterator[int]:
    """A port that greets every connection with `banner`, then waits, as sshd does."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    listener.settimeout(0.1)
    held: list[socket.socket] = []
    stop = threading.Event()

    def answer() -> None:
        while not stop.is_set():
            try:
                conn = listener.accept()[0]
            except OSError:
                continue
            conn.sendall(banner)
            held.append(conn)

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        listener.close()
