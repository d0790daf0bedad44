"""The keys of the units (:mod:`entretiens.unitcache`): digests of what a unit is made from.

Digests are taken over ``repr`` of the frozen model values: each is a dataclass whose repr
names every field (what is out of repr, such as a person's YAML lines, is added by the caller),
or over a digest another stage already took of a value and vouches for (the loader's digest of
each episode): the repr of every episode of a large show, taken again at each build, was most
of what keying an edit's units cost.
"""

from __future__ import annotations

import dataclasses
import hashlib
import operator
import os
from collections.abc import Callable, Iterable
from pathlib import Path, PosixPath
from typing import Final

from .model import AudioInfo, EmbeddedChapter, Episode, Person, Project, Release


def digest(*parts: object) -> str:
    """A stable digest of values whose ``repr`` names all they hold."""
    return hashlib.sha256(_text(parts)).hexdigest()


def keyer(*first: object) -> Callable[..., str]:
    """What :func:`digest` gives of ``first`` followed by the parts the function returned is
    given: what every key of a kind starts with (its version, a long text) hashed once."""
    start = hashlib.sha256(_text(first))

    def key(*parts: object) -> str:
        hashed = start.copy()
        hashed.update(_text(parts))
        return hashed.hexdigest()

    return key


def _text(parts: Iterable[object]) -> bytes:
    """What :func:`digest` hashes: each part's repr, each followed by a NUL (no repr holds one).

    Joined as text and encoded once (UTF-8 encodes a text's parts as it encodes the whole): an
    encoding and a copy per part cost ~0.3 us each, 30,000 keys a build."""
    text = "\0".join(map(repr, parts))
    # No part, nothing (as before the join): a repr is never empty.
    return (text + "\0").encode("utf-8", "surrogatepass") if text else b""


class Digests:
    """The digest of each release, taken once per build whatever number of units keys on it.

    A release's repr is long (its notes, chapters, people): digesting it for its pages, its
    feed item and its checks cost a tenth of the rebuild after one edit. Kept by the identity
    of the values (held here, so that no identity is reused while the build runs): a release
    copied with other neighbours, or with the same values, is digested once.

    A value whose digest is already known (the loader's digest of each episode, read from its
    cache or just built: :meth:`entretiens.model.Project.entry_digest`; the probe cache's name
    of each measure, :meth:`entretiens.audio.ProbeCache.name_of`) enters a release's
    digest as that text, not as its repr (nor as its values, for a measure: ~4 us each): the
    repr of 10,000 episodes was most of what keying an edit's units cost. Known by identity
    too, so that only the very object the digest was taken of is named by it: an episode
    replaced or copied since is digested from its repr.
    """

    def __init__(self, known: Iterable[tuple[object, str]] = ()) -> None:
        """:param known: values and their digests, each a text that changes whenever anything
        the value's repr shows changes (what :meth:`entretiens.model.Project.entry_digest`
        promises of an episode, and the probe cache's name of a measure)."""
        self._taken: dict[tuple[int, ...], tuple[tuple[object, ...], str]] = {}
        #: id(release) -> (the release, its digest): the pages and the feed item of a release
        #: ask for the very release object, the checks for the one before it was linked.
        self._releases: dict[int, tuple[object, str]] = {}
        self._known: dict[int, tuple[object, str]] = {id(value): (value, found) for value, found in known}
        #: The names of the fields of the known values: a field of a release named otherwise is
        #: never one of their parts (not looked for).
        kinds = {type(value) for value, _ in self._known.values()}
        self._parts = frozenset(name for kind in kinds for name in _fields(kind))
        #: A release's usual case digested without the general loop (see _release_digest):
        #: only where the loop would treat each field as that function does.
        self._quick = _RELEASE_QUICK and kinds <= {Episode, AudioInfo} and not (self._parts & _RELEASE_PLAIN)
        #: How many values were digested from their repr (the work a known digest saves).
        self.taken = 0

    def release(self, release: object) -> str:
        """A digest of everything a dataclass ``release`` holds but its neighbours
        (:data:`NEIGHBOURS`), which the units that show them key on apart."""
        same = self._releases.get(id(release))
        if same is not None and same[0] is release:
            return same[1]
        kind = type(release)
        own = _OWN_FIELDS.get(kind)
        if own is None:
            own = _OWN_FIELDS[kind] = _own_fields(kind)
        names, values_of = own
        values = values_of(release)
        key = tuple(map(id, values))
        found = self._taken.get(key)
        if found is None:
            made = self._release_digest(values) if kind is Release and self._quick else None
            found = self._taken[key] = (values, made or self._digest(kind.__name__, names, values))
        self._releases[id(release)] = (release, found[1])
        return found[1]

    def _release_digest(self, values: tuple[object, ...]) -> str | None:
        """What :meth:`_digest` gives of a :class:`Release`'s own values when its episode and
        its measure are known (every release of a show whose audio is its own), or None.

        The same bytes, taken field by field as the general loop takes them (a test compares
        the two), without its generic steps for each field: ~5.5 of a digest's ~8 us were
        that loop's. Only when :attr:`_quick`: the known values are episodes and measures,
        none of whose fields is named as a release's last three are."""
        episode, audio, chapters, transcripts, audio_file, length, stamp = values
        known = self._known
        named = known.get(id(episode))
        measured = known.get(id(audio))
        if (
            named is None
            or named[0] is not episode
            or measured is None
            or measured[0] is not audio
            or type(episode) is not Episode
            or type(audio) is not AudioInfo
            # Of the types a release holds there (none an episode or a measure, so none a known
            # value nor digested as a measure): anything else takes the general loop.
            or type(chapters) is not tuple
            or type(transcripts) is not tuple
            or type(length) is not int
            or (audio_file is not None and type(audio_file) is not PosixPath)
            or (stamp is not None and type(stamp) is not tuple)
        ):
            return None
        taken = 3
        if chapters is episode.chapters:
            shown = b"\x020 chapters"
        elif chapters is audio.chapters:
            shown = b"\x021 chapters"
        else:
            taken += 1
            shown = repr(chapters).encode("utf-8", "surrogatepass")
        if transcripts is episode.transcripts:
            listed = b"\x020 transcripts"
        else:
            taken += 1
            listed = repr(transcripts).encode("utf-8", "surrogatepass")
        self.taken += taken
        text = b"\0".join(
            [
                b"Release",
                b"\x01" + named[1].encode("utf-8", "surrogatepass"),
                b"\x01" + measured[1].encode("utf-8", "surrogatepass"),
                shown,
                listed,
                # A PosixPath's repr, from its text (made once per path and kept by it): the
                # class's own __repr__ formats the path again (~1 us a release).
                b"None" if audio_file is None else _path_repr(audio_file),
                repr(length).encode("utf-8", "surrogatepass"),
                repr(stamp).encode("utf-8", "surrogatepass"),
                b"",
            ]
        )
        return hashlib.sha256(text).hexdigest()

    def _digest(self, kind: str, names: tuple[str, ...], values: tuple[object, ...]) -> str:
        """:func:`digest` of ``values``, a known one as its digest (``\x01`` and the text: no
        repr holds that byte unescaped, so that neither form can pass for the other), and a
        part of an earlier known value (a release's chapters, most often its episode's own
        tuple) as that part of it (``\x02``, the value's place and the field's name)."""
        parts = [kind.encode("utf-8")]
        known: list[object] = []
        for name, value in zip(names, values, strict=True):
            found = self._known.get(id(value))
            if found is not None and found[0] is value:
                known.append(value)
                parts.append(b"\x01" + found[1].encode("utf-8", "surrogatepass"))
            elif type(value) is AudioInfo:
                self.taken += 1
                parts.append(_audio_text(value))
            elif known and name in self._parts and (place := _part_of(known, name, value)) is not None:
                parts.append(b"\x02%d %s" % (place, name.encode("ascii")))
            else:
                self.taken += 1
                parts.append(repr(value).encode("utf-8", "surrogatepass"))
        parts.append(b"")
        return hashlib.sha256(b"\0".join(parts)).hexdigest()


def _path_repr(path: PosixPath) -> bytes:
    """``repr(path)``, encoded as :func:`digest` encodes it, for a PosixPath (whose repr is its
    class's name around the repr of its text)."""
    return f"PosixPath({str(path)!r})".encode("utf-8", "surrogatepass")


def _audio_text(info: AudioInfo) -> bytes:
    """What a release's digest holds of its measured audio: ``\x03`` then the repr of its
    fields' values, in the order of the class's fields, each embedded chapter as its own
    fields' values (its repr, by dataclasses' repr, cost 3.5 us of the 11 a release's digest
    took). The type of each place is fixed by the class, so the form is as unambiguous as a
    repr, and ``\x03`` tells it from any (no repr holds that byte unescaped)."""
    values = list(_AUDIO_FIELDS(info))
    values[_AUDIO_CHAPTERS] = [
        _CHAPTER_FIELDS(chapter) if type(chapter) is EmbeddedChapter else chapter for chapter in info.chapters
    ]
    return b"\x03" + repr(values).encode("utf-8", "surrogatepass")


#: The values of an AudioInfo's fields, in order; where its embedded chapters are among them.
_AUDIO_FIELDS: Final = operator.attrgetter(*(f.name for f in dataclasses.fields(AudioInfo)))
_AUDIO_CHAPTERS: Final = [f.name for f in dataclasses.fields(AudioInfo)].index("chapters")
#: The values of an embedded chapter's fields, in order.
_CHAPTER_FIELDS: Final = operator.attrgetter(*(f.name for f in dataclasses.fields(EmbeddedChapter)))


def _part_of(known: list[object], name: str, value: object) -> int | None:
    """The place in ``known`` of the value whose field ``name`` is ``value`` itself, if any."""
    for place, whole in enumerate(known):
        if name in _fields(type(whole)) and getattr(whole, name) is value:
            return place
    return None


def _fields(kind: type) -> frozenset[str]:
    """The names of the fields of ``kind`` (none if it is not a dataclass)."""
    names = _FIELD_NAMES.get(kind)
    if names is None:
        fields = dataclasses.fields(kind) if dataclasses.is_dataclass(kind) else ()
        names = _FIELD_NAMES[kind] = frozenset(f.name for f in fields)
    return names


#: The fields of a release that name its neighbours, out of :meth:`Digests.release`.
NEIGHBOURS: Final = frozenset({"previous", "next"})

#: The fields of each kind of release outside :data:`NEIGHBOURS`, by type: their names, and
#: what gives their values, in that order.
_OWN_FIELDS: dict[type, tuple[tuple[str, ...], Callable[[object], tuple[object, ...]]]] = {}
#: The names of the fields of each kind of known value (a dataclass), by type.
_FIELD_NAMES: dict[type, frozenset[str]] = {}


def _own_fields(kind: type) -> tuple[tuple[str, ...], Callable[[object], tuple[object, ...]]]:
    """The names of ``kind``'s fields outside :data:`NEIGHBOURS`, and what gives their values
    (one attrgetter: a generator of getattr calls cost ~1 us a release)."""
    names = tuple(f.name for f in dataclasses.fields(kind) if f.name not in NEIGHBOURS)
    if len(names) == 1:
        getter = operator.attrgetter(names[0])
        return names, lambda value: (getter(value),)
    return names, operator.attrgetter(*names)


def file_stamp(path: Path) -> tuple[int, int, int, int] | None:
    """(size, mtime_ns, ctime_ns, inode) of a file the unit reads, or None when it cannot be read.

    The ctime: a file rewritten in place at the same size with its mtime put back (``cp -p``
    over it, an editor keeping the file's date) moves nothing else."""
    try:
        stat = path.stat()
    except (OSError, ValueError):
        return None
    return (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino)


def tree_stamps(folder: Path) -> tuple[tuple[str, tuple[int, int, int, int] | None], ...]:
    """The stamp of every file under ``folder`` (a show's template overrides), sorted by path."""
    found: list[tuple[str, tuple[int, int, int, int] | None]] = []
    if not folder.is_dir():
        return ()
    for directory, _subdirs, names in os.walk(folder):
        for name in names:
            path = Path(directory) / name
            found.append((str(path.relative_to(folder)), file_stamp(path)))
    return tuple(sorted(found))


def episode_digests(project: Project) -> list[tuple[Episode, str]]:
    """Each episode of ``project`` with a digest of all it holds, for :class:`Digests`: the
    loader's digest of it (:meth:`~entretiens.model.Project.entry_digest`) and a digest of each
    of its guests from the registry (the loader's leaves them out: each is digested once here,
    however many episodes name them, so that editing a guest moves only their episodes' keys).

    A guest that is not one of the registry's people (:attr:`~entretiens.model.Project.people`)
    is in the loader's digest whole: not digested again (its repr, ~3 us, for most guests of
    most episodes). When the registry's people are not known, every guest is digested.

    By slug: none when two episodes share one, so that a digest never names another episode.
    """
    episodes = project.episodes
    if len({episode.slug for episode in episodes}) != len(episodes):
        return []
    registry = None if project.people is None else {id(person): person for person in project.people}
    people: dict[int, tuple[Person, str]] = {}
    found = []
    for episode in episodes:
        entry = project.entry_digest(episode.slug)
        if entry is None:
            continue
        guests = [entry]
        for person in episode.guests:
            if registry is not None and registry.get(id(person)) is not person:
                continue
            known = people.get(id(person))
            if known is None or known[0] is not person:
                known = people[id(person)] = (person, digest(person))
            guests.append(known[1])
        found.append((episode, " ".join(guests)))
    return found


#: A release's own fields, in the order :meth:`Digests._release_digest` takes them; the last
#: three are digested from their repr (no known value has a field of their names).
_RELEASE_FIELDS: Final = (
    *("episode", "audio", "chapters", "transcripts"),
    *("audio_file", "enclosure_length", "audio_stamp"),
)
_RELEASE_PLAIN: Final = frozenset(_RELEASE_FIELDS[4:])
#: Whether Release still has exactly those fields (else every release takes the general loop).
_RELEASE_QUICK: Final = _own_fields(Release)[0] == _RELEASE_FIELDS
