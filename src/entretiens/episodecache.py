"""An episode as the loader built it from its file, written as JSON and read back exactly.

After the parse (:mod:`entretiens.yamlcache`), building an episode from its values (each field
checked, each file it names checked) was most of what loading a large show cost on every
rebuild. The loader keeps the episode it built from a file that raised no problem, beside the
parse, under the file's stamp and everything else it was built from (the show's time zone and
language, the guests' registry); it revalidates the files the episode names (one ``lstat`` per
part) before using it again. An episode is kept only when reading back what was written gives
it exactly, every field compared (:func:`entretiens.modeljson.same`).

An episode of the usual shape (every chapter, link, soundbite and transcript located in the
episode's own file) is written flat by :func:`encode_episode`: its fields in order, its parts as
flat lists of fixed stride, its lines as one text, a guest taken whole from the registry as
its id. It is read back with a handful of calls, where the nested form took one call per value
(18 for the benchmark's episode, 180,000 at 10,000 episodes), and its registry guests are the
registry's own objects.
Any other episode is written in the nested form of :mod:`entretiens.modeljson`, the closed
format of the model's values.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Mapping
from json.scanner import make_scanner
from pathlib import Path, PosixPath
from sys import intern
from typing import Final

from .model import Chapter, DeclaredAudio, Episode, Link, Person, Soundbite, Source, Transcript
from .modeljson import LINES_MAX, Unsupported, decode, decode_lines, decode_moment, encode, encode_field, moment
from .slotmaker import maker
from .yamlcache import dumps
from .yamlfile import line_pair

#: The people of the guests' registry by id, as the loader reads them (person, file).
Registry = Mapping[str, tuple[Person, Path]]

#: The model's classes as the flat form makes them (:func:`~entretiens.slotmaker.maker`).
_EPISODE: Final = maker(Episode)
_PERSON: Final = maker(Person)
_LINK: Final = maker(Link)
_CHAPTER: Final = maker(Chapter)
_SOUNDBITE: Final = maker(Soundbite)
_TRANSCRIPT: Final = maker(Transcript)
_SOURCE: Final = maker(Source)

#: The first item of an episode written flat.
_FLAT: Final = "E"


#: What separates the names and lines of an episode's fields in the flat form: DEL, which JSON
#: writes as it is (a NUL took six characters, ``\u0000``, 36 times an episode, each an escape
#: for JSON to decode on every build) and YAML lets into a key only through an escape.
_SEPARATOR: Final = "\x7f"


def _encode_lines(lines: object) -> str:
    """An episode's lines in the flat form: one text (``name DEL line DEL ...``), which JSON
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


#: Lines read back, by their text (see :data:`entretiens.modeljson._LINES`).
_TEXT_LINES: dict[str, tuple[tuple[str, int], ...]] = {}


def _text_lines(text: str) -> tuple[tuple[str, int], ...]:
    kept = _TEXT_LINES.get(text)
    if kept is not None:
        return kept
    parts = text.split(_SEPARATOR) if text else []
    if len(parts) % 2:
        raise ValueError("not lines")
    pairs = tuple([line_pair(parts[i], int(parts[i + 1])) for i in range(0, len(parts), 2)])
    if len(_TEXT_LINES) >= LINES_MAX:
        _TEXT_LINES.clear()
    _TEXT_LINES[text] = pairs
    return pairs


#: Where the flat form keeps an episode's notes.
_NOTES: Final = 11


def encode_entry(named: list[str | None], episode: Episode, registry: Registry) -> str:
    """The text an episode is kept as, with the files it names: ``[named, episode]`` in JSON
    (:func:`encode_episode`), the notes of an episode written flat after it, on their own.

    The notes are the largest text of an episode (about 1 kB in the benchmark, Markdown with a
    line break every few words): in JSON, each line break is an escape its decoder leaves its
    fast path for, on every build, for every kept episode. After the JSON (which holds no line
    break of its own) and one line break, they are taken as they are.

    :raises Unsupported, ValueError, TypeError, RecursionError: as :func:`encode_episode`, and
        for what JSON does not write.
    """
    data = encode_episode(episode, registry)
    if type(data) is list and data[0] == _FLAT and type(notes := data[_NOTES]) is str:
        data[_NOTES] = None
        return f"{dumps([named, data])}\n{notes}"
    return dumps([named, data])


#: JSON's own scanner of one value, without :func:`json.loads` around it (its checks of the
#: text's type, a byte order mark and the white space before and after the value: two regular
#: expressions a call, 10,000 calls at each build of a large show). :func:`encode_entry` writes
#: no white space, so a value that does not end where the text ends is not an entry.
_SCAN: Final[Callable[[str, int], tuple[object, int]]] = make_scanner(json.JSONDecoder())  # type: ignore[arg-type]


def decode_entry(
    text: str, path: Path, registry: Registry, pinned: Mapping[str, str] | None = None
) -> tuple[object, object]:
    """The files named and the episode :func:`encode_entry` wrote as ``text`` (see
    :func:`decode_episode` for the other parameters).

    :raises ValueError, TypeError, IndexError, KeyError, RecursionError, OverflowError: ``text``
        is not what :func:`encode_entry` writes.
    """
    head, newline, notes = text.partition("\n")
    try:
        entry, end = _SCAN(head, 0)
    except StopIteration:
        raise ValueError("not an entry") from None
    if end != len(head) or type(entry) is not list or len(entry) != 2:
        raise ValueError("not an entry")
    named, data = entry
    flat = type(data) is list and bool(data) and data[0] == _FLAT
    if newline:
        # Notes after the JSON: only for an episode written flat, in place of its own.
        if not flat or data[_NOTES] is not None:
            raise ValueError("not an entry")
        data[_NOTES] = notes
    elif flat and type(data[_NOTES]) is not str:
        raise ValueError("not an entry")
    return named, decode_episode(data, path, registry, pinned)


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
        ["t", *moment(episode.date)],
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
        encode_field("lines", person.lines),
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
    if declared is not None and type(declared := decode(declared)) is not DeclaredAudio:
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
    # Each value made by its class's maker (slotmaker.maker: positional, in the fields' order,
    # which is the flat form's): a kept episode is rebuilt on every build. The texts most
    # episodes repeat (the type, the cover, chapter titles, a guest's role and group) are
    # interned: each decoded text is an object of its own, held through the whole build.
    return _EPISODE(
        slug,
        path,
        title,
        decode_moment(date),
        audio,
        declared,
        number,
        season,
        season_name,
        intern(episode_type),
        summary,
        notes,
        # An empty part is the empty tuple at once (a comprehension over nothing costs 0.6 us:
        # most episodes have no soundbite, no transcript, many no link).
        tuple([registry[guest][0] if type(guest) is str else _person(guest) for guest in guests]) if guests else (),
        tuple([_LINK(links[i], links[i + 1], _SOURCE(path, links[i + 2])) for i in range(0, len(links), 3)])
        if links
        else (),
        quote,
        tuple(
            [
                _CHAPTER(
                    chapters[i],
                    intern(chapters[i + 1]),
                    chapters[i + 2],
                    chapters[i + 3],
                    _SOURCE(path, chapters[i + 4]),
                )
                for i in range(0, len(chapters), 5)
            ]
        )
        if chapters
        else (),
        tuple(
            [
                _SOUNDBITE(soundbites[i], soundbites[i + 1], soundbites[i + 2], _SOURCE(path, soundbites[i + 3]))
                for i in range(0, len(soundbites), 4)
            ]
        )
        if soundbites
        else (),
        tuple(
            [
                _TRANSCRIPT(_path(transcripts[i]), transcripts[i + 1], _SOURCE(path, transcripts[i + 2]))
                for i in range(0, len(transcripts), 3)
            ]
        )
        if transcripts
        else (),
        intern(cover_image) if type(cover_image) is str else cover_image,
        explicit,
        guid,
        draft,
        imported,
        _text_lines(lines),
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
        source = _SOURCE(_path(text), line)
    role = intern(role) if type(role) is str else role
    group = intern(group) if type(group) is str else group
    return _PERSON(name, person_id, role, group, bio, url, image, tuple(pairs), source, decode_lines(lines))


def _path(text: object) -> Path:
    if type(text) is not str:
        raise TypeError("not a path")
    return Path(text)
