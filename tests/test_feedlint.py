"""Tests of the feed validator: a clean feed, one mutation per rule, and files on disk."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import NamedTuple

import pytest
from PIL import Image

from entretiens.errors import Problem
from entretiens.feedlint import lint_feed
from entretiens.podcast_spec import (
    APPLE_CATEGORIES,
    LANGUAGE_CODES,
    MEDIUMS,
    PERSON_TAXONOMY,
    is_known_license,
    is_valid_language,
    parse_rfc2822,
    person_role_problem,
    podcast_guid_for,
)

NOW = datetime(2024, 6, 1, tzinfo=timezone.utc)
FEED_URL = "https://example.org/podcast/feed.xml"

#: MPEG-1 Layer III, 128 kbit/s, 44.1 kHz, no padding: 417-byte frames of 1152 samples.
MP3_HEADER = bytes.fromhex("FFFB9064")
MP3_FRAME = 144 * 128_000 // 44_100
MP3_FRAME_SECONDS = 1152 / 44_100

CHANNEL = """\
<title>Entretiens</title>
<link>https://example.org/podcast/</link>
<description>Interviews about the social web.</description>
<language>fr</language>
<copyright>© 2024 Entretiens</copyright>
<managingEditor>owner@example.org (Jane Doe)</managingEditor>
<lastBuildDate>Tue, 05 Mar 2024 10:00:00 +0100</lastBuildDate>
<atom:link rel="self" type="application/rss+xml" href="https://example.org/podcast/feed.xml"/>
<image><url>https://example.org/podcast/cover.jpg</url><title>Entretiens</title><link>https://example.org/podcast/</link></image>
<itunes:image href="https://example.org/podcast/cover.jpg"/>
<itunes:category text="Business"><itunes:category text="Marketing"/></itunes:category>
<itunes:category text="Technology"/>
<itunes:explicit>false</itunes:explicit>
<itunes:author>Jane Doe</itunes:author>
<itunes:owner><itunes:name>Jane Doe</itunes:name><itunes:email>owner@example.org</itunes:email></itunes:owner>
<itunes:type>episodic</itunes:type>
<podcast:locked owner="owner@example.org">yes</podcast:locked>
<podcast:guid>GUID</podcast:guid>
<podcast:medium>podcast</podcast:medium>
<podcast:funding url="https://example.org/support">Support the show</podcast:funding>
<podcast:person href="https://example.org/jane" img="https://example.org/podcast/jane.jpg">Jane Doe</podcast:person>
<podcast:license>CC-BY-4.0</podcast:license>
<podcast:location geo="geo:48.8566,2.3522" osm="R7444" country="FR">Paris</podcast:location>
""".replace("GUID", podcast_guid_for(FEED_URL))

ITEM = """\
<title>Entretien avec Jérémi Lepetit</title>
<link>https://example.org/podcast/001-jeremi-lepetit/</link>
<description><![CDATA[<p>On parle de <a href="https://example.com/">communautés</a>.</p>]]></description>
<content:encoded><![CDATA[<p>Les notes.</p>]]></content:encoded>
<guid isPermaLink="false">entretiens-001</guid>
<pubDate>Mon, 21 Feb 2011 09:00:00 +0100</pubDate>
<enclosure url="https://example.org/podcast/audio/001.mp3" length="LENGTH" type="audio/mpeg"/>
<itunes:duration>DURATION</itunes:duration>
<itunes:episode>1</itunes:episode>
<itunes:season>1</itunes:season>
<itunes:episodeType>full</itunes:episodeType>
<itunes:explicit>false</itunes:explicit>
<itunes:image href="https://example.org/podcast/cover.jpg"/>
<podcast:season name="Première saison">1</podcast:season>
<podcast:episode>1</podcast:episode>
<podcast:person role="guest" group="cast">Jérémi Lepetit</podcast:person>
<podcast:person role="host">Jane Doe</podcast:person>
<podcast:transcript url="https://example.org/podcast/transcripts/001.vtt" type="text/vtt" language="fr"/>
<podcast:chapters url="https://example.org/podcast/chapters/001.json" type="application/json+chapters"/>
<podcast:soundbite startTime="2" duration="30">Extrait</podcast:soundbite>
<psc:chapters version="1.2"><psc:chapter start="00:00:00" title="Intro"/>
<psc:chapter start="00:00:05.500" title="Suite"/></psc:chapters>
"""

HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<?xml-stylesheet type="text/xsl" href="feed.xsl"?>\n'
    '<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" '
    'xmlns:podcast="https://podcastindex.org/namespace/1.0" xmlns:atom="http://www.w3.org/2005/Atom" '
    'xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:psc="http://podlove.org/simple-chapters">\n'
)


def feed(
    replace: Mapping[str, str] | None = None,
    *,
    channel: str = "",
    item: str = "",
    length: int = 12_345,
    duration: str = "10",
) -> str:
    """A valid feed, changed by exact text replacements and extra channel/item elements."""
    text = (
        HEAD
        + "<channel>\n"
        + CHANNEL
        + channel
        + "<item>\n"
        + ITEM.replace("LENGTH", str(length)).replace("DURATION", duration)
        + item
        + "</item>\n</channel>\n</rss>\n"
    )
    for old, new in (replace or {}).items():
        assert old in text, old
        text = text.replace(old, new)
    return text


def lint(text: str | bytes, **options: object) -> list[Problem]:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return lint_feed(data, now=NOW, **options)  # type: ignore[arg-type]


def rules(problems: list[Problem]) -> set[tuple[str, str]]:
    return {(p.rule, p.severity) for p in problems}


def test_valid_feed_has_no_problem() -> None:
    assert lint(feed()) == []


def test_problem_names_element_line_and_field() -> None:
    problems = lint(feed({"<itunes:duration>10<": "<itunes:duration>abc<"}))
    assert len(problems) == 1
    problem = problems[0]
    assert problem.rule == "apple.duration.invalid"
    assert problem.field == "channel/item[1]/itunes:duration"
    assert problem.message.startswith('item 1 ("Entretien avec Jérémi Lepetit") <itunes:duration> is "abc"')
    assert problem.message.endswith(".")
    assert problem.line == feed().splitlines().index("<itunes:duration>10</itunes:duration>") + 1
    assert problem.hint


class Case(NamedTuple):
    """One mutation of the valid feed and the single finding it must produce."""

    rule: str
    severity: str
    replace: Mapping[str, str] = {}
    channel: str = ""
    item: str = ""


SHOW_EXPLICIT = "<itunes:explicit>false</itunes:explicit>\n<itunes:author>"
SHOW_IMAGE = '<itunes:image href="https://example.org/podcast/cover.jpg"/>\n<itunes:category'
SELF_LINK = '<atom:link rel="self" type="application/rss+xml" href="https://example.org/podcast/feed.xml"/>'
OWNER = (
    "<itunes:owner><itunes:name>Jane Doe</itunes:name><itunes:email>owner@example.org</itunes:email></itunes:owner>\n"
)
ITEM_DESCRIPTION = '<description><![CDATA[<p>On parle de <a href="https://example.com/">communautés</a>.</p>]]>'
ITEM_TITLE = "<title>Entretien avec Jérémi Lepetit</title>"
PUB_DATE = "Mon, 21 Feb 2011 09:00:00 +0100"
GUID = podcast_guid_for(FEED_URL)
OTHER_GUID = "917393e3-1b1e-5cef-ace4-edaa54e1f810"
LIVE_LINK = '<podcast:contentLink href="https://example.org/live">Live</podcast:contentLink>'
SECOND_ITEM = (
    "</item>\n<item><title>Deux</title><description>Two</description>"
    '<guid isPermaLink="false">entretiens-002</guid><pubDate>Tue, 22 Feb 2011 09:00:00 +0100</pubDate>'
    '<enclosure url="https://example.org/podcast/audio/002.mp3" length="10" type="audio/mpeg"/>'
    "<itunes:duration>60</itunes:duration><itunes:episode>2</itunes:episode>"
)
SOURCE = '<podcast:source uri="https://example.org/a.opus"/>'


def alternate(inner: str = SOURCE, length: str = ' length="1"') -> str:
    return f'<podcast:alternateEnclosure type="audio/opus"{length}>{inner}</podcast:alternateEnclosure>'


def live(status: str = "pending", start: str = "2024-03-05T10:00:00Z", inner: str = LIVE_LINK) -> str:
    return f'<podcast:liveItem status="{status}" start="{start}">{inner}</podcast:liveItem>'


CASES = [
    # 1. XML and RSS 2.0
    Case("rss.xml.malformed", "error", {"</channel>": "</chanel>"}),
    Case("rss.xml.declaration", "error", {'<?xml version="1.0" encoding="UTF-8"?>\n': ""}),
    Case("rss.xml.declaration", "error", {' encoding="UTF-8"?>': "?>"}),
    Case("rss.root", "error", {'<rss version="2.0"': '<rss version="0.92"'}),
    Case("rss.channel.count", "error", {"</rss>": "<channel><title>Two</title></channel></rss>"}),
    Case("rss.namespace.uri", "error", {"https://podcastindex.org/namespace/1.0": "https://podcastindex.org/ns/1.0"}),
    Case(
        "rss.namespace.prefix",
        "error",
        channel='<pi:funding xmlns:pi="https://podcastindex.org/namespace/1.0" url="https://example.org/">x</pi:funding>',
    ),
    Case("rss.markup_in_text", "error", {"<description>Interviews": "<description><p>Interviews</p>"}),
    Case("rss.markup_in_text", "error", item="<p>stray</p>"),
    Case("rss.element.unknown", "warning", channel="<subtitle>x</subtitle>"),
    Case(
        "rss.channel.required", "error", {"<link>https://example.org/podcast/</link>\n<description>": "<description>"}
    ),
    Case("rss.url.invalid", "error", {"<link>https://example.org/podcast/001-jeremi-lepetit/": "<link>/001/"}),
    Case("rss.duplicate", "error", channel="<language>fr</language>"),
    Case("rss.duplicate", "error", item="<itunes:duration>11</itunes:duration>"),
    Case("rss.image.incomplete", "error", {"<title>Entretiens</title><link>": "<link>"}),
    Case("rss.image.size", "error", {"</url><title>": "</url><width>200</width><title>"}),
    Case("rss.email", "warning", {"owner@example.org (Jane Doe)</managingEditor>": "Jane Doe</managingEditor>"}),
    Case("rss.email", "warning", item="<author>Jane Doe</author>"),
    Case("rss.atom_self.missing", "warning", {SELF_LINK: ""}),
    Case("rss.atom_self.invalid", "warning", {'type="application/rss+xml"': 'type="text/xml"'}),
    Case("rss.enclosure.url", "error", {'url="https://example.org/podcast/audio/001.mp3"': 'url="audio/001.mp3"'}),
    Case("rss.enclosure.length", "error", {'length="12345"': 'length="0"'}),
    Case("rss.enclosure.type", "error", {' type="audio/mpeg"': ""}),
    Case(
        "rss.enclosure.multiple",
        "warning",
        item='<enclosure url="https://example.org/podcast/audio/001b.mp3" length="1" type="audio/mpeg"/>',
    ),
    Case("rss.guid.missing", "error", {'<guid isPermaLink="false">entretiens-001</guid>': ""}),
    Case("rss.guid.duplicate", "error", item=SECOND_ITEM.replace("entretiens-002", "entretiens-001")),
    Case("rss.guid.permalink", "warning", {'<guid isPermaLink="false">': "<guid>"}),
    Case("rss.guid.not_url", "error", {'<guid isPermaLink="false">': '<guid isPermaLink="true">'}),
    Case("rss.guid.permalink_value", "error", {'<guid isPermaLink="false">': '<guid isPermaLink="no">'}),
    # 2. Apple: the show
    Case("apple.channel.required", "error", {"<language>fr</language>\n": ""}),
    Case("apple.channel.required", "error", {SHOW_EXPLICIT: "<itunes:author>"}),
    Case("apple.description.length", "error", {"Interviews about the social web.": "é" * 2001}),
    Case("apple.episodes.none", "error"),
    Case(
        "apple.image.href",
        "error",
        {SHOW_IMAGE: "<itunes:image>https://example.org/c.jpg</itunes:image><itunes:category"},
    ),
    Case("apple.image.extension", "error", {SHOW_IMAGE: SHOW_IMAGE.replace("cover.jpg", "cover.webp")}),
    Case("apple.explicit.legacy", "warning", {SHOW_EXPLICIT: SHOW_EXPLICIT.replace("false", "clean")}),
    Case("apple.explicit.invalid", "error", {SHOW_EXPLICIT: SHOW_EXPLICIT.replace("false", "0")}),
    Case("apple.language.invalid", "error", {"<language>fr</language>": "<language>fr_FR</language>"}),
    Case("apple.language.invalid", "error", {"<language>fr</language>": "<language>fre</language>"}),
    Case("apple.author.missing", "warning", {"<itunes:author>Jane Doe</itunes:author>\n": ""}),
    Case("apple.owner.missing", "warning", {OWNER: ""}),
    Case("apple.owner.name", "warning", {"<itunes:name>Jane Doe</itunes:name>": ""}),
    Case("apple.owner.email", "error", {"<itunes:email>owner@example.org<": "<itunes:email>owner at example<"}),
    Case("apple.type.invalid", "error", {"<itunes:type>episodic<": "<itunes:type>Serial<"}),
    Case(
        "apple.serial.episode",
        "error",
        {"<itunes:type>episodic<": "<itunes:type>serial<", "<itunes:episode>1</itunes:episode>\n": ""},
    ),
    Case("apple.block", "warning", channel="<itunes:block>Yes</itunes:block>"),
    Case("apple.complete", "warning", channel="<itunes:complete>Yes</itunes:complete>"),
    Case("apple.new_feed_url.invalid", "error", channel="<itunes:new-feed-url>example.org/feed</itunes:new-feed-url>"),
    Case("apple.title.length", "warning", {ITEM_TITLE: f"<title>{'x' * 256}</title>"}),
    Case("apple.title.whitespace", "warning", {ITEM_TITLE: "<title>Entretien </title>"}),
    Case("apple.tag.unknown", "warning", channel="<itunes:keyword>web</itunes:keyword>"),
    Case("apple.tag.misplaced", "warning", channel="<itunes:duration>10</itunes:duration>"),
    Case("apple.tag.misplaced", "warning", item="<itunes:complete>Yes</itunes:complete>"),
    Case("apple.tag.deprecated", "info", channel="<itunes:summary>About</itunes:summary>"),
    # 3. Apple: episodes
    Case("apple.item.required", "error", {ITEM_TITLE: "<title> </title>"}),
    Case("apple.pubdate.missing", "error", {f"<pubDate>{PUB_DATE}</pubDate>\n": ""}),
    Case("apple.enclosure.type", "error", {'type="audio/mpeg"': 'type="audio/mp3"'}),
    Case("apple.enclosure.unsupported", "warning", {'type="audio/mpeg"': 'type="audio/ogg"', "001.mp3": "001.ogg"}),
    Case("apple.enclosure.mismatch", "warning", {'type="audio/mpeg"': 'type="audio/x-m4a"'}),
    Case("apple.enclosure.ascii", "error", {"audio/001.mp3": "audio/001-é.mp3"}),
    Case("apple.enclosure.duplicate", "error", item=SECOND_ITEM.replace("002.mp3", "001.mp3")),
    Case("apple.duration.invalid", "error", {"<itunes:duration>10<": "<itunes:duration>0<"}),
    Case("apple.duration.invalid", "error", {"<itunes:duration>10<": "<itunes:duration>1:75<"}),
    Case("apple.duration.fraction", "warning", {"<itunes:duration>10<": "<itunes:duration>10.5<"}),
    Case("apple.duration.long", "warning", {"<itunes:duration>10<": "<itunes:duration>25:00:00<"}),
    Case("apple.duration.missing", "warning", {"<itunes:duration>10</itunes:duration>\n": ""}),
    Case("apple.episode.invalid", "error", {"<itunes:episode>1<": "<itunes:episode>0<"}),
    Case("apple.season.invalid", "error", {"<itunes:season>1<": "<itunes:season>one<"}),
    Case("apple.episode_type.invalid", "error", {"<itunes:episodeType>full<": "<itunes:episodeType>Full<"}),
    Case("apple.item.description.missing", "warning", {ITEM_DESCRIPTION: "<description>"}),
    Case("apple.item.description.length", "warning", {"<p>On parle de": "x" * 4001 + "<p>On parle de"}),
    # 4. Categories
    Case("apple.category.invalid", "error", {'text="Technology"': 'text="Tech"'}),
    Case("apple.category.invalid", "error", {'text="Technology"': 'text="technology"'}),
    Case("apple.category.invalid", "error", {'text="Business"': 'text="Business &amp; Finance"'}),
    Case(
        "apple.category.nesting",
        "error",
        {'<itunes:category text="Technology"/>': '<itunes:category text="Marketing"/>'},
    ),
    Case("apple.category.nesting", "error", {'<itunes:category text="Marketing"/>': '<itunes:category text="Drama"/>'}),
    Case(
        "apple.category.depth",
        "error",
        {'text="Marketing"/>': 'text="Marketing"><itunes:category text="Careers"/></itunes:category>'},
    ),
    # 5. Dates
    Case("rss.date.invalid", "error", {PUB_DATE: "Tue, 21 Feb 2011 09:00:00 +0100"}),
    Case("rss.date.invalid", "error", {PUB_DATE: "2011-02-21T09:00:00+01:00"}),
    Case("rss.date.invalid", "error", {PUB_DATE: "Mon, 21 Feb 2011 09:00:00 UTC"}),
    Case("rss.date.invalid", "error", {PUB_DATE: "Mon, 21 Feb 2011 09:00:00"}),
    Case("rss.date.invalid", "error", {PUB_DATE: "Lun, 21 fév 2011 09:00:00 +0100"}),
    Case("rss.date.invalid", "error", {"Tue, 05 Mar 2024 10:00:00 +0100": "Tue, 05 Mar 24 10:00:00 +0100"}),
    Case("rss.date.future", "warning", {PUB_DATE: "Wed, 01 Jan 2025 09:00:00 +0100"}),
    # 6. Podcasting 2.0
    Case("pc20.url.https", "error", {'url="https://example.org/support"': 'url="http://example.org/support"'}),
    Case("pc20.url.invalid", "error", {'url="https://example.org/support"': 'url="support"'}),
    Case("pc20.parent", "error", item="<podcast:medium>music</podcast:medium>"),
    Case(
        "pc20.parent", "error", channel='<podcast:chapters url="https://example.org/c.json" type="application/json"/>'
    ),
    Case("pc20.count", "error", channel="<podcast:medium>podcast</podcast:medium>"),
    Case("pc20.count", "error", item='<podcast:chapters url="https://example.org/c.json" type="application/json"/>'),
    Case("pc20.tag.unknown", "warning", channel="<podcast:medum>podcast</podcast:medum>"),
    Case("pc20.tag.deprecated", "warning", channel='<podcast:images srcset="https://example.org/a.jpg 1400w"/>'),
    Case("pc20.attribute.missing", "error", {' type="text/vtt"': ""}),
    Case(
        "pc20.text.empty",
        "error",
        {">Jane Doe</podcast:person>\n<podcast:license>": "></podcast:person><podcast:license>"},
    ),
    Case("pc20.text.length", "warning", {">Support the show<": f">{'x' * 129}<"}),
    Case("pc20.text.length", "warning", channel=f'<podcast:txt purpose="{"x" * 129}">v</podcast:txt>'),
    Case("pc20.locked.value", "error", {'">yes</podcast:locked>': '">true</podcast:locked>'}),
    Case("pc20.locked.owner", "warning", {' owner="owner@example.org">yes': ">yes"}),
    Case("pc20.email.invalid", "error", {' owner="owner@example.org">yes': ' owner="owner">yes'}),
    Case("pc20.guid.invalid", "error", {GUID: "not-a-uuid"}),
    Case("pc20.guid.version", "error", {GUID: "0b7c2a7e-3b1d-4c6e-9f1a-2d3c4b5a6978"}),
    Case("pc20.guid.mismatch", "warning", {GUID: podcast_guid_for("https://old.example.net/rss")}),
    Case("pc20.transcript.type", "warning", {'type="text/vtt"': 'type="text/x-transcript"'}),
    Case("pc20.transcript.rel", "warning", {'language="fr"/>': 'language="fr" rel="subtitles"/>'}),
    Case("pc20.language.invalid", "error", {'language="fr"/>': 'language="fr_FR"/>'}),
    Case("pc20.chapters.type", "warning", {'type="application/json+chapters"': 'type="text/plain"'}),
    Case("pc20.person.role", "error", {'role="guest" group="cast"': 'role="interviewee"'}),
    Case("pc20.person.group", "error", {'role="guest" group="cast"': 'role="guest" group="actors"'}),
    Case("pc20.person.role_group", "warning", {'role="guest" group="cast"': 'role="producer"'}),
    Case("pc20.number.invalid", "error", {'saison">1<': 'saison">one<'}),
    Case("pc20.number.invalid", "error", {"<podcast:episode>1<": "<podcast:episode>1a<"}),
    Case("pc20.number.invalid", "error", {'startTime="2"': 'startTime="00:02"'}),
    Case("pc20.soundbite.duration", "warning", {'duration="30"': 'duration="5"'}),
    Case("pc20.medium.invalid", "error", {"<podcast:medium>podcast<": "<podcast:medium>radio<"}),
    Case("pc20.alternate_enclosure.source", "error", item=alternate(inner="")),
    Case("pc20.alternate_enclosure.length", "warning", item=alternate(length="")),
    Case("pc20.integrity.type", "error", item=alternate(SOURCE + '<podcast:integrity type="md5" value="x"/>')),
    Case("pc20.txt.ai_content", "error", channel='<podcast:txt purpose="ai-content">no</podcast:txt>'),
    Case("pc20.license.url", "error", {"<podcast:license>CC-BY-4.0<": "<podcast:license>my-license<"}),
    Case("pc20.location.rel", "error", {'country="FR">Paris': 'country="FR" rel="about">Paris'}),
    Case("pc20.location.geo", "error", {'geo="geo:48.8566,2.3522"': 'geo="48.8566,2.3522"'}),
    Case("pc20.location.osm", "error", {'osm="R7444"': 'osm="7444"'}),
    Case("pc20.location.country", "error", {'country="FR"': 'country="FRA"'}),
    Case("pc20.block.value", "error", channel="<podcast:block>true</podcast:block>"),
    Case("pc20.block.id", "warning", channel='<podcast:block id="myspace">yes</podcast:block>'),
    Case("pc20.value.recipients", "error", channel='<podcast:value type="lightning" method="keysend"/>'),
    Case("pc20.live_item.status", "error", channel=live(status="soon")),
    Case("pc20.live_item.date", "error", channel=live(start="Tue, 05 Mar 2024")),
    Case("pc20.live_item.content_link", "error", channel=live(inner="")),
    Case("pc20.social_interact.protocol", "warning", item='<podcast:socialInteract protocol="x" uri="https://a.b/1"/>'),
    Case("pc20.chat.protocol", "warning", item='<podcast:chat server="chat.example.org" protocol="aol"/>'),
    Case(
        "pc20.remote_item.guid",
        "error",
        channel='<podcast:podroll><podcast:remoteItem feedGuid="abc"/></podcast:podroll>',
    ),
    Case("pc20.podroll.empty", "error", channel="<podcast:podroll/>"),
    Case(
        "pc20.publisher.remote_item",
        "error",
        channel=f'<podcast:publisher><podcast:remoteItem feedGuid="{OTHER_GUID}"/></podcast:publisher>',
    ),
    Case(
        "pc20.update_frequency.dtstart",
        "error",
        channel='<podcast:updateFrequency rrule="FREQ=WEEKLY;COUNT=10">Weekly</podcast:updateFrequency>',
    ),
    Case(
        "rss.date.invalid",
        "error",
        channel='<podcast:trailer url="https://example.org/t.mp3" pubdate="2024-03-05">Trailer</podcast:trailer>',
    ),
    # Podlove Simple Chapters
    Case("psc.chapter.start", "warning", {'start="00:00:05.500"': 'start="5 min"'}),
    Case(
        "psc.chapters.order",
        "warning",
        {'title="Suite"/>': 'title="Suite"/><psc:chapter start="00:00:01" title="Back"/>'},
    ),
    Case("psc.chapter.title", "warning", {'start="00:00:05.500" title="Suite"': 'start="00:00:05.500"'}),
]


@pytest.mark.parametrize("case", CASES, ids=[case.rule for case in CASES])
def test_each_rule_is_reported_alone(case: Case) -> None:
    text = feed(case.replace, channel=case.channel, item=case.item)
    if case.rule == "apple.episodes.none":
        start, end = text.index("<item>"), text.index("</item>") + len("</item>\n")
        text = text[:start] + text[end:]
    problems = lint(text)
    assert rules(problems) == {(case.rule, case.severity)}, [p.message for p in problems]
    assert all(p.message.endswith((".", "?", ")")) for p in problems)


def test_wrong_itunes_uri_hides_every_itunes_tag() -> None:
    text = feed({"http://www.itunes.com/dtds/podcast-1.0.dtd": "http://www.itunes.com/DTDs/Podcast-1.0.dtd"})
    found = rules(lint(text))
    # Apple then sees no itunes tag at all, so the required ones go missing too.
    assert ("rss.namespace.uri", "error") in found
    assert ("apple.channel.required", "error") in found


def test_bom_and_encoding() -> None:
    text = feed().encode("utf-8")
    assert rules(lint(b"\xef\xbb\xbf" + text)) == {("rss.xml.bom", "warning")}
    latin = feed().replace('encoding="UTF-8"', 'encoding="ISO-8859-1"').encode("latin-1")
    assert ("rss.xml.encoding", "error") in rules(lint(latin))


def test_stylesheet_and_comments_are_accepted() -> None:
    text = feed({"<channel>\n": "<channel>\n<!-- generated -->\n"})
    assert lint(text) == []


def test_subcategory_of_unknown_parent_is_not_reported_twice() -> None:
    problems = lint(feed({'text="Business"': 'text="Busyness"'}))
    assert [p.rule for p in problems] == ["apple.category.invalid"]
    assert problems[0].hint == 'did you mean "Business"?'


def test_serial_trailer_may_omit_its_number() -> None:
    text = feed(
        {
            "<itunes:type>episodic</itunes:type>": "<itunes:type>serial</itunes:type>",
            "<itunes:episode>1</itunes:episode>\n": "",
            "<itunes:episodeType>full<": "<itunes:episodeType>trailer<",
        }
    )
    assert lint(text) == []


def test_feed_url_is_compared_with_self_link_and_guid() -> None:
    assert lint(feed(), feed_url=FEED_URL) == []
    found = rules(lint(feed(), feed_url="https://example.org/other.xml"))
    assert found == {("rss.atom_self.mismatch", "warning")}


def test_guid_follows_feed_url_without_self_link() -> None:
    text = feed({'<atom:link rel="self" type="application/rss+xml" href="https://example.org/podcast/feed.xml"/>': ""})
    assert rules(lint(text, feed_url="https://example.org/elsewhere.xml")) == {
        ("rss.atom_self.missing", "warning"),
        ("pc20.guid.mismatch", "warning"),
    }


def test_live_item_accepts_item_tags() -> None:
    live = (
        '<podcast:liveItem status="live" start="2024-03-05T10:00:00+01:00">'
        "<title>Live</title><podcast:person>Jane Doe</podcast:person>"
        '<podcast:contentLink href="https://example.org/live">Watch</podcast:contentLink>'
        "<itunes:explicit>false</itunes:explicit></podcast:liveItem>"
    )
    assert lint(feed(channel=live)) == []


def test_remaining_valid_podcast_tags_are_accepted() -> None:
    channel = (
        '<podcast:trailer url="https://example.org/t.mp3" pubdate="Tue, 05 Mar 2024 10:00:00 +0100" length="10" '
        'type="audio/mpeg" season="1">Trailer</podcast:trailer>'
        '<podcast:block id="spotify">no</podcast:block>'
        '<podcast:value type="lightning" method="keysend" suggested="0.00000005000">'
        '<podcast:valueRecipient name="Jane" type="node" address="02d5" split="100"/>'
        f'<podcast:valueTimeSplit startTime="60" duration="30"><podcast:remoteItem feedGuid="{OTHER_GUID}"/>'
        "</podcast:valueTimeSplit>"
        "</podcast:value>"
        f'<podcast:publisher><podcast:remoteItem medium="publisher" feedGuid="{OTHER_GUID}" '
        'feedUrl="https://example.org/pub.xml"/></podcast:publisher>'
        '<podcast:updateFrequency rrule="FREQ=WEEKLY">Weekly</podcast:updateFrequency>'
        "<podcast:podping/>"
        '<podcast:image href="https://example.org/podcast/banner.jpg" aspect-ratio="16/9"/>'
        '<podcast:txt purpose="ai-content">false</podcast:txt>'
        '<podcast:socialInteract protocol="disabled"/>'
    )
    item = (
        '<podcast:alternateEnclosure type="audio/opus" length="1000" bitrate="64000.5">'
        '<podcast:source uri="ipfs://QmHash"/><podcast:integrity type="sri" value="sha384-x"/>'
        "</podcast:alternateEnclosure>"
        '<podcast:contentLink href="https://example.org/video">Video</podcast:contentLink>'
        '<podcast:license url="https://example.org/license">Custom license</podcast:license>'
        '<podcast:chat server="irc.example.org" protocol="irc" accountId="@jane" space="#show"/>'
        '<podcast:funding url="https://example.org/support">Support</podcast:funding>'
    )
    assert lint(feed(channel=channel, item=item)) == []


def test_markup_in_cdata_and_escaped_markup_are_fine() -> None:
    text = feed({"Interviews about the social web.": "&lt;p&gt;Interviews&lt;/p&gt;"})
    assert lint(text) == []


# Files on disk ------------------------------------------------------------------------------------


def write_mp3(path: Path, seconds: float) -> int:
    """Write frames of silence with a valid MPEG header; return the file size."""
    frames = math.ceil(seconds / MP3_FRAME_SECONDS)
    frame = MP3_HEADER + bytes(MP3_FRAME - len(MP3_HEADER))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(frame * frames)
    return path.stat().st_size


def write_image(path: Path, size: tuple[int, int] = (1400, 1400), mode: str = "RGB", kind: str | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size).save(path, format=kind)


CHAPTERS = {
    "version": "1.2.0",
    "chapters": [{"startTime": 0, "title": "Intro"}, {"startTime": 5, "title": "Suite", "url": "https://example.org/"}],
}
VTT = "WEBVTT\n\n00:00:00.000 --> 00:00:04.000\n<v Jane>Bonjour.\n"
SRT = "1\n00:00:00,000 --> 00:00:04,000\nBonjour.\n\n2\n00:00:04,000 --> 00:00:06,000\nAu revoir.\n"


@pytest.fixture
def site(tmp_path: Path) -> tuple[Path, int]:
    """A published folder matching ``feed()``: audio, artwork, chapters, transcript, photo."""
    size = write_mp3(tmp_path / "audio" / "001.mp3", 10)
    write_image(tmp_path / "cover.jpg")
    write_image(tmp_path / "jane.jpg", (400, 400))
    (tmp_path / "chapters").mkdir()
    (tmp_path / "chapters" / "001.json").write_text(json.dumps(CHAPTERS), encoding="utf-8")
    (tmp_path / "transcripts").mkdir()
    (tmp_path / "transcripts" / "001.vtt").write_text(VTT, encoding="utf-8")
    return tmp_path, size


def test_files_matching_the_feed_give_no_problem(site: tuple[Path, int]) -> None:
    base, size = site
    assert lint(feed(length=size), base_dir=base, feed_url=FEED_URL) == []


def test_mp3_fixture_is_read_as_ten_seconds(site: tuple[Path, int]) -> None:
    import mutagen

    audio = mutagen.File(site[0] / "audio" / "001.mp3")
    assert audio is not None
    assert audio.info.length == pytest.approx(10, abs=0.1)


def test_missing_file_on_own_host(site: tuple[Path, int]) -> None:
    base, size = site
    (base / "transcripts" / "001.vtt").unlink()
    problems = lint(feed(length=size), base_dir=base)
    assert rules(problems) == {("files.missing", "error")}
    assert problems[0].field == "channel/item[1]/podcast:transcript@url"


def test_foreign_host_files_need_not_exist(site: tuple[Path, int]) -> None:
    base, size = site
    text = feed({"https://example.org/podcast/jane.jpg": "https://cdn.example.net/people/jane-doe.jpg"}, length=size)
    assert lint(text, base_dir=base) == []


def test_longest_suffix_wins(tmp_path: Path) -> None:
    from entretiens.feedlint._files import map_url

    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.mp3").write_bytes(b"1")
    (tmp_path / "x.mp3").write_bytes(b"2")
    assert map_url(tmp_path, "https://h/p/a/x.mp3") == tmp_path / "a" / "x.mp3"
    assert map_url(tmp_path, "https://h/p/b/x.mp3") == tmp_path / "x.mp3"
    assert map_url(tmp_path, "https://h/p/%2E%2E/x.mp3") is None


FILE_CASES: list[tuple[str, str, str, object]] = [
    ("files.enclosure.length", "error", "length", None),
    ("files.enclosure.type", "error", "type", None),
    ("files.audio.unreadable", "error", "audio", b"not audio at all" * 100),
    ("files.duration.mismatch", "warning", "duration", "20"),
    ("apple.image.format", "error", "cover", ("PNG", "RGB", (1400, 1400))),
    ("apple.image.square", "error", "cover", ("JPEG", "RGB", (1400, 1500))),
    ("apple.image.size", "error", "cover", ("JPEG", "RGB", (1000, 1000))),
    ("apple.image.size", "error", "cover", ("JPEG", "RGB", (3001, 3001))),
    ("apple.image.colorspace", "error", "cover", ("JPEG", "CMYK", (1400, 1400))),
    ("apple.image.colorspace", "error", "cover", ("JPEG", "L", (1400, 1400))),
    ("apple.image.alpha", "warning", "cover.png", ("PNG", "RGBA", (1400, 1400))),
    ("apple.image.alpha", "warning", "cover.png", ("PNG", "P", (1400, 1400))),
    ("files.chapters.syntax", "error", "chapters", "{not json"),
    ("files.chapters.structure", "error", "chapters", {"chapters": [{"startTime": 0}]}),
    ("files.chapters.structure", "error", "chapters", {"version": "1.2.0", "chapters": [{"startTime": -1}]}),
    (
        "files.chapters.structure",
        "error",
        "chapters",
        {"version": "1.2.0", "chapters": [{"startTime": 0, "img": "cover.jpg"}]},
    ),
    (
        "files.chapters.structure",
        "error",
        "chapters",
        {"version": "1.2.0", "chapters": [{"startTime": 0, "toc": "no"}]},
    ),
    (
        "files.chapters.structure",
        "error",
        "chapters",
        {"version": "1.2.0", "chapters": [{"startTime": 0, "location": {"name": "Paris"}}]},
    ),
    (
        "files.chapters.order",
        "error",
        "chapters",
        {"version": "1.2.0", "chapters": [{"startTime": 5}, {"startTime": 1}]},
    ),
    (
        "files.chapters.end_time",
        "error",
        "chapters",
        {"version": "1.2.0", "chapters": [{"startTime": 5, "endTime": 5}]},
    ),
    (
        "files.chapters.after_end",
        "warning",
        "chapters",
        {"version": "1.2.0", "chapters": [{"startTime": 0}, {"startTime": 11}]},
    ),
    ("files.transcript.encoding", "error", "vtt", "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nÉté\n".encode("latin-1")),
    ("files.transcript.vtt", "error", "vtt", "00:00:00.000 --> 00:00:01.000\nHello\n"),
    ("files.transcript.vtt", "error", "vtt", "WEBVTT\n\nNOTE nothing else\n"),
    ("files.transcript.srt", "error", "srt", "00:00:00,000 --> 00:00:01,000\nHello\n"),
    ("files.transcript.json", "error", "json", {"version": "1.0.0", "segments": [{"startTime": 0}]}),
    ("files.transcript.json", "error", "json", {"segments": []}),
]


def _apply_file_case(base: Path, size: int, target: str, content: object) -> str:
    """Change the published folder (and the feed) for one file case; return the feed."""
    replace: dict[str, str] = {}
    length = size
    duration = "10"
    if target == "length":
        length = size + 1
    elif target == "type":
        replace['type="audio/mpeg"'] = 'type="audio/mp4"'
        replace["audio/001.mp3"] = "audio/001.mp4"
        (base / "audio" / "001.mp3").rename(base / "audio" / "001.mp4")
    elif target == "audio":
        assert isinstance(content, bytes)
        (base / "audio" / "001.mp3").write_bytes(content)
        length = len(content)
    elif target == "duration":
        assert isinstance(content, str)
        duration = content
    elif target.startswith("cover"):
        assert isinstance(content, tuple)
        kind, mode, dimensions = content
        name = "cover.png" if target == "cover.png" else "cover.jpg"
        write_image(base / name, dimensions, mode, kind)
        if name == "cover.png":
            replace['<itunes:image href="https://example.org/podcast/cover.jpg"/>\n<itunes:category'] = (
                '<itunes:image href="https://example.org/podcast/cover.png"/>\n<itunes:category'
            )
    elif target == "chapters":
        data = content if isinstance(content, str) else json.dumps(content)
        (base / "chapters" / "001.json").write_text(data, encoding="utf-8")
    else:
        kinds = {"vtt": "text/vtt", "srt": "application/x-subrip", "json": "application/json"}
        path = base / "transcripts" / f"001.{target}"
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
        replace['001.vtt" type="text/vtt"'] = f'001.{target}" type="{kinds[target]}"'
    return feed(replace, length=length, duration=duration)


@pytest.mark.parametrize(("rule", "severity", "target", "content"), FILE_CASES, ids=[c[0] for c in FILE_CASES])
def test_each_file_rule_is_reported_alone(
    site: tuple[Path, int], rule: str, severity: str, target: str, content: object
) -> None:
    base, size = site
    text = _apply_file_case(base, size, target, content)
    problems = lint(text, base_dir=base, feed_url=FEED_URL)
    assert rules(problems) == {(rule, severity)}, [p.message for p in problems]


def test_valid_srt_and_json_transcripts(site: tuple[Path, int]) -> None:
    base, size = site
    for target, content in (
        ("srt", SRT),
        ("json", {"version": "1.0.0", "segments": [{"startTime": 0.5, "endTime": 1.5, "body": "Bonjour"}]}),
    ):
        text = _apply_file_case(base, size, target, content)
        assert lint(text, base_dir=base, feed_url=FEED_URL) == []


def test_duration_within_tolerance(site: tuple[Path, int]) -> None:
    base, size = site
    # The fixture lasts 9.98 s: two seconds of slack for short files...
    assert lint(feed(length=size, duration="11"), base_dir=base) == []
    assert rules(lint(feed(length=size, duration="13"), base_dir=base)) == {("files.duration.mismatch", "warning")}
    # ...and 1 % for long ones.
    size = write_mp3(base / "audio" / "001.mp3", 300)
    assert lint(feed(length=size, duration="302"), base_dir=base) == []
    assert rules(lint(feed(length=size, duration="305"), base_dir=base)) == {("files.duration.mismatch", "warning")}


# The shared vocabulary ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "guid"),
    [
        # Both examples from the podcast:guid page of the namespace.
        ("https://mp3s.nashownotes.com/pc20rss.xml", "917393e3-1b1e-5cef-ace4-edaa54e1f810"),
        ("podnews.net/rss/", "9b024349-ccf0-5f69-a609-6b82873eab3c"),
    ],
)
def test_podcast_guid_for(url: str, guid: str) -> None:
    assert podcast_guid_for(url) == guid


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Tue, 05 Mar 2024 10:00:00 +0100", datetime(2024, 3, 5, 9, tzinfo=timezone.utc)),
        ("Sat, 15 Jun 2019 19:00 EST", datetime(2019, 6, 16, 0, tzinfo=timezone.utc)),
        ("Sat, 15 Jun 2019 19:00:00 GMT", datetime(2019, 6, 15, 19, tzinfo=timezone.utc)),
        ("Wed, 15 Jun 2019 19:00:00 GMT", None),  # Apple's own example: wrong weekday
        ("15 Jun 2019 19:00:00 GMT", None),
        ("Sat, 15 Jun 2019 19:00:00 UTC", None),
        ("Sat, 15 Jun 2019 19:00:00 CET", None),
        ("Sat, 15 Jun 2019 19:00:00", None),
        ("Sat, 15 Jun 19 19:00:00 +0000", None),
        ("Sat, 15 Jun 2019 24:00:00 +0000", None),
        ("Sam, 15 juin 2019 19:00:00 +0200", None),
        ("2019-06-15T19:00:00Z", None),
    ],
)
def test_parse_rfc2822(text: str, expected: datetime | None) -> None:
    assert parse_rfc2822(text) == expected


@pytest.mark.parametrize(
    ("code", "valid"),
    [
        *(("fr", True), ("fr-FR", True), ("en-us", True), ("es-419", True), ("zu", True)),
        *(("fr_FR", False), ("fre", False), ("xx", False), ("en-XX", False), ("", False)),
    ],
)
def test_is_valid_language(code: str, valid: bool) -> None:
    assert is_valid_language(code) is valid


def test_tables_are_complete() -> None:
    assert len(LANGUAGE_CODES) == 184
    assert len(APPLE_CATEGORIES) == 19
    assert sum(len(subs) for subs in APPLE_CATEGORIES.values()) == 91
    assert PERSON_TAXONOMY["audio production"][0] == "studio coordinator"
    assert sum(len(roles) for roles in PERSON_TAXONOMY.values()) == 63  # the entries of taxonomy.json
    assert "podcastL" in MEDIUMS and "mixed" in MEDIUMS


def test_person_roles_and_licenses() -> None:
    assert person_role_problem(None, None) is None
    assert person_role_problem("Cover Art Designer", "Visuals") is None
    assert person_role_problem("producer", None) == (
        "role_group",
        'role "producer" belongs to group "creative direction", not "cast"',
    )
    assert is_known_license("cc-by-4.0")
    assert is_known_license("POD-V4V-1.0")
    assert not is_known_license("my-license")
    assert not is_known_license("MIT OR Apache-2.0")
