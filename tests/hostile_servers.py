"""Misbehaving HTTP(S) servers on 127.0.0.1, written at the socket level so that they can cheat.

Each server runs a handler per connection in a daemon thread; the handler gets the request
(method, path, headers) and the raw socket, and writes whatever bytes it likes, as slowly as
it likes. Handlers should loop on ``server.stopping`` so that tests end promptly.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import subprocess
import threading
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from audiogen import require_tool


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]


Handler = Callable[["Server", Request, socket.socket], None]


@dataclass
class Server:
    handler: Handler
    tls: ssl.SSLContext | None = None
    stopping: threading.Event = field(default_factory=threading.Event)
    requests: list[Request] = field(default_factory=list)
    port: int = 0
    #: Set when a :func:`dribbling` answer went the whole way: no deadline ended it.
    ran_out: threading.Event = field(default_factory=threading.Event)

    @property
    def base(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def url(self, path: str = "/") -> str:
        return self.base + path

    def wait(self, seconds: float) -> bool:
        """Sleep, unless the test is over: True when the server should stop."""
        return self.stopping.wait(seconds)


def read_request(conn: socket.socket) -> Request | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return None
        data += chunk
        if len(data) > 65536:
            return None
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    method, path, _ = head[0].split(" ", 2)
    headers = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Request(method, path, headers)


@contextlib.contextmanager
def serve(handler: Handler, *, tls: ssl.SSLContext | None = None) -> Iterator[Server]:
    """A server running ``handler`` for each connection, until the block ends."""
    server = Server(handler=handler, tls=tls)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.2)
    server.port = listener.getsockname()[1]

    def one(conn: socket.socket) -> None:
        with contextlib.suppress(OSError), contextlib.ExitStack() as stack:
            stack.enter_context(conn)
            if tls is not None:
                conn = stack.enter_context(tls.wrap_socket(conn, server_side=True))
            conn.settimeout(30)
            while not server.stopping.is_set():
                request = read_request(conn)
                if request is None:
                    return
                server.requests.append(request)
                server.handler(server, request, conn)
                if request.headers.get("connection", "").lower() == "close":
                    return

    def accept() -> None:
        while not server.stopping.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=one, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stopping.set()
        thread.join(5)
        listener.close()


def answer(conn: socket.socket, status: str, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
    """Send a complete answer with a Content-Length."""
    lines = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)


def gzip_bomb(size: int) -> bytes:
    """``size`` zero bytes, gzipped: about a thousandth of that on the wire."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b"\0" * (1 << 20)
    parts = [packer.compress(block[: min(len(block), size - done)]) for done in range(0, size, len(block))]
    return b"".join([*parts, packer.flush()])


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, made by the openssl command."""
    openssl = require_tool("openssl")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def tls_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


#: How long a dribbling answer goes on: far past every deadline tested. Then it notes that it
#: ran out and closes the connection, so that a client without a working deadline fails its
#: test (``server.ran_out``) instead of hanging it.
DRIBBLE_MOST = 10.0


def dribbling(server: Server, conn: socket.socket, piece: bytes, every: float) -> None:
    """Send ``piece`` every ``every`` seconds, for :data:`DRIBBLE_MOST` seconds at most."""
    for _ in range(round(DRIBBLE_MOST / every)):
        if server.wait(every):
            return
        conn.sendall(piece)  # raises (and ends the connection) once the client has left
    server.ran_out.set()
    conn.shutdown(socket.SHUT_RDWR)
