"""Tests of the real-client harness on a hand-written feed whose content is known."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

import podcast_clients
from podcast_clients import (
    Enclosure,
    FeedClientError,
    NormalizedEpisode,
    NormalizedFeed,
    PartytimeFeed,
    alias_podcast_namespace,
    normalized,
    parse_duration,
    parse_with_feedparser,
    parse_with_partytime,
    parse_with_podcastparser,
    published_epoch,
)

if TYPE_CHECKING:
    from pathlib import Path

FEED_URL = "https://example.org/podcast/feed.xml"
FIRST_PUBLISHED = 1298275200  # Mon, 21 Feb 2011 08:00:00 UTC
DURATION = 3723  # 1 h 2 min 3 s
ENTRIES = 2
# UUID v5 of "example.org/podcast/feed.xml", as podcast:guid requires.
SHOW_GUID = "080cbc85-2163-502d-8b52-3171206ba87e"

# Valid against FEED_RULES.md: every podcast: tag in its parent, isPermaLink="false" on the
# non-URL guid, the second guid a real permalink.
SAMPLE_FEED = f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"
     xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"
     xmlns:podcast="https://podcastindex.org/namespace/1.0"
     xmlns:atom="http://www.w3.org/2005/Atom"
     xmlns:content="http://purl.org/rss/1.0/modules/content/">
  <channel>
    <title>Entretiens &amp; Cie</title>
    <link>https://example.org/</link>
    <description>Des entretiens.</description>
    <language>fr</language>
    <atom:link href="{FEED_URL}" rel="self" type="application/rss+xml"/>
    <itunes:image href="https://example.org/podcast/artwork.jpg"/>
    <itunes:category text="Business">
      <itunes:category text="Marketing"/>
    </itunes:category>
    <itunes:category text="Technology"/>
    <itunes:explicit>false</itunes:explicit>
    <itunes:type>episodic</itunes:type>
    <itunes:author>Anne Hôte</itunes:author>
    <itunes:owner>
      <itunes:name>Anne Hôte</itunes:name>
      <itunes:email>anne@example.org</itunes:email>
    </itunes:owner>
    <podcast:guid>{SHOW_GUID}</podcast:guid>
    <podcast:locked owner="anne@example.org">yes</podcast:locked>
    <podcast:funding url="https://example.org/soutenir">Soutenir l'émission</podcast:funding>
    <podcast:person role="host" href="https://example.org/anne"
                    img="https://example.org/anne.jpg">Anne Hôte</podcast:person>
    <podcast:medium>podcast</podcast:medium>
    <podcast:license>CC-BY-4.0</podcast:license>
    <podcast:location geo="geo:48.8566,2.3522" osm="R7444">Paris</podcast:location>
    <item>
      <title>Entretien avec Jérémi Lepetit</title>
      <link>https://example.org/podcast/001/</link>
      <description>La gestion de la communauté.</description>
      <guid isPermaLink="false">entretiens-0001</guid>
      <pubDate>Mon, 21 Feb 2011 09:00:00 +0100</pubDate>
      <enclosure url="https://example.org/podcast/audio/001.mp3" length="1234567"
                 type="audio/mpeg"/>
      <itunes:duration>3723</itunes:duration>
      <itunes:explicit>false</itunes:explicit>
      <itunes:episode>1</itunes:episode>
      <itunes:season>1</itunes:season>
      <itunes:episodeType>full</itunes:episodeType>
      <itunes:image href="https://example.org/podcast/001.jpg"/>
      <podcast:season name="Débuts">1</podcast:season>
      <podcast:episode display="Un">1</podcast:episode>
      <podcast:person role="guest"
                      href="https://example.org/jeremi">Jérémi Lepetit</podcast:person>
      <podcast:person role="host">Anne Hôte</podcast:person>
      <podcast:transcript url="https://example.org/podcast/transcripts/001.vtt"
                          type="text/vtt" language="fr" rel="captions"/>
      <podcast:transcript url="https://example.org/podcast/transcripts/001.srt"
                          type="application/x-subrip"/>
      <podcast:chapters url="https://example.org/podcast/chapters/001.json"
                        type="application/json+chapters"/>
      <podcast:soundbite startTime="62.5"
                         duration="30">Ne pas externaliser</podcast:soundbite>
    </item>
    <item>
      <title>Entretien avec Marie Curieuse</title>
      <description>Deuxième entretien.</description>
      <guid>https://example.org/podcast/002/</guid>
      <pubDate>Tue, 05 Mar 2024 10:00:00 +0100</pubDate>
      <enclosure url="https://example.org/podcast/audio/002.m4a" length="7654321"
                 type="audio/x-m4a"/>
      <itunes:duration>01:02:03</itunes:duration>
      <itunes:explicit>true</itunes:explicit>
      <itunes:episode>2</itunes:episode>
      <podcast:person role="guest" group="cast">Marie Curieuse</podcast:person>
    </item>
  </channel>
</rss>
""".encode()

FIRST = NormalizedEpisode(
    title="Entretien avec Jérémi Lepetit",
    guid="entretiens-0001",
    enclosure=Enclosure(
        url="https://example.org/podcast/audio/001.mp3",
        length=1234567,
        type="audio/mpeg",
    ),
    duration=DURATION,
    published=FIRST_PUBLISHED,
)
SECOND = NormalizedEpisode(
    title="Entretien avec Marie Curieuse",
    guid="https://example.org/podcast/002/",
    enclosure=Enclosure(
        url="https://example.org/podcast/audio/002.m4a",
        length=7654321,
        type="audio/x-m4a",
    ),
    duration=DURATION,
    published=published_epoch("Tue, 05 Mar 2024 10:00:00 +0100"),
)


@pytest.fixture(scope="module")
def partytime() -> PartytimeFeed:
    return parse_with_partytime(SAMPLE_FEED)


def test_published_epoch_reads_the_zone() -> None:
    assert published_epoch("Mon, 21 Feb 2011 09:00:00 +0100") == FIRST_PUBLISHED


def test_podcastparser_reads_the_sample() -> None:
    feed = parse_with_podcastparser(SAMPLE_FEED, FEED_URL)

    assert feed["title"] == "Entretiens & Cie"
    assert feed["type"] == "episodic"
    assert feed["explicit"] is False
    assert feed["itunes_categories"] == [["Business", "Marketing"], ["Technology"]]
    assert feed["itunes_owner"] == {"name": "Anne Hôte", "email": "anne@example.org"}
    # Newest first: podcastparser sorts episodic feeds by date.
    newest, oldest = feed["episodes"]
    assert oldest["guid"] == "entretiens-0001"
    assert oldest["link"] == "https://example.org/podcast/001/"
    assert oldest["enclosures"] == [
        {
            "url": "https://example.org/podcast/audio/001.mp3",
            "file_size": 1234567,
            "mime_type": "audio/mpeg",
        }
    ]
    assert (oldest["total_time"], oldest["published"]) == (DURATION, FIRST_PUBLISHED)
    assert (oldest["explicit"], oldest["number"], oldest["season"]) == (False, 1, 1)
    assert oldest["episode_art_url"] == "https://example.org/podcast/001.jpg"
    assert newest["guid"] == "https://example.org/podcast/002/"
    assert newest["total_time"] == DURATION
    assert newest["explicit"] is True
    # Under the canonical namespace URI podcastparser 0.6 reads no podcast: tag.
    assert "persons" not in oldest
    assert "funding_url" not in feed


def test_podcastparser_reads_podcast_tags_under_the_alias_uri() -> None:
    """The harness itself: podcastparser reads podcast: tags only under the old GitHub URI.

    Feeds from other hosts still bind it; ours use the canonical URI, which podcastparser
    ignores (test_podcast20 reads our feed as published and says so).
    """
    feed = parse_with_podcastparser(alias_podcast_namespace(SAMPLE_FEED), FEED_URL)

    assert feed["funding_url"] == "https://example.org/soutenir"
    assert feed["import_prohibited"] is True
    oldest = feed["episodes"][1]
    assert oldest["persons"] == [
        {
            "name": "Jérémi Lepetit",
            "role": "guest",
            "group": "cast",
            "href": "https://example.org/jeremi",
            "img": None,
        },
        {
            "name": "Anne Hôte",
            "role": "host",
            "group": "cast",
            "href": None,
            "img": None,
        },
    ]
    assert oldest["chapters_json_url"] == "https://example.org/podcast/chapters/001.json"
    # Only the last transcript survives.
    assert oldest["transcript_url"] == "https://example.org/podcast/transcripts/001.srt"


def test_podcastparser_resolves_a_guid_that_is_not_marked_as_a_plain_id() -> None:
    xml = SAMPLE_FEED.replace(b'isPermaLink="false"', b"")

    oldest = parse_with_podcastparser(xml, FEED_URL)["episodes"][1]

    assert oldest["guid"] == "https://example.org/podcast/entretiens-0001"


def test_podcastparser_rejects_broken_xml() -> None:
    with pytest.raises(FeedClientError, match="podcastparser could not parse"):
        parse_with_podcastparser(SAMPLE_FEED.replace(b"</channel>", b""), FEED_URL)


def test_feedparser_reads_the_sample() -> None:
    parsed = parse_with_feedparser(SAMPLE_FEED)

    assert parsed.version == "rss20"
    assert parsed.feed.title == "Entretiens & Cie"
    assert parsed.feed.itunes_type == "episodic"
    assert parsed.feed.podcast_guid == SHOW_GUID
    assert [tag.term for tag in parsed.feed.tags] == [
        "Business",
        "Marketing",
        "Technology",
    ]
    first, second = parsed.entries
    assert (first.id, first.guidislink) == ("entretiens-0001", False)
    assert first.link == "https://example.org/podcast/001/"
    assert [dict(e) for e in first.enclosures] == [
        {
            "href": "https://example.org/podcast/audio/001.mp3",
            "length": "1234567",
            "type": "audio/mpeg",
        }
    ]
    assert (first.itunes_duration, first.itunes_episode, first.itunes_season) == (
        "3723",
        "1",
        "1",
    )
    assert first.published_parsed[:6] == (2011, 2, 21, 8, 0, 0)
    assert first.podcast_chapters["url"] == "https://example.org/podcast/chapters/001.json"
    assert (second.id, second.guidislink) == ("https://example.org/podcast/002/", True)
    assert second.itunes_duration == "01:02:03"
    # feedparser 6 knows only yes/clean, not Apple's true/false.
    assert second.itunes_explicit is None


def test_feedparser_flags_broken_xml() -> None:
    broken = SAMPLE_FEED.replace(b"</channel>", b"")

    with pytest.raises(FeedClientError, match="feedparser flagged"):
        parse_with_feedparser(broken)
    assert len(parse_with_feedparser(broken, strict=False).entries) == ENTRIES


def test_partytime_reads_the_channel(partytime: PartytimeFeed) -> None:
    assert partytime["client"] == {"name": "podcast-partytime", "version": "5.0.0"}
    assert partytime["title"] == "Entretiens & Cie"
    assert partytime["guid"] == SHOW_GUID
    assert (partytime["locked"], partytime["locked_owner"]) == (
        True,
        "anne@example.org",
    )
    assert partytime["owner"] == {"name": "Anne Hôte", "email": "anne@example.org"}
    assert partytime["funding"] == [{"url": "https://example.org/soutenir", "message": "Soutenir l'émission"}]
    assert partytime["persons"] == [
        {
            "name": "Anne Hôte",
            "role": "Host",
            "group": "Cast",
            "href": "https://example.org/anne",
            "img": "https://example.org/anne.jpg",
        }
    ]
    assert partytime["itunes_categories"] == ["Business > Marketing", "Technology"]
    assert (partytime["itunes_type"], partytime["explicit"]) == ("episodic", False)
    assert partytime["medium"] == "podcast"
    assert partytime["license"] == {
        "identifier": "CC-BY-4.0",
        "url": "https://spdx.org/licenses/CC-BY-4.0.html",
    }
    assert partytime["location"] == {
        "name": "Paris",
        "geo": "geo:48.8566,2.3522",
        "osm": "R7444",
    }
    assert partytime["image"] == "https://example.org/podcast/artwork.jpg"


def test_partytime_reads_the_items(partytime: PartytimeFeed) -> None:
    first, second = partytime["items"]

    assert first["guid"] == "entretiens-0001"
    assert first["enclosure"] == {
        "url": "https://example.org/podcast/audio/001.mp3",
        "length": 1234567,
        "type": "audio/mpeg",
    }
    assert (first["duration"], first["explicit"]) == (3723, False)
    assert first["pub_date"] == "2011-02-21T08:00:00.000Z"
    assert (first["itunes_episode"], first["itunes_season"]) == (1, 1)
    assert first["podcast_episode"] == {"number": 1, "display": "Un"}
    assert first["podcast_season"] == {"number": 1, "name": "Débuts"}
    assert [(p["name"], p["role"], p["href"]) for p in first["persons"]] == [
        ("Jérémi Lepetit", "Guest", "https://example.org/jeremi"),
        ("Anne Hôte", "Host", None),
    ]
    assert first["transcripts"] == [
        {
            "url": "https://example.org/podcast/transcripts/001.vtt",
            "type": "text/vtt",
            "language": "fr",
            "rel": "captions",
        },
        {
            "url": "https://example.org/podcast/transcripts/001.srt",
            "type": "application/srt",
            "language": "fr",
            "rel": None,
        },
    ]
    assert first["chapters"] == {
        "url": "https://example.org/podcast/chapters/001.json",
        "type": "application/json+chapters",
    }
    assert first["soundbites"] == [{"start_time": 62.5, "duration": 30, "title": "Ne pas externaliser"}]
    assert first["image"] == "https://example.org/podcast/001.jpg"
    assert (second["guid"], second["duration"], second["explicit"]) == (
        "https://example.org/podcast/002/",
        3723,
        True,
    )
    assert (second["itunes_episode"], second["podcast_episode"]) == (2, None)
    assert second["persons"][0]["role"] == "Guest"
    assert second["transcripts"] == []


def test_partytime_ignores_locked_without_owner_and_items_without_guid() -> None:
    xml = SAMPLE_FEED.replace(b' owner="anne@example.org"', b"").replace(
        b'<guid isPermaLink="false">entretiens-0001</guid>', b""
    )

    parsed = parse_with_partytime(xml)

    assert (parsed["locked"], parsed["locked_owner"]) == (None, None)
    assert [item["guid"] for item in parsed["items"]] == ["https://example.org/podcast/002/"]


def test_partytime_rejects_broken_xml() -> None:
    with pytest.raises(FeedClientError, match="could not parse the feed"):
        parse_with_partytime(SAMPLE_FEED.replace(b"</channel>", b""))


def test_the_three_clients_agree_on_the_sample() -> None:
    parse_with_partytime(SAMPLE_FEED)  # skips where partytime is not installed
    feeds = normalized(SAMPLE_FEED, FEED_URL)

    expected = NormalizedFeed(title="Entretiens & Cie", episodes=(FIRST, SECOND))
    assert feeds == {
        "podcastparser": expected,
        "feedparser": expected,
        "partytime": expected,
    }


def test_normalized_shows_a_client_that_disagrees() -> None:
    # A numeric-looking guid is read as a number by partytime only.
    xml = SAMPLE_FEED.replace(b"entretiens-0001", b"00123")
    parse_with_partytime(xml)  # skips where partytime is not installed

    feeds = normalized(xml, FEED_URL)

    assert feeds["podcastparser"].episodes[0].guid == "00123"
    assert feeds["feedparser"] == feeds["podcastparser"]
    assert feeds["partytime"].episodes[0].guid == "123"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("3723", 3723),
        ("62:03", 3723),
        ("01:02:03", 3723),
        ("1:2:3", 3723),
        (" 3723.5 ", 3723.5),
        ("0", None),
        ("", None),
        ("1:xx", None),
        ("PT1H", None),
    ],
)
def test_parse_duration(text: str, seconds: float | None) -> None:
    assert parse_duration(text) == seconds


def test_missing_partytime_install_skips(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(podcast_clients, "PARTYTIME_MANIFEST", tmp_path / "missing.json")
    monkeypatch.delenv("ENTRETIENS_REQUIRE_TOOLS", raising=False)

    with pytest.raises(pytest.skip.Exception, match="npm ci --prefix tests/clients"):
        parse_with_partytime(SAMPLE_FEED)


def test_missing_partytime_install_fails_when_tools_are_required(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(podcast_clients, "PARTYTIME_MANIFEST", tmp_path / "missing.json")
    monkeypatch.setenv("ENTRETIENS_REQUIRE_TOOLS", "1")

    with pytest.raises(pytest.fail.Exception, match="npm ci --prefix tests/clients"):
        parse_with_partytime(SAMPLE_FEED)
