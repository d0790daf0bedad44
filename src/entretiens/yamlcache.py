"""What :func:`~entretiens.yamlfile.read_yaml` made of each show file, kept between runs.

Parsing YAML is the loader's largest cost: every episode file is read on every build, so one
edit in a show of 10,000 episodes paid for 10,000 parses. A parse is a function of the file's
bytes and of the code and PyYAML that read them, so its result (the values, and the line of
every key and item that problems are located with) is kept in the show's cache and used again
while the file's stamp (device, inode, size, mtime and ctime, in ns) and that code are the same.

One store, not a file per entry: an edit then opens two cache files, not one per episode.
``yaml.store`` holds every entry; ``yaml.overlay`` the entries made since, so that an edit
rewrites a few kilobytes, not the whole store (the store is rewritten when the overlay has
grown to an eighth of it, keeping only the entries of files still read), in the format of
:mod:`entretiens.checkedstore`; each entry is tagged with its file's stamp. A store that is missing, cut, damaged,
foreign or written by other code, and an entry whose digest or stamp does not match, are
ignored: the file is parsed again. The cache only ever saves time; it never decides a value.

Entries are JSON (a show folder can come from anyone: nothing here runs code), in a closed
format that holds exactly what the loader builds: YamlMap, YamlList, text, numbers, booleans,
null, dates and times. A file that holds anything else (``!!binary``, ``!!set``), a file
changed within a timestamp tick of the load (its next change could keep the stamp) and a file whose
parse failed are simply not kept.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Final

import yaml

from . import walks
from .buildrecord import code
from .checkedstore import Format, Store
from .yamlfile import YamlList, YamlMap, read_yaml

#: Where the store and its overlay are kept, in the show folder.
CACHE_DIR: Final = Path(".entretiens") / "cache"
_NAME: Final = "yaml"
STORE: Final = f"{_NAME}.store"
OVERLAY: Final = f"{_NAME}.overlay"
_MAGIC: Final = b"entretiens-yaml 1\n"
#: The store's files: each entry tagged with its file's stamp, 32 hex digits of digest.
FORMAT: Final = Format(magic=_MAGIC, tag_size=5, digest_size=32, prefix=".yaml.")

#: (device, inode, size, mtime_ns, ctime_ns) of a show file.
Stamp = tuple[int, int, int, int, int]


@functools.cache
def version() -> str:
    """What shaped a parse: entretiens' code (:func:`~entretiens.buildrecord.code`) and PyYAML."""
    return f"{code()} PyYAML {yaml.__version__} libyaml {getattr(yaml, '__with_libyaml__', False)}"


class _Unsupported(Exception):
    """A parsed value this format does not hold: the file is not kept."""


def encode(value: object, budget: int) -> object:
    """``value`` as JSON values; at most ``budget`` nodes (anchors repeated by aliases could
    otherwise make a small file a huge entry).

    :raises _Unsupported: ``value`` holds something else than what :func:`decode` builds.
    """
    left = budget

    def walk(node: object) -> object:
        nonlocal left
        left -= 1
        if left < 0:
            raise _Unsupported("too many values")
        kind = type(node)
        if kind is str or kind is int or kind is float or kind is bool or node is None:
            return node
        if kind is YamlMap:
            assert isinstance(node, YamlMap)
            out: list[object] = ["m", node.line]
            for key, item in node.items():
                out += (walk(key), node.key_lines[key], walk(item))
            return out
        if kind is YamlList:
            assert isinstance(node, YamlList)
            out = ["l", node.line]
            for line, item in zip(node.item_lines, node, strict=True):
                out += (line, walk(item))
            return out
        if kind is datetime:
            assert isinstance(node, datetime)
            return _moment(node)
        if kind is date:
            assert isinstance(node, date)
            return ["d", node.year, node.month, node.day]
        raise _Unsupported(kind.__name__)

    return walk(value)


def _moment(node: datetime) -> list[object]:
    offset = node.utcoffset()
    if node.tzinfo is not None and (type(node.tzinfo) is not timezone or offset is None):
        raise _Unsupported("time zone")
    parts: list[object] = ["t", node.year, node.month, node.day, node.hour, node.minute, node.second]
    parts += (node.microsecond, None if offset is None else offset // timedelta(microseconds=1))
    rebuilt = _decode_moment(parts)
    if rebuilt != node or rebuilt.tzname() != node.tzname() or rebuilt.fold != node.fold:
        raise _Unsupported("time zone")
    return parts


def _decode_moment(parts: list[object]) -> datetime:
    year, month, day, hour, minute, second, micro, offset = parts[1:]
    zone = None if offset is None else timezone(timedelta(microseconds=offset))  # type: ignore[arg-type]
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=zone)  # type: ignore[arg-type]


def decode(data: object) -> object:
    """What :func:`encode` was given.

    :raises ValueError, TypeError, IndexError, KeyError, RecursionError, OverflowError: ``data``
        is not something :func:`encode` wrote.
    """
    kind = type(data)
    if kind is not list:
        if kind is dict:
            raise TypeError("not an entry")
        return data
    assert isinstance(data, list)
    tag = data[0]
    # Most values are scalars: they are taken as they are, without a call each.
    if tag == "m":
        mapping = YamlMap()
        mapping.line = _line(data[1])
        lines: dict[object, int] = {}
        mapping.key_lines = lines
        if len(data) % 3 != 2:
            raise ValueError("not an entry")
        for index in range(2, len(data), 3):
            key, line, item = data[index], data[index + 1], data[index + 2]
            if type(key) is list:
                key = decode(key)
            if type(item) is list or type(item) is dict:
                item = decode(item)
            if type(line) is not int:
                raise TypeError("not a line")
            lines[key] = line
            mapping[key] = item
        return mapping
    if tag == "l":
        if len(data) % 2:
            raise ValueError("not an entry")
        sequence = YamlList(
            item if type(item) is not list and type(item) is not dict else decode(item) for item in data[3::2]
        )
        sequence.line = _line(data[1])
        sequence.item_lines = [_line(line) for line in data[2::2]]
        return sequence
    if tag == "t":
        return _decode_moment(data)
    if tag == "d":
        return date(*data[1:])
    raise ValueError("not an entry")


def _line(value: object) -> int:
    if type(value) is not int:
        raise TypeError("not a line")
    return value


def dumps(value: object) -> str:
    """A JSON value as the store keeps it.

    :raises ValueError, TypeError, RecursionError: it is not one.
    """
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def stamp_of(status: os.stat_result) -> Stamp:
    """The :data:`Stamp` of a file's status."""
    return (status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns, status.st_ctime_ns)


class ParseCache:
    """The parses of one show's YAML files, for one load: read back, or made and kept.

    Use :meth:`read_yaml` for each file, then :meth:`close` (which keeps what was parsed).
    """

    def __init__(self, root: Path, *, keep: bool = True) -> None:
        """:param root: the show folder. :param keep: write what was parsed (False: read only)."""
        self._keep = keep
        self._started = time.time_ns()
        # Not pruned: an episode read back from its own entry uses its file's parse unread.
        self._store = Store(root / CACHE_DIR, _NAME, FORMAT, version(), prune=False)
        #: Files parsed (not found in the cache) by this load.
        self.parsed = 0

    def stamp(self, path: Path) -> Stamp | None:
        """The stamp of a show file, or None when it cannot be read; take it before reading the
        file, so that a change in between makes what is kept stale, never wrong."""
        try:
            return stamp_of(path.stat())
        except OSError:
            return None

    def keeps(self, stamp: Stamp) -> bool:
        """Whether what is made from a file at ``stamp`` would be kept: not a file changed within
        a timestamp tick of this load's start, whose next change could keep the stamp
        (:func:`walks.settled`: by the later of its mtime and ctime, as a file saved with its
        mtime put back has a new ctime)."""
        return (
            self._keep
            and not self._store.broken
            and walks.settled((stamp[2], stamp[3], stamp[4], stamp[1]), self._started)
        )

    def body(self, key: str, stamp: Stamp) -> bytes | None:
        """The checked text (UTF-8) kept under ``key`` for a file at ``stamp``, or None: for an
        entry that is not one JSON value (see :func:`entretiens.episodecache.encode_entry`)."""
        return self._store.get(key, stamp)

    def get(self, key: str, stamp: Stamp) -> tuple[object] | None:
        """The JSON value kept under ``key`` for a file at ``stamp`` (in a 1-tuple), or None."""
        body = self._store.get(key, stamp)
        if body is None:
            return None
        try:
            # Decoded first: JSON of bytes looks for their encoding, each time (ours is UTF-8).
            return (json.loads(body.decode("utf-8")),)
        except (ValueError, RecursionError):
            self._store.forget(key)
            return None

    def digest(self, key: str) -> str | None:
        """The digest (:data:`FORMAT`) of the entry :meth:`get` found or :meth:`put` kept under
        ``key`` in this load, or None."""
        return self._store.digest(key)

    def touch(self, key: str, stamp: Stamp) -> None:
        """Mark the entry under ``key`` for a file at ``stamp`` as in use without reading it, so
        that rewriting the store keeps it (the parse of a file whose episode was read back)."""
        self._store.touch(key, stamp)

    def forget(self, key: str) -> None:
        """Drop the entry :meth:`get` found under ``key`` (its value turned out unusable)."""
        self._store.forget(key)

    def put(self, key: str, stamp: Stamp, value: object) -> None:
        """Keep a JSON value under ``key`` for a file at ``stamp``, if :meth:`keeps` says so."""
        if self.keeps(stamp):
            with contextlib.suppress(ValueError, TypeError, RecursionError):
                self.put_json(key, stamp, dumps(value))

    def put_json(self, key: str, stamp: Stamp, text: str) -> None:
        """:meth:`put` of a value already written as JSON by :func:`dumps`."""
        if not self.keeps(stamp):
            return
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:
            return
        self._store.put(key, data, stamp)

    def read_yaml(self, path: Path, stamp: Stamp | None = None) -> object:
        """:func:`~entretiens.yamlfile.read_yaml` of ``path``, from the cache when it holds it.

        :param stamp: the file's :meth:`stamp`, when taken already.
        :raises YamlSyntaxError: as :func:`~entretiens.yamlfile.read_yaml`.
        """
        key = str(path)
        if stamp is None:
            stamp = self.stamp(path)
        if stamp is not None:
            found = self.get(key, stamp)
            if found is not None:
                try:
                    return decode(found[0])
                except (ValueError, TypeError, IndexError, KeyError, RecursionError, OverflowError):
                    self.forget(key)
        value = read_yaml(path)
        self.parsed += 1
        if stamp is not None and self.keeps(stamp):
            with contextlib.suppress(_Unsupported):
                self.put(key, stamp, encode(value, 2 * stamp[2] + 64))
        return value

    def close(self) -> None:
        """Keep what this load parsed, then release the cache files; never raises on I/O (see
        :meth:`entretiens.checkedstore.Store.close`: entries of files no longer read go when
        the store is rewritten)."""
        self._store.close()
