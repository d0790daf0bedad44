"""`entretiens check --feed`: any feed, from a file or a local web server, and the files it points to."""

from __future__ import annotations

import functools
import json
import shutil
import socket
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from entretiens import net
from entretiens.cli import cli
from entretiens.errors import EntretiensError, NetworkError
from entretiens.feedsource import read_feed
from entretiens.publish import publish
from sampleshow import SAMPLE_NOW, copy_sample_show


def _check(*args: str) -> Result:
    return CliRunner(env={"NO_COLOR": "1"}).invoke(cli, ["check", *args])


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample show, published once: its public/ folder."""
    root = copy_sample_show(tmp_path_factory.mktemp("sample") / "show")
    publish(root, now=SAMPLE_NOW)
    return root / "public"


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def site(tmp_path: Path, published: Path) -> Iterator[str]:
    """A web server on 127.0.0.1 serving a copy of the published folder and a web page; its base URL."""
    folder = tmp_path / "www"
    shutil.copytree(published, folder)
    (folder / "page.html").write_text("<!DOCTYPE html>\n<html><body><h1>Our podcast</h1></body></html>\n")
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_the_published_sample_show_passes_clean_with_its_files(published: Path) -> None:
    result = _check("--feed", str(published / "feed.xml"), "--files", str(published))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"Checked the feed {published / 'feed.xml'} (6 episodes, files in {published}): no problems."
    ]


def test_the_files_rules_are_reached_through_the_command(tmp_path: Path, published: Path) -> None:
    folder = tmp_path / "copy"
    shutil.copytree(published, folder)
    audio = sorted((folder / "audio").glob("*.mp3"))[0]
    with audio.open("r+b") as stream:
        stream.truncate(5000)
    result = _check("--feed", str(folder / "feed.xml"), "--files", str(folder))
    assert result.exit_code == 1
    (error,) = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert error.startswith(f"Error: {folder / 'feed.xml'}:")
    assert f"but {audio.name} has 5000." in error
    assert error.endswith("[files.enclosure.length]")
    assert "[files.duration.mismatch]" in result.stderr
    # Without --files, the feed alone is fine: the files rules need the files.
    assert _check("--feed", str(folder / "feed.xml")).exit_code == 0


def test_a_feed_from_a_web_server(site: str) -> None:
    result = _check("--feed", f"{site}/feed.xml", "--format", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["show"], report["episodes"], report["ok"]) == (None, None, True)
    assert report["feed"]["file"] == f"{site}/feed.xml"
    assert report["feed"]["episodes"] == 6
    # Served from elsewhere than its self link says: apps would follow the self link.
    rules = {p["rule"] for p in report["problems"]}
    assert "rss.atom_self.mismatch" in rules
    assert all(p["file"] == f"{site}/feed.xml" and p["line"] for p in report["problems"])
    assert result.stderr.splitlines()[-1].startswith(f"Checked the feed {site}/feed.xml (6 episodes): ")


def test_a_feed_from_a_web_server_with_its_files(site: str, published: Path) -> None:
    result = _check("--feed", f"{site}/feed.xml", "--files", str(published))
    assert result.exit_code == 0, result.stderr
    assert "[files." not in result.stderr


def test_an_unreachable_server_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens on the port any more.
    result = _check("--feed", f"http://127.0.0.1:{port}/feed.xml")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert result.stderr.startswith(f"Error: http://127.0.0.1:{port}/feed.xml: cannot reach 127.0.0.1")


def test_a_missing_feed_is_a_clear_error(site: str) -> None:
    result = _check("--feed", f"{site}/nothing-here.xml")
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {site}/nothing-here.xml: the server answered 404 File not found, not a feed (check the address: "
        "a podcast host's settings page shows the feed's own RSS address)\n"
    )


def test_a_web_page_is_not_a_feed(site: str, tmp_path: Path) -> None:
    result = _check("--feed", f"{site}/page.html")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {site}/page.html: this is a web page (HTML), not a podcast feed; ")
    page = tmp_path / "page.html"
    page.write_text("\ufeff  <html><body>hello</body></html>", encoding="utf-8")
    local = _check("--feed", str(page))
    assert local.exit_code == 1
    assert "this is a web page (HTML), not a podcast feed" in local.stderr


def test_a_feed_over_the_size_cap_is_refused(site: str, tmp_path: Path) -> None:
    small = net.Limits(max_bytes=1000, connect_timeout=5, stall_timeout=5, deadline=10)
    with pytest.raises(NetworkError):
        read_feed(f"{site}/feed.xml", limits=small)
    big = tmp_path / "big.xml"
    big.write_bytes(b"<rss>" + b" " * 2000 + b"</rss>")
    with pytest.raises(EntretiensError, match="too big for a podcast feed"):
        read_feed(str(big), limits=small)


def test_a_file_that_is_not_xml_is_reported_as_a_problem(tmp_path: Path) -> None:
    feed = tmp_path / "feed.xml"
    feed.write_text("this is not a feed at all\n")
    result = _check("--feed", str(feed))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {feed}:1: ")
    assert "[rss.xml.malformed]" in result.stderr


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--files", "."), "--files needs --feed"),
        (("--feed", "feed.xml", "--links"), "cannot be used with --feed"),
        (("--feed", "no/such/feed.xml"), "no such file"),
    ],
)
def test_usage_errors_exit_2(
    args: tuple[str, ...], words: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "feed.xml").write_text("<rss/>")
    result = _check(*args)
    assert result.exit_code == 2
    assert words in result.stderr
