"""``serve`` against hostile requests and broken shows: it keeps serving, injects nothing, leaves nothing."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import pytest

from entretiens import serve
from entretiens.errors import EntretiensError
from showbuilder import make_show

#: Generous bound on waiting for a background event; never a speed assertion.
PATIENCE = 60.0


def grown(items: list[EntretiensError], count: int) -> bool:
    return len(items) > count


def wait_until(condition: Callable[[], bool]) -> bool:
    limit = time.monotonic() + PATIENCE
    while time.monotonic() < limit:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


@pytest.fixture
def public(tmp_path: Path) -> Path:
    root = tmp_path / "public"
    (root / "ep").mkdir(parents=True)
    (root / "index.html").write_text("<h1>home</h1>")
    (root / "ep" / "index.html").write_text("<h1>episode</h1>")
    (root / "audio.mp3").write_bytes(bytes(range(256)) * 40)
    return root


@contextlib.contextmanager
def running(root: Path, **options: object) -> Iterator[int]:
    server = serve.make_server(root, 0, **options)  # type: ignore[arg-type]
    thread = threading.Thread(target=lambda: server.serve_forever(poll_interval=0.05), daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def port(public: Path) -> Iterator[int]:
    with running(public) as number:
        yield number


def raw(port: int, request: bytes) -> bytes:
    """Send bytes as they are (http.client would refuse some) and read the whole answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        # A server that answers at once (503 when too busy) may have closed already: its answer
        # is still there to read.
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_WR)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return data


def head_of(answer: bytes) -> tuple[str, dict[str, str]]:
    head = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    headers = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return head[0], headers


def get(port: int, path: str, *headers: str) -> tuple[str, dict[str, str]]:
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close", *headers]
    return head_of(raw(port, ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")))


def test_crlf_in_the_path_never_reaches_the_location_header(port: int) -> None:
    status, headers = get(port, "/%0d%0aSet-Cookie:%20stolen=1%0d%0aX:/../ep")
    assert "set-cookie" not in headers and "x" not in headers
    if status.startswith("HTTP/1.1 301"):
        assert "\r" not in headers["location"] and "\n" not in headers["location"]
        assert headers["location"] == "/ep/"


@pytest.mark.parametrize("path", ["/%2fevil.example/..%2fep", "//evil.example/../ep", "/%5cevil.example/..%2fep"])
def test_no_open_redirect(port: int, path: str) -> None:
    status, headers = get(port, path)
    location = headers.get("location", "")
    assert not location.startswith("//") and "evil.example" not in location, (status, location)
    assert not location.startswith("/\\")


def test_a_5000_digit_range_does_not_crash_the_server(port: int) -> None:
    status, _ = get(port, "/audio.mp3", "Range: bytes=" + "9" * 5000 + "-")
    assert status.startswith("HTTP/1.1 416")
    status, headers = get(port, "/audio.mp3", "Range: bytes=0-" + "9" * 5000)
    assert status.startswith("HTTP/1.1 206") and headers["content-range"] == "bytes 0-10239/10240"
    status, headers = get(port, "/audio.mp3", "Range: bytes=-" + "9" * 5000)
    assert status.startswith("HTTP/1.1 206") and headers["content-length"] == "10240"
    assert get(port, "/")[0].startswith("HTTP/1.1 200")


@pytest.mark.parametrize("path", ["/" + "a" * 5000, "/ep/" + "b" * 300 + "/x", "/%00", "/ep%00/"])
def test_odd_paths_are_not_found_and_the_server_lives_on(port: int, path: str) -> None:
    assert get(port, path)[0].startswith("HTTP/1.1 404")
    assert get(port, "/")[0].startswith("HTTP/1.1 200")


def test_an_idle_connection_is_closed_after_the_timeout(public: Path) -> None:
    with (
        running(public, idle_timeout=0.3) as port,
        socket.create_connection(("127.0.0.1", port), timeout=PATIENCE) as sock,
    ):
        # Says nothing: the server hangs up instead of keeping a thread for it forever.
        assert sock.recv(1024) == b""


def _status(port: int) -> str:
    """The status line of GET /, or "" when the connection broke before an answer."""
    try:
        return get(port, "/")[0]
    except OSError:
        return ""


def test_connections_beyond_the_bound_are_turned_away(public: Path) -> None:
    with running(public, max_connections=2) as port:
        idle = [socket.create_connection(("127.0.0.1", port), timeout=PATIENCE) for _ in range(2)]
        try:
            # The server counts a connection once its accepting thread has taken it: under load
            # that can come after our first request, so ask until the bound shows.
            assert wait_until(lambda: _status(port).startswith("HTTP/1.1 503"))
        finally:
            for sock in idle:
                sock.close()
        assert wait_until(lambda: _status(port).startswith("HTTP/1.1 200"))


def test_the_watcher_survives_errors_that_are_not_entretiens_errors(tmp_path: Path) -> None:
    root = make_show(tmp_path / "show")
    templates = root / "templates"
    templates.mkdir()
    home = templates / "index.html.j2"
    home.write_text("good {{ show.title }}")
    built: list[object] = []
    errors: list[EntretiensError] = []
    with serve.Preview(root, port=0, interval=0.05, on_build=built.append, on_error=errors.append) as preview:
        preview.start()
        port = int(preview.url.rsplit(":", 1)[1].strip("/"))
        assert raw(port, b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n").endswith(b"good Test Talks")
        # A TypeError, then a RecursionError, raised while rendering: neither is an EntretiensError.
        for broken in ("\n{{ show.title + 1 }}", "{% macro f() %}{{ f() }}{% endmacro %}\n\n{{ f() }}"):
            count = len(errors)
            home.write_text(broken)
            assert wait_until(partial(grown, errors, count)), "the watcher did not report the error"
            assert "index.html.j2" in str(errors[-1])
            # The last good build is still served.
            assert raw(port, b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n").endswith(b"good Test Talks")
        home.write_text("fixed {{ show.title }}")
        assert wait_until(lambda: len(built) > 0), "the watcher stopped rebuilding"
        assert raw(port, b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n").endswith(b"fixed Test Talks")


def test_an_unexpected_error_is_reported_with_its_template_line(tmp_path: Path) -> None:
    root = make_show(tmp_path / "show")
    (root / "templates").mkdir()
    (root / "templates" / "index.html.j2").write_text("ok {{ show.title }}")
    errors: list[EntretiensError] = []
    with serve.Preview(root, port=0, interval=3600, on_error=errors.append) as preview:
        preview.start()
        (root / "templates" / "index.html.j2").write_text("line one\nline two\n{{ show.title + 1 }}\n")
        assert preview.check() or preview.check()
    (error,) = errors
    assert "index.html.j2:3" in str(error)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_removes_the_temporary_build(tmp_path: Path, signum: int) -> None:
    root = make_show(tmp_path / "show")
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    process = subprocess.Popen(
        [sys.executable, "-m", "entretiens", "serve", "--show", str(root), "--port", "0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "TMPDIR": str(temporary), "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stderr is not None
        # The progress messages go to stderr; the line comes once the first build is served.
        line = process.stderr.readline()
        assert b"Serving" in line, line
        assert any(temporary.iterdir()), "the build is not in the temporary folder"
        process.send_signal(signum)
        process.communicate(timeout=PATIENCE)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert list(temporary.iterdir()) == []
