"""A JSON cache of probe answers, so that unchanged audio is not read again."""

from __future__ import annotations

import json
import os
import stat
from datetime import timedelta
from pathlib import Path
from typing import Any, Final, cast, get_args

import mutagen

from ..errors import OutputError
from ..model import AudioInfo, DurationMethod, EmbeddedChapter
from ..output import atomic_write

#: Bump when the probe's answers change, so that older cached answers are dropped.
CACHE_VERSION: Final = 4


class ProbeCache:
    """Probe answers kept in a JSON file, keyed by absolute path, size and mtime (ns).

    A missing, unreadable or corrupt cache file, or one written by another version of the probe
    or of mutagen, is treated as empty: the cache only ever saves time.
    """

    def __init__(self, path: Path) -> None:
        """:param path: the JSON file; created by :meth:`save`."""
        self.path = path
        self._entries: dict[str, dict[str, Any]] = {}
        self._changed = False
        try:
            # Only a regular file: a FIFO here would hang every run (the cache is then rebuilt).
            if not stat.S_ISREG(path.stat().st_mode):
                return
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        if (
            isinstance(document, dict)
            and document.get("version") == CACHE_VERSION
            and document.get("mutagen") == mutagen.version_string
            and isinstance(document.get("entries"), dict)
        ):
            self._entries = {key: value for key, value in document["entries"].items() if isinstance(value, dict)}

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
        entry = self._entries.get(str(audio if real else audio.resolve()))
        if entry is None:
            return None
        try:
            stat = audio.stat()
            if entry.get("size") != stat.st_size or entry.get("mtime_ns") != stat.st_mtime_ns:
                return None
            return _info_from_json(entry["info"]), stat
        except (OSError, KeyError, TypeError, ValueError):
            return None

    def put(self, audio: Path, info: AudioInfo, *, stat: os.stat_result | None = None) -> None:
        """Remember ``info`` for ``audio`` as it is now (or as it was at ``stat``)."""
        stat = stat or audio.stat()
        self._entries[str(audio.resolve())] = {
            "size": stat.st_size,
            "mtime_ns": stat.st_mtime_ns,
            "info": _info_to_json(info),
        }
        self._changed = True

    def save(self) -> None:
        """Write the cache atomically (temporary file, then rename), if anything changed.

        :raises OutputError: the cache folder cannot be written.
        """
        if not self._changed:
            return
        # Entries of files since deleted or renamed would otherwise pile up forever.
        entries = {key: entry for key, entry in self._entries.items() if Path(key).exists()}
        document = {"version": CACHE_VERSION, "mutagen": mutagen.version_string, "entries": entries}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with atomic_write(self.path) as temporary:
                temporary.write_text(json.dumps(document, sort_keys=True), encoding="utf-8")
        except OSError as exc:
            raise OutputError(f"{self.path}: cannot write the audio cache: {exc.strerror or exc}") from exc
        self._changed = False


def _info_to_json(info: AudioInfo) -> dict[str, Any]:
    return {
        "size": info.size,
        "duration_us": info.duration // timedelta(microseconds=1),
        "mime_type": info.mime_type,
        "codec": info.codec,
        "bitrate": info.bitrate,
        "sample_rate": info.sample_rate,
        "channels": info.channels,
        "duration_method": info.duration_method,
        "announced_us": None if info.announced is None else info.announced // timedelta(microseconds=1),
        "trailing": info.trailing,
        "tags": [list(pair) for pair in info.tags],
        "chapters": [{"start": c.start, "title": c.title, "url": c.url} for c in info.chapters],
    }


def _typed(value: object, kind: type[Any] | tuple[type[Any], ...], *, optional: bool = False) -> Any:
    if (value is None and optional) or (isinstance(value, kind) and not isinstance(value, bool)):
        return value
    raise TypeError(value)


def _method(value: object) -> DurationMethod:
    if value not in get_args(DurationMethod):
        raise ValueError(value)
    return cast(DurationMethod, value)


def _info_from_json(data: dict[str, Any]) -> AudioInfo:
    """Rebuild an AudioInfo; TypeError, KeyError or ValueError for anything malformed."""
    return AudioInfo(
        size=_typed(data["size"], int),
        duration=timedelta(microseconds=_typed(data["duration_us"], int)),
        mime_type=_typed(data["mime_type"], str),
        codec=_typed(data["codec"], str),
        bitrate=_typed(data["bitrate"], int, optional=True),
        sample_rate=_typed(data["sample_rate"], int, optional=True),
        channels=_typed(data["channels"], int, optional=True),
        duration_method=_method(data["duration_method"]),
        announced=None if data["announced_us"] is None else timedelta(microseconds=_typed(data["announced_us"], int)),
        trailing=_typed(data["trailing"], int),
        tags=tuple((_typed(key, str), _typed(value, str)) for key, value in data["tags"]),
        chapters=tuple(
            EmbeddedChapter(
                start=float(_typed(chapter["start"], (int, float))),
                title=_typed(chapter["title"], str),
                url=_typed(chapter["url"], str, optional=True),
            )
            for chapter in data["chapters"]
        ),
    )
