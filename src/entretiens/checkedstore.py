"""One checked store format for the caches that keep many small entries: the YAML parses
(:mod:`entretiens.yamlcache`) and the units (:mod:`entretiens.unitstore`).

A cache kept as a file per entry made an edit open thousands of files; a store is two files
per cache. ``<name>.store`` holds every entry; ``<name>.overlay`` the entries made since, so
that an edit writes a few kilobytes, not the whole store (the store is rewritten, keeping only
the entries in use, when the overlay has grown to an eighth of it). Each file is a magic line
(one per cache), the entries' bodies, a binary index (:class:`Table`) and a fixed-size trailer::

    <magic line><body><body>...<index>table <offset of the index, 16 hex digits> <SHA-256 of the index, 64 hex digits>\n

Each entry has a key (a text), a ``tag`` (a cache's own fixed number of integers the entry is
valid for: a YAML file's stamp; none for units), its body's place and digest (the first bytes
of its SHA-256, as many as the cache keeps), and, in the stores of a cache whose format has
heads only, a ``head``: bytes the cache keeps with the entry (the kept pages' names, sizes and
digests; :meth:`Store.put` writes a value as JSON), checked with the index and read only when
its entry is used.

The index is held as it was read, not decoded into a row of objects per entry: the decoded
JSON indexes of a 10,000-episode show held ~50 MiB through a whole build, and their decode
and checks cost a third of a second at each edit. A file that is missing, cut, damaged,
foreign or written by other code (``version``) is ignored whole; an entry whose body no
longer matches its digest, or whose tag is not the one asked for, is ignored alone. Nothing
in a store runs code: the caller decides what a body is.

A store file proven whole (:mod:`entretiens.storeproof`) gives its bodies without a check of each.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import struct
from collections.abc import Callable, Container, Iterator, Mapping
from pathlib import Path
from typing import Final, TypeVar

from .storeproof import proof_path, proven
from .storeproof import prove as prove
from .storetable import MAX_INDEX, TRAILER_MARK, Row, Rows, Table, hash_key, key_bytes
from .storetable import TRAILER_SIZE as TRAILER_SIZE
from .storetable import Format as Format
from .storetable import Tag as Tag
from .storetable import Writer as Writer
from .storetable import version_of as version_of

#: The store is rewritten when the overlay holds more than this share of its entries ...
OVERLAY_SHARE = 8
#: ... and more than this many entries.
OVERLAY_MIN = 64

#: The largest body :meth:`Store.read` decodes once for all the entries that hold it (the checks
#: of an episode with no problem, the same few bytes for thousands of episodes).
SHARED_MAX: Final = 64

#: Where an entry's body is, its digest (as many bytes as the format keeps), and its row.
Found = tuple[int, int, bytes, int]
_NO_TAG: Final[Tag] = ()
_T = TypeVar("_T")


def _matches(body: bytes, digest: bytes) -> bool:
    """Whether ``body`` has that digest (the first bytes of its SHA-256)."""
    return hashlib.sha256(body).digest()[: len(digest)] == digest


class Reader:
    """One store file opened for reading: its index, and its entries read on demand."""

    def __init__(self, path: Path, form: Format, version: str) -> None:
        self.table: Table | None = None
        #: The hashes of its keys (:attr:`Table.first`; none without an index).
        self.hashes: Container[int] = ()
        self._form = form
        self._handle: int | None = None
        #: Where the bodies end (the index starts).
        self._end = 0
        #: The file was proven whole at the stamp it has (see the module): bodies not checked.
        self.proven = False
        try:
            # Non-blocking and checked: a FIFO or a device at this name must not hang the build.
            handle = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        except OSError:
            return
        try:
            table = self._read_index(handle, version, path)
        except (OSError, ValueError, TypeError, IndexError, KeyError, OverflowError, struct.error):
            table = None
        if table is None:
            os.close(handle)
            return
        self.table = table
        self.hashes = table.first
        self._handle = handle

    def __len__(self) -> int:
        return 0 if self.table is None else len(self.table)

    def _read_index(self, handle: int, version: str, path: Path) -> Table | None:
        magic = self._form.magic
        status = os.fstat(handle)
        if not stat.S_ISREG(status.st_mode) or status.st_size < len(magic) + TRAILER_SIZE:
            return None
        if os.pread(handle, len(magic), 0) != magic:
            return None
        trailer = os.pread(handle, TRAILER_SIZE, status.st_size - TRAILER_SIZE)
        if not trailer.startswith(TRAILER_MARK) or not trailer.endswith(b"\n"):
            return None
        offset = int(trailer[6:22], 16)
        length = status.st_size - TRAILER_SIZE - offset
        if not len(magic) <= offset or not 0 < length <= MAX_INDEX:
            return None
        raw = os.pread(handle, length, offset)
        if hashlib.sha256(raw).hexdigest().encode("ascii") != trailer[23:87]:
            return None
        self._end = offset
        table = Table(raw, self._form, version)
        self.proven = proven(path, status)
        return table

    def find(self, key: bytes, tag: Tag, hashed: int | None = None) -> Found | None:
        """Where the body of the entry of ``key`` (UTF-8; its :func:`_hash` is ``hashed``, when
        known) for ``tag`` is, its digest and its row, or None."""
        table = self.table
        if table is None:
            return None
        found = table.look(key, hashed)
        if found is None:
            return None
        number, row = found
        start, length = row[0], row[1]
        if row[6:] != tag or start < len(self._form.magic) or start + length > self._end:
            return None
        return start, length, row[5], number

    def entry(self, key: str, tag: Tag = _NO_TAG) -> bytes | None:
        """The checked body of the entry of ``key`` made for ``tag``, or None."""
        found = self.find(key_bytes(key), tag)
        return None if found is None else self.body(found)

    def body(self, found: Found) -> bytes | None:
        """The body :meth:`find` placed, checked against its digest, or None."""
        start, length, digest, _number = found
        if self._handle is None:
            return None
        try:
            # An entry all of whose data is its head (a page unit without an inline file): no read.
            body = os.pread(self._handle, length, start) if length else b""
        except OSError:
            return None
        if len(body) != length or not (self.proven or _matches(body, digest)):
            return None
        return body

    def head_json(self, key: bytes) -> bytes | None:
        """The head of ``key``'s entry as written, or None."""
        table = self.table
        number = -1 if table is None or not self._form.heads else table.find(key)
        return None if table is None or number < 0 else table.head(number)

    def tag_at(self, found: Found) -> Tag:
        """The tag of the entry :meth:`find` found."""
        return _NO_TAG if self.table is None else tuple(self.table.row(found[3])[6:])

    def head_at(self, found: Found) -> bytes | None:
        """The head as written of the entry :meth:`find` found, or None."""
        return None if self.table is None or not self._form.heads else self.table.head(found[3])

    def names(self) -> Iterator[str]:
        """Every entry's key (each decoded)."""
        table = self.table
        if table is not None:
            for number in range(len(table)):
                yield table.key(number)

    @property
    def index(self) -> Mapping[str, Row]:
        """key -> (tag, offset, length, digest in hex) of every entry (decoded when asked)."""
        return Rows(self.table)

    def close(self) -> None:
        if self._handle is not None:
            os.close(self._handle)
            self._handle = None


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
        self._only_store = (self._store,)
        #: Entries found valid by this run: key -> the number of its row in the store, or its
        #: complement (``~number``, below 0) in the overlay. A number, not the row's values:
        #: those are in the index, and a tuple of them per entry held ~3 MiB per 10,000 entries
        #: of each store through a build (see :meth:`_placed`).
        self._hits: dict[str, int] = {}
        #: Entries :meth:`touch` ed and not looked for yet: key -> tag (see :meth:`_touched_hits`).
        self._touched: dict[str, Tag] = {}
        #: Entries found unusable by this run: never carried over.
        self._forgotten: set[str] = set()
        self._writer: Writer | None = None
        #: digest -> what :meth:`read` decoded from a small body of that digest.
        self._decoded: dict[bytes, object] = {}
        #: Nothing more is written: a write failed (a full disk, a read-only folder).
        self.broken = False

    def _find(self, key: str, tag: Tag) -> tuple[Reader, Found] | None:
        """The file holding the entry of ``key`` for ``tag`` (the overlay first), and where."""
        raw = key_bytes(key)
        hashed = hash_key(raw)
        for source in self._sources(hashed):
            found = source.find(raw, tag, hashed)
            if found is not None:
                return source, found
        return None

    def _sources(self, hashed: int) -> tuple[Reader, ...]:
        """Where a key of that hash may be: the overlay (first) only if a key of its own has it."""
        return (self._overlay, self._store) if hashed in self._overlay.hashes else self._only_store

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
        raw = key_bytes(key)
        hashed = hash_key(raw)
        for source in self._sources(hashed):
            found = source.find(raw, tag, hashed)
            if found is not None and (body := source.body(found)) is not None:
                self._hits[key] = self._code(source, found)
                return body
        return None

    def head(self, key: str) -> object:
        """:meth:`head_bytes` decoded as JSON."""
        found = self.head_bytes(key)
        return None if found is None else json.loads(found)

    def head_bytes(self, key: str) -> bytes | None:
        """The head of the entry :meth:`get` found or :meth:`put` kept under ``key`` in this
        run (for a format with heads) as written, or None."""
        writer = self._writer
        if writer is not None and key in writer.keys:
            return writer.heads.get(key)
        code = self._hit(key)
        if code is None:
            return None
        source, number = self._source(code)
        return None if source.table is None or not self._form.heads else source.table.head(number)

    def digest(self, key: str) -> str | None:
        """The digest of the body :meth:`get` found (checked) or :meth:`put` kept under ``key``
        in this run, or None: what the body is known by, without hashing it again."""
        writer = self._writer
        if writer is not None and (made := writer.keys.get(key)) is not None:
            return made[3]
        code = self._hit(key)
        if code is None:
            return None
        source, number = self._source(code)
        return None if source.table is None else source.table.digest(number).hex()

    def read(self, key: str, decode: Callable[[bytes], _T | None], tag: Tag = _NO_TAG) -> _T | None:
        """``decode`` of what :meth:`get` finds, or None. A small body (:data:`SHARED_MAX`)
        is read, checked and decoded once for every entry that holds it: an entry's digest is
        in the checked index, so any body found whole with that digest is that entry's body.
        What ``decode`` returns is shared by those entries: it must not be changed."""
        if self._writer is None or key not in self._writer.keys:
            hit = self._find(key, tag)
            if hit is not None:
                source, found = hit
                if found[1] <= SHARED_MAX and found[2] in self._decoded:
                    self._hits[key] = self._code(source, found)
                    return self._decoded[found[2]]  # type: ignore[return-value]
                if source is self._store or self._store.table is None:
                    # Found in the one place it can be: read without looking for it again.
                    body = source.body(found)
                    if body is None:
                        return None
                    self._hits[key] = self._code(source, found)
                    return self._decoded_body(body, decode)
        body = self.get(key, tag)
        if body is None:
            return None
        return self._decoded_body(body, decode)

    def _decoded_body(self, body: bytes, decode: Callable[[bytes], _T | None]) -> _T | None:
        value = decode(body)
        if value is not None and len(body) <= SHARED_MAX:
            # The digest of the body just read (of this entry or, when it was damaged, of the
            # store's entry under the same key): taken again, a few bytes.
            self._decoded[hashlib.sha256(body).digest()[: self._form.digest_size // 2]] = value
        return value

    def touch(self, key: str, tag: Tag = _NO_TAG) -> None:
        """Mark the entry under ``key`` for ``tag`` as in use without reading it, so that
        :meth:`close` keeps it (an entry this run found under ``key`` already stays the one).

        Looked for only when that matters: when :meth:`close` rewrites the store (or prunes),
        or when the entry's :meth:`digest` or head is asked. A run that does not rewrite the
        store carries the overlay over whole (it does not prune) and leaves the store as it
        is: the parses of the 10,000 episodes read back at each edit of a large show were
        looked for, twice each (the overlay, then the store), for a rewrite that comes once
        in many runs."""
        self._touched[key] = tag

    def _hit(self, key: str) -> int | None:
        """Where the entry found under ``key`` in this run is (see :attr:`_hits`); a touched
        one looked for now."""
        if self._touched and (tag := self._touched.pop(key, None)) is not None and key not in self._hits:
            hit = self._find(key, tag)
            if hit is not None:
                self._hits[key] = self._code(*hit)
        return self._hits.get(key)

    def _code(self, source: Reader, found: Found) -> int:
        """What :attr:`_hits` notes of an entry :meth:`_find` found."""
        return found[3] if source is self._store else ~found[3]

    def _source(self, code: int) -> tuple[Reader, int]:
        """The file and row number of an entry noted in :attr:`_hits`."""
        return (self._store, code) if code >= 0 else (self._overlay, ~code)

    def _placed(self, code: int) -> tuple[Reader, Found]:
        """The file holding an entry noted in :attr:`_hits`, and where (as :meth:`_find` found it:
        its row, found valid then, is read again from the index held)."""
        source, number = self._source(code)
        assert source.table is not None  # an entry was found in it
        row = source.table.row(number)
        return source, (row[0], row[1], row[5], number)

    def _touched_hits(self) -> None:
        """Look for the entries touched and not found otherwise, as :meth:`touch` once did at once."""
        touched, self._touched = self._touched, {}
        hits = self._hits
        for key, tag in touched.items():
            if key not in hits and (hit := self._find(key, tag)) is not None:
                hits[key] = self._code(*hit)

    def forget(self, key: str) -> None:
        """Drop the entry :meth:`get` found under ``key`` (what it holds turned out unusable)."""
        self._hits.pop(key, None)
        self._touched.pop(key, None)
        self._forgotten.add(key)

    def put(
        self, key: str, body: bytes, tag: Tag = _NO_TAG, head: object = None, *, head_json: bytes | None = None
    ) -> None:
        """Keep ``body`` under ``key`` for ``tag``, with ``head`` for a format with heads
        (``head_json``: the head already written as JSON). No error if it cannot be kept: it is
        made again next time (and after a failed write, nothing more is written by this run)."""
        if self.broken:
            return
        self._hits.pop(key, None)
        self._touched.pop(key, None)
        try:
            if self._writer is None:
                self._writer = Writer(self._folder, self._form)
            elif self._writer.keys.get(key, (None,))[0] == tag:
                return  # put already (the same unit asked for twice)
            self._writer.add(key, tag, body, self._form.digest(body), head, head_json=head_json)
        except ValueError:
            return  # an entry this format cannot hold: made again next time
        except OSError:
            self.broken = True
            if self._writer is not None:
                self._writer.discard()
                self._writer = None

    def unused(self, used: set[str]) -> set[str]:
        """The keys in the store and the overlay but ``used``: only the keys of the entries this
        run did not find are decoded (a key found was asked for): after an edit, a few."""
        found: dict[Reader, set[int]] = {self._store: set(), self._overlay: set()}
        for code in self._hits.values():
            source, number = self._source(code)
            found[source].add(number)
        keys: set[str] = set()
        for source, numbers in found.items():
            if (table := source.table) is not None:
                keys.update(table.key(n) for n in range(len(table)) if n not in numbers)
        return keys - used

    def release(self) -> None:
        """Release the files without keeping anything (what was put is lost)."""
        if self._writer is not None:
            self._writer.discard()
            self._writer = None
        self._overlay.close()
        self._store.close()
        self._hits.clear()
        self._touched.clear()

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

    def _carry(self, writer: Writer, source: Reader, key: str, found: Found, tag: Tag) -> None:
        """Add ``key``'s entry in ``source`` to ``writer``, read again (a store's entries stay on
        disk during the run, not held) and checked."""
        body = source.body(found)
        if body is None:
            return
        head = source.head_at(found)
        with contextlib.suppress(ValueError):
            writer.add(key, tag, body, found[2].hex(), head_json=head)

    def _carry_overlay(self, writer: Writer) -> None:
        """Add to ``writer`` the overlay's readable entries it does not hold (nor forgotten ones)."""
        for key, (tag, _start, _length, _digest) in self._overlay.index.items():
            if key in writer.keys or key in self._forgotten:
                continue
            found = self._overlay.find(key_bytes(key), tag)
            if found is not None:
                self._carry(writer, self._overlay, key, found, tag)

    def close(self) -> bool:
        """Keep what this run made, with the entries it used; release the files. Never raises
        on I/O. True when the store was rewritten (only entries in use are left anywhere).

        The new entries go into the overlay with the overlay's other entries still in use (all
        of them, for a run that does not prune); when
        that is more than an eighth of the store (or there is no store), into a new store with
        every entry still in use, and the overlay goes.
        """
        writer, self._writer = self._writer, None
        overlay, store = self._overlay, self._store
        if self._prune:
            self._touched_hits()  # counted below
        # What the overlay will carry over besides the new entries: those in use (pruning), or all.
        used_overlay = sum(1 for code in self._hits.values() if code < 0) if self._prune else len(overlay)
        stale = 0
        dropped = False
        if self._prune:
            # The store's entries no longer used: rewritten without them once they are many.
            # (Counted without a look at each of the store's keys: those found in the store,
            # and those of the overlay found there that the store holds too.)
            both = sum(
                1
                for key in overlay.names()
                if (code := self._hits.get(key)) is not None
                and code < 0
                and store.table is not None
                and store.table.find(key_bytes(key)) >= 0
            )
            stale = len(store) - both - sum(1 for code in self._hits.values() if code >= 0)
            dropped = any(key not in self._hits for key in overlay.names())
        rewrite = False
        try:
            if writer is None and dropped and not self.broken:
                # Nothing new, but the overlay holds entries no longer used: written again without them.
                writer = Writer(self._folder, self._form)
            if writer is not None:
                rewrite = not len(store) or OVERLAY_SHARE * (len(writer.keys) + used_overlay + stale) > max(
                    len(store), OVERLAY_SHARE * OVERLAY_MIN
                )
                if rewrite:
                    # Else the touched entries need no look: this run does not prune, so the
                    # overlay's go on with it, and the store stays as it is.
                    self._touched_hits()
                for key, code in self._hits.items():
                    if key in writer.keys or not (rewrite or code < 0):
                        continue
                    source, found = self._placed(code)
                    tag = source.tag_at(found) if self._form.tag_size else _NO_TAG
                    self._carry(writer, source, key, found, tag)
                if not (rewrite or self._prune):
                    # Not a pruning run: the overlay's entries it did not use stay until a rewrite.
                    self._carry_overlay(writer)
                writer.finish(self._store_path if rewrite else self._overlay_path, self._version)
                if rewrite:
                    self._overlay_path.unlink(missing_ok=True)
                    proof_path(self._overlay_path).unlink(missing_ok=True)
        except OSError:
            rewrite = False
            if writer is not None:
                writer.discard()
        finally:
            overlay.close()
            store.close()
            self._hits.clear()
            self._touched.clear()
        return rewrite
