"""An episode as the loader built it from its file, written as JSON and read back exactly.

After the parse (:mod:`entretiens.yamlcache`), building an episode from its values (each field
checked, each file it names checked) was most of what loading a large show cost on every
rebuild. The loader keeps the episode it built from a file that raised no problem, beside the
parse, under the file's stamp and everything else it was built from (the show's time zone and
language, the guests' registry); it revalidates the files the episode names (one ``lstat`` per
part) before using it again.

The format is closed: the model's own dataclasses, by name from :data:`CLASSES`, their fields in
order; tuples, text, numbers, booleans, null, paths, times (with a fixed offset or an IANA zone)
and durations. An episode is kept only when reading back what was written gives it exactly,
every field compared, those equality leaves out (lines, sources) included.

An episode of the usual shape (every chapter, link, soundbite and transcript located in the
episode's own file) is written flat by :func:`encode_episode`: its fields in order, its parts as
flat lists of fixed stride, its lines as one text, a guest taken whole from the registry as
its id. It is read back with a handful of calls, where the nested form took one call per value
(18 for the benchmark's episode, 180,000 at 10,000 episodes), and its registry guests are the
registry's own objects.
Any other episode is written in the nested form.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path, PosixPath
from typing import Any, Final
from zoneinfo import ZoneInfo

from .model import Chapter, DeclaredAudio, Episode, Link, Person, Soundbite, Source, Transcript
from .yamlfile import line_pair

#: The model classes an episode is made of, by name.
CLASSES: Final = {
    cls.__name__: cls for cls in (Episode, Person, Link, Chapter, Soundbite, Transcript, DeclaredAudio, Source)
}
_FIELDS: Final = {name: tuple(field.name for field in dataclasses.fields(cls)) for name, cls in CLASSES.items()}


#: The people of the guests' registry by id, as the loader reads them (person, file).
Registry = Mapping[str, tuple[Person, Path]]

#: The first item of an episode written flat.
_FLAT: Final = "E"


class Unsupported(Exception):
    """A value this format does not hold: the episode is not kept."""


def encode(value: object) -> object:
    """``value`` (an :class:`~entretiens.model.Episode`, or any part of one) as JSON values.

    :raises Unsupported: it holds something else than what :func:`decode` builds.
    """
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is float:
        assert isinstance(value, float)
        if not math.isfinite(value):
            raise Unsupported("not a finite number")
        return value
    if kind is tuple:
        assert isinstance(value, tuple)
        return ["T", *(encode(item) for item in value)]
    name = kind.__name__
    if CLASSES.get(name) is kind:
        return ["C", name, *(_encode_field(field, getattr(value, field)) for field in _FIELDS[name])]
    if kind is PosixPath:
        return ["P", str(value)]
    if kind is datetime:
        assert isinstance(value, datetime)
        return ["t", *_moment(value)]
    if kind is timedelta:
        assert isinstance(value, timedelta)
        return ["d", value.days, value.seconds, value.microseconds]
    raise Unsupported(name)


def _encode_field(field: str, value: object) -> object:
    # The lines of a file's fields, flat: (field, line) pairs are most of an episode's values.
    if field == "lines":
        assert isinstance(value, tuple)
        flat: list[object] = ["L"]
        for name, line in value:
            if type(name) is not str or type(line) is not int:
                raise Unsupported("lines")
            flat += (name, line)
        return flat
    return encode(value)


def _moment(value: datetime) -> list[object]:
    zone = value.tzinfo
    parts: list[object] = [value.year, value.month, value.day, value.hour, value.minute, value.second]
    parts.append(value.microsecond)
    if zone is None:
        parts.append(None)
    elif type(zone) is ZoneInfo and zone.key and ZoneInfo(zone.key) is zone:
        parts.append(zone.key)
    elif type(zone) is timezone and zone.tzname(None) == timezone(zone.utcoffset(None)).tzname(None):
        parts.append(zone.utcoffset(None) // timedelta(microseconds=1))
    else:
        raise Unsupported("time zone")
    if value.fold:
        raise Unsupported("fold")
    return parts


def decode(data: object, *, paths: Iterable[Path] = ()) -> object:
    """What :func:`encode` was given.

    :param paths: Path objects to use for these paths rather than new equal ones (the
        episode's own file, which every source names).
    :raises ValueError, TypeError, IndexError, KeyError, RecursionError, OverflowError: ``data``
        is not what :func:`encode` writes.
    """
    return _decode(data, {str(path): path for path in paths})


def _decode(data: object, paths: dict[str, Path]) -> object:
    # ``paths``: one Path object for every mention of one path (each source names the file).
    # Written for speed (an episode is read back on every build, 10,000 of them in a large
    # show): scalars are taken where they are met, without a call each.
    kind = type(data)
    if kind is not list:
        if kind is dict:
            raise TypeError("not an episode")
        return data
    assert isinstance(data, list)
    tag = data[0]
    if tag == "C":
        name = data[1]
        names = _FIELDS[name]
        if len(data) != len(names) + 2:
            raise ValueError("not an episode")
        values: dict[str, Any] = {}
        for field, item in zip(names, data[2:], strict=True):
            values[field] = _decode(item, paths) if type(item) is list or type(item) is dict else item
        return CLASSES[name](**values)
    if tag == "T":
        if len(data) == 1:
            return ()
        return tuple([_decode(item, paths) if type(item) is list or type(item) is dict else item for item in data[1:]])
    if tag == "L":
        return _lines(data)
    if tag == "P":
        text = data[1]
        path = paths.get(text)
        if path is None:
            path = paths[text] = Path(text)
        return path
    if tag == "t":
        return _datetime(data)
    if tag == "d":
        return timedelta(days=data[1], seconds=data[2], microseconds=data[3])
    raise ValueError("not an episode")


def _datetime(data: list[Any]) -> datetime:
    _, year, month, day, hour, minute, second, micro, zone = data
    tzinfo = None if zone is None else ZoneInfo(zone) if type(zone) is str else _offset(zone)
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=tzinfo)


#: Lines read back, by their flat form: the files of a show mostly share them whole, and a
#: lookup costs less than making each pair again. (A key equal to a kept one but for a line
#: written 1.0 or true, which no store of ours holds, gives the same pairs: never an error.)
_LINES: dict[tuple[object, ...], tuple[tuple[str, int], ...]] = {}
_LINES_MAX = 20_000


def _lines(data: list[object]) -> tuple[tuple[str, int], ...]:
    flat = tuple(data)
    kept = _LINES.get(flat)
    if kept is not None:
        return kept
    if not len(data) % 2:
        raise ValueError("not lines")
    pairs = []
    for index in range(1, len(data), 2):
        field, line = data[index], data[index + 1]
        if type(field) is not str or type(line) is not int:
            raise TypeError("not lines")
        pairs.append(line_pair(field, line))
    if len(_LINES) >= _LINES_MAX:
        _LINES.clear()
    kept = _LINES[flat] = tuple(pairs)
    return kept


#: What separates the names and lines of an episode's fields in the flat form.
_SEPARATOR: Final = "\0"


def _encode_lines(lines: object) -> str:
    """An episode's lines in the flat form: one text (``name NUL line NUL ...``), which JSON
    reads as one value (40 values each, the benchmark's episode) and :func:`_text_lines` finds
    whole among those it read before."""
    if type(lines) is not tuple:
        raise Unsupported("lines")
    parts: list[str] = []
    for pair in lines:
        name, line = pair
        if type(name) is not str or type(line) is not int or _SEPARATOR in name:
            raise Unsupported("lines")
        parts += (name, str(line))
    return _SEPARATOR.join(parts)


#: Lines read back, by their text (see :data:`_LINES`).
_TEXT_LINES: dict[str, tuple[tuple[str, int], ...]] = {}


def _text_lines(text: str) -> tuple[tuple[str, int], ...]:
    kept = _TEXT_LINES.get(text)
    if kept is not None:
        return kept
    parts = text.split(_SEPARATOR) if text else []
    if len(parts) % 2:
        raise ValueError("not lines")
    pairs = tuple([line_pair(parts[i], int(parts[i + 1])) for i in range(0, len(parts), 2)])
    if len(_TEXT_LINES) >= _LINES_MAX:
        _TEXT_LINES.clear()
    _TEXT_LINES[text] = pairs
    return pairs


@functools.lru_cache(maxsize=64)
def _offset(microseconds: int) -> timezone:
    """A fixed-offset zone, one object per offset (a show's dates share a handful)."""
    return timezone(timedelta(microseconds=microseconds))


def same(one: object, other: object) -> bool:
    """Whether two values are the same in every field, even those equality leaves out."""
    if one is other:
        # Read back, lines are the very pairs the loader made (line_pair): nothing to compare.
        return True
    kind = type(one)
    if kind is not type(other):
        return False
    names = _FIELDS.get(kind.__name__)
    if names is not None and CLASSES[kind.__name__] is kind:
        return all(same(getattr(one, name), getattr(other, name)) for name in names)
    if dataclasses.is_dataclass(one):
        return all(same(getattr(one, f.name), getattr(other, f.name)) for f in dataclasses.fields(one))
    if kind is tuple:
        assert isinstance(one, tuple)
        assert isinstance(other, tuple)
        return len(one) == len(other) and all(same(a, b) for a, b in zip(one, other, strict=True))
    if isinstance(one, datetime):
        assert isinstance(other, datetime)
        return (
            one == other
            and type(one.tzinfo) is type(other.tzinfo)
            and one.tzinfo == other.tzinfo
            and one.tzname() == other.tzname()
            and one.fold == other.fold
        )
    return one == other


def encode_episode(episode: Episode, registry: Registry) -> object:
    """An episode as JSON values: flat when it has the usual shape, else as :func:`encode` writes it.

    :param registry: the guests' registry it was built with; a guest that is one of its
        people, unchanged, is written as its id.
    :raises Unsupported: it holds something else than what :func:`decode_episode` builds.
    """
    try:
        return _encode_flat(episode, registry)
    except Unsupported:
        return encode(episode)


def _encode_flat(episode: Episode, registry: Registry) -> list[object]:
    path = episode.path
    if type(episode) is not Episode or type(path) is not PosixPath:
        raise Unsupported("not an episode")

    def line(source: Source | None) -> int | None:
        # Only a value of the episode's own file: the flat form names no other file.
        if type(source) is not Source or source.path != path or type(source.path) is not PosixPath:
            raise Unsupported("source")
        if source.line is not None and type(source.line) is not int:
            raise Unsupported("line")
        return source.line

    declared = episode.declared_audio
    links: list[object] = []
    for link in episode.links:
        links += (link.title, link.url, line(link.source))
    chapters: list[object] = []
    for chapter in episode.chapters:
        chapters += (chapter.start, chapter.title, chapter.url, chapter.image, line(chapter.source))
    soundbites: list[object] = []
    for soundbite in episode.soundbites:
        soundbites += (soundbite.start, soundbite.duration, soundbite.title, line(soundbite.source))
    transcripts: list[object] = []
    for transcript in episode.transcripts:
        if type(transcript.path) is not PosixPath:
            raise Unsupported("transcript")
        transcripts += (str(transcript.path), transcript.language, line(transcript.source))
    for number in (*chapters[::5], *soundbites[::4], *soundbites[1::4]):
        if type(number) is float and not math.isfinite(number):
            raise Unsupported("not a finite number")
    return [
        _FLAT,
        episode.slug,
        episode.title,
        ["t", *_moment(episode.date)],
        episode.audio,
        None if declared is None else encode(declared),
        episode.number,
        episode.season,
        episode.season_name,
        episode.episode_type,
        episode.summary,
        episode.notes,
        [_encode_person(person, registry) for person in episode.guests],
        links,
        episode.quote,
        chapters,
        soundbites,
        transcripts,
        episode.cover_image,
        episode.explicit,
        episode.guid,
        episode.draft,
        episode.imported,
        _encode_lines(episode.lines),
    ]


def _encode_person(person: Person, registry: Registry) -> object:
    if person.id is not None and (known := registry.get(person.id)) is not None and known[0] is person:
        return person.id
    if type(person) is not Person:
        raise Unsupported("person")
    social: list[object] = []
    for label, url in person.social:
        social += (label, url)
    source = person.source
    if source is not None and (type(source) is not Source or type(source.path) is not PosixPath):
        raise Unsupported("source")
    return [
        person.name,
        person.id,
        person.role,
        person.group,
        person.bio,
        person.url,
        person.image,
        social,
        None if source is None else [str(source.path), source.line],
        _encode_field("lines", person.lines),
    ]


def decode_episode(data: object, path: Path, registry: Registry, pinned: Mapping[str, str] | None = None) -> object:
    """What :func:`encode_episode` was given, ``path`` being the episode's file and ``registry``
    the guests' registry it was written with.

    :param pinned: GUIDs by slug: an episode without a GUID of its own takes its slug's, as
        the loader's pinning would give it (without making the whole Episode again). An
        episode that has one keeps it (the loader says when it differs from the pinned one).

    :raises ValueError, TypeError, IndexError, KeyError, RecursionError, OverflowError: ``data``
        is not what :func:`encode_episode` writes.
    """
    if type(data) is not list or not data or data[0] != _FLAT:
        episode = decode(data, paths=(path,))
        if pinned and type(episode) is Episode and not episode.guid and (known := pinned.get(episode.slug)):
            episode = dataclasses.replace(episode, guid=known)
        return episode
    (
        _,
        slug,
        title,
        date,
        audio,
        declared,
        number,
        season,
        season_name,
        episode_type,
        summary,
        notes,
        guests,
        links,
        quote,
        chapters,
        soundbites,
        transcripts,
        cover_image,
        explicit,
        guid,
        draft,
        imported,
        lines,
    ) = data
    if type(date) is not list or date[0] != "t":
        raise ValueError("not a date")
    if pinned and not guid and type(slug) is str:
        guid = pinned.get(slug) or guid
    if declared is not None and type(declared := _decode(declared, {})) is not DeclaredAudio:
        raise TypeError("not a declared audio")
    if (
        type(guests) is not list
        or type(links) is not list
        or type(chapters) is not list
        or type(soundbites) is not list
        or type(transcripts) is not list
        or type(lines) is not str
        or len(links) % 3
        or len(chapters) % 5
        or len(soundbites) % 4
        or len(transcripts) % 3
    ):
        raise ValueError("not an episode")
    return Episode(
        slug=slug,
        path=path,
        title=title,
        date=_datetime(date),
        audio=audio,
        declared_audio=declared,
        number=number,
        season=season,
        season_name=season_name,
        episode_type=episode_type,
        summary=summary,
        notes=notes,
        # An empty part is the empty tuple at once (a comprehension over nothing costs 0.6 us:
        # most episodes have no soundbite, no transcript, many no link).
        guests=tuple([registry[guest][0] if type(guest) is str else _person(guest) for guest in guests])
        if guests
        else (),
        links=tuple(
            [
                Link(title=links[i], url=links[i + 1], source=Source(path=path, line=links[i + 2]))
                for i in range(0, len(links), 3)
            ]
        )
        if links
        else (),
        quote=quote,
        chapters=tuple(
            [
                Chapter(
                    start=chapters[i],
                    title=chapters[i + 1],
                    url=chapters[i + 2],
                    image=chapters[i + 3],
                    source=Source(path=path, line=chapters[i + 4]),
                )
                for i in range(0, len(chapters), 5)
            ]
        )
        if chapters
        else (),
        soundbites=tuple(
            [
                Soundbite(
                    start=soundbites[i],
                    duration=soundbites[i + 1],
                    title=soundbites[i + 2],
                    source=Source(path=path, line=soundbites[i + 3]),
                )
                for i in range(0, len(soundbites), 4)
            ]
        )
        if soundbites
        else (),
        transcripts=tuple(
            [
                Transcript(
                    path=_path(transcripts[i]),
                    language=transcripts[i + 1],
                    source=Source(path=path, line=transcripts[i + 2]),
                )
                for i in range(0, len(transcripts), 3)
            ]
        )
        if transcripts
        else (),
        cover_image=cover_image,
        explicit=explicit,
        guid=guid,
        draft=draft,
        imported=imported,
        lines=_text_lines(lines),
    )


def _person(data: object) -> Person:
    if type(data) is not list:
        raise TypeError("not a person")
    name, person_id, role, group, bio, url, image, social, source, lines = data
    if type(social) is not list or type(lines) is not list or len(social) % 2:
        raise TypeError("not a person")
    pairs = []
    for index in range(0, len(social), 2):
        label, address = social[index], social[index + 1]
        if type(label) is not str or type(address) is not str:
            raise TypeError("not a profile")
        pairs.append((label, address))
    if source is not None:
        text, line = source
        source = Source(path=_path(text), line=line)
    return Person(
        name=name,
        id=person_id,
        role=role,
        group=group,
        bio=bio,
        url=url,
        image=image,
        social=tuple(pairs),
        source=source,
        lines=_lines(lines),
    )


def _path(text: object) -> Path:
    if type(text) is not str:
        raise TypeError("not a path")
    return Path(text)
