"""For listeners: a subscribe page every link leads to, a 404 page, no audio before play, a plain feed."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urljoin

import lxml.html
import yaml
from click.testing import CliRunner

from conftest import NOW
from entretiens.cli import cli
from entretiens.publish import publish
from showbuilder import make_show


def _page(path: Path) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(path.read_bytes())


def test_every_subscribe_and_rss_link_leads_to_the_subscribe_page(tmp_path: Path) -> None:
    root = make_show(tmp_path / "show", show={"subscribe": {"apple": "https://podcasts.apple.com/podcast/id1"}})
    out = tmp_path / "out"
    publish(root, out, now=NOW)
    feed_url = "https://podcast.example.org/show/feed.xml"
    for page in [out / "index.html", out / "001-first" / "index.html", out / "guests" / "index.html"]:
        if not page.exists():
            continue
        tree = _page(page)
        base = page.relative_to(out).parent.as_posix() + "/"
        for anchor in tree.xpath("//a[normalize-space()='Subscribe' or contains(@class, 'rss')]"):
            assert urljoin("/" + base.lstrip("./"), anchor.get("href")).rstrip("/").endswith("/subscribe"), page
        # Nothing in the pages sends a person to the raw feed any more, except the alternate link for apps.
        assert not tree.xpath("//a[contains(@href, 'feed.xml')]"), page
    subscribe = _page(out / "subscribe" / "index.html")
    assert subscribe.xpath("//input[@id='feed-url']/@value") == [feed_url]
    apps = subscribe.xpath("//section[@aria-labelledby='apps-title']//a")
    links = {a.text_content().strip(): a.get("href") for a in apps}
    directories = subscribe.xpath("//section[@aria-labelledby='directories-title']//a/@href")
    assert links["Apple Podcasts"] == "podcast://podcast.example.org/show/feed.xml"
    assert links["Pocket Casts"] == "pktc://subscribe/podcast.example.org/show/feed.xml"
    assert links["Castro"] == "castros://subscribe/podcast.example.org/show/feed.xml"
    assert unquote(links["Overcast"].split("url=", 1)[1]) == feed_url
    assert unquote(links["AntennaPod"].split("url=", 1)[1]) == feed_url
    assert directories == ["https://podcasts.apple.com/podcast/id1"]
    assert subscribe.xpath("//html/@lang") == ["en"]


def test_a_404_page_links_from_the_site_root(tmp_path: Path) -> None:
    root = make_show(tmp_path / "show")
    out = tmp_path / "out"
    publish(root, out, now=NOW)
    page = _page(out / "404.html")
    hrefs = page.xpath("//link[@rel='stylesheet']/@href") + page.xpath("//main//a/@href")
    assert hrefs and all(h.startswith("/show/") for h in hrefs), hrefs
    assert "/show/001-first/" in hrefs


def test_the_player_downloads_nothing_before_play(tmp_path: Path) -> None:
    root = make_show(tmp_path / "show")
    out = tmp_path / "out"
    publish(root, out, now=NOW)
    audio = _page(out / "001-first" / "index.html").xpath("//audio")
    assert audio and all(a.get("preload") == "none" for a in audio)


def test_the_feed_has_no_stylesheet_unless_the_show_asks(tmp_path: Path) -> None:
    root = make_show(tmp_path / "show")
    out = tmp_path / "out"
    publish(root, out, now=NOW)
    assert b"xml-stylesheet" not in (out / "feed.xml").read_bytes()
    assert not (out / "feed.xsl").exists()
    asked = make_show(tmp_path / "asked", show={"feed_stylesheet": True})
    publish(asked, tmp_path / "out2", now=NOW)
    assert b'<?xml-stylesheet type="text/xsl" href="feed.xsl"?>' in (tmp_path / "out2" / "feed.xml").read_bytes()
    assert (tmp_path / "out2" / "feed.xsl").is_file()


def test_guests_are_listed_by_family_name(tmp_path: Path) -> None:
    guests = ["Zoé Abadie", "Anne Zeller", "Émile Martin"]
    episodes = {
        f"00{n}-talk": {
            "title": f"Talk {n}",
            "date": f"2024-0{n}-01T09:00:00+00:00",
            "audio": f"audio/00{n}.mp3",
            "guests": [{"name": name, "bio": "A guest."}],
        }
        for n, name in enumerate(guests, start=1)
    }
    root = make_show(tmp_path / "show", episodes)
    publish(root, tmp_path / "out", now=NOW)
    page = _page(tmp_path / "out" / "guests" / "index.html")
    names = [h.text_content().strip() for h in page.xpath("//main//article//h2")]
    assert names == ["Zoé Abadie", "Émile Martin", "Anne Zeller"]


def test_init_tags_the_audio_of_a_new_show(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["init", str(tmp_path / "new"), "--title", "New"])
    assert result.exit_code == 0, result.output
    assert yaml.safe_load((tmp_path / "new" / "feed.yaml").read_text(encoding="utf-8"))["tag_audio"] is True
