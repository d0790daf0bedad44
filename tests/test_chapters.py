"""Tests of chapters: one source (the YAML, else the audio), every format (JSON, psc, show notes, checks)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from audiogen import ChapterSpec, write_m4a, write_mp3
from entretiens import audio, chapters
from entretiens.cli import cli
from entretiens.errors import ProblemsError
from entretiens.loading import load_project
from entretiens.model import AudioInfo, Chapter, EmbeddedChapter, Episode
from entretiens.publish import publish
from podcast20_specs import json_chapters_errors
from showbuilder import BASE_URL, episode, make_show, tree, write_artwork

NOW = datetime(2024, 6, 1, tzinfo=timezone.utc)
NS = {"psc": "http://podlove.org/simple-chapters", "podcast": "https://podcastindex.org/namespace/1.0"}
YAML_CHAPTERS = [
    {"start": "00:00", "title": "Welcome"},
    {"start": "00:01.5", "title": "The story", "url": "https://example.org/story", "image": "images/story.png"},
    {"start": 3, "title": "Goodbye"},
]
EMBEDDED = [
    ChapterSpec(start=0, end=2, title="Intro", element_id="a"),
    ChapterSpec(start=2, end=4, title="Middle", url="https://example.org/middle", element_id="b"),
    ChapterSpec(start=4, end=6, title="End", element_id="c"),
]


def _root(tmp_path: Path, episodes: dict[str, dict[str, Any]]) -> Path:
    root = tmp_path / "show"
    write_artwork(root / "images" / "story.png", size=64)
    return make_show(root, episodes, seconds=6.0)


def _episode(root: Path, slug: str = "001-first") -> tuple[Episode, AudioInfo]:
    found = next(e for e in load_project(root).episodes if e.slug == slug)
    return found, audio.probe(root / found.audio)


def _info(seconds: float, embedded: tuple[EmbeddedChapter, ...] = ()) -> AudioInfo:
    return AudioInfo(size=1, duration=timedelta(seconds=seconds), mime_type="audio/mpeg", chapters=embedded)


def test_json_chapters_follow_the_spec(tmp_path: Path) -> None:
    root = _root(tmp_path, {"001-first": episode(1, chapters=YAML_CHAPTERS)})
    first, info = _episode(root)
    show = load_project(root).show

    document = json.loads(chapters.json_chapters(show, first.chapters, info))

    assert json_chapters_errors(document) == []
    end = round(info.duration.total_seconds(), 3)
    assert document == {
        "version": "1.2",
        "chapters": [
            {"startTime": 0, "title": "Welcome", "endTime": 1.5},
            {
                "startTime": 1.5,
                "title": "The story",
                "endTime": 3,
                "url": "https://example.org/story",
                "img": BASE_URL + "images/story.png",
            },
            {"startTime": 3, "title": "Goodbye", "endTime": end},
        ],
    }


@pytest.mark.parametrize(
    ("document", "error"),
    [
        ([], "the document is not an object"),
        ({"version": 1.2, "chapters": []}, "version is not a string"),
        ({"version": "1.2"}, "chapters is not an array"),
        ({"version": "1.2", "chapters": [{"startTime": -1}]}, "chapters[0].startTime is not a number >= 0"),
        ({"version": "1.2", "chapters": [{"startTime": "5"}]}, "chapters[0].startTime is not a number >= 0"),
        ({"version": "1.2", "chapters": [{"startTime": 5}, {"startTime": 5}]}, "chapters[1].startTime does not ascend"),
        (
            {"version": "1.2", "chapters": [{"startTime": 5, "endTime": 4}]},
            "chapters[0].endTime is not after startTime",
        ),
        ({"version": "1.2", "chapters": [{"startTime": 0, "url": "/story"}]}, "chapters[0].url is not an absolute URL"),
        ({"version": "1.2", "chapters": [{"startTime": 0, "img": "a.png"}]}, "chapters[0].img is not an absolute URL"),
        ({"version": "1.2", "chapters": [{"startTime": 0, "toc": "no"}]}, "chapters[0].toc is not a boolean"),
        (
            {"version": "1.2", "chapters": [{"startTime": 0, "location": {"name": "Paris"}}]},
            "chapters[0].location has no geo",
        ),
    ],
)
def test_the_spec_check_catches_each_rule(document: object, error: str) -> None:
    assert json_chapters_errors(document) == [error]


def test_yaml_chapters_win_and_the_audio_is_not_needed() -> None:
    episode_ = Episode(
        slug="x",
        path=Path("episodes/x.yaml"),
        title="X",
        date=NOW,
        audio="audio/x.mp3",
        chapters=(Chapter(start=0, title="A"), Chapter(start=2, title="B")),
    )

    found, problems = chapters.chapters_for(episode_, _info(5))

    assert (found, problems) == (episode_.chapters, [])


def test_embedded_chapters_are_used_in_time_order_when_the_yaml_has_none(tmp_path: Path) -> None:
    root = _root(tmp_path, {"001-first": episode(1)})
    write_mp3(root / "audio" / "001.mp3", seconds=6.0, id3_chapters=EMBEDDED, ctoc_order=["c", "a", "b"])
    first, info = _episode(root)

    found, problems = chapters.chapters_for(first, info)

    assert problems == []
    assert [(c.start, c.title, c.url) for c in found] == [
        (0.0, "Intro", None),
        (2.0, "Middle", "https://example.org/middle"),
        (4.0, "End", None),
    ]


def test_embedded_chapters_sharing_a_start_are_an_error(tmp_path: Path) -> None:
    first = Episode(slug="x", path=Path("episodes/x.yaml"), title="X", date=NOW, audio="audio/x.mp3")
    embedded = (EmbeddedChapter(start=0, title="A"), EmbeddedChapter(start=0, title="B"))

    _, problems = chapters.chapters_for(first, _info(5, embedded))

    assert [(p.rule, p.severity, p.field) for p in problems] == [("chapter-order", "error", "audio")]
    assert "two chapters embedded in audio/x.mp3 start at 00:00: 'A' and 'B'" in problems[0].message


def test_disagreeing_yaml_and_audio_chapters_warn(tmp_path: Path) -> None:
    root = _root(tmp_path, {"001-first": episode(1, chapters=YAML_CHAPTERS)})
    write_mp3(root / "audio" / "001.mp3", seconds=6.0, id3_chapters=EMBEDDED)
    first, info = _episode(root)

    found, problems = chapters.chapters_for(first, info)

    assert found == first.chapters
    assert [(p.rule, p.severity, p.path, p.line) for p in problems] == [
        ("chapters-disagree", "warning", first.path, first.line_of("chapters"))
    ]


def test_agreeing_yaml_and_audio_chapters_do_not_warn(tmp_path: Path) -> None:
    same = [{"start": c.start, "title": c.title} for c in EMBEDDED]
    root = _root(tmp_path, {"001-first": episode(1, chapters=same)})
    write_mp3(root / "audio" / "001.mp3", seconds=6.0, id3_chapters=EMBEDDED)
    first, info = _episode(root)

    assert chapters.chapters_for(first, info)[1] == []


def test_a_chapter_at_or_after_the_end_is_an_error() -> None:
    first = Episode(slug="x", path=Path("episodes/x.yaml"), title="X", date=NOW, audio="audio/x.mp3")
    found = (Chapter(start=0, title="A"), Chapter(start=5, title="Late"))

    problems = chapters.timing_problems(first, found, _info(5))

    assert [(p.rule, p.field) for p in problems] == [("chapter-after-end", "chapters[1].start")]
    assert problems[0].message == "chapter 'Late' starts at 00:05, after the end of the audio (00:05)"


def test_chapter_ends_are_the_next_start_then_the_audio_end() -> None:
    found = (Chapter(start=0, title="A"), Chapter(start=2.5, title="B"))

    assert chapters.chapter_ends(found, _info(7.25)) == (2.5, 7.25)
    assert chapters.chapter_ends((), _info(7.25)) == ()


def test_publish_writes_one_source_in_every_format(tmp_path: Path) -> None:
    root = _root(
        tmp_path,
        {
            "001-yaml": episode(1, chapters=YAML_CHAPTERS),
            "002-embedded": episode(2),
            "003-both": episode(3, chapters=YAML_CHAPTERS),
        },
    )
    write_mp3(root / "audio" / "002.mp3", seconds=6.0, id3_chapters=EMBEDDED)
    write_mp3(root / "audio" / "003.mp3", seconds=6.0, id3_chapters=EMBEDDED)
    out = tmp_path / "public"

    result = publish(root, out, now=NOW)

    channel = etree.fromstring((out / "feed.xml").read_bytes()).find("channel")
    assert channel is not None
    from_yaml = [
        ("00:00:00.000", "00:00", "Welcome"),
        ("00:00:01.500", "00:01", "The story"),
        ("00:00:03.000", "00:03", "Goodbye"),
    ]
    from_audio = [
        ("00:00:00.000", "00:00", "Intro"),
        ("00:00:02.000", "00:02", "Middle"),
        ("00:00:04.000", "00:04", "End"),
    ]
    expected = {"001-yaml": from_yaml, "002-embedded": from_audio, "003-both": from_yaml}
    for item in channel.findall("item"):
        slug = item.findtext("link", "").removeprefix(BASE_URL).strip("/")
        document = json.loads((out / slug / "chapters.json").read_text(encoding="utf-8"))
        assert json_chapters_errors(document) == [], slug
        assert [c["title"] for c in document["chapters"]] == [title for _, _, title in expected[slug]]
        link = item.find("podcast:chapters", NS)
        assert link is not None
        assert link.attrib == {"url": f"{BASE_URL}{slug}/chapters.json", "type": "application/json+chapters"}
        psc = item.findall("psc:chapters/psc:chapter", NS)
        assert [(c.get("start"), c.get("title")) for c in psc] == [(start, title) for start, _, title in expected[slug]]
        # The show notes list the same chapters as timecodes apps turn into seek links.
        description = item.findtext("description", "")
        assert "<br>".join(f"{code} {title}" for _, code, title in expected[slug]) in description, slug
    warnings = [(p.rule, p.path.name if p.path else None) for p in result.warnings if p.rule == "chapters-disagree"]
    assert warnings == [("chapters-disagree", "003-both.yaml")]


def test_publish_uses_m4a_chapters(tmp_path: Path) -> None:
    root = _root(tmp_path, {"001-first": episode(1, audio="audio/001.m4a")})
    write_m4a(root / "audio" / "001.m4a", 6.0, chapters=EMBEDDED)
    out = tmp_path / "public"

    publish(root, out, now=NOW)

    document = json.loads((out / "001-first" / "chapters.json").read_text(encoding="utf-8"))
    assert json_chapters_errors(document) == []
    assert [(c["startTime"], c["title"]) for c in document["chapters"]] == [(0, "Intro"), (2, "Middle"), (4, "End")]


@pytest.mark.parametrize(
    ("chapter_list", "message"),
    [
        (
            [{"start": "00:02", "title": "B"}, {"start": "00:01", "title": "A"}],
            "chapters[1].start: chapter 'A' does not start after 'B'",
        ),
        (
            [{"start": "00:01", "title": "A"}, {"start": 1, "title": "Again"}],
            "chapters[1].start: chapter 'Again' does not start after 'A'",
        ),
        (
            [{"start": "00:00", "title": "A"}, {"start": "00:09", "title": "Late"}],
            "chapters[1].start: chapter 'Late' starts at 00:09, after the end of the audio (00:06)",
        ),
        ([{"start": "1:75", "title": "A"}], "chapters[0].start: '1:75' is not a time in the audio"),
        ([{"start": -3, "title": "A"}], "chapters[0].start: '-3' is not a time in the audio"),
        ([{"start": "00:00"}], "chapters[0].title"),
    ],
)
def test_bad_chapters_stop_the_publish(tmp_path: Path, chapter_list: list[dict[str, Any]], message: str) -> None:
    root = _root(tmp_path, {"001-first": episode(1, chapters=YAML_CHAPTERS)})
    out = tmp_path / "public"
    publish(root, out, now=NOW)
    before = tree(out)
    make_show(root, {"001-first": episode(1, chapters=chapter_list)})

    with pytest.raises(ProblemsError) as caught:
        publish(root, out, now=NOW)

    assert "episodes/001-first.yaml:" in str(caught.value)
    assert message in str(caught.value)
    assert tree(out) == before


def test_check_warns_when_yaml_and_audio_chapters_disagree(tmp_path: Path) -> None:
    root = _root(tmp_path, {"001-first": episode(1, chapters=YAML_CHAPTERS)})
    write_mp3(root / "audio" / "001.mp3", seconds=6.0, id3_chapters=EMBEDDED)

    result = CliRunner().invoke(cli, ["check", "--show", str(root)])

    assert result.exit_code == 0, result.output
    assert (
        "Warning: episodes/001-first.yaml:10: chapters: the chapters differ from the 3 embedded in audio/001.mp3; "
        "the YAML's are published"
    ) in result.stderr
    assert result.stderr.splitlines()[0].endswith("[chapters-disagree]")


_STARTS = st.sampled_from([0.0, 0.5, 1.0, 1.5, 2.0, 3.25, 10.0])
_TITLES = st.sampled_from(["A", " A", "A ", "B", "Intro", ""])


@settings(max_examples=300, deadline=None)
@given(
    written=st.lists(st.tuples(_STARTS, _TITLES), max_size=4),
    embedded=st.lists(st.tuples(_STARTS, _TITLES), max_size=4),
)
def test_the_yaml_chapters_are_compared_with_the_audio_as_made_chapters_were(
    written: list[tuple[float, str]], embedded: list[tuple[float, str]]
) -> None:
    # The audio's chapters compared as they are (in any order, ties, titles padded): the
    # same warning, or none, as when each was made a Chapter, sorted, and compared.
    path = Path("/show/episodes/e.yaml")
    yaml_chapters = tuple(Chapter(start=start, title=title) for start, title in written)
    episode = Episode(
        slug="e",
        path=path,
        title="E",
        date=datetime(2011, 1, 1, tzinfo=timezone.utc),
        audio="audio/e.mp3",
        chapters=yaml_chapters,
    )
    info = AudioInfo(
        size=1,
        duration=timedelta(seconds=20),
        mime_type="audio/mpeg",
        chapters=tuple(EmbeddedChapter(start=start, title=title) for start, title in embedded),
    )
    found, problems = chapters.chapters_for(episode, info)
    made = chapters.embedded_chapters(info)
    if yaml_chapters:
        assert found is yaml_chapters
        expected = bool(made) and chapters.differ(yaml_chapters, made)
        assert [p.rule for p in problems] == (["chapters-disagree"] if expected else [])
        assert all(f"differ from the {len(made)} embedded" in p.message for p in problems)
    else:
        assert found == made
        assert all(p.rule == "chapter-order" for p in problems)


def test_the_yaml_chapters_make_no_chapter_of_the_audio(monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(_audio: AudioInfo) -> tuple[Chapter, ...]:
        raise AssertionError("a Chapter made of each embedded chapter")

    monkeypatch.setattr(chapters, "embedded_chapters", refused)
    episode = Episode(
        slug="e",
        path=Path("/e.yaml"),
        title="E",
        date=datetime(2011, 1, 1, tzinfo=timezone.utc),
        audio="audio/e.mp3",
        chapters=(Chapter(start=0.0, title="A"), Chapter(start=5.0, title="B")),
    )
    info = AudioInfo(
        size=1,
        duration=timedelta(seconds=20),
        mime_type="audio/mpeg",
        chapters=(EmbeddedChapter(start=5.0, title="B"), EmbeddedChapter(start=0.0, title="A ")),
    )
    assert chapters.chapters_for(episode, info) == (episode.chapters, [])
