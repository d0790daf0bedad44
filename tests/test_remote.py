"""Audio hosted elsewhere: downloaded once, revalidated, measured like local audio."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from audiogen import write_mp3
from entretiens import remote
from entretiens.errors import NetworkError, ProblemsError
from entretiens.publish import publish
from podcast_clients import parse_with_podcastparser
from showbuilder import BASE_URL, episode, make_show


@pytest.fixture
def mp3(tmp_path: Path) -> bytes:
    return write_mp3(tmp_path / "remote.mp3", seconds=4.0).read_bytes()


def test_download_then_revalidate(httpserver: HTTPServer, tmp_path: Path, mp3: bytes) -> None:
    calls: list[str | None] = []

    def handler(request: Request) -> Response:
        calls.append(request.headers.get("If-None-Match"))
        if request.headers.get("If-None-Match") == '"v1"':
            return Response(status=304)
        return Response(mp3, headers={"ETag": '"v1"', "Content-Type": "audio/mpeg"})

    httpserver.expect_request("/ep.mp3").respond_with_handler(handler)
    cache = tmp_path / "cache"
    first = remote.fetch_audio(httpserver.url_for("/ep.mp3"), cache)
    assert first.read_bytes() == mp3
    second = remote.fetch_audio(httpserver.url_for("/ep.mp3"), cache)
    assert second == first
    assert calls == [None, '"v1"']


def test_http_errors_name_the_url(httpserver: HTTPServer, tmp_path: Path) -> None:
    httpserver.expect_request("/gone.mp3").respond_with_data("no", status=404)
    url = httpserver.url_for("/gone.mp3")
    with pytest.raises(NetworkError, match=r"gone\.mp3: the server answered 404"):
        remote.fetch_audio(url, tmp_path)


def test_publish_measures_remote_audio(
    httpserver: HTTPServer, tmp_path: Path, mp3: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    httpserver.expect_request("/files/ep.mp3").respond_with_data(mp3, content_type="audio/mpeg")
    public_url = "https://cdn.example.net/files/ep.mp3"
    fetch = remote.fetch_audio

    # The feed names the https URL; the test server stands in for the CDN on 127.0.0.1.
    def local_fetch(url: str, cache_dir: Path, **options: Any) -> Path:
        assert url == public_url
        return fetch(httpserver.url_for("/files/ep.mp3"), cache_dir, **options)

    monkeypatch.setattr(remote, "fetch_audio", local_fetch)
    root = make_show(tmp_path / "show", {"001-a": episode(1, audio=public_url)})
    publish(root, tmp_path / "out", now=datetime(2025, 1, 1, tzinfo=timezone.utc))
    feed = parse_with_podcastparser((tmp_path / "out" / "feed.xml").read_bytes(), BASE_URL + "feed.xml")
    (item,) = feed["episodes"]
    (enclosure,) = item["enclosures"]
    assert (enclosure["url"], enclosure["file_size"], enclosure["mime_type"]) == (public_url, len(mp3), "audio/mpeg")
    assert item["total_time"] == 4
    assert not (tmp_path / "out" / "audio").exists(), "remote audio is not copied"


def test_unreachable_remote_audio_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(url: str, cache_dir: Path, **options: Any) -> Path:
        raise NetworkError(f"{url}: cannot download the audio (ConnectionError)")

    monkeypatch.setattr(remote, "fetch_audio", failing)
    root = make_show(tmp_path / "show", {"001-a": episode(1, audio="https://cdn.example.net/x.mp3")})
    with pytest.raises(ProblemsError) as caught:
        publish(root, tmp_path / "out")
    (problem,) = caught.value.problems
    assert problem.field == "audio" and "cdn.example.net/x.mp3" in problem.message


def test_a_cached_copy_is_used_when_the_server_is_unreachable(
    httpserver: HTTPServer, tmp_path: Path, mp3: bytes
) -> None:
    httpserver.expect_request("/ep.mp3").respond_with_data(mp3, headers={"ETag": '"v1"'})
    url = httpserver.url_for("/ep.mp3")
    first = remote.fetch_audio(url, tmp_path)
    httpserver.stop()
    try:
        assert remote.fetch_audio(url, tmp_path) == first
    finally:
        httpserver.start()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".download-")] == []


def test_the_size_is_that_of_the_bytes_served_even_when_compressed(httpserver: HTTPServer, tmp_path: Path) -> None:
    import gzip

    packed = gzip.compress(b"\0" * 5000)
    httpserver.expect_request("/ep.mp3").respond_with_data(packed, headers={"Content-Encoding": "gzip"})
    copy = remote.fetch_audio(httpserver.url_for("/ep.mp3"), tmp_path)
    assert copy.read_bytes() == packed
