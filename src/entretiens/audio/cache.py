"""A JSON cache of probe answers, so that unchanged audio is not read again."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import time
from datetime import timedelta
from pathlib import Path
from sys import intern
from typing import Any, Final, cast, get_args

import mutagen

from .. import walks
from ..atomicfile import atomic_write
from ..errors import OutputError
from ..model import AudioInfo, DurationMethod, EmbeddedChapter
from ..slotmaker import maker

#: Bump when the probe's answers change, so that older cached answers are dropped.
CACHE_VERSION: Final = 6


class ProbeCache:
    """Probe answers kept in a JSON file, keyed by absolute path, size, mtime, ctime (ns) and inode.

    Each entry is one flat list, ``[size, mtime_ns, ctime_ns, inode, measure]`` (the measure as
    :func:`_info_to_json` writes it): the whole document is one decode, each entry one unpacking.

    The file is the JSON document on one line, then the SHA-256 of that line: a damaged value
    that still parses (a flipped digit in a duration) would otherwise be published as measured.
    A missing, unreadable, damaged or corrupt cache file, or one written by another version of
    the probe or of mutagen, is treated as empty: the cache only ever saves time.

    A measure is kept only for a file whose stamp had settled (:func:`walks.settled`) when the
    cache was made, before any file it is given was read: a file changed within a timestamp
    tick of its read could change again in that tick, at the same size, and keep the stamp.
    """

    def __init__(self, path: Path) -> None:
        """:param path: the JSON file; created by :meth:`save`."""
        self.path = path
        #: Before any measure this cache is given was taken: what :meth:`put` judges stamps by.
        self._since = time.time_ns()
        self._entries: dict[str, list[Any]] = {}
        #: Keys of the files this run found there (stat'ed or measured): kept by :meth:`save`
        #: without a look each.
        self._present: set[str] = set()
        self._changed = False
        #: What every measure's name starts with (see :meth:`name_of`).
        self._version = f"probe {CACHE_VERSION} mutagen {mutagen.version_string}"
        try:
            # Only a regular file: a FIFO here would hang every run (the cache is then rebuilt).
            if not stat.S_ISREG(path.stat().st_mode):
                return
            body, _, digest = path.read_bytes().rpartition(b"\n")
            if hashlib.sha256(body).hexdigest().encode() != digest:
                return
            document = json.loads(body)
        except (OSError, ValueError):
            return
        if (
            isinstance(document, dict)
            and document.get("version") == CACHE_VERSION
            and document.get("mutagen") == mutagen.version_string
            and isinstance(document.get("entries"), dict)
        ):
            self._entries = {key: value for key, value in document["entries"].items() if type(value) is list}

    def get(self, audio: Path, *, real: bool = False) -> AudioInfo | None:
        """The cached answer for ``audio`` if the file has not changed since, else None.

        :param real: ``audio`` is its own real path already (the loader resolved it): it is
            not resolved again, part by part, for each episode of a rebuild.
        """
        found = self.get_checked(audio, real=real)
        return found[0] if found is not None else None

    def get_checked(self, audio: Path, *, real: bool = False) -> tuple[AudioInfo, os.stat_result] | None:
        """:meth:`get`, with the status of the file it was checked against (so that the caller
        need not take it again)."""
        key = str(audio if real else audio.resolve())
        entry = self._entries.get(key)
        if entry is None:
            return None
        try:
            stat = audio.stat()
            self._present.add(key)
            size, mtime, ctime, inode, info = entry
            # The ctime and inode: a file rewritten at the same size with its mtime put back (a
            # tag editor keeping the file's date) must be measured again.
            if size != stat.st_size or mtime != stat.st_mtime_ns or ctime != stat.st_ctime_ns or inode != stat.st_ino:
                return None
            return _info_from_json(info), stat
        except (OSError, KeyError, TypeError, ValueError):
            return None

    def name_of(self, audio: Path, stat: os.stat_result) -> str:
        """What names the measure of ``audio`` at ``stat`` (given by :meth:`get_checked`, or
        just measured and :meth:`put`): the file as the cache checks it (path, size, mtime,
        ctime, inode) and the versions of the probe and of mutagen. The cache answers by these
        alone, so one name never names two different measures: a unit keyed on the name need
        not digest the measure's values."""
        return f"{self._version} {audio} {stat.st_size} {stat.st_mtime_ns} {stat.st_ctime_ns} {stat.st_ino}"

    def put(self, audio: Path, info: AudioInfo, *, stat: os.stat_result | None = None) -> bool:
        """Remember ``info`` for ``audio`` as it is now (or as it was at ``stat``, taken before
        it was read), if that stamp had settled when this cache was made.

        :returns: whether the measure is kept (and :meth:`name_of` names it alone). One that is
            not is for this build only: the file changed within a tick of the read, and a change
            in that same tick could leave the stamp as it is; its earlier entry is dropped.
        """
        stat = stat or audio.stat()
        key = str(audio.resolve())
        self._present.add(key)
        stamp = (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino)
        if not walks.settled(stamp, self._since):
            if self._entries.pop(key, None) is not None:
                self._changed = True
            return False
        self._entries[key] = [*stamp, _info_to_json(info)]
        self._changed = True
        return True

    def save(self) -> None:
        """Write the cache atomically (temporary file, then rename), if anything changed.

        :raises OutputError: the cache folder cannot be written.
        """
        if not self._changed:
            return
        # Entries of files since deleted or renamed would otherwise pile up forever; a file this
        # run found is not looked at again (10,000 at each publish that measured one file).
        present = self._present
        entries = {key: entry for key, entry in self._entries.items() if key in present or os.path.exists(key)}
        document = {"version": CACHE_VERSION, "mutagen": mutagen.version_string, "entries": entries}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with atomic_write(self.path) as temporary:
                body = json.dumps(document, sort_keys=True).encode("utf-8")
                temporary.write_bytes(body + b"\n" + hashlib.sha256(body).hexdigest().encode())
        except OSError as exc:
            raise OutputError(f"{self.path}: cannot write the audio cache: {exc.strerror or exc}") from exc
        self._changed = False


#: The fields of a measure as :func:`_info_to_json` writes them, in order.
INFO_FIELDS: Final = (
    "size", "duration_us", "mime_type", "codec", "bitrate", "sample_rate", "channels",
    "duration_method", "announced_us", "trailing", "tags", "chapters",
)  # fmt: skip


def _info_to_json(info: AudioInfo) -> list[Any]:
    """A measure as one flat JSON list (:data:`INFO_FIELDS`; tags and chapters as flat lists of
    stride 2 and 3): read back by one unpacking, where a mapping of 12 keys with a mapping per
    chapter cost a lookup per value on every build."""
    tags: list[str] = []
    for pair in info.tags:
        tags += pair
    chapters: list[object] = []
    for chapter in info.chapters:
        chapters += (chapter.start, chapter.title, chapter.url)
    return [
        info.size,
        info.duration // timedelta(microseconds=1),
        info.mime_type,
        info.codec,
        info.bitrate,
        info.sample_rate,
        info.channels,
        info.duration_method,
        None if info.announced is None else info.announced // timedelta(microseconds=1),
        info.trailing,
        tags,
        chapters,
    ]


_AUDIO_INFO: Final = maker(AudioInfo)
_EMBEDDED_CHAPTER: Final = maker(EmbeddedChapter)

#: Every :data:`~entretiens.model.DurationMethod`.
_METHODS: Final = frozenset(get_args(DurationMethod))


def _info_from_json(data: object) -> AudioInfo:
    """Rebuild an AudioInfo; TypeError, KeyError or ValueError for anything malformed.

    Read for every episode of every build (10,000 in a large show): the types are checked
    inline (what JSON gives is exactly int, float, str, bool or None), not a call per value.
    """
    if type(data) is not list:
        raise TypeError("not an audio measure")
    size, duration, mime_type, codec, bitrate, sample_rate, channels, method, announced, trailing, tags, chapters = data
    if (
        type(size) is not int
        or type(duration) is not int
        or type(trailing) is not int
        or (announced is not None and type(announced) is not int)
        or type(mime_type) is not str
        or type(codec) is not str
        or (bitrate is not None and type(bitrate) is not int)
        or (sample_rate is not None and type(sample_rate) is not int)
        or (channels is not None and type(channels) is not int)
        or type(method) is not str
        or method not in _METHODS
        or type(tags) is not list
        or type(chapters) is not list
        or len(tags) % 2
        or len(chapters) % 3
    ):
        raise TypeError("not an audio measure")
    pairs: tuple[tuple[str, str], ...] = ()
    if tags:
        for text in tags:
            if type(text) is not str:
                raise TypeError("not a tag")
        # Interned: a show's files mostly share their tags (the artist, the album).
        names = iter([intern(text) for text in tags])
        pairs = tuple(zip(names, names))  # noqa: B905  (an even count, checked above)
    embedded: tuple[EmbeddedChapter, ...] = ()
    if chapters:
        found = []
        for i in range(0, len(chapters), 3):
            start, title, url = chapters[i], chapters[i + 1], chapters[i + 2]
            if (
                (type(start) is not int and type(start) is not float)
                or type(title) is not str
                or (url is not None and type(url) is not str)
            ):
                raise TypeError("not a chapter")
            found.append(_EMBEDDED_CHAPTER(float(start), intern(title), url))
        embedded = tuple(found)
    # The MIME type, the codec and the method are a few texts for thousands of files, each
    # decoded as a text of its own: interned, each is held once. Made by the class's maker
    # (slotmaker.maker: positional, in the fields' order).
    return _AUDIO_INFO(
        size,
        timedelta(microseconds=duration),
        intern(mime_type),
        intern(codec),
        bitrate,
        sample_rate,
        channels,
        cast(DurationMethod, intern(method)),
        None if announced is None else timedelta(microseconds=announced),
        trailing,
        pairs,
        embedded,
    )
