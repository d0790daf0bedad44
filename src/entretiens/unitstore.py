"""One kind of units kept in one checked store, not a file per unit.

A rebuild of 10,000 episodes read back 29,500 unit files one by one (a third of an edit's
rebuild went to opening them); it now opens two files per kind. ``<kind>.store`` holds every
unit's entry; ``<kind>.overlay`` the entries made since, so that an edit writes a few
kilobytes, not the whole store (the store is rewritten, keeping only the entries in use, when
the overlay holds more than an eighth of it). Each file is a magic line, the entries, a JSON
index (the code that wrote it, then each key with its entry's offset, length and SHA-256) and a
fixed-size trailer with the index's offset and SHA-256.

A store that is missing, cut, damaged, foreign or written by other code is ignored whole, and
an entry whose bytes no longer match its digest is ignored alone: its unit is made again. The
store only ever saves time, never decides what is published. Nothing in it runs code: an
entry is a JSON line (each file's name and size; for a stored kind, its SHA-256 and marks
too, the file itself kept beside the store as ``<kind>/<key[:2]>/<key>.<n>``) then bytes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import BinaryIO, Final

from .checkedfiles import Checked, replace
from .output import Content, Stored

_MAGIC: Final = b"entretiens-units 1\n"
#: ``index <offset, 16 hex digits> <SHA-256 of the index, 64 hex digits>\n``
_TRAILER_SIZE: Final = 6 + 16 + 1 + 64 + 1
#: The largest index read (about 150 bytes an entry).
_MAX_INDEX: Final = 256 * 2**20
#: The store is rewritten when the overlay holds more than this share of its entries.
_OVERLAY_SHARE: Final = 8
_OVERLAY_MIN: Final = 64

#: key -> (offset, length, SHA-256 hex) in one store file.
_Index = dict[str, tuple[int, int, str]]


def sha256(data: bytes | memoryview) -> str:
    """The SHA-256 (hex) an entry is checked against."""
    return hashlib.sha256(data).hexdigest()


class _File:
    """One store file opened for reading: its index, and its entries read on demand."""

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
        if sha256(raw).encode("ascii") != trailer[23:87]:
            return None
        document = json.loads(raw)
        if document["version"] != version:
            return None
        index: _Index = {}
        for key, start, count, digest in document["entries"]:
            # A digest proves the file whole, not that we wrote it: every value is checked.
            if type(key) is not str or type(digest) is not str or type(start) is not int or type(count) is not int:
                return None
            if start < len(_MAGIC) or count < 0 or start + count > offset:
                return None
            index[key] = (start, count, digest)
        return index

    def entry(self, key: str) -> bytes | None:
        """The checked bytes of the entry of ``key``, or None."""
        found = self.index.get(key)
        if found is None or self._handle is None:
            return None
        try:
            body = os.pread(self._handle, found[1], found[0])
        except OSError:
            return None
        if len(body) != found[1] or sha256(body) != found[2]:
            return None
        return body

    def close(self) -> None:
        if self._handle is not None:
            os.close(self._handle)
            self._handle = None


class _Writer:
    """A new store file being written beside its final name, entry by entry."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=folder, prefix=".units.", suffix=".tmp")
        self.path = Path(name)
        self.file: BinaryIO = os.fdopen(handle, "wb")
        self.file.write(_MAGIC)
        self.offset = len(_MAGIC)
        #: key -> (offset, length, SHA-256) of each entry written, in order.
        self.keys: dict[str, tuple[int, int, str]] = {}

    def add(self, key: str, body: bytes, digest: str) -> None:
        self.file.write(body)
        self.keys[key] = (self.offset, len(body), digest)
        self.offset += len(body)

    def entry(self, key: str) -> bytes | None:
        """The checked bytes of an entry added by this build, or None."""
        found = self.keys.get(key)
        if found is None:
            return None
        self.file.flush()
        body = os.pread(self.file.fileno(), found[1], found[0])
        return body if len(body) == found[1] and sha256(body) == found[2] else None

    def finish(self, target: Path, version: str) -> None:
        entries = [[key, *found] for key, found in self.keys.items()]
        index = json.dumps({"version": version, "entries": entries}, separators=(",", ":")).encode("utf-8")
        self.file.write(index)
        self.file.write(b"index %016x %s\n" % (self.offset, sha256(index).encode("ascii")))
        self.file.close()
        self.path.chmod(0o644)
        self.path.replace(target)

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            self.file.close()
        self.path.unlink(missing_ok=True)


class Shelf:
    """The store and overlay of one kind of units, for one build: read, added to, then closed.

    Use :meth:`get` and :meth:`put` for each unit, then :meth:`close` (which keeps the entries
    this build used or made, and drops the others).
    """

    def __init__(self, folder: Path, kind: str, version: str) -> None:
        """:param folder: where the kind's files are (``<kind>.store``, ``<kind>.overlay``).
        :param version: the code that makes the entries: a store written by other code is ignored.
        """
        self._folder = folder
        self._store_path = folder / f"{kind}.store"
        self._overlay_path = folder / f"{kind}.overlay"
        self._version = version
        self._overlay = _File(self._overlay_path, version)
        self._store = _File(self._store_path, version)
        #: Entries found valid by this build: key -> the file holding it.
        self._hits: dict[str, _File] = {}
        self._writer: _Writer | None = None
        self._broken = False

    def get(self, key: str) -> bytes | None:
        """The checked entry kept under ``key``, or None."""
        if self._writer is not None and key in self._writer.keys:
            # Made earlier in this build.
            with contextlib.suppress(OSError):
                return self._writer.entry(key)
            return None
        for source in (self._overlay, self._store):
            body = source.entry(key)
            if body is not None:
                self._hits[key] = source
                return body
        return None

    def forget(self, key: str) -> None:
        """Drop the entry :meth:`get` found under ``key`` (what it names turned out unusable)."""
        self._hits.pop(key, None)

    def put(self, key: str, body: bytes) -> None:
        """Keep ``body`` under ``key`` (no error if it cannot be kept: it is made again next time)."""
        if self._broken:
            return
        self._hits.pop(key, None)
        try:
            if self._writer is None:
                self._writer = _Writer(self._folder)
            if key not in self._writer.keys:
                self._writer.add(key, body, sha256(body))
        except OSError:
            self._broken = True
            if self._writer is not None:
                self._writer.discard()
                self._writer = None

    def release(self) -> None:
        """Release the files without keeping anything (what was put is lost)."""
        if self._writer is not None:
            self._writer.discard()
            self._writer = None
        self._overlay.close()
        self._store.close()
        self._hits.clear()

    def __del__(self) -> None:
        # A build that stopped before closing its shelves (an error) leaves no temporary file.
        with contextlib.suppress(Exception):
            self.release()

    def known(self) -> set[str]:
        """The keys of every entry in the store and the overlay, used by this build or not."""
        return {*self._store.index, *self._overlay.index}

    def close(self) -> bool:
        """Keep what this build made, with the entries it used; release the files. Never raises
        on I/O. True when the store was rewritten (only entries in use are left anywhere).

        The new entries go into the overlay with the overlay's other entries still in use; when
        that is more than an eighth of the store (or there is no store), into a new store with
        every entry still in use, and the overlay goes.
        """
        writer, self._writer = self._writer, None
        used_overlay = sum(1 for source in self._hits.values() if source is self._overlay)
        # The store's entries no longer used (their units' files are gone): rewritten without them
        # once they are many, as when the overlay is.
        stale = sum(1 for key in self._store.index if key not in self._hits)
        dropped = any(key not in self._hits for key in self._overlay.index)
        rewrite = False
        try:
            if writer is None and dropped and not self._broken:
                # Nothing new, but the overlay holds entries no longer used: written again without them.
                writer = _Writer(self._folder)
            if writer is not None:
                rewrite = not self._store.index or _OVERLAY_SHARE * (len(writer.keys) + used_overlay + stale) > max(
                    len(self._store.index), _OVERLAY_SHARE * _OVERLAY_MIN
                )
                for key, source in self._hits.items():
                    if key in writer.keys or not (rewrite or source is self._overlay):
                        continue
                    # Read again rather than held: a store's entries stay on disk during the build.
                    body = source.entry(key)
                    if body is not None:
                        writer.add(key, body, source.index[key][2])
                writer.finish(self._store_path if rewrite else self._overlay_path, self._version)
                if rewrite:
                    self._overlay_path.unlink(missing_ok=True)
        except OSError:
            rewrite = False
            if writer is not None:
                writer.discard()
        finally:
            self._overlay.close()
            self._store.close()
            self._hits.clear()
        return rewrite


def encode(files: dict[str, bytes]) -> bytes:
    """A unit's entry: its names and sizes as a JSON line, then its files' bytes."""
    header = json.dumps([[name, len(content)] for name, content in files.items()], ensure_ascii=False)
    return b"".join([header.encode("utf-8"), b"\n", *files.values()])


def decode(entry: bytes) -> dict[str, Content] | None:
    """What :func:`_encode` was given, or None when ``entry`` is not one."""
    try:
        end = entry.index(b"\n")
        files: dict[str, Content] = {}
        offset = end + 1
        for name, length in json.loads(entry[:end]):
            if type(name) is not str or type(length) is not int or length < 0:
                return None
            files[name] = entry[offset : offset + length]
            offset += length
    except (ValueError, TypeError, RecursionError):
        return None
    return files if offset == len(entry) else None


#: What to note about a unit's files when it is made: name -> a short text, kept with the unit.
Marks = Callable[[Mapping[str, bytes]], Mapping[str, str]]
#: A name starting with this is the unit's own data, not a page (site's home page entry): kept
#: in the entry and handed on as bytes.
INLINE: Final = "#"


def _body(folder: Path, key: str, number: int) -> str:
    """Where file ``number`` of a stored unit is kept (a text: one Path per page is not free)."""
    return f"{folder}/{key[:2]}/{key}.{number}"


def write_stored(folder: Path, key: str, files: dict[str, bytes], marks: Marks | None) -> bytes | None:
    """Keep a stored unit's files as plain files of their own and return its entry: names,
    sizes, digests and marks as a JSON line, then the bytes of the :data:`INLINE` files. The
    files are written before the entry is, so an entry found names files that were all
    written. None when they could not be kept (no error: the unit is then handed on as bytes)."""
    noted = marks(files) if marks is not None else {}
    entries = []
    inline = []
    written: list[Path] = []
    try:
        (folder / key[:2]).mkdir(parents=True, exist_ok=True)
        for number, (name, content) in enumerate(files.items()):
            entries.append([name, len(content), hashlib.sha256(content).hexdigest(), noted.get(name)])
            if name.startswith(INLINE):
                inline.append(content)
                continue
            body = Path(_body(folder, key, number))
            replace(body, content)
            written.append(body)
    except OSError:
        for body in written:
            with contextlib.suppress(OSError):
                body.unlink()
        return None
    return b"".join([json.dumps(entries, ensure_ascii=False).encode("utf-8"), b"\n", *inline])


def decode_stored(folder: Path, key: str, entry: bytes, checked: Checked, *, check: bool) -> dict[str, Content] | None:
    """The files of a stored unit's entry; None when one does not check out (made anew).

    :param check: check each file against its digest (through the ledger); False for the files
        this build has just written, which the ledger is told of instead (see :meth:`Checked.wrote`).
    """
    try:
        end = entry.index(b"\n")
        files: dict[str, Content] = {}
        offset = end + 1
        for number, (name, size, sha256, marks) in enumerate(json.loads(entry[:end])):
            if type(name) is not str or type(size) is not int or type(sha256) is not str or size < 0:
                return None
            if marks is not None and type(marks) is not str:
                return None
            if name.startswith(INLINE):
                files[name] = entry[offset : offset + size]
                offset += size
                continue
            body = _body(folder, key, number)
            if check and not checked.holds(body, size, sha256):
                return None
            if not check:
                checked.wrote(body, size, sha256)
            # Made from the text at once: one Path per page, not two.
            files[name] = made = Stored(body)
            made.sha256, made.size, made.marks = sha256, size, marks
    except (OSError, ValueError, TypeError, RecursionError):
        return None
    return files if offset == len(entry) else None


def remove_files(bucket: Path, keys: set[str]) -> None:
    """Remove the files of stored units (``<key>.<n>`` in their bucket)."""
    with contextlib.suppress(OSError):
        for entry in os.scandir(bucket):
            if entry.name.partition(".")[0] in keys:
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
