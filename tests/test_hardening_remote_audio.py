"""Remote audio against hostile servers: a show's publish never hangs, fills the disk or crashes.

The show names ``https://127.0.0.1:PORT/...`` audio served by a local TLS server whose
certificate the test trusts through REQUESTS_CA_BUNDLE, as a host's system would trust a CDN's.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from audiogen import write_mp3
from entretiens import net, remote
from entretiens.errors import NetworkError, ProblemsError
from entretiens.publish import publish
from entretiens.releases import CACHE_DIR
from hostile_servers import Request, Server, answer, dribbling, self_signed, serve, tls_context
from showbuilder import episode, make_show


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def trusted(certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(certificate[0]))
    return certificate[0]


@pytest.fixture
def mp3(tmp_path: Path) -> bytes:
    return write_mp3(tmp_path / "remote.mp3", seconds=2.0).read_bytes()


def cache_of(root: Path) -> Path:
    return root / CACHE_DIR / "remote"


def leftovers(folder: Path) -> list[str]:
    if not folder.exists():
        return []
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(net.DOWNLOAD_PREFIX))


def endless(server: Server, request: Request, conn: socket.socket) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: audio/mpeg\r\n\r\n")
    block = b"\xff" * 65536
    while not server.stopping.is_set():
        conn.sendall(block)


@pytest.fixture
def tls_server(certificate: tuple[Path, Path]) -> Iterator[Server]:
    """A TLS server on 127.0.0.1 whose behaviour each test sets with ``server.handler``."""

    def dispatch(server: Server, request: Request, conn: socket.socket) -> None:
        answer(conn, "404 Not Found")

    with serve(dispatch, tls=tls_context(*certificate)) as server:
        yield server


def publish_problem(root: Path, out: Path) -> tuple[str, str | None, int | None, str]:
    with pytest.raises(ProblemsError) as caught:
        publish(root, out)
    (problem,) = [p for p in caught.value.problems if p.severity == "error"]
    assert problem.path is not None
    return problem.path.name, problem.field, problem.line, problem.message


def test_an_endless_body_stops_at_the_cap_set_in_feed_yaml(tmp_path: Path, trusted: Path, tls_server: Server) -> None:
    tls_server.handler = endless
    root = make_show(
        tmp_path / "show",
        {"001-a": episode(1, audio=tls_server.url("/ep.mp3"))},
        show={"remote_audio": {"max_size": "1 MiB"}},
    )
    name, field, line, message = publish_problem(root, tmp_path / "out")
    assert (name, field) == ("001-a.yaml", "audio")
    assert line is not None
    assert "larger than the limit of 1 MiB" in message
    assert "remote_audio: max_size" in message
    assert leftovers(cache_of(root)) == []
    assert not (tmp_path / "out").exists()


def test_the_default_cap_is_documented_and_sane() -> None:
    assert remote.limits().max_bytes == remote.DEFAULT_MAX_SIZE == 2 * 1024**3
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    assert "remote_audio" in readme and "2 GiB" in readme


def test_a_server_sending_16_bytes_at_a_time_hits_the_deadline(
    tmp_path: Path, trusted: Path, tls_server: Server
) -> None:
    def dribble(server: Server, request: Request, conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\n\r\n")
        dribbling(server, conn, b"x" * 16, 0.2)

    tls_server.handler = dribble
    root = make_show(
        tmp_path / "show",
        {"001-a": episode(1, audio=tls_server.url("/ep.mp3"))},
        show={"remote_audio": {"deadline": 1}},
    )
    name, field, _, message = publish_problem(root, tmp_path / "out")
    assert (name, field) == ("001-a.yaml", "audio")
    assert "no complete answer within the deadline of 1 s" in message
    assert not tls_server.ran_out.is_set()
    assert leftovers(cache_of(root)) == []


def test_a_connection_cut_before_content_length_is_a_located_error(
    tmp_path: Path, trusted: Path, tls_server: Server, mp3: bytes
) -> None:
    def cut(server: Server, request: Request, conn: socket.socket) -> None:
        head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(mp3)}\r\n\r\n".encode()
        conn.sendall(head + mp3[: len(mp3) // 2])
        conn.shutdown(socket.SHUT_RDWR)

    tls_server.handler = cut
    root = make_show(tmp_path / "show", {"001-a": episode(1, audio=tls_server.url("/ep.mp3"))})
    name, field, _, message = publish_problem(root, tmp_path / "out")
    assert (name, field) == ("001-a.yaml", "audio")
    assert "the connection was cut after" in message
    assert "ProtocolError" not in message
    assert leftovers(cache_of(root)) == []


def test_an_https_address_redirected_to_http_is_refused(
    tmp_path: Path, trusted: Path, tls_server: Server, mp3: bytes
) -> None:
    def plain(server: Server, request: Request, conn: socket.socket) -> None:
        answer(conn, "200 OK", mp3, {"Content-Type": "audio/mpeg"})

    with serve(plain) as http_server:

        def downgrade(server: Server, request: Request, conn: socket.socket) -> None:
            answer(conn, "302 Found", headers={"Location": http_server.url("/ep.mp3")})

        tls_server.handler = downgrade
        root = make_show(tmp_path / "show", {"001-a": episode(1, audio=tls_server.url("/ep.mp3"))})
        name, field, _, message = publish_problem(root, tmp_path / "out")
        assert http_server.requests == []
    assert (name, field) == ("001-a.yaml", "audio")
    assert "redirects to plain http" in message


def test_a_good_remote_file_is_still_published(tmp_path: Path, trusted: Path, tls_server: Server, mp3: bytes) -> None:
    def good(server: Server, request: Request, conn: socket.socket) -> None:
        answer(conn, "200 OK", mp3, {"Content-Type": "audio/mpeg", "ETag": '"v1"'})

    tls_server.handler = good
    root = make_show(tmp_path / "show", {"001-a": episode(1, audio=tls_server.url("/ep.mp3"))})
    result = publish(root, tmp_path / "out")
    (release,) = result.releases
    assert release.enclosure_length == len(mp3)


def test_stale_partial_downloads_are_removed_at_the_next_run(tmp_path: Path, mp3: bytes) -> None:
    def good(server: Server, request: Request, conn: socket.socket) -> None:
        answer(conn, "200 OK", mp3)

    cache = tmp_path / "cache"
    cache.mkdir()
    # What a SIGKILL (or an older version of entretiens) leaves behind.
    (cache / ".download-x8k2m1").write_bytes(b"\0" * 1000)
    (cache / f"{net.DOWNLOAD_PREFIX}{2**22 + 12345}-ab12").write_bytes(b"\0" * 1000)
    with serve(good) as server:
        copy = remote.fetch_audio(server.url("/ep.mp3"), cache)
    assert copy.read_bytes() == mp3
    assert leftovers(cache) == []


def test_a_cached_copy_does_not_hide_a_refusal(tmp_path: Path, mp3: bytes) -> None:
    state = {"big": False}

    def grows(server: Server, request: Request, conn: socket.socket) -> None:
        if state["big"]:
            endless(server, request, conn)
        else:
            answer(conn, "200 OK", mp3, {"ETag": '"v1"'})

    bounds = net.Limits(max_bytes=len(mp3) + 10, deadline=10)
    with serve(grows) as server:
        remote.fetch_audio(server.url("/ep.mp3"), tmp_path, bounds=bounds)
        state["big"] = True
        with pytest.raises(NetworkError, match=r"larger than the limit"):
            remote.fetch_audio(server.url("/ep.mp3"), tmp_path, bounds=bounds)
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_terminated_download_leaves_no_partial_file(
    tmp_path: Path, trusted: Path, tls_server: Server, signum: int
) -> None:
    tls_server.handler = endless
    root = make_show(tmp_path / "show", {"001-a": episode(1, audio=tls_server.url("/ep.mp3"))})
    cache = cache_of(root)
    process = subprocess.Popen(
        [sys.executable, "-m", "entretiens", "publish", "--show", str(root)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "REQUESTS_CA_BUNDLE": str(trusted)},
    )
    try:
        for _ in range(600):
            if leftovers(cache) and (cache / leftovers(cache)[0]).stat().st_size > 0:
                break
            if process.poll() is not None:
                break
            time.sleep(0.05)
        assert process.poll() is None, process.communicate()
        assert leftovers(cache), "the download never started"
        process.send_signal(signum)
        process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode != 0
    assert leftovers(cache) == []


def test_a_session_given_by_the_caller_still_trusts_only_what_it_says(
    tmp_path: Path, certificate: tuple[Path, Path], tls_server: Server, mp3: bytes
) -> None:
    def good(server: Server, request: Request, conn: socket.socket) -> None:
        answer(conn, "200 OK", mp3)

    tls_server.handler = good
    with requests.Session() as session:
        session.trust_env = False
        with pytest.raises(NetworkError, match=r"certificate"):
            remote.fetch_audio(tls_server.url("/ep.mp3"), tmp_path, session=session)
        session.verify = str(certificate[0])
        assert remote.fetch_audio(tls_server.url("/ep.mp3"), tmp_path, session=session).read_bytes() == mp3


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"max_size": "lots"}, "remote_audio.max_size"),
        ({"max_size": -5}, "remote_audio.max_size"),
        ({"max_size": True}, "remote_audio.max_size"),
        ({"deadline": 0}, "remote_audio.deadline"),
        ({"deadline": ".nan"}, "remote_audio.deadline"),
        ({"deadline": 10**12}, "remote_audio.deadline"),
        ({"max_sise": 5}, "remote_audio.max_sise"),
    ],
)
def test_bad_remote_audio_settings_are_located(tmp_path: Path, settings: dict[str, object], field: str) -> None:
    root = make_show(tmp_path / "show", show={"remote_audio": settings})
    with pytest.raises(ProblemsError) as caught:
        publish(root, tmp_path / "out")
    (problem,) = [p for p in caught.value.problems if p.severity == "error"]
    assert problem.path == root / "feed.yaml"
    assert problem.field == field
    assert problem.line is not None


def test_remote_audio_sizes_read_with_their_units(tmp_path: Path) -> None:
    from entretiens.loading import load_project

    for written, expected in [("500 MB", 500 * 10**6), ("1.5 GiB", int(1.5 * 2**30)), (1000, 1000)]:
        root = make_show(tmp_path / str(expected), show={"remote_audio": {"max_size": written, "deadline": 60}})
        settings = load_project(root).show.remote_audio
        assert (settings.max_size, settings.deadline) == (expected, 60.0)
