"""One checked store format for the caches that keep many small entries: the YAML parses
(:mod:`entretiens.yamlcache`) and the units (:mod:`entretiens.unitstore`).

A cache kept as a file per entry made an edit open thousands of files; a store is two files
per cache. ``<name>.store`` holds every entry; ``<name>.overlay`` the entries made since, so
that an edit writes a few kilobytes, not the whole store (the store is rewritten, keeping only
the entries in use, when the overlay has grown to an eighth of it). Each file is a magic line
(one per cache), the entries' bodies, a JSON index and a fixed-size trailer::

    <magic line><body><body>...{"version": ..., "entries": [[key, *tag, offset, length, digest, (head)], ...]}
    index <offset of the index, 16 hex digits> <SHA-256 of the index, 64 hex digits>\\n

``tag`` is a cache's own fixed number of integers an entry is valid for (a YAML file's stamp;
none for units), ``digest`` the SHA-256 (hex, as many digits as the cache keeps) of the body.
``head``, in the stores of a cache whose format has heads only, is any JSON value the cache
keeps with the entry: decoded with the index, in one pass, and checked with it (the kept
pages' names, sizes and digests: a JSON decode per page was a third of reading it back).
A file that is missing, cut, damaged, foreign or written by other code (``version``) is
ignored whole; an entry whose body no longer matches its digest, or whose tag is not the one
asked for, is ignored alone. Nothing in a store runs code: the caller decides what a body is.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final, TypeVar

#: ``index <offset, 16 hex digits> <SHA-256 of the index, 64 hex digits>\n``
TRAILER_SIZE: Final = 6 + 16 + 1 + 64 + 1
#: The largest index read (about 150 bytes an entry).
MAX_INDEX: Final = 256 * 2**20
#: The store is rewritten when the overlay holds more than this share of its entries ...
OVERLAY_SHARE = 8
#: ... and more than this many entries.
OVERLAY_MIN = 64

#: The largest body :meth:`Store.read` decodes once for all the entries that hold it (the checks
#: of an episode with no problem, the same few bytes for thousands of episodes).
SHARED_MAX: Final = 64

#: The integers an entry is valid for (a cache's own; the empty tuple for none).
Tag = tuple[int, ...]
#: key -> (tag, offset, length, digest) in one store file.
Index = dict[str, tuple[Tag, int, int, str]]
_NO_TAG: Final[Tag] = ()
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Format:
    """What tells one cache's store files from another's."""

    #: The first line of every file.
    magic: bytes
    #: How many integers each entry's tag holds.
    tag_size: int
    #: How many hex digits of each body's SHA-256 are kept (64: all).
    digest_size: int
    #: The prefix of the temporary files a store is written under.
    prefix: str
    #: Each entry's row in the index ends with its head (see the module).
    heads: bool = False

    def digest(self, body: bytes | memoryview) -> str:
        """What an entry's body is checked against."""
        return hashlib.sha256(body).hexdigest()[: self.digest_size]


class Reader:
    """One store file opened for reading: its index, and its entries read on demand."""

    def __init__(self, path: Path, form: Format, version: str) -> None:
        self.index: Index = {}
        #: key -> its head, for a format with heads (see the module): as JSON gave it, unchecked.
        self.heads: dict[str, object] = {}
        self._form = form
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

    def _read_index(self, handle: int, version: str) -> Index | None:
        magic = self._form.magic
        status = os.fstat(handle)
        if not stat.S_ISREG(status.st_mode) or status.st_size < len(magic) + TRAILER_SIZE:
            return None
        if os.pread(handle, len(magic), 0) != magic:
            return None
        trailer = os.pread(handle, TRAILER_SIZE, status.st_size - TRAILER_SIZE)
        if not trailer.startswith(b"index ") or not trailer.endswith(b"\n"):
            return None
        offset = int(trailer[6:22], 16)
        length = status.st_size - TRAILER_SIZE - offset
        if not len(magic) <= offset or not 0 < length <= MAX_INDEX:
            return None
        raw = os.pread(handle, length, offset)
        if hashlib.sha256(raw).hexdigest().encode("ascii") != trailer[23:87]:
            return None
        document = json.loads(raw)
        if document["version"] != version:
            return None
        size = self._form.tag_size
        heads = self._form.heads
        width = size + 4 + heads
        index: Index = {}
        found: dict[str, object] = {}
        for row in document["entries"]:
            # A digest proves the file whole, not that we wrote it: every value is checked.
            if type(row) is not list or len(row) != width:
                return None
            if heads:
                found[row[0]] = row.pop()
            key, start, count, digest = row[0], row[-3], row[-2], row[-1]
            if type(key) is not str or type(digest) is not str or type(start) is not int or type(count) is not int:
                return None
            if start < len(magic) or count < 0 or start + count > offset:
                return None
            tag: Tag = _NO_TAG
            if size:
                tag = tuple(row[1:-3])
                if any(type(n) is not int for n in tag):
                    return None
            index[key] = (tag, start, count, digest)
        self.heads = found
        return index

    def entry(self, key: str, tag: Tag = _NO_TAG) -> bytes | None:
        """The checked body of the entry of ``key`` made for ``tag``, or None."""
        found = self.index.get(key)
        if found is None or found[0] != tag or self._handle is None:
            return None
        try:
            # An entry all of whose data is its head (a page unit without an inline file): no read.
            body = os.pread(self._handle, found[2], found[1]) if found[2] else b""
        except OSError:
            return None
        if len(body) != found[2] or self._form.digest(body) != found[3]:
            return None
        return body

    def close(self) -> None:
        if self._handle is not None:
            os.close(self._handle)
            self._handle = None


class Writer:
    """A new store file being written beside its final name, entry by entry."""

    def __init__(self, folder: Path, form: Format) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=folder, prefix=form.prefix, suffix=".tmp")
        self.path = Path(name)
        self.file: BinaryIO = os.fdopen(handle, "wb")
        self.file.write(form.magic)
        self._form = form
        self.offset = len(form.magic)
        #: key -> (tag, offset, length, digest) of each entry written, in order.
        self.keys: Index = {}
        #: key -> the head of each entry written, for a format with heads.
        self.heads: dict[str, object] = {}

    def add(self, key: str, tag: Tag, body: bytes, digest: str, head: object = None) -> None:
        """Write an entry (a key written again is found at its last body), with its head for a
        format with heads."""
        self.file.write(body)
        self.keys[key] = (tag, self.offset, len(body), digest)
        if self._form.heads:
            self.heads[key] = head
        self.offset += len(body)

    def entry(self, key: str) -> bytes | None:
        """The checked body of an entry added to this file, or None."""
        found = self.keys.get(key)
        if found is None:
            return None
        self.file.flush()
        body = os.pread(self.file.fileno(), found[2], found[1])
        return body if len(body) == found[2] and self._form.digest(body) == found[3] else None

    def finish(self, target: Path, version: str) -> None:
        """Write the index and trailer, and put the file at ``target`` in one step."""
        entries: list[list[object]] = [
            [key, *tag, start, count, digest] for key, (tag, start, count, digest) in self.keys.items()
        ]
        if self._form.heads:
            for row, key in zip(entries, self.keys, strict=True):
                row.append(self.heads.get(key))
        index = json.dumps({"version": version, "entries": entries}, separators=(",", ":")).encode("utf-8")
        self.file.write(index)
        self.file.write(b"index %016x %s\n" % (self.offset, hashlib.sha256(index).hexdigest().encode("ascii")))
        self.file.close()
        self.path.chmod(0o644)
        self.path.replace(target)

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            self.file.close()
        with contextlib.suppress(OSError):
            self.path.unlink(missing_ok=True)


class Store:
    """The store and overlay of one cache, for one run: read, added to, then closed.

    Use :meth:`get` (or :meth:`touch`) and :meth:`put` for each entry, then :meth:`close`,
    which keeps the entries this run made with those it used, and drops the others.
    """

    def __init__(self, folder: Path, name: str, form: Format, version: str, *, prune: bool) -> None:
        """:param folder: where the files are (``<name>.store``, ``<name>.overlay``).
        :param version: the code that makes the entries: a file written by other code is ignored.
        :param prune: the run uses every entry still of use (the units), so that an entry it did
            not use is dropped from the overlay at once and counts towards a rewrite of the store;
            else (the parses, some read through another cache) unused entries go only when the
            store is rewritten for its overlay's size.
        """
        self._folder = folder
        self._form = form
        self._store_path = folder / f"{name}.store"
        self._overlay_path = folder / f"{name}.overlay"
        self._version = version
        self._prune = prune
        self._overlay = Reader(self._overlay_path, form, version)
        self._store = Reader(self._store_path, form, version)
        #: Entries found valid by this run: key -> the file holding it.
        self._hits: dict[str, Reader] = {}
        #: Entries found unusable by this run: never carried over.
        self._forgotten: set[str] = set()
        self._writer: Writer | None = None
        #: digest -> what :meth:`read` decoded from a small body of that digest.
        self._decoded: dict[str, object] = {}
        #: Nothing more is written: a write failed (a full disk, a read-only folder).
        self.broken = False

    def get(self, key: str, tag: Tag = _NO_TAG) -> bytes | None:
        """The checked body kept under ``key`` for ``tag``, or None."""
        writer = self._writer
        if writer is not None and key in writer.keys:
            # Made earlier in this run.
            if writer.keys[key][0] != tag:
                return None
            with contextlib.suppress(OSError):
                return writer.entry(key)
            return None
        for source in (self._overlay, self._store):
            body = source.entry(key, tag)
            if body is not None:
                self._hits[key] = source
                return body
        return None

    def head(self, key: str) -> object:
        """The head of the entry :meth:`get` found or :meth:`put` kept under ``key`` in this
        run (for a format with heads), or None."""
        writer = self._writer
        if writer is not None and key in writer.keys:
            return writer.heads.get(key)
        source = self._hits.get(key)
        return source.heads.get(key) if source is not None else None

    def digest(self, key: str) -> str | None:
        """The digest of the body :meth:`get` found (checked) or :meth:`put` kept under ``key``
        in this run, or None: what the body is known by, without hashing it again."""
        writer = self._writer
        if writer is not None and (made := writer.keys.get(key)) is not None:
            return made[3]
        source = self._hits.get(key)
        found = source.index.get(key) if source is not None else None
        return found[3] if found is not None else None

    def read(self, key: str, decode: Callable[[bytes], _T | None], tag: Tag = _NO_TAG) -> _T | None:
        """``decode`` of what :meth:`get` finds, or None. A small body (:data:`SHARED_MAX`)
        is read, checked and decoded once for every entry that holds it: an entry's digest is
        in the checked index, so any body found whole with that digest is that entry's body.
        What ``decode`` returns is shared by those entries: it must not be changed."""
        if self._writer is None or key not in self._writer.keys:
            for source in (self._overlay, self._store):
                found = source.index.get(key)
                if found is not None and found[0] == tag:
                    if found[2] <= SHARED_MAX and found[3] in self._decoded:
                        self._hits[key] = source
                        return self._decoded[found[3]]  # type: ignore[return-value]
                    break
        body = self.get(key, tag)
        if body is None:
            return None
        value = decode(body)
        if value is not None and len(body) <= SHARED_MAX:
            # The digest of the body just read (of this entry or, when it was damaged, of the
            # store's entry under the same key): taken again, a few bytes.
            self._decoded[self._form.digest(body)] = value
        return value

    def touch(self, key: str, tag: Tag = _NO_TAG) -> None:
        """Mark the entry under ``key`` for ``tag`` as in use without reading it, so that
        :meth:`close` keeps it."""
        for source in (self._overlay, self._store):
            found = source.index.get(key)
            if found is not None and found[0] == tag:
                self._hits[key] = source
                return

    def forget(self, key: str) -> None:
        """Drop the entry :meth:`get` found under ``key`` (what it holds turned out unusable)."""
        self._hits.pop(key, None)
        self._forgotten.add(key)

    def put(self, key: str, body: bytes, tag: Tag = _NO_TAG, head: object = None) -> None:
        """Keep ``body`` under ``key`` for ``tag``, with ``head`` for a format with heads (no
        error if it cannot be kept: it is made again next time, and nothing more is written by
        this run)."""
        if self.broken:
            return
        self._hits.pop(key, None)
        try:
            if self._writer is None:
                self._writer = Writer(self._folder, self._form)
            elif self._writer.keys.get(key, (None,))[0] == tag:
                return  # put already (the same unit asked for twice)
            self._writer.add(key, tag, body, self._form.digest(body), head)
        except OSError:
            self.broken = True
            if self._writer is not None:
                self._writer.discard()
                self._writer = None

    def known(self) -> set[str]:
        """The keys of every entry in the store and the overlay, used by this run or not."""
        return {*self._store.index, *self._overlay.index}

    def release(self) -> None:
        """Release the files without keeping anything (what was put is lost)."""
        if self._writer is not None:
            self._writer.discard()
            self._writer = None
        self._overlay.close()
        self._store.close()
        self._hits.clear()

    def __del__(self) -> None:
        # A run that stopped before closing its store (an error) leaves no temporary file.
        with contextlib.suppress(Exception):
            self.release()

    def keep(self) -> None:
        """Keep what this run made and drop nothing, then release the files (a run that stopped
        before it asked for every entry still of use): the new entries go into the overlay
        with all of the overlay's. Never raises on I/O."""
        writer, self._writer = self._writer, None
        try:
            if writer is not None:
                self._carry_overlay(writer)
                writer.finish(self._overlay_path, self._version)
        except OSError:
            if writer is not None:
                writer.discard()
        finally:
            self.release()

    def _carry_overlay(self, writer: Writer) -> None:
        """Add to ``writer`` the overlay's readable entries it does not hold (nor forgotten ones)."""
        for key, (tag, _start, _count, digest) in self._overlay.index.items():
            if key in writer.keys or key in self._forgotten:
                continue
            if (body := self._overlay.entry(key, tag)) is not None:
                writer.add(key, tag, body, digest, self._overlay.heads.get(key))

    def close(self) -> bool:
        """Keep what this run made, with the entries it used; release the files. Never raises
        on I/O. True when the store was rewritten (only entries in use are left anywhere).

        The new entries go into the overlay with the overlay's other entries still in use (all
        of them, for a run that does not prune); when
        that is more than an eighth of the store (or there is no store), into a new store with
        every entry still in use, and the overlay goes.
        """
        writer, self._writer = self._writer, None
        # What the overlay will carry over besides the new entries: those in use (pruning), or all.
        used_overlay = (
            sum(1 for source in self._hits.values() if source is self._overlay)
            if self._prune
            else len(self._overlay.index)
        )
        stale = dropped = 0
        if self._prune:
            # The store's entries no longer used: rewritten without them once they are many.
            stale = sum(1 for key in self._store.index if key not in self._hits)
            dropped = any(key not in self._hits for key in self._overlay.index)
        rewrite = False
        try:
            if writer is None and dropped and not self.broken:
                # Nothing new, but the overlay holds entries no longer used: written again without them.
                writer = Writer(self._folder, self._form)
            if writer is not None:
                rewrite = not self._store.index or OVERLAY_SHARE * (len(writer.keys) + used_overlay + stale) > max(
                    len(self._store.index), OVERLAY_SHARE * OVERLAY_MIN
                )
                for key, source in self._hits.items():
                    if key in writer.keys or not (rewrite or source is self._overlay):
                        continue
                    # Read again rather than held: a store's entries stay on disk during the run.
                    tag, _start, _count, digest = source.index[key]
                    body = source.entry(key, tag)
                    if body is not None:
                        writer.add(key, tag, body, digest, source.heads.get(key))
                if not (rewrite or self._prune):
                    # Not a pruning run: the overlay's entries it did not use stay until a rewrite.
                    self._carry_overlay(writer)
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
