"""``entretiens import``: real feeds from several hosts come over with every subscriber kept.

The guarantee, on real feeds (tests/data/feeds/README.md names their sources): import, then
publish the new folder; every imported item keeps its GUID, publication instant, title,
enclosure URL, length and type, duration (within a second), numbers and type, and the text of
its notes. Hostile feeds are refused without expanding anything; network failures are clear.
"""

from __future__ import annotations

import email.utils
import http.server
import re
import threading
import urllib.parse
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import feedparser
import lxml.html
import pytest
import yaml
from click.testing import CliRunner
from lxml import etree
from pytest_httpserver import HTTPServer

from audiogen import write_mp3
from entretiens import importer
from entretiens.check import check_show
from entretiens.cli import cli
from entretiens.importer import ImportError_, import_show
from entretiens.publish import publish

FEEDS = Path(__file__).parent / "data" / "feeds"
#: Feeds whose every item declares length, type and duration: they publish with no network.
ROUND_TRIP = [
    "art19-1865.xml",
    "acast-sentimental-garbage.xml",
    "sovereign-feeds-themnshow.xml",
    "subsplash-changing-the-tide.xml",
    "dw-dk-podcast.xml",
]


def _blocks(markup: str) -> list[str]:
    """The text of each paragraph, list item or line of a description, letters and digits only."""
    if not markup.strip():
        return []
    root = lxml.html.fragment_fromstring(markup.replace("<br", "\n<br"), create_parent="div")
    for block in root.iter("p", "li", "h1", "h2", "h3", "h4", "div", "blockquote"):
        block.tail = "\n" + (block.tail or "")
    lines = root.text_content().split("\n")
    return [key for line in lines if (key := _key(line))]


def _key(text: str) -> str:
    # Links written out in text are shown decoded (%27 as an apostrophe), as browsers show them.
    return "".join(c for c in urllib.parse.unquote(text).lower() if c.isalnum())


def _same_text(old: str, new: str) -> bool:
    """Whether every block of text of the old notes is found, whole, in the new ones."""
    whole = _key(lxml.html.fragment_fromstring(new, create_parent="div").text_content()) if new.strip() else ""
    return all(block in whole for block in _blocks(old))


def _numbers(feed: bytes) -> dict[str, tuple[str | None, str | None]]:
    """GUID -> (episode, season) as the feed declares them, with itunes: or podcast: tags."""
    root = etree.fromstring(feed.lstrip(), etree.XMLParser(resolve_entities=False, no_network=True))
    found = {}
    for item in root.iter("item"):
        guid = item.findtext("guid") or item.find("enclosure").get("url")

        def number(tag: str, item: etree._Element = item) -> str | None:
            texts = [e.text.strip() for e in item if isinstance(e.tag, str) and e.tag.endswith("}" + tag) and e.text]
            return texts[0] if texts else None

        found[guid.strip()] = (number("episode"), number("season"))
    return found


def _instant(text: str) -> float:
    return email.utils.parsedate_to_datetime(text).timestamp()


def _offset(text: str) -> timedelta:
    return email.utils.parsedate_to_datetime(text).utcoffset() or timedelta(0)


def _seconds(text: str) -> float:
    parts = [float(p) for p in text.split(":")]
    total = 0.0
    for part in parts:
        total = total * 60 + part
    return total


def _leave_out_undeclared(folder: Path) -> list[str]:
    """Episodes whose feed declared no length or duration would be downloaded to be measured at
    publish; the network is off in tests, so they stay drafts here."""
    left = []
    for path in sorted((folder / "episodes").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if isinstance(data["audio"], str):
            path.write_text(path.read_text(encoding="utf-8") + "draft: true\n", encoding="utf-8")
            left.append(data["title"])
    return left


@pytest.mark.parametrize("name", ROUND_TRIP)
def test_round_trip_keeps_every_subscriber(name: str, tmp_path: Path) -> None:
    original = (FEEDS / name).read_bytes()
    folder = tmp_path / "show"
    report = import_show(str(FEEDS / name), folder, base_url="https://new.example.org/show/")
    left_out = _leave_out_undeclared(folder)
    result = publish(folder)
    new = feedparser.parse((result.out_dir / "feed.xml").read_bytes())
    old = feedparser.parse(original.lstrip())
    assert not new.bozo, new.get("bozo_exception")
    by_guid = {entry.id: entry for entry in new.entries}
    numbers = _numbers(original)
    old_entries = [e for e in old.entries if e.get("enclosures") and e.title.strip() not in left_out]
    assert report.imported == len([e for e in old.entries if e.get("enclosures")])
    assert len(by_guid) == len(old_entries) > 0
    for before in old_entries:
        after = by_guid[before.id]
        assert after.title == before.title.strip()
        assert _instant(after.published) == _instant(before.published)
        # The original offset is kept, not only the instant.
        assert _offset(after.published) == _offset(before.published)
        (old_enclosure,) = before.enclosures[:1]
        (new_enclosure,) = after.enclosures
        assert new_enclosure.href == old_enclosure.href
        assert int(new_enclosure.length) == int(old_enclosure.length)
        aliases = {"audio/mp3": "audio/mpeg"}
        assert new_enclosure.type == aliases.get(old_enclosure.type, old_enclosure.type)
        assert abs(_seconds(after.itunes_duration) - _seconds(before.itunes_duration)) <= 1
        # A number declared only with podcast:episode / podcast:season is published with both tags.
        assert (after.get("itunes_episode"), after.get("itunes_season")) == numbers[before.id], before.title
        assert after.get("itunes_episodetype", "full") == (before.get("itunes_episodetype") or "full")
        old_notes = before.content[0].value if before.get("content") else before.get("summary", "")
        new_notes = after.content[0].value if after.get("content") else after.summary
        assert _same_text(old_notes, new_notes), before.title
    published = yaml.safe_load((folder / "published.yaml").read_text(encoding="utf-8"))
    assert set(published["episodes"].values()) >= {e.id for e in old_entries}
    old_guid = re.search(rb"<podcast:guid>([^<]+)</podcast:guid>", original)
    if old_guid:
        assert published["podcast_guid"] == old_guid.group(1).decode().strip()
        assert f"<podcast:guid>{published['podcast_guid']}</podcast:guid>" in (result.out_dir / "feed.xml").read_text(
            encoding="utf-8"
        )


def test_a_feed_without_podcast_guid_keeps_the_one_its_url_implies(tmp_path: Path) -> None:
    report = import_show(str(FEEDS / "dw-dk-podcast.xml"), tmp_path / "dk", base_url="https://new.example.org/")
    published = yaml.safe_load((tmp_path / "dk" / "published.yaml").read_text(encoding="utf-8"))
    # The namespace derives podcast:guid from the feed URL without its scheme: the old URL, not the new.
    from entretiens.podcast_spec import podcast_guid_for

    assert published["podcast_guid"] == podcast_guid_for("https://rss.dw.com/xml/DKpodcast_lgn_de")
    assert any(f.field == "guid" and f.kind == "note" for f in report.findings)


def test_items_without_declared_duration_are_measured_at_publish_and_said_so(tmp_path: Path) -> None:
    folder = tmp_path / "na"
    report = import_show(str(FEEDS / "freedom-controller-no-agenda.xml"), folder, base_url="https://n.example.org/")
    undeclared = [f for f in report.findings if f.field == "audio" and "downloads the file once" in f.message]
    assert len(undeclared) == report.imported == 4
    episode = next((folder / "episodes").glob("*.yaml"))
    assert yaml.safe_load(episode.read_text(encoding="utf-8"))["audio"].startswith("https://mp3s.nashownotes.com/")
    # Chapters and transcripts live at the old host: with the network off they are reported, not lost silently.
    dropped = {(f.field, f.where) for f in report.of("dropped")}
    assert {field for field, _ in dropped} >= {"chapters", "transcript"}


def test_cli_reports_and_says_what_to_do_next(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["import", str(FEEDS / "subsplash-changing-the-tide.xml"), str(tmp_path / "t")])
    assert result.exit_code == 0, result.output
    assert "Approximated" in result.output and "'audio/mp3' written as 'audio/mpeg'" in result.output
    assert "Imported 'Changing the Tide" in result.output
    assert "Set base_url" in result.output and "301" in result.output
    # Until base_url is set, publish refuses with a located error that says what to write.
    check = runner.invoke(cli, ["check", "--show", str(tmp_path / "t")])
    assert check.exit_code == 1
    assert "feed.yaml:" in check.output and "base_url" in check.output and "[invalid-url]" in check.output


def test_the_target_folder_must_be_new_or_empty(tmp_path: Path) -> None:
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(ImportError_, match="not empty"):
        import_show(str(FEEDS / "dw-dk-podcast.xml"), taken)
    assert sorted(p.name for p in taken.iterdir()) == ["notes.txt"]
    import_show(str(FEEDS / "dw-dk-podcast.xml"), taken, force=True)
    assert (taken / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert (taken / "feed.yaml").is_file()


# --- hostile and messy feeds --------------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE rss [
 <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
 <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
 <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
]>
<rss version="2.0"><channel><title>&e;</title><item><title>x</title>
<enclosure url="https://a.example/x.mp3" length="1" type="audio/mpeg"/></item></channel></rss>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><title>&secret;</title><item><title>x</title>
<enclosure url="https://a.example/x.mp3" length="1" type="audio/mpeg"/></item></channel></rss>"""


@pytest.mark.parametrize("document", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["billion-laughs", "external-entity"])
def test_hostile_xml_is_refused_without_expanding_anything(document: bytes, tmp_path: Path) -> None:
    feed = tmp_path / "hostile.xml"
    feed.write_bytes(document)
    result = CliRunner().invoke(cli, ["import", str(feed), str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "refused" in result.output and "entities" in result.output
    assert "root:" not in result.output
    assert not (tmp_path / "out").exists()
    assert not list(tmp_path.glob(".out.import-*"))


MESSY = """<?xml version="1.0" encoding="ISO-8859-1"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd">
<channel>
<title>Caf\xe9 &amp; Cr\xe8me</title>
<link>https://old.example.org/</link>
<atom:link xmlns:atom="http://www.w3.org/2005/Atom" rel="self" href="https://old.example.org/feed.rss"/>
<description><![CDATA[<p>Un podcast&nbsp;<b>gourmand</b>.</p>]]></description>
<language>fr_FR</language>
<itunes:author>Chez Nous</itunes:author>
<itunes:owner><itunes:name>Chez Nous</itunes:name><itunes:email>chez@example.org</itunes:email></itunes:owner>
<itunes:image href="https://old.example.org/cover.jpg"/>
<itunes:category text="Games &amp; Hobbies"><itunes:category text="Video Games"/></itunes:category>
<itunes:category text="Cooking"/>
<item><title>Sans GUID</title><pubDate>5 Jul 2021 10:00:00 EST</pubDate>
<enclosure url="media/one.mp3" length="1000" type="audio/mpeg"/><itunes:duration>1:02:03</itunes:duration>
<description>Texte &nbsp;brut,
sur deux lignes.</description><itunes:episode>1</itunes:episode></item>
<item><title>Bande-annonce</title><guid isPermaLink="false">trailer-1</guid>
<pubDate>2021-07-01T08:00:00+02:00</pubDate><itunes:episodeType>trailer</itunes:episodeType>
<enclosure url="https://old.example.org/trailer.mp3" length="2000" type="audio/mpeg"/>
<itunes:duration>95</itunes:duration><itunes:episode>1</itunes:episode></item>
<item><title>Rediffusion</title><guid isPermaLink="false">rerun-1</guid>
<pubDate>Tue, 06 Jul 2021 10:00:00 +0200</pubDate>
<enclosure url="http://old.example.org/rerun.mp3" length="3000" type="audio/mpeg"/>
<itunes:duration>10:00</itunes:duration><itunes:episode>1</itunes:episode></item>
<item><title>Doublon</title><guid isPermaLink="false">rerun-1</guid>
<pubDate>Wed, 07 Jul 2021 10:00:00 +0200</pubDate>
<enclosure url="https://old.example.org/dup.mp3" length="3000" type="audio/mpeg"/></item>
<item><title>Billet sans audio</title><guid>post-1</guid><pubDate>Thu, 08 Jul 2021 10:00:00 +0200</pubDate></item>
<item><title>Sans date</title><guid>nodate</guid>
<enclosure url="https://old.example.org/nodate.mp3" length="1" type="audio/mpeg"/></item>
</channel></rss>
"""


def test_a_messy_feed_comes_over_with_everything_reported(tmp_path: Path) -> None:
    feed = tmp_path / "messy.xml"
    feed.write_bytes(MESSY.encode("iso-8859-1"))
    folder = tmp_path / "show"
    report = import_show(str(feed), folder, base_url="https://new.example.org/")
    said = {(f.kind, f.where, f.field): f.message for f in report.findings}
    assert report.title == "Café & Crème"
    assert report.imported == 3
    assert {f.where for f in report.of("skipped")} == {"Doublon", "Billet sans audio", "Sans date"}
    assert ("note", "Sans GUID", "guid") in said
    assert "relative URL 'media/one.mp3'" in said[("approx", "Sans GUID", "enclosure")]
    assert "EST" in said[("approx", "Sans GUID", "pubDate")]
    assert ("note", "Rediffusion", "enclosure") in said
    assert any("mapped to 'Leisure > Video Games'" in f.message for f in report.findings)
    assert any("'Cooking' is not an Apple Podcasts category" in f.message for f in report.findings)
    assert any("HTML entities" in f.message for f in report.findings)
    published = yaml.safe_load((folder / "published.yaml").read_text(encoding="utf-8"))["episodes"]
    # An item without <guid> is known to apps by its enclosure URL: that is its GUID from now on.
    assert "https://old.example.org/media/one.mp3" in published.values()
    episodes = {p.stem: yaml.safe_load(p.read_text(encoding="utf-8")) for p in (folder / "episodes").glob("*.yaml")}
    first = next(e for e in episodes.values() if e["title"] == "Sans GUID")
    assert first["date"] == "2021-07-05T10:00:00-05:00"
    assert first["audio"]["duration"] == 3723
    assert first["notes"] == "Texte \xa0brut,\nsur deux lignes." or "brut" in first["notes"]
    feed_yaml = yaml.safe_load((folder / "feed.yaml").read_text(encoding="utf-8"))
    assert feed_yaml["language"] == "fr-FR"
    assert feed_yaml["categories"] == [{"Leisure": ["Video Games"]}]
    # Three live episodes share number 1: kept, with a warning (a new one repeating it is an error).
    (folder / "cover.jpg").write_bytes(b"")
    checked = check_show(folder)
    rules = [p.rule for p in checked.problems]
    assert rules.count("number-shared") == 1
    assert "duplicate-number" not in rules
    assert "audio-http" in rules


# --- over the network ---------------------------------------------------------------------


def test_feed_urls_fail_clearly(httpserver: HTTPServer, tmp_path: Path) -> None:
    httpserver.expect_request("/gone.xml").respond_with_data("no", status=404)
    httpserver.expect_request("/page").respond_with_data(
        "<!DOCTYPE html><html><body>My show</body></html>", content_type="text/html"
    )
    httpserver.expect_request("/blog.xml").respond_with_data(
        '<rss version="2.0"><channel><title>Blog</title><item><title>Post</title></item></channel></rss>'
    )
    httpserver.expect_request("/atom").respond_with_data('<feed xmlns="http://www.w3.org/2005/Atom"/>')
    cases = {
        "/gone.xml": "answered 404",
        "/page": "a web page (HTML), not a podcast feed",
        "/blog.xml": "not a podcast",
        "/atom": "an Atom feed",
    }
    for path, expected in cases.items():
        result = CliRunner().invoke(cli, ["import", httpserver.url_for(path), str(tmp_path / "x")])
        assert result.exit_code == 1, path
        assert expected in result.output, result.output
        assert "Traceback" not in result.output
    unreachable = CliRunner().invoke(cli, ["import", "http://127.0.0.1:9/feed.xml", str(tmp_path / "y")])
    assert unreachable.exit_code == 1 and "127.0.0.1:9" in unreachable.output


def test_a_moved_feed_is_followed_and_its_redirect_reported(httpserver: HTTPServer, tmp_path: Path) -> None:
    httpserver.expect_request("/old.rss").respond_with_data("", status=301, headers={"Location": "/new.rss"})
    httpserver.expect_request("/new.rss").respond_with_data((FEEDS / "dw-dk-podcast.xml").read_bytes())
    report = import_show(httpserver.url_for("/old.rss"), tmp_path / "dk")
    assert report.feed_url == httpserver.url_for("/new.rss")
    assert any("redirected: 301" in f.message for f in report.findings)
    assert report.imported == 8


class _AudioServer(http.server.ThreadingHTTPServer):
    """Serves one MP3; the first full GET is cut half-way, as a flaky host does."""

    daemon_threads = True

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.cuts = 1
        self.ranges: list[str] = []
        super().__init__(("127.0.0.1", 0), _AudioHandler)


class _AudioHandler(http.server.BaseHTTPRequestHandler):
    server: _AudioServer

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        body = self.server.body
        wanted = self.headers.get("Range")
        if wanted:
            self.server.ranges.append(wanted)
            start = int(wanted.removeprefix("bytes=").split("-")[0])
            self.send_response(206)
            self.send_header("ETag", '"v1"')
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
            self.send_header("Content-Length", str(len(body) - start))
            self.end_headers()
            self.wfile.write(body[start:])
            return
        self.send_response(200)
        self.send_header("ETag", '"v1"')
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        if self.server.cuts > 0:
            self.server.cuts -= 1
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.connection.shutdown(2)
            return
        self.wfile.write(body)


@pytest.fixture
def audio_server(tmp_path: Path) -> Iterator[_AudioServer]:
    body = write_mp3(tmp_path / "source.mp3", seconds=20).read_bytes()
    server = _AudioServer(body)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_download_audio_resumes_a_cut_download_and_measures_the_files(
    audio_server: _AudioServer, tmp_path: Path
) -> None:
    port = audio_server.server_address[1]
    body = audio_server.body
    feed = tmp_path / "feed.xml"
    feed.write_text(
        f"""<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel>
<title>Local</title><description>d</description><language>en</language>
<itunes:author>A</itunes:author><itunes:image href="https://x.example/c.jpg"/>
<itunes:owner><itunes:name>A</itunes:name><itunes:email>a@example.org</itunes:email></itunes:owner>
<itunes:category text="News"/>
<item><title>One</title><guid isPermaLink="false">g-1</guid><pubDate>Tue, 06 Jul 2021 10:00:00 +0200</pubDate>
<enclosure url="http://127.0.0.1:{port}/one.mp3" length="{len(body)}" type="audio/mpeg"/>
<itunes:duration>20</itunes:duration></item></channel></rss>""",
        encoding="utf-8",
    )
    folder = tmp_path / "show"
    seen: list[tuple[int, int | None]] = []
    report = import_show(
        str(feed),
        folder,
        base_url="https://new.example.org/",
        download_audio=True,
        progress=lambda d, t: seen.append((d, t)),
    )
    assert report.downloaded == 1
    episode = yaml.safe_load(next((folder / "episodes").glob("*.yaml")).read_text(encoding="utf-8"))
    assert (folder / episode["audio"]).read_bytes() == body
    assert audio_server.ranges, "the cut download was resumed with a Range request"
    assert seen and seen[-1][1] == len(body)
    published = yaml.safe_load((folder / "published.yaml").read_text(encoding="utf-8"))["episodes"]
    assert list(published.values()) == ["g-1"]


def test_check_remote_audio_compares_what_the_old_host_serves(httpserver: HTTPServer, tmp_path: Path) -> None:
    body = write_mp3(tmp_path / "a.mp3", seconds=3).read_bytes()
    httpserver.expect_request("/good.mp3", method="HEAD").respond_with_data(body, content_type="audio/mpeg")
    httpserver.expect_request("/good.mp3", method="GET").respond_with_data(body[:2], status=206)
    httpserver.expect_request("/short.mp3", method="HEAD").respond_with_data(body[:10], content_type="audio/mpeg")
    httpserver.expect_request("/short.mp3", method="GET").respond_with_data(body, status=200)
    httpserver.expect_request("/gone.mp3").respond_with_data("", status=404)
    folder = tmp_path / "show"
    items = "".join(
        f"""<item><title>{name}</title><guid isPermaLink="false">{name}</guid>
<pubDate>Tue, 0{n} Jul 2021 10:00:00 +0200</pubDate><itunes:duration>3</itunes:duration>
<enclosure url="{httpserver.url_for(f"/{name}.mp3")}" length="{len(body)}" type="audio/mpeg"/></item>"""
        for n, name in enumerate(("good", "short", "gone"), start=1)
    )
    feed = tmp_path / "feed.xml"
    feed.write_text(
        f"""<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel>
<title>Remote</title><description>d</description><language>en</language><itunes:author>A</itunes:author>
<itunes:owner><itunes:name>A</itunes:name><itunes:email>a@example.org</itunes:email></itunes:owner>
<itunes:image href="https://x.example/c.jpg"/><itunes:category text="News"/>{items}</channel></rss>""",
        encoding="utf-8",
    )
    import_show(str(feed), folder, base_url="https://new.example.org/")
    without = {p.rule for p in check_show(folder).problems}
    assert not without & {"remote-audio-unreachable", "remote-audio-mismatch", "remote-audio-range"}
    found = [p for p in check_show(folder, remote_audio=True).problems if p.rule.startswith("remote-audio")]
    by_episode = {(p.path.name.split("-", 3)[-1] if p.path else "", p.rule) for p in found}
    assert by_episode == {
        ("short.yaml", "remote-audio-mismatch"),
        ("short.yaml", "remote-audio-range"),
        ("gone.yaml", "remote-audio-unreachable"),
    }
    assert all(p.line is not None and p.field == "audio.url" for p in found)


def test_the_importer_package_names_its_placeholder() -> None:
    # The placeholder is not a URL, so publish refuses it (tested above through check).
    assert "://" not in importer.BASE_URL_PLACEHOLDER.split(":", 1)[1]
