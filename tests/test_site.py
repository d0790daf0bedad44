"""The website in public/: pages read back with lxml, links followed, hostile text neutralized."""

from __future__ import annotations

import json
import os
import posixpath
import re
import time
import unicodedata
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from itertools import pairwise
from pathlib import Path, PurePosixPath
from typing import cast
from urllib.parse import unquote, urlsplit

import lxml.html
import pytest
from lxml import etree
from PIL import Image

from entretiens import feed, guestlist, layout, publish, releases, site, thumbnails
from entretiens.loading import load_project
from entretiens.markup import escape
from entretiens.model import AudioInfo, Episode, Person, Release
from entretiens.output import Content, content_bytes
from entretiens.thumbnails import Picture
from sampleshow import wait_settled
from showbuilder import BASE_URL
from site_fixtures import APPLE, SPOTIFY, XSS, feedable, hostile_project, site_show

EPISODE = PurePosixPath("001-engines/index.html")
SECOND = PurePosixPath("002-compilers/index.html")


def _build(root: Path) -> dict[PurePosixPath, bytes]:
    with publish.publish(root, root / "public", dry_run=True, hold=True) as result:
        return {path: content_bytes(content) for path, content in result.files.items()}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[PurePosixPath, bytes]:
    return _build(site_show(tmp_path_factory.mktemp("site") / "show"))


def _page(files: Mapping[PurePosixPath, Content], path: PurePosixPath) -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(content_bytes(files[path]))


def _meta(page: lxml.html.HtmlElement, key: str) -> str:
    found = page.xpath(f"//meta[@property='{key}' or @name='{key}']/@content")
    assert len(found) == 1, key
    return str(found[0])


def _json_ld(page: lxml.html.HtmlElement) -> dict[str, object]:
    scripts = page.xpath("//script[@type='application/ld+json']/text()")
    assert len(scripts) == 1
    data = json.loads(scripts[0])
    assert isinstance(data, dict)
    return data


def _text(element: lxml.html.HtmlElement) -> str:
    return " ".join(element.text_content().split())


def test_site_files(files: dict[PurePosixPath, bytes]) -> None:
    expected = """index.html guests/index.html 001-engines/index.html 001-engines/notes.md 002-compilers/index.html
        subscribe/index.html 404.html sitemap.xml robots.txt assets/site.css assets/player.js assets/artwork.jpg
        assets/icon.png assets/people/ada-lovelace.jpg"""
    for path in expected.split():
        assert PurePosixPath(path) in files, path
    # The feed asks for no stylesheet unless the show does (feed_stylesheet: true).
    assert layout.FEED_STYLESHEET not in files
    # Drafts and future episodes are nowhere.
    everything = b"".join(files.values())
    assert b"Unfinished draft" not in everything and b"Draft Guest" not in everything
    assert b"Far future" not in everything and b"Future Guest" not in everything
    assert not any(str(path).startswith(("003-", "004-")) for path in files)
    # Contact details of the guest registry are private.
    assert b"ada@private.example" not in everything


def test_episode_page_content(files: dict[PurePosixPath, bytes]) -> None:
    page = _page(files, EPISODE)
    assert page.get("lang") == "en"
    assert [_text(h) for h in page.xpath("//h1")] == ["Analytical engines"]
    assert _text(page.xpath("//p[@class='kicker']")[0]) == "Season 1 · Episode 1"
    assert page.xpath("//time/@datetime") == ["2024-03-01T10:00:00+01:00", "PT6S"]
    assert "March 1, 2024" in _text(page.xpath("//p[@class='meta']")[0])
    audio = page.xpath("//audio")[0]
    assert audio.get("src") == "../audio/001.mp3"
    assert audio.get("controls") is not None and audio.get("aria-label") == "Play the episode: Analytical engines"
    assert _text(page.xpath("//p[@class='lead']")[0]) == "Ada explains the engine."
    notes_html = page.xpath("//section[h2='Show notes']")[0]
    assert notes_html.xpath(".//a[@href='https://engine.example/']/text()") == ["the engine"]
    assert notes_html.xpath(".//li/text()") == ["cards", "loops"]
    quote = page.xpath("//figure[@class='quote']")[0]
    assert _text(quote.xpath("blockquote")[0]) == "The engine weaves algebraic patterns."
    assert _text(quote.xpath("figcaption")[0]) == "Ada Lovelace"
    assert page.xpath("//ul[@class='links']//a/@href") == ["https://notes.example/engine"]


def test_episode_page_guests(files: dict[PurePosixPath, bytes]) -> None:
    card = _page(files, EPISODE).xpath("//section[h2='Guest']/article")[0]
    assert _text(card.xpath(".//h3")[0]) == "Ada Lovelace"
    assert card.xpath(".//h3/a/@href") == ["../guests/#ada-lovelace"]
    assert card.xpath(".//em/text()") == ["first"]
    assert card.xpath(".//img/@src") == ["../assets/people/ada-lovelace.jpg"]
    assert card.xpath(".//img/@alt") == ["Photo of Ada Lovelace"]
    assert card.xpath(".//ul[@class='inline-links']//a/@href") == [
        "https://ada.example.org/",
        "https://mastodon.example/@ada",
    ]
    second = _page(files, SECOND).xpath("//section[h2='Guests']/article")
    assert [_text(c.xpath(".//h3")[0]) for c in second] == ["Grace Hopper", "Ada Lovelace"]
    # The per-episode bio replaces the registry's.
    assert "Back for a second talk." in _text(second[1])


def test_episode_page_chapters_and_transcript(files: dict[PurePosixPath, bytes]) -> None:
    page = _page(files, EPISODE)
    links = page.xpath("//ol[@class='chapters']//a[@data-start]")
    assert [(a.get("href"), a.get("data-start"), _text(a)) for a in links] == [
        ("#t=00:00", "0.0", "00:00 Welcome"),
        ("#t=00:02", "2.0", "00:02 The engine"),
        ("#t=00:04", "4.0", "00:04 Patterns"),
    ]
    assert page.xpath("//ol[@class='chapters']//a[@class='external']/@href") == ["https://engine.example/"]
    paragraphs = page.xpath("//details[@class='transcript']/p")
    # Paragraphs break where the speaker changes; timestamps seek the player too.
    assert [_text(p) for p in paragraphs] == [
        "00:00 Alex Host Welcome to Test Talks. Our guest is Ada.",
        "00:02 Ada Lovelace Thank you & hello.",
    ]
    assert paragraphs[1].xpath("a/@data-start") == ["2.5"]
    assert page.xpath("//p[@class='files']/a/@href") == [
        "../001-engines/transcript.vtt",
        "../001-engines/transcript.srt",
        "../001-engines/transcript.json",
    ]


def test_episode_page_navigation_and_subscribe(files: dict[PurePosixPath, bytes]) -> None:
    first, second = _page(files, EPISODE), _page(files, SECOND)
    assert first.xpath("//nav[@class='pager']/a/@href") == ["../002-compilers/"]
    assert first.xpath("//nav[@class='pager']/a/@rel") == ["next"]
    assert second.xpath("//nav[@class='pager']/a/@href") == ["../001-engines/"]
    assert second.xpath("//nav[@class='pager']/a/@rel") == ["prev"]
    buttons = first.xpath("//section[@id='subscribe']//a")
    assert [(a.get("href"), _text(a)) for a in buttons] == [
        (APPLE, "Apple Podcasts"),
        (SPOTIFY, "Spotify"),
        ("../subscribe/", "RSS feed"),
    ]
    assert first.xpath("//input[@id='feed-url']/@value") == [BASE_URL + "feed.xml"]


def test_episode_page_meta(files: dict[PurePosixPath, bytes]) -> None:
    page = _page(files, EPISODE)
    url = BASE_URL + "001-engines/"
    assert _text(page.xpath("//title")[0]) == "Analytical engines · Test Talks"
    assert _meta(page, "description") == "Ada explains the engine."
    assert page.xpath("//link[@rel='canonical']/@href") == [url]
    assert _meta(page, "og:url") == url
    assert _meta(page, "og:title") == "Analytical engines"
    # The episode's social card (tests/test_cards.py), not the square artwork.
    assert _meta(page, "og:image") == BASE_URL + "assets/cards/001-engines.jpg"
    assert _meta(page, "og:audio") == BASE_URL + "audio/001.mp3"
    assert _meta(page, "twitter:card") == "summary_large_image"
    assert _meta(page, "twitter:image") == BASE_URL + "assets/cards/001-engines.jpg"
    data = _json_ld(page)
    assert data["@context"] == "https://schema.org" and data["@type"] == "PodcastEpisode"
    assert data["url"] == url and data["name"] == "Analytical engines"
    assert data["datePublished"] == "2024-03-01T10:00:00+01:00"
    assert data["episodeNumber"] == 1
    assert data["partOfSeason"] == {"@type": "PodcastSeason", "seasonNumber": 1}
    assert data["partOfSeries"] == {
        "@type": "PodcastSeries",
        "name": "Test Talks",
        "url": BASE_URL,
        "webFeed": BASE_URL + "feed.xml",
    }
    assert data["associatedMedia"] == {
        "@type": "AudioObject",
        "contentUrl": BASE_URL + "audio/001.mp3",
        "encodingFormat": "audio/mpeg",
        "duration": "PT6S",
    }
    actors = data["actor"]
    assert isinstance(actors, list)
    assert [actor["name"] for actor in actors] == ["Alex Host", "Ada Lovelace"]


def test_home_page(files: dict[PurePosixPath, bytes]) -> None:
    page = _page(files, layout.INDEX)
    assert [_text(h) for h in page.xpath("//h1")] == ["Test Talks"]
    assert page.xpath("//section[@class='hero']/img/@src") == ["assets/artwork.jpg"]
    assert page.xpath("//section[@class='hero']/img/@alt") == ["Test Talks artwork"]
    assert _text(page.xpath("//p[@class='subtitle']")[0]) == "Conversations with people who build things"
    assert _text(page.xpath("//p[@class='hosts']")[0]) == "Hosted by Alex Host"
    # The description follows the episodes, so the latest one is in the first screen.
    assert page.xpath("//section[@aria-labelledby='about-title']//strong/text()") == ["tests"]
    cards = page.xpath("//ol[@class='episode-list']/li/article")
    # Newest first, with date, duration, guests and summary.
    assert [c.xpath("h3/a/@href")[0] for c in cards] == ["002-compilers/", "001-engines/"]
    assert _text(cards[0].xpath("p[@class='meta']")[0]) == "March 2, 2024 · 6 s"
    assert _text(cards[0].xpath("p[@class='with']")[0]) == "With Grace Hopper, Ada Lovelace"
    assert cards[0].xpath("p[@class='with']/a/@href") == ["guests/#grace-hopper", "guests/#ada-lovelace"]
    assert _text(cards[0].xpath("p[last()]")[0]) == "Grace and Ada on compilers."
    assert _json_ld(page)["@type"] == "PodcastSeries"
    assert _meta(page, "og:url") == BASE_URL


def test_guests_page(files: dict[PurePosixPath, bytes]) -> None:
    page = _page(files, layout.GUESTS_PAGE)
    entries = page.xpath("//ul[@class='guest-list']/li")
    # By family name: Hopper before Lovelace.
    assert [e.get("id") for e in entries] == ["grace-hopper", "ada-lovelace"]
    ada = entries[1]
    assert _text(ada.xpath(".//h2")[0]) == "Ada Lovelace"
    assert ada.xpath(".//ul[@class='appearances']//a/@href") == ["../002-compilers/", "../001-engines/"]
    assert ada.xpath(".//img/@src") == ["../assets/people/ada-lovelace.jpg"]
    # The newest appearance's details are shown.
    assert "Back for a second talk." in _text(ada)
    assert entries[0].xpath(".//span[contains(@class, 'initials')]/text()") == ["GH"]


def test_every_page_is_accessible_and_self_contained(files: dict[PurePosixPath, bytes]) -> None:
    pages = [path for path in files if path.suffix == ".html"]
    # Home, guests, subscribe, 404, and for each of the two episodes its page and its embeddable player.
    assert len(pages) == 8
    for path in pages:
        page = _page(files, path)
        # 404.html is served at any address: its links start from the site's root, on purpose.
        local = "/show/" if path == layout.NOT_FOUND_PAGE else ""
        assert len(page.xpath("//h1")) == 1, path
        levels = [int(h.tag[1]) for h in page.iter("h1", "h2", "h3", "h4", "h5", "h6")]
        assert all(later <= earlier + 1 for earlier, later in pairwise(levels)), (path, levels)
        assert all(img.get("alt") is not None for img in page.iter("img")), path
        assert page.xpath("//meta[@name='viewport']"), path
        # Styles, scripts and images load from public/ itself: no third-party request.
        for url in page.xpath(
            "//link[@rel='stylesheet']/@href | //script/@src | //img/@src | //link[@rel='icon']/@href"
        ):
            assert "://" not in url and (url.startswith(local) if local else not url.startswith("/")), (path, url)
        assert b"<style" not in files[path] and b" style=" not in files[path]


def test_relative_links_resolve(files: dict[PurePosixPath, bytes]) -> None:
    """Every link between the pages works wherever public/ is served."""
    for path in (p for p in files if p.suffix == ".html"):
        page = _page(files, path)
        for url in page.xpath("//@href | //@src"):
            parts = urlsplit(url)
            if parts.scheme or url.startswith(("#", "//")):
                continue
            if path == layout.NOT_FOUND_PAGE:
                # Served at any address, 404.html links from the site's root (/show/ here).
                assert url.startswith("/show/"), (path, url)
                url = parts.path.removeprefix("/show/") or "./"
                parts = urlsplit(url)
            assert not url.startswith("/"), (path, url)
            target = posixpath.normpath(posixpath.join(str(path.parent), unquote(parts.path)))
            if parts.path.endswith("/") or parts.path in ("", "./"):
                target = posixpath.join(target, "index.html")
            assert PurePosixPath(target) in files, (path, url, target)
            if parts.fragment and target.endswith(".html") and not parts.fragment.startswith("t="):
                assert _page(files, PurePosixPath(target)).xpath(f"//*[@id='{parts.fragment}']"), (path, url)


def test_notes_markdown_file(files: dict[PurePosixPath, bytes]) -> None:
    text = files[PurePosixPath("001-engines/notes.md")].decode()
    assert text.startswith("# Analytical engines\n")
    assert "Ada explains the engine." in text
    assert "**[Ada Lovelace](https://ada.example.org/)**\n\nWrote the *first* program." in text
    assert "- [Engine notes](https://notes.example/engine)" in text
    assert "00:00 Welcome  \n00:02 The engine  \n00:04 Patterns\n" in text


def test_feed_stylesheet_renders_the_feed(tmp_path: Path) -> None:
    root = site_show(tmp_path / "show")
    with (root / "feed.yaml").open("a", encoding="utf-8") as feed_yaml:
        feed_yaml.write("feed_stylesheet: true\n")
    files = _build(root)
    assert b'<?xml-stylesheet type="text/xsl" href="feed.xsl"?>' in files[layout.FEED]
    transform = etree.XSLT(etree.fromstring(files[layout.FEED_STYLESHEET]))
    result = lxml.html.document_fromstring(str(transform(etree.fromstring(files[layout.FEED]))))
    text = _text(result)
    assert "Test Talks" in text and "Podcast feed" in text and "copy the address below into your podcast app" in text
    assert result.xpath("//input[@id='feed-url']/@value") == [BASE_URL + "feed.xml"]
    assert result.xpath("//ol[@class='episode-list']//h3/a/@href") == ["./002-compilers/", "./001-engines/"]
    assert [_text(p) for p in result.xpath("//ol[@class='episode-list']//p[@class='meta']")] == [
        "March 2, 2024 · 6 s",
        "March 1, 2024 · 6 s",
    ]
    assert result.xpath("//audio/@src") == ["./audio/002.mp3", "./audio/001.mp3"]
    assert result.xpath("//ul[@class='buttons']//a/@href") == [APPLE, SPOTIFY, "./"]
    assert result.xpath("//link[@rel='stylesheet']/@href") == ["assets/site.css"]


def test_sitemap_and_robots(files: dict[PurePosixPath, bytes]) -> None:
    sitemap = etree.fromstring(files[site.SITEMAP])
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    assert sitemap.xpath("//s:loc/text()", namespaces=ns) == [
        BASE_URL,
        BASE_URL + "guests/",
        BASE_URL + "002-compilers/",
        BASE_URL + "001-engines/",
    ]
    assert sitemap.xpath("//s:lastmod/text()", namespaces=ns) == [
        "2024-03-02",
        "2024-03-02",
        "2024-03-02",
        "2024-03-01",
    ]
    assert files[site.ROBOTS].decode() == f"User-agent: *\nAllow: /\n\nSitemap: {BASE_URL}sitemap.xml\n"


def test_french_show(tmp_path: Path) -> None:
    files = _build(site_show(tmp_path / "show", language="fr-FR"))
    page = _page(files, EPISODE)
    assert page.get("lang") == "fr-FR"
    assert _text(page.xpath("//p[@class='kicker']")[0]) == "Saison 1 · Épisode 1"
    assert "1er mars 2024" in _text(page.xpath("//p[@class='meta']")[0])
    assert page.xpath("//h2/text()") == [
        "Chapitres",
        "Notes de l'épisode",
        "Invité",
        "Liens et ressources",
        "Transcription",
        "S'abonner",
    ]
    # The notes' own headings sit under "Notes de l'épisode".
    assert page.xpath('//section[h2="Notes de l\'épisode"]//h3/text()') == ["Going further"]
    assert _meta(page, "og:locale") == "fr_FR"
    assert "Épisode suivant" in _text(page.xpath("//nav[@class='pager']")[0])


def test_pages_are_deterministic_and_small(tmp_path: Path, files: dict[PurePosixPath, bytes]) -> None:
    again = _build(site_show(tmp_path / "show"))
    site_paths = [
        p for p in files if p.suffix in (".html", ".md", ".xsl", ".xml", ".css", ".js", ".jpg", ".png", ".txt")
    ]
    assert {p: again[p] for p in site_paths} == {p: files[p] for p in site_paths}
    # The player's controls (skip, speed, chapters, keyboard, lock screen) cost about 8 kB of it.
    assert len(files[site.STYLESHEET]) + len(files[site.SCRIPT]) < 28_000
    assert all(len(files[p]) < 30_000 for p in files if p.suffix == ".html")


def test_templates_and_assets_can_be_overridden(tmp_path: Path) -> None:
    root = site_show(tmp_path / "show")
    (root / "templates" / "assets").mkdir(parents=True)
    (root / "templates" / "assets" / "site.css").write_text("body { color: teal; }\n")
    (root / "templates" / "assets" / "logo.svg").write_text("<svg/>")
    (root / "templates" / "episode.html.j2").write_text(
        '{% extends "base.html.j2" %}{% block main %}<h1 class="mine">{{ episode.title }}</h1>{% endblock %}'
    )
    files = _build(root)
    page = _page(files, EPISODE)
    assert page.xpath("//h1[@class='mine']/text()") == ["Analytical engines"]
    assert page.xpath("//header[@class='site-header']")  # the shipped base template still frames it
    assert files[site.STYLESHEET] == b"body { color: teal; }\n"
    assert files[layout.ASSETS / "logo.svg"] == b"<svg/>"
    assert b"<h1>Test Talks</h1>" in files[layout.INDEX]


def test_remote_artwork_that_cannot_be_fetched_is_not_linked(tmp_path: Path) -> None:
    root = site_show(tmp_path / "show", show={"image": "https://cdn.example.org/art.png"})
    project = load_project(root)
    episodes, _, _ = releases.select(project, datetime.now(timezone.utc))
    infos, failures = releases.probe_each(project, episodes)
    assert not failures
    files = site.build_site(project, releases.prepare(project, episodes, infos).releases)
    page = _page(files, layout.INDEX)
    # Pages load nothing from other hosts: a grey square served from the site stands in.
    assert page.xpath("//section[@class='hero']/img/@src") == ["assets/artwork.jpg"]
    assert page.xpath("//link[@rel='icon']/@href") == ["data:,"]
    assert content_bytes(files[layout.ASSETS / "artwork.jpg"]).startswith(b"\xff\xd8")


# -- Hostile text ---------------------------------------------------------------------------------


def _assert_inert(html_text: str, where: object) -> None:
    """No script, event handler or javascript: URL in a document (our own scripts aside)."""
    document = lxml.html.document_fromstring(html_text)
    for script in document.iter("script"):
        assert script.get("type") == "application/ld+json" or script.get("src", "").endswith("assets/player.js"), where
        if script.get("type") == "application/ld+json":
            json.loads(script.text)
            assert "<" not in script.text, where
    for element in document.iter():
        if not isinstance(element.tag, str):
            continue
        assert element.tag not in ("svg", "iframe", "object", "embed", "form", "style"), (where, element.tag)
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), (where, element.tag, name)
            squashed = "".join(value.split()).lower()
            assert not squashed.startswith(("javascript:", "vbscript:", "data:text")), (where, element.tag, name, value)


def test_hostile_text_is_neutralized_in_pages(tmp_path: Path) -> None:
    project, releases = hostile_project(tmp_path / "show")
    files = site.build_site(project, releases)
    pages = [path for path in files if path.suffix == ".html"]
    # Home, guests, subscribe, 404, and for each of the two episodes its page and its embeddable player.
    assert len(pages) == 8
    for path in pages:
        _assert_inert(content_bytes(files[path]).decode(), path)
    # The feed page a browser makes of feed.xml through feed.xsl, for a show that asks for it.
    project, releases = feedable(project, releases)
    project = replace(project, show=replace(project.show, feed_stylesheet=True))
    styled = site.build_site(project, releases)
    rss = feed.build_feed(project.show, releases, build_date=releases[-1].episode.date)
    transform = etree.XSLT(etree.fromstring(styled[layout.FEED_STYLESHEET]))
    _assert_inert(str(transform(etree.fromstring(rss))), "feed.xsl")
    page = _page(files, PurePosixPath("001-hostile/index.html"))
    # The text itself is shown, as text.
    assert _text(page.xpath("//h1")[0]) == _text(lxml.html.fragment_fromstring(f"<p>{escape(XSS)}</p>"))
    assert page.xpath("//ol[@class='chapters']//a[@class='external']") == []
    assert page.xpath("//ul[@class='links']//a/@href") == ["https://fine.example/"]
    assert _json_ld(page)["name"] == XSS
    # The directory whose URL is unsafe is left out; the one with a hostile label is shown as text.
    assert page.xpath("//section[@id='subscribe']//a/@href") == ["https://directory.example/show", "../subscribe/"]


def test_hostile_text_is_neutralized_in_notes_markdown(tmp_path: Path) -> None:
    project, releases = hostile_project(tmp_path / "show")
    text = content_bytes(site.build_site(project, releases)[PurePosixPath("001-hostile/notes.md")]).decode()
    # Pasted into a Markdown renderer that passes HTML through, nothing runs.
    from markdown_it import MarkdownIt

    _assert_inert(MarkdownIt("commonmark", {"html": True}).render(text), "notes.md")


def test_file_names_with_hash_and_spaces_link_to_the_file(tmp_path: Path) -> None:
    import lxml.html

    from entretiens.publish import publish
    from showbuilder import episode, make_show

    root = make_show(tmp_path / "show", {"001-a": episode(1, audio="audio/take #1 é.mp3")})
    publish(root, tmp_path / "out")
    page = lxml.html.fromstring((tmp_path / "out" / "001-a" / "index.html").read_bytes())
    sources = {element.get("src") for element in page.iter("audio", "source") if element.get("src")}
    assert sources == {"../audio/take%20%231%20%C3%A9.mp3"}
    assert (tmp_path / "out" / "audio" / "take #1 é.mp3").is_file()


@pytest.mark.parametrize("text", ["{% if %}", "{{ nope.x }}"])
def test_a_broken_template_override_is_a_clear_error(tmp_path: Path, text: str) -> None:
    from click.testing import CliRunner

    from entretiens.cli import cli
    from showbuilder import make_show

    root = make_show(tmp_path / "show")
    (root / "templates").mkdir()
    (root / "templates" / "index.html.j2").write_text(text, encoding="utf-8")
    result = CliRunner().invoke(cli, ["publish", "--show", str(root), "--output", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "index.html.j2" in result.stderr
    assert not (tmp_path / "out").exists()


def test_resized_images_come_from_the_cache_until_their_source_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from entretiens import thumbnails

    root = site_show(tmp_path / "show")
    # Dated back, and their ctime (now) waited for: what is made from a file changed within a
    # timestamp tick is not kept (it could change again within the same tick).
    images = list(root.rglob("*.png"))
    for image in images:
        os.utime(image, ns=(time.time_ns() - 60_000_000_000,) * 2)
    wait_settled(images)
    first = _build(root)
    made: list[Path] = []
    encode = thumbnails._encode

    def counting(source: Path, size: int, *, square: bool, suffix: str) -> bytes | None:
        made.append(source)
        return encode(source, size, square=square, suffix=suffix)

    monkeypatch.setattr(thumbnails, "_encode", counting)
    assert _build(root) == first
    assert made == []
    # A new photo at the same path is resized again, and only it.
    Image.new("RGB", (300, 300), (200, 10, 10)).save(root / "images" / "ada.png")
    second = _build(root)
    assert {path.name for path in made} == {"ada.png"}
    photo = PurePosixPath("assets/people/ada-lovelace.jpg")
    assert second[photo] != first[photo]


def test_ascii_names_fold_as_before_without_being_decomposed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every guest's name is folded for the guests page's order and anchors at each build: an
    ASCII name (nothing to decompose or drop) skips Unicode's decomposition, with the same result."""
    every = "".join(map(chr, range(128)))

    def slow(text: str) -> str:
        return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).casefold()

    expected = slow(every)
    decomposed: list[str] = []
    real = unicodedata.normalize

    def counting(form: str, text: str) -> str:
        decomposed.append(text)
        return real(form, text)  # type: ignore[arg-type]

    monkeypatch.setattr(unicodedata, "normalize", counting)
    assert guestlist.fold(every) == expected
    assert layout.slugify(every, limit=500) == re.sub(r"[^a-z0-9]+", "-", expected).strip("-")
    assert decomposed == []
    assert guestlist.fold("Jérémi Ŀepetit") == slow("Jérémi Ŀepetit") == "jeremi l·epetit"
    assert layout.slugify("Jérémi Lepetit") == "jeremi-lepetit"


def test_ascii_names_sort_by_family_name_as_before_from_one_fold() -> None:
    def slow(name: str) -> str:
        words = name.split()
        if len(words) < 2:
            return guestlist.fold(name)
        return guestlist.fold(words[-1]) + "\x00" + guestlist.fold(" ".join(words[:-1]))

    names = ["Ada Lovelace", " Ada  LOVELACE ", "Mary\tAnn  Evans", "Cher", "  Prince ", "", " ", "a\x1cb c"]
    names += ["J. R. R. Tolkien", "Jérémi Lepetit", "Ŀuis Ŀepetit", "Élodie"]
    assert [guestlist.family_first(name) for name in names] == [slow(name) for name in names]


class _Photos:
    """Stands for the site's images: each photo asked for, linked as it is."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, PurePosixPath]] = []

    def thumbnail(self, reference: str, target: PurePosixPath, size: int, *, square: bool = False) -> Picture:
        self.asked.append((reference, target))
        return Picture(src=reference)


def test_each_guest_has_the_newest_photo_given_and_every_appearance_newest_first() -> None:
    """A guest's photo is the first one given, newest appearance first (an older one when the
    newer ones give none; none for an empty reference), whether they appear once or more."""

    def release(slug: str, day: int, *people: Person) -> Release:
        episode = Episode(
            slug=slug,
            path=Path("episodes") / f"{slug}.yaml",
            title=slug,
            date=datetime(2024, 5, day, tzinfo=timezone.utc),
            audio=f"audio/{slug}.mp3",
            guests=people,
        )
        audio = AudioInfo(size=1, duration=timedelta(seconds=1), mime_type="audio/mpeg")
        return Release(episode=episode, audio=audio, enclosure_length=1)

    ordered = (
        release("c", 3, Person(name="Ada Once", image="ada.png"), Person(name="Bo Twice")),
        release("b", 2, Person(name="Bo Twice", image="bo-old.png"), Person(name="Cy Empty", image="")),
        release("a", 1, Person(name="Bo Twice", image="bo-older.png"), Person(name="Di None")),
    )
    photos = _Photos()
    guests, guest_of = guestlist.guest_list(ordered, cast("thumbnails.Images", photos))
    found = {guest.person.name: (guest.photo, [r.episode.slug for r in guest.releases]) for guest in guests}
    assert found == {
        "Ada Once": (Picture(src="ada.png"), ["c"]),
        "Bo Twice": (Picture(src="bo-old.png"), ["c", "b", "a"]),
        "Cy Empty": (None, ["b"]),
        "Di None": (None, ["a"]),
    }
    assert photos.asked == [
        ("ada.png", PurePosixPath("assets/people/ada-once.jpg")),
        ("bo-old.png", PurePosixPath("assets/people/bo-twice.jpg")),
    ]
    assert guest_of(ordered[2].episode.guests[0]) is guest_of(ordered[0].episode.guests[1])
