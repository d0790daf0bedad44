"""Podcasting 2.0 end to end: a show published, then read by real podcast clients and checked against the specs."""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml

from audiogen import ChapterSpec, require_tool, write_mp3
from entretiens.captions import parse_srt, parse_vtt
from entretiens.errors import ProblemsError
from entretiens.publish import publish
from podcast20_specs import json_chapters_errors, json_transcript_errors
from podcast_clients import (
    normalized,
    parse_with_feedparser,
    parse_with_partytime,
    parse_with_podcastparser,
)
from showbuilder import BASE_URL, episode, make_show, tree, write_artwork, write_yaml

NOW = datetime(2024, 6, 1, tzinfo=timezone.utc)
FEED_URL = BASE_URL + "feed.xml"
#: podcast:guid is the UUIDv5 of the feed URL without its scheme, in this namespace.
PODCAST_GUID = str(uuid.uuid5(uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6"), "podcast.example.org/show/feed.xml"))
PRIVATE_EMAIL = "jane.private@example.net"
PRIVATE_PHONE = "+33 6 12 34 56 78"

VTT = (
    "WEBVTT\n\n"
    "00:00.500 --> 00:02.000\n<v Alex Host>Welcome, Jane.\n\n"
    "00:02.500 --> 00:05.000\n<v Jane Doe>Thanks for having me.\n"
)
SRT = "1\n00:00:00,500 --> 00:00:03,000\nBonjour à tous.\n\n2\n00:00:03,500 --> 00:00:05,500\nÀ bientôt.\n"


def _show(tmp_path: Path) -> Path:
    root = tmp_path / "show"
    write_yaml(
        root / "guests" / "jane-doe.yaml",
        {
            "name": "Jane Doe",
            "bio": "Founder of *Doe & Co*.",
            "url": "https://janedoe.example.org/",
            "email": PRIVATE_EMAIL,
            "phone": PRIVATE_PHONE,
        },
    )
    write_artwork(root / "images" / "story.png", size=64)
    (root / "transcripts").mkdir(parents=True)
    (root / "transcripts" / "001.vtt").write_text(VTT, encoding="utf-8")
    (root / "transcripts" / "002.srt").write_text(SRT, encoding="utf-8")
    first = episode(
        1,
        guests=[{"id": "jane-doe", "bio": "Founder of Doe & Co, in her own words."}],
        chapters=[
            {"start": "00:00", "title": "Welcome"},
            {"start": "00:02.5", "title": "Jane's story", "url": "https://janedoe.example.org/story",
             "image": "images/story.png"},
        ],
        soundbites=[{"start": 2.5, "duration": 3, "title": "Jane in one sentence"}],
        transcript="transcripts/001.vtt",
    )  # fmt: skip
    second = episode(2, transcript=[{"file": "transcripts/002.srt", "language": "fr"}])
    show = {
        "hosts": [{"name": "Alex Host", "url": "https://alex.example.org/"}],
        "funding": [{"url": "https://example.org/support", "text": "Support the show"}],
        "locked": True,
    }
    make_show(root, {"001-first": first, "002-second": second}, show=show, seconds=6.0)
    chapters = [ChapterSpec(start=0, end=3, title="Part one"), ChapterSpec(start=3, end=6, title="Part two")]
    write_mp3(root / "audio" / "002.mp3", seconds=6.0, id3_chapters=chapters)
    return root


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The show published once for every reading test of this module."""
    tmp_path = tmp_path_factory.mktemp("podcast20")
    root = _show(tmp_path)
    out = tmp_path / "public"
    publish(root, out, now=NOW)
    return out


def _feed(out: Path) -> bytes:
    return (out / "feed.xml").read_bytes()


def test_partytime_sees_every_podcast_tag(published: Path) -> None:
    feed = parse_with_partytime(_feed(published))

    assert (feed["guid"], feed["locked"], feed["locked_owner"]) == (PODCAST_GUID, True, "alex@example.org")
    assert feed["funding"] == [{"url": "https://example.org/support", "message": "Support the show"}]
    assert [(p["name"], p["role"], p["href"]) for p in feed["persons"]] == [
        ("Alex Host", "Host", "https://alex.example.org/")
    ]
    items = {item["title"]: item for item in feed["items"]}
    first, second = items["Conversation 1"], items["Conversation 2"]
    assert [(p["name"], p["role"], p["group"], p["href"]) for p in first["persons"]] == [
        ("Alex Host", "Host", "Cast", "https://alex.example.org/"),
        ("Jane Doe", "Guest", "Cast", "https://janedoe.example.org/"),
    ]
    assert first["chapters"] == {"url": BASE_URL + "001-first/chapters.json", "type": "application/json+chapters"}
    assert second["chapters"] == {"url": BASE_URL + "002-second/chapters.json", "type": "application/json+chapters"}
    assert [(t["url"], t["type"], t["language"], t["rel"]) for t in first["transcripts"]] == [
        (BASE_URL + "001-first/transcript.vtt", "text/vtt", "en", "captions"),
        (BASE_URL + "001-first/transcript.srt", "application/srt", "en", "captions"),
        (BASE_URL + "001-first/transcript.json", "application/json", "en", None),
    ]
    assert [(t["type"], t["language"]) for t in second["transcripts"]] == [
        ("application/srt", "fr"),
        ("text/vtt", "fr"),
        ("application/json", "fr"),
    ]
    assert first["soundbites"] == [{"start_time": 2.5, "duration": 3, "title": "Jane in one sentence"}]
    assert second["soundbites"] == []


def test_podcastparser_reads_the_feed_as_published_without_its_podcast_tags(published: Path) -> None:
    """What gPodder reads from our feed, exactly as we publish it.

    podcastparser 0.6 (gPodder's parser) binds `podcast:` only to the Podcast Index's old GitHub
    URI, not to the canonical namespace URI we publish (and the spec requires): from our feed it
    reads no person, funding, locked, JSON chapters or transcript. Should a new podcastparser
    read them, this test fails, and the README can then say gPodder shows them.
    """
    feed = parse_with_podcastparser(_feed(published), FEED_URL)

    assert "funding_url" not in feed
    assert "import_prohibited" not in feed
    for seen in feed["episodes"]:
        assert {"persons", "chapters_json_url", "transcript_url"}.isdisjoint(seen), seen["title"]

    # Everything else it reads: the episode, its audio, and chapters through Podlove's psc: tags.
    state = yaml.safe_load((published.parent / "show" / "published.yaml").read_text(encoding="utf-8"))
    first = next(e for e in feed["episodes"] if e["title"] == "Conversation 1")
    assert first["guid"] == state["episodes"]["001-first"]
    assert first["link"] == BASE_URL + "001-first/"
    assert [(e["url"], e["mime_type"]) for e in first["enclosures"]] == [(BASE_URL + "audio/001.mp3", "audio/mpeg")]
    assert first["enclosures"][0]["file_size"] == (published / "audio" / "001.mp3").stat().st_size
    assert (first["total_time"], first["number"], first["season"]) == (6, 1, 1)
    # Whole seconds only: the chapter at 2.5 s reads as 2.
    assert [(c["start"], c["title"]) for c in first["chapters"]] == [(0, "Welcome"), (2, "Jane's story")]


def test_feedparser_sees_the_last_tag_of_each_kind(published: Path) -> None:
    feed = parse_with_feedparser(_feed(published))

    assert feed.feed["podcast_guid"] == PODCAST_GUID
    assert feed.feed["podcast_locked"] == {"owner": "alex@example.org"}
    assert feed.feed["podcast_funding"] == {"url": "https://example.org/support"}
    first = next(e for e in feed.entries if e["title"] == "Conversation 1")
    assert first["podcast_chapters"]["url"] == BASE_URL + "001-first/chapters.json"
    assert first["podcast_transcript"] == {
        "url": BASE_URL + "001-first/transcript.json",
        "type": "application/json",
        "language": "en",
    }
    assert first["podcast_soundbite"] == {"starttime": "2.5", "duration": "3"}


def test_the_three_clients_agree_on_the_episodes(published: Path) -> None:
    views = normalized(_feed(published), FEED_URL)

    assert len(set(views.values())) == 1, views
    episodes = next(iter(views.values())).episodes
    assert [e.title for e in episodes] == ["Conversation 1", "Conversation 2"]
    state = yaml.safe_load((published.parent / "show" / "published.yaml").read_text(encoding="utf-8"))
    assert [e.guid for e in episodes] == [state["episodes"]["001-first"], state["episodes"]["002-second"]]


def test_published_chapters_and_transcripts_follow_their_specs(published: Path) -> None:
    first = json.loads((published / "001-first" / "chapters.json").read_text(encoding="utf-8"))
    second = json.loads((published / "002-second" / "chapters.json").read_text(encoding="utf-8"))

    assert json_chapters_errors(first) == json_chapters_errors(second) == []
    assert [(c["startTime"], c["title"], c.get("url"), c.get("img")) for c in first["chapters"]] == [
        (0, "Welcome", None, None),
        (2.5, "Jane's story", "https://janedoe.example.org/story", BASE_URL + "images/story.png"),
    ]
    assert [(c["startTime"], c["title"]) for c in second["chapters"]] == [(0, "Part one"), (3, "Part two")]
    transcript = json.loads((published / "001-first" / "transcript.json").read_text(encoding="utf-8"))
    assert json_transcript_errors(transcript) == []
    assert [(s.get("speaker"), s["body"]) for s in transcript["segments"]] == [
        ("Alex Host", "Welcome, Jane."),
        ("Jane Doe", "Thanks for having me."),
    ]
    srt = parse_srt((published / "001-first" / "transcript.srt").read_text(encoding="utf-8"))
    vtt = parse_vtt((published / "002-second" / "transcript.vtt").read_text(encoding="utf-8"))
    assert [(c.start, c.end) for c in srt] == [(0.5, 2.0), (2.5, 5.0)]
    assert [(c.start, c.text) for c in vtt] == [(0.5, "Bonjour à tous."), (3.5, "À bientôt.")]


def test_guest_contact_details_are_published_nowhere(published: Path) -> None:
    for path in published.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert PRIVATE_EMAIL.encode() not in data, path
            assert PRIVATE_PHONE.encode() not in data, path


# -- bad values: a clear error, and the previous output untouched -------------------------------------

Change = Callable[[Path], None]


def _edit_episode(slug: str, **fields: Any) -> Change:
    def change(root: Path) -> None:
        path = root / "episodes" / f"{slug}.yaml"
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        data.update(fields)
        write_yaml(path, data)

    return change


def _edit_feed(**fields: Any) -> Change:
    def change(root: Path) -> None:
        data = yaml.safe_load((root / "feed.yaml").read_text(encoding="utf-8"))
        data.update(fields)
        write_yaml(root / "feed.yaml", data)

    return change


def _write_transcript(text: str | bytes) -> Change:
    def change(root: Path) -> None:
        data = text.encode("utf-8") if isinstance(text, str) else text
        (root / "transcripts" / "001.vtt").write_bytes(data)

    return change


BAD_VALUES: dict[str, tuple[Change, str, str]] = {
    "chapter start": (
        _edit_episode("001-first", chapters=[{"start": "2:75", "title": "A"}]),
        "invalid-time",
        "episodes/001-first.yaml:",
    ),
    "chapter order": (
        _edit_episode("001-first", chapters=[{"start": 3, "title": "B"}, {"start": 1, "title": "A"}]),
        "chapter-order",
        "chapter 'A' does not start after 'B'",
    ),
    "chapter after the end": (
        _edit_episode("001-first", chapters=[{"start": 0, "title": "A"}, {"start": "01:00", "title": "B"}]),
        "chapter-after-end",
        "chapter 'B' starts at 01:00, after the end of the audio",
    ),
    "chapter without title": (
        _edit_episode("001-first", chapters=[{"start": 0}]),
        "missing-field",
        "chapters[0].title",
    ),
    "chapter url": (
        _edit_episode("001-first", chapters=[{"start": 0, "title": "A", "url": "not a link"}]),
        "invalid-url",
        "chapters[0].url",
    ),
    "soundbite duration": (
        _edit_episode("001-first", soundbites=[{"start": 1, "duration": 0}]),
        "invalid-value",
        "soundbites[0].duration",
    ),
    "soundbite after the end": (
        _edit_episode("001-first", soundbites=[{"start": 4, "duration": 20}]),
        "soundbite-after-end",
        "soundbites[0]",
    ),
    "soundbite unknown key": (
        _edit_episode("001-first", soundbites=[{"start": 1, "duration": 2, "end": 3}]),
        "unknown-field",
        "soundbites[0].end: unknown field 'end'",
    ),
    "transcript missing": (
        _edit_episode("001-first", transcript="transcripts/nope.vtt"),
        "missing-file",
        "transcripts/nope.vtt",
    ),
    "transcript format": (
        _edit_episode("001-first", transcript="feed.yaml"),
        "transcript-format",
        "is not a transcript format",
    ),
    "transcript language": (
        _edit_episode("001-first", transcript=[{"file": "transcripts/001.vtt", "language": "french"}]),
        "invalid-language",
        "'french'",
    ),
    "transcript encoding": (
        _write_transcript(VTT.replace("Thanks", "Merci, café").encode("latin-1")),
        "transcript-encoding",
        "transcripts/001.vtt:7: the file is not UTF-8 text",
    ),
    "transcript syntax": (
        _write_transcript(VTT.replace("00:02.500", "00:02,500")),
        "transcript-syntax",
        "transcripts/001.vtt:6: malformed cue timing",
    ),
    "transcript timing": (
        _write_transcript(VTT.replace("00:05.000", "00:45.000")),
        "transcript-timing",
        "transcripts/001.vtt:6: the cue ends at 00:00:45.000, after the end of the audio",
    ),
    "tag_audio": (_edit_feed(tag_audio="yes"), "field-type", "feed.yaml:"),
    "guest id": (_edit_episode("001-first", guests=["jane-do"]), "unknown-guest", "did you mean 'jane-doe'?"),
}


@pytest.mark.parametrize("case", sorted(BAD_VALUES))
def test_a_bad_value_stops_the_publish_and_keeps_the_old_output(published: Path, tmp_path: Path, case: str) -> None:
    change, rule, message = BAD_VALUES[case]
    # A copy of the published show and its output: cheaper than publishing again.
    root = shutil.copytree(published.parent / "show", tmp_path / "show")
    out = shutil.copytree(published, tmp_path / "public")
    before = tree(out)
    change(root)

    with pytest.raises(ProblemsError) as caught:
        publish(root, out, now=NOW, tag_audio=True)

    errors = [p for p in caught.value.problems if p.severity == "error"]
    assert rule in [p.rule for p in errors], str(caught.value)
    assert message in str(caught.value)
    assert tree(out) == before


# -- the bundled sample show -------------------------------------------------------------------------


def _ffprobe_json(*arguments: str) -> dict[str, Any]:
    ffprobe = require_tool("ffprobe")
    result = subprocess.run([ffprobe, "-v", "error", *arguments, "-of", "json"], check=True, capture_output=True)
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_sample_show_transcripts_convert_to_valid_srt_and_json(tmp_path: Path, sample_show: Path) -> None:
    root = sample_show
    out = tmp_path / "public"

    result = publish(root, out, now=NOW)

    with_transcripts = [r for r in result.releases if r.episode.transcripts]
    assert with_transcripts, "the sample show has a transcript"
    for release in with_transcripts:
        folder = out / release.episode.slug
        original = parse_vtt((root / release.episode.transcripts[0].path).read_text(encoding="utf-8"))
        document = json.loads((folder / "transcript.json").read_text(encoding="utf-8"))
        assert json_transcript_errors(document) == []
        assert len(document["segments"]) == len(original)
        srt = parse_srt((folder / "transcript.srt").read_text(encoding="utf-8"))
        assert [(c.start, c.end, c.text) for c in srt] == [(c.start, c.end, c.text) for c in original]
        # ffmpeg, an independent reader, sees the same cues in both caption files.
        for name in ("transcript.srt", "transcript.vtt"):
            packets = _ffprobe_json("-show_packets", str(folder / name))["packets"]
            assert [round(float(p["pts_time"]), 3) for p in packets] == [c.start for c in original], name


def test_sample_show_tagged_copies_carry_their_chapters(tmp_path: Path, sample_show: Path) -> None:
    root = sample_show
    out = tmp_path / "public"

    result = publish(root, out, now=NOW, tag_audio=True)

    assert result.releases
    for release in result.releases:
        copy = out / release.episode.audio
        assert copy.read_bytes() != (root / release.episode.audio).read_bytes()
        found = _ffprobe_json("-show_chapters", str(copy))["chapters"]
        assert [(float(c["start_time"]), c["tags"]["title"]) for c in found] == [
            (chapter.start, chapter.title) for chapter in release.chapters
        ], release.episode.slug
        assert release.enclosure_length == copy.stat().st_size
