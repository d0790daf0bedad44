"""entretiens.net against hostile servers: every request bounded in size and time, every failure plain.

The servers run on 127.0.0.1 and misbehave at the socket level (tests/hostile_servers.py);
limits are small so that each case ends in well under a second or two.
"""

from __future__ import annotations

import gzip
import os
import socket
from pathlib import Path

import pytest
import requests

from entretiens import net
from entretiens.errors import NetworkError
from hostile_servers import Request, Server, answer, dribbling, gzip_bomb, self_signed, serve, tls_context

SMALL = net.Limits(max_bytes=1 << 20, connect_timeout=2, stall_timeout=1, deadline=3)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(net.DOWNLOAD_PREFIX))


def endless(server: Server, request: Request, conn: socket.socket) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: audio/mpeg\r\n\r\n")
    block = b"\xff" * 65536
    while not server.stopping.is_set():
        conn.sendall(block)


def dribble(server: Server, request: Request, conn: socket.socket) -> None:
    # 16 bytes every so often: never a stall, no end before every deadline tested.
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\n\r\n")
    dribbling(server, conn, b"x" * 16, 0.2)


def test_endless_body_stops_at_the_size_cap(tmp_path: Path) -> None:
    with serve(endless) as server:
        with pytest.raises(NetworkError, match=r"larger than the limit of 1 MiB"):
            net.fetch(server.url("/a.mp3"), limits=SMALL)
        with pytest.raises(NetworkError, match=r"larger than the limit of 1 MiB"):
            net.download(server.url("/a.mp3"), tmp_path / "a.mp3", limits=SMALL)
    assert not (tmp_path / "a.mp3").exists()
    assert leftovers(tmp_path) == []


def test_a_declared_length_over_the_cap_is_refused_before_reading(tmp_path: Path) -> None:
    def huge(server: Server, request: Request, conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n")
        server.wait(5)

    with serve(huge) as server, pytest.raises(NetworkError, match=r"larger than the limit"):
        net.download(server.url("/a.mp3"), tmp_path / "a.mp3", limits=SMALL)
    assert leftovers(tmp_path) == []


def test_a_server_dribbling_bytes_hits_the_overall_deadline(tmp_path: Path) -> None:
    limits = net.Limits(max_bytes=1 << 30, stall_timeout=1, deadline=1)
    with serve(dribble) as server:
        with pytest.raises(NetworkError, match=r"no complete answer within the deadline of 1 s"):
            net.fetch(server.url("/slow"), limits=limits)
        with pytest.raises(NetworkError, match=r"deadline of 1 s"):
            net.download(server.url("/slow"), tmp_path / "slow.mp3", limits=limits)
        assert not server.ran_out.is_set()
    assert leftovers(tmp_path) == []


def test_a_server_dribbling_its_headers_hits_the_deadline() -> None:
    # Each header byte comes before the stall timeout: only the watchdog can end this.
    def slow_headers(server: Server, request: Request, conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\n")
        dribbling(server, conn, b"X", 0.1)

    limits = net.Limits(max_bytes=1000, stall_timeout=1, deadline=0.8)
    with serve(slow_headers) as server:
        with pytest.raises(NetworkError, match=r"deadline of 0.8 s"):
            net.fetch(server.url("/"), limits=limits)
        assert not server.ran_out.is_set()


def test_a_server_dribbling_its_headers_over_tls_hits_the_deadline(tmp_path: Path) -> None:
    # The watchdog must see the sockets of https connections too, wrapped in TLS.
    cert, key = self_signed(tmp_path)

    def slow_headers(server: Server, request: Request, conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\n")
        dribbling(server, conn, b"X", 0.1)

    limits = net.Limits(max_bytes=1000, stall_timeout=1, deadline=0.8)
    with serve(slow_headers, tls=tls_context(cert, key)) as server, requests.Session() as session:
        session.verify = str(cert)
        session.trust_env = False  # REQUESTS_CA_BUNDLE would override verify
        with pytest.raises(NetworkError, match=r"deadline of 0.8 s"):
            net.fetch(server.url("/"), limits=limits, session=session)
        assert not server.ran_out.is_set()


def test_a_silent_server_hits_the_stall_timeout() -> None:
    def silent(server: Server, request: Request, conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12")
        server.wait(10)

    limits = net.Limits(max_bytes=1000, stall_timeout=0.3, deadline=10)
    with serve(silent) as server, pytest.raises(NetworkError, match=r"sent nothing for 0.3 s"):
        net.fetch(server.url("/"), limits=limits)


def test_a_connection_cut_before_content_length_is_a_network_error(tmp_path: Path) -> None:
    def cut(server: Server, request: Request, conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"a" * 100)
        conn.shutdown(socket.SHUT_RDWR)

    with serve(cut) as server:
        with pytest.raises(NetworkError, match=r"connection was cut"):
            net.fetch(server.url("/cut"), limits=SMALL)
        # Without a validator (no ETag, no Last-Modified) it cannot be resumed safely.
        with pytest.raises(NetworkError, match=r"connection was cut"):
            net.download(server.url("/cut"), tmp_path / "cut.mp3", limits=SMALL)
    assert not (tmp_path / "cut.mp3").exists()
    assert leftovers(tmp_path) == []


def test_a_cut_download_resumes_with_range(tmp_path: Path) -> None:
    data = bytes(range(256)) * 400

    def flaky(server: Server, request: Request, conn: socket.socket) -> None:
        wanted = request.headers.get("range")
        if wanted is None:
            head = f'HTTP/1.1 200 OK\r\nContent-Length: {len(data)}\r\nETag: "v1"\r\n\r\n'
            conn.sendall(head.encode() + data[:30000])
            conn.shutdown(socket.SHUT_RDWR)
            return
        assert request.headers.get("if-range") == '"v1"'
        start = int(wanted.removeprefix("bytes=").rstrip("-"))
        rest = data[start:]
        head = (
            f"HTTP/1.1 206 Partial Content\r\nContent-Length: {len(rest)}\r\n"
            f'Content-Range: bytes {start}-{len(data) - 1}/{len(data)}\r\nETag: "v1"\r\n\r\n'
        )
        conn.sendall(head.encode() + rest)

    seen: list[tuple[int, int | None]] = []
    with serve(flaky) as server:
        response = net.download(
            server.url("/ep.mp3"), tmp_path / "ep.mp3", limits=SMALL, progress=lambda d, t: seen.append((d, t))
        )
        ranges = [r.headers.get("range") for r in server.requests]
    assert (tmp_path / "ep.mp3").read_bytes() == data
    assert response.status == 206
    assert response.body == b""
    assert ranges == [None, "bytes=30000-"]
    assert seen[-1] == (len(data), len(data))
    assert leftovers(tmp_path) == []


def test_redirects_are_followed_and_recorded() -> None:
    def hops(server: Server, request: Request, conn: socket.socket) -> None:
        if request.path == "/old":
            answer(conn, "301 Moved Permanently", headers={"Location": "/middle"})
        elif request.path == "/middle":
            answer(conn, "302 Found", headers={"Location": server.url("/new")})
        else:
            answer(conn, "200 OK", b"here")

    with serve(hops) as server:
        response = net.fetch(server.url("/old"), limits=SMALL)
        assert response.body == b"here"
        assert response.url == server.url("/new")
        assert response.redirects == ((301, server.url("/middle")), (302, server.url("/new")))
        unfollowed = net.fetch(server.url("/old"), limits=SMALL, allow_redirects=False)
        assert unfollowed.status == 301
        assert unfollowed.headers["location"] == "/middle"


def test_a_redirect_loop_is_a_network_error() -> None:
    def loop(server: Server, request: Request, conn: socket.socket) -> None:
        answer(conn, "302 Found", headers={"Location": "/b" if request.path == "/a" else "/a"})

    with serve(loop) as server, pytest.raises(NetworkError, match=r"redirects in a loop"):
        net.fetch(server.url("/a"), limits=SMALL)


def test_endless_redirects_stop_after_the_maximum() -> None:
    def onwards(server: Server, request: Request, conn: socket.socket) -> None:
        answer(conn, "302 Found", headers={"Location": request.path + "x"})

    with serve(onwards) as server, pytest.raises(NetworkError, match=rf"more than {net.MAX_REDIRECTS} times"):
        net.fetch(server.url("/a"), limits=SMALL)


def test_https_to_http_downgrade_is_refused(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)

    def plain(server: Server, request: Request, conn: socket.socket) -> None:
        answer(conn, "200 OK", b"in the clear")

    with serve(plain) as http_server:

        def downgrade(server: Server, request: Request, conn: socket.socket) -> None:
            if request.path == "/ok":
                answer(conn, "200 OK", b"secret")
            else:
                answer(conn, "302 Found", headers={"Location": http_server.url("/ep.mp3")})

        with serve(downgrade, tls=tls_context(cert, key)) as tls_server, requests.Session() as session:
            session.verify = str(cert)
            session.trust_env = False  # REQUESTS_CA_BUNDLE would override verify
            assert net.fetch(tls_server.url("/ok"), limits=SMALL, session=session).body == b"secret"
            with pytest.raises(NetworkError, match=r"redirects to plain http .*refused"):
                net.fetch(tls_server.url("/ep.mp3"), limits=SMALL, session=session)
            with pytest.raises(NetworkError, match=r"redirects to plain http"):
                net.download(tls_server.url("/ep.mp3"), tmp_path / "ep.mp3", limits=SMALL, session=session)
            # Without trusting the test certificate, TLS itself fails, plainly.
            with pytest.raises(NetworkError, match=r"secure connection to 127.0.0.1 failed: .*certificate"):
                net.fetch(tls_server.url("/ok"), limits=SMALL)
        assert http_server.requests == []
    assert leftovers(tmp_path) == []


def test_a_gzip_bomb_stops_at_the_cap() -> None:
    bomb = gzip_bomb(64 << 20)
    assert len(bomb) < 200_000

    def explode(server: Server, request: Request, conn: socket.socket) -> None:
        answer(conn, "200 OK", bomb, {"Content-Encoding": "gzip"})

    with serve(explode) as server, pytest.raises(NetworkError, match=r"larger than the limit of 1 MiB"):
        net.fetch(server.url("/feed.xml"), limits=SMALL)


def test_gzip_and_deflate_bodies_are_decoded() -> None:
    import zlib

    text = b"<rss>" + b"episode " * 1000 + b"</rss>"

    def compressed(server: Server, request: Request, conn: socket.socket) -> None:
        if request.path == "/gzip":
            answer(conn, "200 OK", gzip.compress(text), {"Content-Encoding": "gzip"})
        else:
            answer(conn, "200 OK", zlib.compress(text), {"Content-Encoding": "deflate"})

    with serve(compressed) as server:
        assert net.fetch(server.url("/gzip"), limits=SMALL).body == text
        assert net.fetch(server.url("/deflate"), limits=SMALL).body == text


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://a..b/", r"not a valid web address"),
        ("ftp://example.org/a.mp3", r"not a web address"),
        ("audio/ep.mp3", r"not a web address"),
        ("http://127.0.0.1:99999/", r"not a valid web address"),
        ("http://exa mple.org/", r"not a valid web address"),
    ],
)
def test_bad_urls_are_network_errors(url: str, expected: str) -> None:
    with pytest.raises(NetworkError, match=expected):
        net.fetch(url, limits=SMALL)


def test_a_refused_connection_is_plain() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(NetworkError, match=r"cannot reach 127.0.0.1: connection refused"):
        net.fetch(f"http://127.0.0.1:{port}/", limits=SMALL)


def test_error_statuses_are_answers_for_fetch_and_errors_for_download(tmp_path: Path) -> None:
    def missing(server: Server, request: Request, conn: socket.socket) -> None:
        answer(conn, "404 Not Found", b"no")

    with serve(missing) as server:
        assert net.fetch(server.url("/x"), limits=SMALL).status == 404
        with pytest.raises(NetworkError, match=r"the server answered 404 Not Found"):
            net.download(server.url("/x"), tmp_path / "x.mp3", limits=SMALL)
    assert leftovers(tmp_path) == []


def test_an_interrupted_download_removes_its_temporary_file(tmp_path: Path) -> None:
    def stop(done: int, total: int | None) -> None:
        raise KeyboardInterrupt

    with serve(endless) as server, pytest.raises(KeyboardInterrupt):
        net.download(server.url("/a.mp3"), tmp_path / "a.mp3", limits=SMALL, progress=stop)
    assert leftovers(tmp_path) == []


def test_stale_downloads_of_dead_processes_are_removed(tmp_path: Path) -> None:
    dead = os.fork()
    if dead == 0:  # pragma: no cover - the child only exits
        os._exit(0)
    os.waitpid(dead, 0)
    stale = tmp_path / f"{net.DOWNLOAD_PREFIX}{dead}-abc"
    stale.write_bytes(b"half")
    running = tmp_path / f"{net.DOWNLOAD_PREFIX}{os.getppid()}-def"
    running.write_bytes(b"busy")
    old_style = tmp_path / f"{net.DOWNLOAD_PREFIX}k2j3h4"
    old_style.write_bytes(b"left by an older version")
    assert sorted(net.remove_stale_downloads(tmp_path)) == sorted([old_style, stale])
    assert leftovers(tmp_path) == [running.name]


def test_what_is_printed_holds_no_control_characters() -> None:
    assert net.printable("a\x1b[2Jb\r\nc\u202e") == "a\\x1b[2Jb\\r\\nc\\u202e"
    assert net.shown_url("https://user:secret@example.org/a") == "https://user:***@example.org/a"


def test_limits_refuse_nonsense() -> None:
    for bad in (float("nan"), float("inf"), -1.0, 0.0):
        with pytest.raises(ValueError, match="deadline"):
            net.Limits(max_bytes=1, deadline=bad)
