"""What :func:`~entretiens.yamlfile.read_yaml` made of each show file, kept between runs.

Parsing YAML is the loader's largest cost: every episode file is read on every build, so one
edit in a show of 10,000 episodes paid for 10,000 parses. A parse is a function of the file's
bytes and of the code and PyYAML that read them, so its result (the values, and the line of
every key and item that problems are located with) is kept in the show's cache and used again
while the file's stamp (device, inode, size, mtime and ctime, in ns) and that code are the same.

One store, not a file per entry: an edit then opens two cache files, not one per episode.
``yaml.store`` holds every entry; ``yaml.overlay`` the entries made since, so that an edit
rewrites a few kilobytes, not the whole store (the store is rewritten when the overlay has
grown to an eighth of it, keeping only the entries of files still read). Each file is a magic
line, the entries' bodies, a JSON index and a fixed-size trailer with the index's offset and
SHA-256; each entry carries the SHA-256 of its body. A store that is missing, cut, damaged,
foreign or written by other code, and an entry whose digest or stamp does not match, are
ignored: the file is parsed again. The cache only ever saves time; it never decides a value.

Entries are JSON (a show folder can come from anyone: nothing here runs code), in a closed
format that holds exactly what the loader builds: YamlMap, YamlList, text, numbers, booleans,
null, dates and times. A file that holds anything else (``!!binary``, ``!!set``), a file
modified in the last two seconds (its next change could keep the same stamp) and a file whose
parse failed are simply not kept.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import stat
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import BinaryIO, Final

import yaml

from .buildrecord import code
from .unitcache import RACY_NS
from .yamlfile import YamlList, YamlMap, read_yaml

#: Where the store and its overlay are kept, in the show folder.
CACHE_DIR: Final = Path(".entretiens") / "cache"
STORE: Final = "yaml.store"
OVERLAY: Final = "yaml.overlay"
_MAGIC: Final = b"entretiens-yaml 1\n"
#: ``index <offset, 16 hex digits> <SHA-256 of the index, 64 hex digits>\n``
_TRAILER_SIZE: Final = 6 + 16 + 1 + 64 + 1
#: The largest index read (about 150 bytes an entry).
_MAX_INDEX: Final = 256 * 2**20
#: The store is rewritten when the overlay holds more than this share of its entries.
_OVERLAY_SHARE: Final = 8
_OVERLAY_MIN: Final = 64

#: (device, inode, size, mtime_ns, ctime_ns) of a show file.
Stamp = tuple[int, int, int, int, int]
#: key -> (stamp, offset, length, digest) in one cache file.
_Index = dict[str, tuple[Stamp, int, int, str]]


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


class _Store:
    """One cache file opened for reading: its index, and its entries read on demand."""

    def __init__(self, path: Path, version: str) -> None:
        self.index: _Index = {}
        self._handle: int | None = None
        try:
            # Non-blocking and checked: a FIFO or a device at this name must not hang the build.
            handle = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        except OSError:
            return
        try:
            index = self._read_index(handle, version)
        except (OSError, ValueError, TypeError, IndexError, KeyError, OverflowError, RecursionError):
            index = None
        if index is None:
            os.close(handle)
            return
        self.index = index
        self._handle = handle

    @staticmethod
    def _read_index(handle: int, version: str) -> _Index | None:
        status = os.fstat(handle)
        if not stat.S_ISREG(status.st_mode) or status.st_size < len(_MAGIC) + _TRAILER_SIZE:
            return None
        if os.pread(handle, len(_MAGIC), 0) != _MAGIC:
            return None
        trailer = os.pread(handle, _TRAILER_SIZE, status.st_size - _TRAILER_SIZE)
        if not trailer.startswith(b"index ") or not trailer.endswith(b"\n"):
            return None
        offset = int(trailer[6:22], 16)
        length = status.st_size - _TRAILER_SIZE - offset
        if not len(_MAGIC) <= offset or not 0 < length <= _MAX_INDEX:
            return None
        raw = os.pread(handle, length, offset)
        if hashlib.sha256(raw).hexdigest().encode("ascii") != trailer[23:87]:
            return None
        document = json.loads(raw)
        if document["version"] != version:
            return None
        index: _Index = {}
        for key, dev, ino, size, mtime, ctime, start, count, digest in document["entries"]:
            numbers = (dev, ino, size, mtime, ctime, start, count)
            # A digest proves the file whole, not that we wrote it: every value is checked.
            if type(key) is not str or type(digest) is not str or any(type(n) is not int for n in numbers):
                return None
            if start < len(_MAGIC) or count < 0 or start + count > offset:
                return None
            index[key] = ((dev, ino, size, mtime, ctime), start, count, digest)
        return index

    def body(self, key: str, stamp: Stamp) -> bytes | None:
        """The checked body of the entry of ``key`` made at ``stamp``, or None."""
        found = self.index.get(key)
        if found is None or found[0] != stamp or self._handle is None:
            return None
        try:
            body = os.pread(self._handle, found[2], found[1])
        except OSError:
            return None
        if len(body) != found[2] or hashlib.sha256(body).hexdigest()[:32] != found[3]:
            return None
        return body

    def close(self) -> None:
        if self._handle is not None:
            os.close(self._handle)
            self._handle = None


class _Writer:
    """A new cache file being written beside its final name, entry by entry."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=folder, prefix=".yaml.", suffix=".tmp")
        self.path = Path(name)
        self.file: BinaryIO = os.fdopen(handle, "wb")
        self.file.write(_MAGIC)
        self.offset = len(_MAGIC)
        self.entries: list[list[object]] = []
        self.keys: set[str] = set()

    def add(self, key: str, stamp: Stamp, body: bytes, digest: str) -> None:
        self.file.write(body)
        self.entries.append([key, *stamp, self.offset, len(body), digest])
        self.keys.add(key)
        self.offset += len(body)

    def finish(self, target: Path, version: str) -> None:
        index = json.dumps({"version": version, "entries": self.entries}, separators=(",", ":")).encode("utf-8")
        self.file.write(index)
        self.file.write(b"index %016x %s\n" % (self.offset, hashlib.sha256(index).hexdigest().encode("ascii")))
        self.file.close()
        self.path.chmod(0o644)
        self.path.replace(target)

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            self.file.close()
        self.path.unlink(missing_ok=True)


class ParseCache:
    """The parses of one show's YAML files, for one load: read back, or made and kept.

    Use :meth:`read_yaml` for each file, then :meth:`close` (which keeps what was parsed).
    """

    def __init__(self, root: Path, *, keep: bool = True) -> None:
        """:param root: the show folder. :param keep: write what was parsed (False: read only)."""
        self._folder = root / CACHE_DIR
        self._version = version()
        self._keep = keep
        self._started = time.time_ns()
        self._overlay = _Store(self._folder / OVERLAY, self._version)
        self._store = _Store(self._folder / STORE, self._version)
        #: Entries found valid by this load: key -> (stamp, the cache file holding it).
        self._hits: dict[str, tuple[Stamp, _Store]] = {}
        self._writer: _Writer | None = None
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
        """Whether what is made from a file at ``stamp`` would be kept: not a file modified in
        the last :data:`~entretiens.unitcache.RACY_NS` (its next change could keep the stamp)."""
        return self._keep and stamp[3] < self._started - RACY_NS

    def get(self, key: str, stamp: Stamp) -> tuple[object] | None:
        """The JSON value kept under ``key`` for a file at ``stamp`` (in a 1-tuple), or None."""
        for store in (self._overlay, self._store):
            body = store.body(key, stamp)
            if body is None:
                continue
            try:
                value = json.loads(body)
            except (ValueError, RecursionError):
                continue
            self._hits[key] = (stamp, store)
            return (value,)
        return None

    def touch(self, key: str, stamp: Stamp) -> None:
        """Mark the entry under ``key`` for a file at ``stamp`` as in use without reading it, so
        that rewriting the store keeps it (the parse of a file whose episode was read back)."""
        for store in (self._overlay, self._store):
            found = store.index.get(key)
            if found is not None and found[0] == stamp:
                self._hits[key] = (stamp, store)
                return

    def forget(self, key: str) -> None:
        """Drop the entry :meth:`get` found under ``key`` (its value turned out unusable)."""
        self._hits.pop(key, None)

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
        try:
            if self._writer is None:
                self._writer = _Writer(self._folder)
            self._writer.add(key, stamp, data, hashlib.sha256(data).hexdigest()[:32])
        except OSError:
            self._give_up()

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

    def _give_up(self) -> None:
        if self._writer is not None:
            self._writer.discard()
            self._writer = None
        self._keep = False

    def close(self) -> None:
        """Keep what this load parsed, then release the cache files; never raises on I/O.

        The new entries go into the overlay with the overlay's other entries still in use; when
        that is more than an eighth of the store (or there is no store), into a new store with
        every entry still in use, and the overlay goes. Entries of files no longer read go too.
        """
        writer = self._writer
        self._writer = None
        try:
            if writer is not None:
                overlaid = sum(1 for _stamp, store in self._hits.values() if store is self._overlay)
                rewrite = not self._store.index or _OVERLAY_SHARE * (len(writer.keys) + overlaid) > max(
                    len(self._store.index), _OVERLAY_SHARE * _OVERLAY_MIN
                )
                for key, (stamp, store) in self._hits.items():
                    if key in writer.keys or not (rewrite or store is self._overlay):
                        continue
                    # Read again rather than held: a store's bodies stay on disk during the load.
                    body = store.body(key, stamp)
                    if body is not None:
                        writer.add(key, stamp, body, store.index[key][3])
                writer.finish(self._folder / (STORE if rewrite else OVERLAY), self._version)
                if rewrite:
                    (self._folder / OVERLAY).unlink(missing_ok=True)
        except OSError:
            if writer is not None:
                writer.discard()
        finally:
            self._overlay.close()
            self._store.close()
            self._hits.clear()
