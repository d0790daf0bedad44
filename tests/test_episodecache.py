"""Episodes written as JSON are read back exactly, every field included, or not kept at all."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from entretiens import episodecache
from entretiens.loading import load_project
from entretiens.model import Chapter, DeclaredAudio, Episode, Link, Person, Soundbite, Source, Transcript
from sampleshow import copy_sample_show


def _again(episode: Episode) -> object:
    return episodecache.decode(json.loads(json.dumps(episodecache.encode(episode), ensure_ascii=False)))


def _full() -> Episode:
    path = Path("/show/episodes/001-a.yaml")
    return Episode(
        slug="001-a",
        path=path,
        title="Été « 1 »",
        date=datetime(2011, 2, 21, 9, 0, 0, 250, tzinfo=ZoneInfo("Europe/Paris")),
        audio="https://example.org/a.mp3",
        declared_audio=DeclaredAudio(length=12, mime_type="audio/mpeg", duration=timedelta(seconds=90.5)),
        number=1,
        season=None,
        season_name="One",
        episode_type="bonus",
        summary="",
        notes="**notes**\n",
        guests=(
            Person(
                name="Ada",
                id="ada",
                bio="b",
                social=(("x", "https://x"),),
                source=Source(path=path, line=1),
                lines=(("", 1), ("name", 1)),
            ),
            Person(name="Bob", role="host", group="cast", url="https://b", image="images/b.png"),
        ),
        links=(Link(title="L", url="http://l", source=Source(path=path, line=4)),),
        quote="q",
        chapters=(Chapter(start=0.0, title="A", source=Source(path=path, line=7)), Chapter(start=61.25, title="B")),
        soundbites=(Soundbite(start=1.5, duration=2.0, title="s", source=Source(path=path)),),
        transcripts=(Transcript(path=Path("transcripts/a.vtt"), language="fr", source=Source(path=path, line=9)),),
        cover_image=None,
        explicit=False,
        guid="",
        draft=True,
        imported=True,
        lines=(("", 1), ("title", 1), ("chapters[1].start", 8)),
    )


@pytest.mark.parametrize(
    "date",
    [
        datetime(2011, 2, 21, 9, tzinfo=ZoneInfo("Europe/Paris")),
        datetime(2011, 2, 21, 9, tzinfo=timezone(timedelta(hours=-5, minutes=-30))),
        datetime(2011, 2, 21, 9, tzinfo=timezone.utc),
        datetime(2011, 2, 21, 9),
    ],
)
def test_an_episode_is_read_back_exactly(date: datetime) -> None:
    episode = replace(_full(), date=date)
    again = _again(episode)
    assert episodecache.same(again, episode)
    assert again == episode
    assert isinstance(again, Episode)
    assert again.lines == episode.lines
    assert again.guests[0].lines == episode.guests[0].lines
    assert again.guests[0].source == episode.guests[0].source
    assert again.date.tzname() == date.tzname()


def test_the_sample_show_is_read_back_exactly(tmp_path: Path) -> None:
    project = load_project(copy_sample_show(tmp_path / "show"), cache=False)
    for episode in project.episodes:
        assert episodecache.same(_again(episode), episode)


def test_a_difference_equality_leaves_out_is_seen() -> None:
    episode = _full()
    assert episodecache.same(episode, replace(episode))
    for other in (
        replace(episode, lines=(("", 2),)),
        replace(episode, chapters=(replace(episode.chapters[0], source=Source(path=episode.path, line=8)),)),
        replace(episode, date=episode.date.replace(tzinfo=timezone(timedelta(hours=1)))),
        replace(episode, number=True),
    ):
        assert not episodecache.same(episode, other)


@pytest.mark.parametrize(
    "change",
    [
        {"chapters": (Chapter(start=float("nan"), title="A"),)},
        {"date": datetime(2011, 2, 21, 9, tzinfo=timezone(timedelta(hours=1), "CET"))},
        {"guests": [Person(name="A")]},
        {"notes": b"bytes"},
    ],
)
def test_what_the_format_does_not_hold_is_refused(change: dict[str, object]) -> None:
    with pytest.raises(episodecache.Unsupported):
        episodecache.encode(replace(_full(), **change))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "data",
    [
        ["C", "Episode"],
        ["C", "Popen", "ls"],
        ["X"],
        {"a": 1},
        ["T", {"a": 1}],
        ["L", "a", "1"],
        ["P", 3],
        ["t", 2011, 1, 1, 0, 0, 0, 0, 10**40],
        ["t", 2011, 1, 1, 0, 0, 0, 0, "../../etc/passwd"],
        ["t", 2011, 1, 1, 0, 0, 0, 0, "No/Such_Zone"],
        ["t", 2011, 13, 1, 0, 0, 0, 0, None],
        ["d", 10**40, 0, 0],
    ],
)
def test_what_encode_does_not_write_is_refused(data: object) -> None:
    # What the loader catches around decode: anything else would stop a publish.
    with pytest.raises((ValueError, TypeError, IndexError, KeyError, RecursionError, OverflowError)):
        episodecache.decode(data)


def test_equal_lines_are_read_back_as_one_value_and_damaged_ones_still_refused() -> None:
    # The files of a show mostly share their lines: read back once, then looked up (a tenth of
    # reading an episode back was making these pairs again).
    one = episodecache.decode(["L", "title", 1, "date", 2])
    assert one == (("title", 1), ("date", 2))
    assert episodecache.decode(["L", "title", 1, "date", 2]) is one
    for damaged in (["L", "title", "1", "date", 2], ["L", "title", 1, "date"], ["L", 1, 1], ["L", "a", None]):
        with pytest.raises((ValueError, TypeError)):
            episodecache.decode(damaged)
