"""The preview server: byte ranges, safe paths, rebuilds on change, and the ``serve`` command."""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from entretiens import serve
from entretiens.cli import cli
from entretiens.errors import EntretiensError, ProblemsError
from entretiens.loading import load_project
from showbuilder import episode, make_show, write_yaml


@pytest.mark.parametrize(
    ("header", "expected"),
    [(None, None), ("bytes=0-99", (0, 99)), ("bytes=100-", (100, 999)), ("bytes=-100", (900, 999)),
     ("bytes=990-5000", (990, 999)), ("bytes=-5000", (0, 999)), ("bytes=0-1,5-6", None), ("items=0-1", None),
     ("bytes=-", None)],
)  # fmt: skip
def test_byte_range(header: str | None, expected: tuple[int, int] | None) -> None:
    assert serve.byte_range(header, 1000) == expected


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=5-2", "bytes=-0"])
def test_byte_range_not_satisfiable(header: str) -> None:
    with pytest.raises(serve.RangeNotSatisfiable):
        serve.byte_range(header, 1000)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    root = tmp_path / "public"
    (root / "ep" / "sub").mkdir(parents=True)
    (root / "index.html").write_text("<h1>home</h1>")
    (root / "ep" / "index.html").write_text("<h1>episode</h1>")
    (root / "audio.mp3").write_bytes(bytes(range(256)) * 40)
    (root / "feed.xml").write_text("<rss/>")
    (root / ".hidden").write_text("secret")
    (tmp_path / "outside.txt").write_text("outside")
    server = serve.make_server(root, 0)
    thread = threading.Thread(target=lambda: server.serve_forever(poll_interval=0.05), daemon=True)
    thread.start()
    yield root, server.server_address[1]
    server.shutdown()
    server.server_close()


def _get(port: int, path: str, headers: dict[str, str] | None = None, method: str = "GET") -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    connection.request(method, path, headers=headers or {})
    response = connection.getresponse()
    response.body = response.read()  # type: ignore[attr-defined]
    connection.close()
    return response


def test_serves_files_and_folders(served: tuple[Path, int]) -> None:
    _, port = served
    home = _get(port, "/")
    assert home.status == 200 and home.body == b"<h1>home</h1>"  # type: ignore[attr-defined]
    assert home.headers["Content-Type"] == "text/html; charset=utf-8"
    assert home.headers["Cache-Control"] == "no-cache"
    folder = _get(port, "/ep")
    assert folder.status == 301 and folder.headers["Location"] == "/ep/"
    assert _get(port, "/ep/").body == b"<h1>episode</h1>"  # type: ignore[attr-defined]
    assert _get(port, "/feed.xml").headers["Content-Type"] == "application/xml; charset=utf-8"
    assert _get(port, "/ep/sub/").status == 404
    head = _get(port, "/audio.mp3", method="HEAD")
    assert head.status == 200 and head.headers["Content-Length"] == "10240" and head.body == b""  # type: ignore[attr-defined]
    assert head.headers["Accept-Ranges"] == "bytes" and head.headers["Content-Type"] == "audio/mpeg"


@pytest.mark.parametrize(
    "path", ["/../outside.txt", "/%2e%2e/outside.txt", "/ep/../../outside.txt", "/.hidden", "/missing"]
)
def test_refuses_paths_outside_the_folder(served: tuple[Path, int], path: str) -> None:
    assert _get(served[1], path).status == 404


def test_byte_ranges_let_players_seek(served: tuple[Path, int]) -> None:
    root, port = served
    data = (root / "audio.mp3").read_bytes()
    part = _get(port, "/audio.mp3", {"Range": "bytes=1000-1999"})
    assert part.status == 206
    assert part.headers["Content-Range"] == "bytes 1000-1999/10240"
    assert part.body == data[1000:2000]  # type: ignore[attr-defined]
    tail = _get(port, "/audio.mp3", {"Range": "bytes=-240"})
    assert tail.status == 206 and tail.body == data[-240:]  # type: ignore[attr-defined]
    beyond = _get(port, "/audio.mp3", {"Range": "bytes=20000-"})
    assert beyond.status == 416 and beyond.headers["Content-Range"] == "bytes */10240"


def test_snapshot_sees_the_sources_only(tmp_path: Path) -> None:
    root = make_show(tmp_path / "show")
    (root / "templates").mkdir()
    (root / "templates" / "episode.html.j2").write_text("x")
    for other in ("public/feed.xml", ".entretiens/cache.json", "src/module.py", "notes.txt"):
        (root / other).parent.mkdir(parents=True, exist_ok=True)
        (root / other).write_text("x")
    project = load_project(root)
    referenced = serve.referenced_files(project)
    assert referenced == {root / "artwork.png", root / "audio/001.mp3", root / "audio/002.mp3"}
    found = {Path(p).relative_to(root).as_posix() for p in serve.snapshot(root, referenced)}
    assert found == {"feed.yaml", "artwork.png", "episodes/001-first.yaml", "episodes/002-second.yaml",
                     "audio/001.mp3", "audio/002.mp3", "templates/episode.html.j2"}  # fmt: skip


def _wait_for_rebuild(preview: serve.Preview) -> bool:
    # The first look notices the change, the next one (files unchanged since) rebuilds.
    return preview.check() or preview.check()


def test_preview_rebuilds_when_the_show_changes(tmp_path: Path) -> None:
    root = make_show(tmp_path / "show")
    built: list[object] = []
    errors: list[EntretiensError] = []
    preview = serve.Preview(root, port=0, interval=3600, on_build=built.append, on_error=errors.append)
    with preview:
        result = preview.start()
        assert len(result.releases) == 2
        port = int(preview.url.rsplit(":", 1)[1].strip("/"))
        assert b"Conversation 1" in _get(port, "/001-first/").body  # type: ignore[attr-defined]
        assert not (root / "published.yaml").exists()  # a preview pins no GUID
        assert preview.check() is False
        # Files the show does not use are not watched.
        (root / "notes.txt").write_text("to do")
        assert preview.check() is False and preview.check() is False
        time.sleep(0.01)
        write_yaml(root / "episodes" / "001-first.yaml", episode(1, title="Renamed talk"))
        assert _wait_for_rebuild(preview)
        assert len(built) == 1 and not errors
        assert b"Renamed talk" in _get(port, "/001-first/").body  # type: ignore[attr-defined]
        # A broken show keeps the last good build online.
        (root / "episodes" / "001-first.yaml").write_text("title: [unclosed\n")
        assert _wait_for_rebuild(preview)
        assert len(errors) == 1 and isinstance(errors[0], ProblemsError)
        assert b"Renamed talk" in _get(port, "/001-first/").body  # type: ignore[attr-defined]
        # A template added to the show is used at the next build.
        (root / "templates").mkdir()
        (root / "templates" / "index.html.j2").write_text("custom home {{ show.title }}")
        assert _wait_for_rebuild(preview)
        write_yaml(root / "episodes" / "001-first.yaml", episode(1))
        assert _wait_for_rebuild(preview)
        assert _get(port, "/").body == b"custom home Test Talks"  # type: ignore[attr-defined]
    assert not preview.out_dir.exists()


def test_serve_command_reports_a_taken_port(tmp_path: Path) -> None:
    root = make_show(tmp_path / "show")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(cli, ["serve", "--show", str(root), "--port", str(port)])
    assert result.exit_code == 1
    assert f"cannot serve on 127.0.0.1:{port}" in result.stderr
    assert result.stdout == ""


def test_serve_command_reports_show_errors(tmp_path: Path) -> None:
    root = make_show(tmp_path / "show")
    (root / "feed.yaml").write_text("title: [unclosed\n")
    result = CliRunner().invoke(cli, ["serve", "--show", str(root), "--port", "0"])
    assert result.exit_code == 1
    assert "feed.yaml" in result.stderr and "nothing was published" in result.stderr
