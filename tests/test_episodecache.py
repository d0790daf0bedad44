"""Episodes written as JSON are read back exactly, every field included, or not kept at all."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from entretiens import episodecache, modeljson, yamlcache
from entretiens.loading import load_project
from entretiens.model import Chapter, DeclaredAudio, Episode, Link, Person, Soundbite, Source, Transcript
from sampleshow import copy_sample_show


def _again(episode: Episode) -> object:
    return modeljson.decode(json.loads(json.dumps(modeljson.encode(episode), ensure_ascii=False)))


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
    assert modeljson.same(again, episode)
    assert again == episode
    assert isinstance(again, Episode)
    assert again.lines == episode.lines
    assert again.guests[0].lines == episode.guests[0].lines
    assert again.guests[0].source == episode.guests[0].source
    assert again.date.tzname() == date.tzname()


def test_the_sample_show_is_read_back_exactly(tmp_path: Path) -> None:
    project = load_project(copy_sample_show(tmp_path / "show"), cache=False)
    for episode in project.episodes:
        assert modeljson.same(_again(episode), episode)


def test_a_difference_equality_leaves_out_is_seen() -> None:
    episode = _full()
    assert modeljson.same(episode, replace(episode))
    for other in (
        replace(episode, lines=(("", 2),)),
        replace(episode, chapters=(replace(episode.chapters[0], source=Source(path=episode.path, line=8)),)),
        replace(episode, date=episode.date.replace(tzinfo=timezone(timedelta(hours=1)))),
        replace(episode, number=True),
    ):
        assert not modeljson.same(episode, other)


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
    with pytest.raises(modeljson.Unsupported):
        modeljson.encode(replace(_full(), **change))  # type: ignore[arg-type]


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
        modeljson.decode(data)


def test_equal_lines_are_read_back_as_one_value_and_damaged_ones_still_refused() -> None:
    # The files of a show mostly share their lines: read back once, then looked up (a tenth of
    # reading an episode back was making these pairs again).
    one = modeljson.decode(["L", "title", 1, "date", 2])
    assert one == (("title", 1), ("date", 2))
    assert modeljson.decode(["L", "title", 1, "date", 2]) is one
    for damaged in (["L", "title", "1", "date", 2], ["L", "title", 1, "date"], ["L", 1, 1], ["L", "a", None]):
        with pytest.raises((ValueError, TypeError)):
            modeljson.decode(damaged)


def _usual(registry: dict[str, tuple[Person, Path]]) -> Episode:
    """An episode of the usual shape: every part located in its own file."""
    episode = _full()
    path = episode.path
    ada = registry["ada"][0]
    return replace(
        episode,
        guests=(
            ada,
            replace(ada, role="host"),  # a reference that changes the registry's role
            Person(name="Bob", role="host", group="cast", url="https://b", image="images/b.png"),
        ),
        chapters=(
            Chapter(start=0.0, title="A", source=Source(path=path, line=7)),
            Chapter(start=61.25, title="B", url="https://c", image="images/c.png", source=Source(path=path, line=8)),
        ),
        soundbites=(Soundbite(start=1.5, duration=2.0, title="s", source=Source(path=path)),),
    )


def _registry() -> dict[str, tuple[Person, Path]]:
    file = Path("/show/guests/ada.yaml")
    ada = Person(
        name="Ada", id="ada", bio="b", social=(("x", "https://x"),), source=Source(path=file, line=1), lines=(("", 1),)
    )
    return {"ada": (ada, file)}


def _flat_again(episode: Episode, registry: dict[str, tuple[Person, Path]]) -> tuple[object, object]:
    data = json.loads(json.dumps(episodecache.encode_episode(episode, registry), ensure_ascii=False))
    return data, episodecache.decode_episode(data, episode.path, registry)


@pytest.mark.parametrize(
    "date",
    [
        datetime(2011, 2, 21, 9, tzinfo=ZoneInfo("Europe/Paris")),
        datetime(2011, 2, 21, 9, tzinfo=timezone(timedelta(hours=-5, minutes=-30))),
        datetime(2011, 2, 21, 9),
    ],
)
def test_an_episode_of_the_usual_shape_is_written_flat_and_read_back_exactly(date: datetime) -> None:
    registry = _registry()
    episode = replace(_usual(registry), date=date)
    data, again = _flat_again(episode, registry)
    assert isinstance(data, list) and data[0] == "E"
    assert modeljson.same(again, episode)
    assert isinstance(again, Episode) and again.date.tzname() == date.tzname()
    # The registry's guest is the registry's own object; the changed reference is not.
    assert again.guests[0] is registry["ada"][0]
    assert again.guests[1] is not registry["ada"][0] and again.guests[1].role == "host"
    assert again.guests[1].source == registry["ada"][0].source and again.guests[1].lines == (("", 1),)
    for other in (replace(episode, declared_audio=None, transcripts=()), replace(episode, links=(), guests=())):
        data, again = _flat_again(other, registry)
        assert data[0] == "E" and modeljson.same(again, other)  # type: ignore[index]


def test_an_episode_of_another_shape_is_written_nested_and_read_back_exactly() -> None:
    registry = _registry()
    usual = _usual(registry)
    for episode in (
        _full(),  # a chapter located nowhere
        replace(usual, links=(Link(title="L", url="http://l", source=Source(path=Path("/show/other.yaml"))),)),
        replace(usual, chapters=(Chapter(start=0.0, title="A", source=Source(path=usual.path, line=True)),)),
    ):
        data, again = _flat_again(episode, registry)
        assert isinstance(data, list) and data[0] == "C"
        assert modeljson.same(again, episode)


def test_the_sample_show_is_read_back_flat_without_a_call_per_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = load_project(copy_sample_show(tmp_path / "show"), cache=False)
    calls = []
    nested = modeljson._decode

    def counted(data: object, paths: dict[str, Path]) -> object:
        calls.append(data)
        return nested(data, paths)

    monkeypatch.setattr(modeljson, "_decode", counted)
    registry = {
        person.id: (person, person.source.path)
        for e in project.episodes
        for person in e.guests
        if person.id and person.source
    }
    for episode in project.episodes:
        data, again = _flat_again(episode, registry)
        assert isinstance(data, list) and data[0] == "E"
        assert modeljson.same(again, episode)
    assert calls == []


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[:-1],
        lambda data: [*data, 1],
        lambda data: [*data[:3], ["t", 2011, 13, 1, 0, 0, 0, 0, None], *data[4:]],
        lambda data: [*data[:3], "2011-02-21", *data[4:]],
        lambda data: [*data[:5], ["C", "Popen", "ls"], *data[6:]],
        lambda data: [*data[:5], ["T"], *data[6:]],
        lambda data: [*data[:12], ["bob"], *data[13:]],
        lambda data: [*data[:12], [["Bob"]], *data[13:]],
        lambda data: [*data[:12], "ada", *data[13:]],
        lambda data: [*data[:12], [[*data[12][2][:7], ["x"], *data[12][2][8:]]], *data[13:]],
        lambda data: [*data[:12], [[*data[12][2][:8], ["a/b.yaml"], *data[12][2][9:]]], *data[13:]],
        lambda data: [*data[:13], data[13][:-1], *data[14:]],
        lambda data: [*data[:15], data[15][:-1], *data[16:]],
        lambda data: [*data[:15], {"a": 1}, *data[16:]],
        lambda data: [*data[:16], data[16][:-1], *data[17:]],
        lambda data: [*data[:17], [3, "fr", 1], *data[18:]],
        lambda data: [*data[:-1], ["L", "a", "1"]],
        lambda data: [*data[:-1], "L"],
        lambda data: [*data[:-1], "title\x7fone"],
        lambda data: [*data[:-1], "title\x7f1\x7fdate"],
        lambda data: [*data[:-1], 7],
    ],
)
def test_a_damaged_flat_episode_is_refused(damage: Any) -> None:
    registry = _registry()
    data, _ = _flat_again(_usual(registry), registry)
    # What the loader catches around decode: anything else would stop a publish.
    with pytest.raises((ValueError, TypeError, IndexError, KeyError, RecursionError, OverflowError)):
        episodecache.decode_episode(damage(data), Path("/show/episodes/001-a.yaml"), registry)


@pytest.mark.parametrize(
    ("cls", "written"),
    [
        (
            Episode,
            "slug path title date audio declared_audio number season season_name episode_type summary notes guests "
            "links quote chapters soundbites transcripts cover_image explicit guid draft imported lines",
        ),
        (Person, "name id role group bio url image social source lines"),
        (Link, "title url source"),
        (Chapter, "start title url image source"),
        (Soundbite, "start duration title source"),
        (Transcript, "path language source"),
    ],
)
def test_the_flat_form_knows_every_field(cls: type, written: str) -> None:
    # A field the flat form does not write would be read back as its default: such an episode
    # is never kept (reading it back differs), and every build would make it again. Add it to
    # encode_episode and decode_episode.
    assert [field.name for field in dataclasses.fields(cls)] == written.split()


def test_the_flat_form_writes_the_lines_as_one_text_read_back_as_one_value() -> None:
    # 40 values each for JSON to read (the benchmark's episode), and a tuple made to look them
    # up: now one text, found whole among those read before.
    registry = _registry()
    episode = replace(_usual(registry), lines=(("", 1), ("title", 1), ("chapters[1].start", 8)))
    data, again = _flat_again(episode, registry)
    assert isinstance(data, list) and data[-1] == "\x7f1\x7ftitle\x7f1\x7fchapters[1].start\x7f8"
    # Written by JSON as it is: no escape to decode.
    assert "\\" not in yamlcache.dumps(data[-1])
    assert modeljson.same(again, episode)
    other = episodecache.decode_episode(json.loads(json.dumps(data)), episode.path, registry)
    assert isinstance(other, Episode) and isinstance(again, Episode) and other.lines is again.lines
    # A name holding the separator: the episode is written in the nested form, and read back whole.
    odd = replace(episode, lines=(("a\x7fb", 3),))
    data, again = _flat_again(odd, registry)
    assert isinstance(data, list) and data[0] != "E"
    assert modeljson.same(again, odd)


def test_texts_most_episodes_repeat_are_read_back_as_one_object() -> None:
    # Each decoded text is an object of its own, held through the whole build (10,000 copies
    # of "full", of "Welcome", of "guest"): read back, equal ones are one object.
    registry = _registry()
    first, second = (
        replace(_usual(registry), slug=slug, cover_image="images/cover.png", episode_type="bonus")
        for slug in ("one", "two")
    )
    _data, one = _flat_again(first, registry)
    _data, two = _flat_again(second, registry)
    assert isinstance(one, Episode) and isinstance(two, Episode)
    assert modeljson.same(one, first) and modeljson.same(two, second)
    for path in ("episode_type", "cover_image"):
        assert getattr(one, path) is getattr(two, path), path
    assert [c.title for c in one.chapters] == ["A", "B"]
    assert all(a.title is b.title for a, b in zip(one.chapters, two.chapters, strict=True))
    inline = (one.guests[2], two.guests[2])
    assert inline[0].role is inline[1].role and inline[0].group is inline[1].group
    # A field that may be None stays None.
    _data, bare = _flat_again(replace(first, cover_image=None), registry)
    assert isinstance(bare, Episode) and bare.cover_image is None


@pytest.mark.parametrize(
    "notes", ["", "one line", "## Topics\n\n- a\n- b\n", "\n\nstarts with breaks", 'é\r\n\\n "q" \t\x7f', "x\n" * 500]
)
def test_an_entry_keeps_the_notes_after_the_json_and_reads_them_back(notes: str) -> None:
    # The notes' line breaks are no escapes for JSON to decode: taken whole after the JSON.
    registry = _registry()
    episode = replace(_usual(registry), notes=notes)
    text = episodecache.encode_entry(["audio/a.mp3", None], episode, registry)
    head, newline, tail = text.partition("\n")
    assert newline and tail == notes
    assert json.loads(head)[1][11] is None
    named, again = episodecache.decode_entry(text, episode.path, registry)
    assert named == ["audio/a.mp3", None]
    assert modeljson.same(again, episode)
    # An episode of another shape is one JSON value, its notes in it.
    odd = replace(episode, lines=(("a\x7fb", 3),))
    text = episodecache.encode_entry([], odd, registry)
    assert "\n" not in text
    assert modeljson.same(episodecache.decode_entry(text, odd.path, registry)[1], odd)


def _with_notes(head: str, notes: object) -> str:
    entry = json.loads(head)
    entry[1][11] = notes
    return json.dumps(entry)


@pytest.mark.parametrize(
    "damage",
    [
        lambda head, tail: _with_notes(head, "n") + "\n" + tail,  # notes twice
        lambda head, tail: head,  # notes left out
        lambda head, tail: _with_notes(head, 3),
        lambda head, tail: json.dumps([[], json.loads(head)[1][:5]]) + "\n" + tail,  # not flat
        lambda head, tail: json.dumps([[], modeljson.encode(_full())]) + "\n" + tail,  # nested, with a tail
        lambda head, tail: "[" + head + "]\n" + tail,
        lambda head, tail: head + tail,
        lambda head, tail: "",
    ],
)
def test_a_damaged_entry_is_refused(damage: Any) -> None:
    registry = _registry()
    episode = replace(_usual(registry), notes="a\nb")
    head, _, tail = episodecache.encode_entry([], episode, registry).partition("\n")
    # What the loader catches around decode: anything else would stop a publish.
    with pytest.raises((ValueError, TypeError, IndexError, KeyError, RecursionError, OverflowError)):
        episodecache.decode_entry(damage(head, tail), episode.path, registry)
