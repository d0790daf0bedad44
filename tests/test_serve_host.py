"""serve --host: a preview a podcast app can subscribe to, its feed pointing at the preview."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from entretiens import serve
from entretiens.cli import cli
from entretiens.publish import publish
from podcast_clients import parse_with_podcastparser
from showbuilder import BASE_URL, episode, make_show


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 (a local preview)
        return bytes(response.read())


def test_gpodder_subscribes_to_the_preview_and_downloads_an_episode_from_it(tmp_path: Path) -> None:
    # A guest photo: podcast:person img is one of the feed's https-only addresses.
    ada = [{"name": "Ada", "image": "artwork.png"}]
    root = make_show(tmp_path / "show", {"001-first": episode(1, guests=ada), "002-second": episode(2)})
    preview = serve.Preview(root, port=0, host="127.0.0.1", interval=3600)
    with preview:
        preview.start()
        assert preview.url.startswith("http://127.0.0.1:")
        feed_url = preview.url + "feed.xml"
        parsed = parse_with_podcastparser(_get(feed_url), feed_url)
        assert len(parsed["episodes"]) == 2
        for item in parsed["episodes"]:
            assert item["link"].startswith(preview.url), item["link"]
            (enclosure,) = item["enclosures"]
            assert str(enclosure["url"]).startswith(preview.url), enclosure["url"]
        enclosure = parsed["episodes"][0]["enclosures"][0]
        audio_url = str(enclosure["url"])
        body = _get(audio_url)
        served = preview.out_dir / audio_url.removeprefix(preview.url)
        assert body == served.read_bytes()
        assert len(body) == enclosure["file_size"] > 0
        assert BASE_URL not in (preview.out_dir / "feed.xml").read_text(encoding="utf-8")
    # The preview's address never reaches a publish.
    out = tmp_path / "out"
    publish(root, out)
    feed = (out / "feed.xml").read_text(encoding="utf-8")
    assert BASE_URL in feed
    assert "127.0.0.1" not in feed


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),  # noqa: S104 (classified, never bound)
        ("192.168.1.20", False),
        ("my-laptop.local", False),
    ],
)
def test_loopback_addresses(host: str, loopback: bool) -> None:
    assert serve.is_loopback(host) is loopback


def test_a_network_address_is_warned_about_on_stderr(tmp_path: Path) -> None:
    root = make_show(tmp_path / "show")
    # 192.0.2.1 is reserved for documentation: no machine has it, so binding fails at once.
    result = CliRunner().invoke(cli, ["serve", "--show", str(root), "--host", "192.0.2.1", "--port", "0"])
    assert result.exit_code != 0
    assert "Warning: serving on 192.0.2.1" in result.stderr
    assert "cannot serve on 192.0.2.1" in result.output
    assert "Traceback" not in result.output
    quiet = CliRunner().invoke(cli, ["serve", "--show", str(root), "--host", "127.0.0.1", "--port", "70000"])
    assert "Warning" not in quiet.stderr
