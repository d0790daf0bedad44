"""The feed's XML, read back with XPath: every tag Apple and the Podcasting 2.0 namespace document."""

from __future__ import annotations

import gc
import uuid
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import lxml.html
import pytest
from lxml import etree

from entretiens import buildrecord, layout, pipeline, publish
from entretiens.content import content_bytes
from entretiens.feed import build_feeds
from entretiens.loading import load_project
from entretiens.unitcache import Digests, Units
from showbuilder import episode, make_show

NS = {
    "itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd",
    "podcast": "https://podcastindex.org/namespace/1.0",
    "atom": "http://www.w3.org/2005/Atom",
    "content": "http://purl.org/rss/1.0/modules/content/",
    "psc": "http://podlove.org/simple-chapters",
}


def _feed(root: Path) -> etree._Element:
    with publish.publish(root, root / "public", dry_run=True, hold=True) as result:
        data = content_bytes(result.files[layout.FEED])
    assert isinstance(data, bytes)
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    return etree.fromstring(data)


def _text(feed: etree._Element, path: str) -> list[str]:
    return [str(x) for x in feed.xpath(path, namespaces=NS)]


@pytest.fixture
def show_root(tmp_path: Path) -> Path:
    return make_show(
        tmp_path / "show",
        {
            "001-first": episode(1, chapters=[{"start": "00:00", "title": "Hello"}, {"start": 1, "title": "Next"}]),
            "002-second": episode(
                2,
                explicit=True,
                season_name="Origins",
                soundbites=[{"start": 0.5, "duration": 2, "title": "Best bit"}],
                guests=[{"name": "Ada", "url": "https://ada.example/", "bio": "B.", "role": "guest"}],
            ),
            "003-bonus": episode(3, type="bonus", number=None),
        },
        show={"funding": [{"url": "https://example.org/support", "text": "Support us"}]},
    )


@pytest.fixture
def feed(show_root: Path) -> etree._Element:
    return _feed(show_root)


def test_channel_has_every_apple_tag(feed: etree._Element) -> None:
    assert feed.tag == "rss" and feed.get("version") == "2.0"
    assert _text(feed, "/rss/channel/title/text()") == ["Test Talks"]
    assert _text(feed, "/rss/channel/link/text()") == ["https://podcast.example.org/show/"]
    assert _text(feed, "/rss/channel/language/text()") == ["en"]
    assert _text(feed, "/rss/channel/itunes:author/text()") == ["Alex Host"]
    assert _text(feed, "/rss/channel/itunes:owner/itunes:email/text()") == ["alex@example.org"]
    assert _text(feed, "/rss/channel/itunes:owner/itunes:name/text()") == ["Alex Host"]
    assert _text(feed, "/rss/channel/itunes:image/@href") == ["https://podcast.example.org/show/artwork.png"]
    assert _text(feed, "/rss/channel/itunes:explicit/text()") == ["false"]
    assert _text(feed, "/rss/channel/itunes:type/text()") == ["episodic"]
    assert _text(feed, "/rss/channel/itunes:category/@text") == ["Business", "Technology"]
    assert _text(feed, "/rss/channel/itunes:category[@text='Business']/itunes:category/@text") == ["Marketing"]
    assert _text(feed, "/rss/channel/atom:link[@rel='self']/@href") == ["https://podcast.example.org/show/feed.xml"]
    assert _text(feed, "/rss/channel/atom:link[@rel='self']/@type") == ["application/rss+xml"]
    assert _text(feed, "/rss/channel/generator/text()")[0].startswith("entretiens ")
    # Not written unless asked for: only "Yes" has an effect, and Apple flags it.
    assert not feed.xpath("/rss/channel/itunes:block | /rss/channel/itunes:complete", namespaces=NS)


def test_channel_podcast_namespace(feed: etree._Element) -> None:
    # UUIDv5 of the feed URL without its scheme, in the namespace's own UUID (podcast:guid spec).
    expected = uuid.uuid5(uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6"), "podcast.example.org/show/feed.xml")
    assert _text(feed, "/rss/channel/podcast:guid/text()") == [str(expected)]
    assert _text(feed, "/rss/channel/podcast:locked/text()") == ["yes"]
    assert _text(feed, "/rss/channel/podcast:locked/@owner") == ["alex@example.org"]
    assert _text(feed, "/rss/channel/podcast:funding/@url") == ["https://example.org/support"]
    assert _text(feed, "/rss/channel/podcast:funding/text()") == ["Support us"]
    assert _text(feed, "/rss/channel/podcast:person[@role='host']/text()") == ["Alex Host"]
    assert _text(feed, "/rss/channel/podcast:medium/text()") == ["podcast"]


def test_items_newest_first_with_rfc2822_dates(feed: etree._Element) -> None:
    assert _text(feed, "//item/title/text()") == ["Conversation 3", "Conversation 2", "Conversation 1"]
    dates = [parsedate_to_datetime(d) for d in _text(feed, "//item/pubDate/text()")]
    assert all(d.tzinfo is not None for d in dates)
    assert dates[-1] == datetime(2024, 3, 1, 9, 0, tzinfo=timezone.utc)
    assert _text(feed, "//item/pubDate/text()")[-1] == "Fri, 01 Mar 2024 10:00:00 +0100"
    assert _text(feed, "/rss/channel/lastBuildDate/text()") == ["Sun, 03 Mar 2024 10:00:00 +0100"]


def test_item_tags(feed: etree._Element, show_root: Path) -> None:
    second = feed.xpath("//item[title='Conversation 2']", namespaces=NS)[0]

    def one(path: str) -> str:
        (value,) = second.xpath(path, namespaces=NS)
        return str(value)

    assert one("guid/@isPermaLink") == "false"
    assert one("link/text()") == "https://podcast.example.org/show/002-second/"
    assert one("enclosure/@url") == "https://podcast.example.org/show/audio/002.mp3"
    assert one("enclosure/@type") == "audio/mpeg"
    assert int(one("enclosure/@length")) == (show_root / "audio" / "002.mp3").stat().st_size
    assert one("itunes:duration/text()") == "3"
    assert one("itunes:explicit/text()") == "true"
    assert one("itunes:episode/text()") == "2"
    assert one("itunes:season/text()") == "1"
    assert one("itunes:episodeType/text()") == "full"
    assert one("itunes:title/text()") == "Conversation 2"
    assert one("podcast:season/@name") == "Origins"
    assert one("podcast:episode/text()") == "2"
    assert one("podcast:soundbite/@startTime") == "0.5"
    assert one("podcast:soundbite/@duration") == "2"
    assert one("podcast:soundbite/text()") == "Best bit"
    assert one("podcast:person[@role='guest']/text()") == "Ada"
    assert one("podcast:person[@role='guest']/@href") == "https://ada.example/"
    assert one("podcast:person[@role='host']/text()") == "Alex Host"
    assert "Summary of conversation 2." in one("description/text()")
    assert "<p>B.</p>" in one("content:encoded/text()")


def test_bonus_without_number_and_chapters(feed: etree._Element) -> None:
    bonus = feed.xpath("//item[title='Conversation 3']", namespaces=NS)[0]
    assert bonus.xpath("itunes:episodeType/text()", namespaces=NS) == ["bonus"]
    assert not bonus.xpath("itunes:episode | podcast:episode", namespaces=NS)
    first = feed.xpath("//item[title='Conversation 1']", namespaces=NS)[0]
    assert first.xpath("podcast:chapters/@url", namespaces=NS) == [
        "https://podcast.example.org/show/001-first/chapters.json"
    ]
    assert first.xpath("podcast:chapters/@type", namespaces=NS) == ["application/json+chapters"]
    assert first.xpath("psc:chapters/@version", namespaces=NS) == ["1.2"]
    assert first.xpath("psc:chapters/psc:chapter/@start", namespaces=NS) == ["00:00:00.000", "00:00:01.000"]


def test_file_names_with_spaces_and_accents_are_percent_encoded(tmp_path: Path) -> None:
    root = make_show(tmp_path / "show", {"001-a": episode(1, audio="audio/Épisode un.mp3")})
    feed = _feed(root)
    assert _text(feed, "//item/enclosure/@url") == ["https://podcast.example.org/show/audio/%C3%89pisode%20un.mp3"]


def test_serial_show_and_flags(tmp_path: Path) -> None:
    root = make_show(
        tmp_path / "show",
        show={
            "type": "serial",
            "explicit": True,
            "block": True,
            "complete": True,
            "new_feed_url": "https://new.example.org/feed.xml",
            "license": "CC-BY-4.0",
            "location": {"name": "Paris", "geo": "geo:48.8566,2.3522", "country": "FR"},
            "locked": False,
        },
    )
    feed = _feed(root)
    assert _text(feed, "/rss/channel/itunes:type/text()") == ["serial"]
    assert _text(feed, "/rss/channel/itunes:explicit/text()") == ["true"]
    assert _text(feed, "/rss/channel/itunes:block/text()") == ["Yes"]
    assert _text(feed, "/rss/channel/itunes:complete/text()") == ["Yes"]
    assert _text(feed, "/rss/channel/itunes:new-feed-url/text()") == ["https://new.example.org/feed.xml"]
    assert _text(feed, "/rss/channel/podcast:license/text()") == ["CC-BY-4.0"]
    assert _text(feed, "/rss/channel/podcast:location/@geo") == ["geo:48.8566,2.3522"]
    assert _text(feed, "/rss/channel/podcast:locked/text()") == ["no"]


def test_feed_and_show_notes_never_carry_script(tmp_path: Path) -> None:
    payload = '<script>alert(1)</script><img src=x onerror="alert(2)"> [x](javascript:alert(3))'
    root = make_show(
        tmp_path / "show",
        {
            "001-a": episode(
                1, summary=payload, notes=payload, quote=payload, guests=[{"name": payload, "bio": payload}]
            )
        },
        show={"description": payload + " and an escaped &lt;script&gt;alert(4)&lt;/script&gt; in `<code>`"},
    )
    with publish.publish(root, root / "public", dry_run=True, hold=True) as result:
        xml = content_bytes(result.files[layout.FEED])
    assert isinstance(xml, bytes)
    feed = etree.fromstring(xml)
    for field in ("item/description", "item/content:encoded", "channel/description"):
        (html,) = _text(feed, f"//{field}/text()")
        # Apps render these as HTML: parse them as a browser would and look for anything active.
        document = lxml.html.fragment_fromstring(html, create_parent="div")
        assert not document.xpath("//script | //iframe | //object | //embed | //style")
        for element in document.iter():
            assert not [name for name in element.attrib if name.lower().startswith("on")], element.attrib
            for name in ("href", "src"):
                assert not element.get(name, "").strip().lower().startswith("javascript:")


def test_guest_contact_details_are_never_published(tmp_path: Path) -> None:
    from showbuilder import write_yaml

    root = make_show(tmp_path / "show", {"001-a": episode(1, guests=["jane"])})
    write_yaml(
        root / "guests" / "jane.yaml",
        {"name": "Jane", "bio": "Bio.", "email": "jane.private@example.org", "phone": "+33 6 12 34 56 78"},
    )
    result = publish.publish(root, tmp_path / "out")
    for path in (tmp_path / "out").rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert b"jane.private" not in data, path
            assert b"12 34 56" not in data, path
    assert result.releases[0].episode.guests[0].name == "Jane"
    assert "email" not in repr(load_project(root).episodes[0].guests[0])


def test_subcategories_of_one_category_nest_under_one_parent(tmp_path: Path) -> None:
    root = make_show(
        tmp_path / "show", show={"categories": [{"Business": ["Marketing", "Entrepreneurship"]}, "Technology"]}
    )
    feed = _feed(root)
    assert _text(feed, "/rss/channel/itunes:category/@text") == ["Business", "Technology"]
    assert _text(feed, "/rss/channel/itunes:category[@text='Business']/itunes:category/@text") == [
        "Marketing",
        "Entrepreneurship",
    ]


def test_the_items_are_asked_for_with_the_collector_off_and_read_with_it_on(
    show_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The requests (a closure, a key and a list an episode) set off full passes of the collector
    # over the whole build; the items are read with it on (the cache may fork workers).
    built = pipeline.build(show_root)
    assert built.project is not None and built.releases
    seen: list[tuple[str, bool]] = []
    release, get_many = Digests.release, Units.get_many

    def watched_release(digests: Digests, value: object) -> str:
        seen.append(("request", gc.isenabled()))
        return release(digests, value)

    def watched_get_many(units: Units, requests: Any) -> Any:
        seen.append(("units", gc.isenabled()))
        return get_many(units, requests)

    monkeypatch.setattr(Digests, "release", watched_release)
    monkeypatch.setattr(Units, "get_many", watched_get_many)
    items = Units(show_root, "items", version=buildrecord.code())
    made = build_feeds(built.project.show, built.releases, items, Digests())
    assert content_bytes(made[layout.FEED]).count(b"<item>") == len(built.releases)
    assert set(seen) == {("request", False), ("units", True)}
    assert gc.isenabled()
