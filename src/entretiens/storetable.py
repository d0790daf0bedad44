"""A :mod:`entretiens.checkedstore` file as written (:class:`Writer`), and its index held as
read (:class:`Table`): fixed-size
rows sorted by a hash of their key, then the keys' and heads' texts, one bytes object checked
by the file's trailer. A row is decoded only when its entry is asked for: the JSON indexes
decoded into a row of objects per entry held ~50 MiB through a build of 10,000 episodes, and
their decode and checks cost a third of a second at each edit.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import struct
import sys
import tempfile
import zlib
from array import array
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Final

from .storeproof import stamp_of, write_proof

#: ``table <offset, 16 hex digits> <SHA-256 of the index, 64 hex digits>\n`` (an earlier
#: form's trailer said ``index``: such a file is ignored whole).
TRAILER_SIZE: Final = 6 + 16 + 1 + 64 + 1
TRAILER_MARK: Final = b"table "
#: The largest index read.
MAX_INDEX: Final = 256 * 2**20
#: The integers an entry is valid for (a cache's own; the empty tuple for none).
Tag = tuple[int, ...]
#: An entry as a reader's ``index`` gives it: (tag, offset, length, digest in hex).
Row = tuple[Tag, int, int, str]
#: key -> (tag, offset, length, digest) of the entries a :class:`Writer` wrote.
Index = dict[str, Row]

#: The index's head: its version's length, the number of rows, the bytes of digest and the
#: integers of tag in each row, and whether the rows have heads.
_HEAD: Final = struct.Struct("<IIIII")
#: A row's fixed part: the body's offset and length, where its key (then its head) starts among
#: the texts, the key's length and the head's length; then the digest and the tag.
_FIXED: Final = struct.Struct("<QQQII")


def hash_key(key: bytes) -> int:
    """What the rows are sorted and found by (a key's text is compared too: equal hashes of
    different keys only cost a look at the next row)."""
    return zlib.crc32(key)


def key_bytes(key: str) -> bytes:
    if key.isascii():
        return key.encode()  # a quarter of the time
    # A path's text may hold the surrogates Python reads an undecodable file name as.
    return key.encode("utf-8", "surrogatepass")


@dataclass(frozen=True, slots=True)
class Format:
    """What tells one cache's store files from another's."""

    #: The first line of every file.
    magic: bytes
    #: How many integers each entry's tag holds.
    tag_size: int
    #: How many hex digits of each body's SHA-256 are kept (64: all; even).
    digest_size: int
    #: The prefix of the temporary files a store is written under.
    prefix: str
    #: Each entry's row in the index ends with its head (see the module).
    heads: bool = False

    def digest(self, body: bytes | memoryview) -> str:
        """What an entry's body is checked against."""
        return hashlib.sha256(body).hexdigest()[: self.digest_size]

    def row(self) -> struct.Struct:
        """A row of this format's index (:data:`_FIXED`, then the digest and the tag)."""
        return struct.Struct(f"<QQQII{self.digest_size // 2}s{self.tag_size}q")


class Table:
    """A store file's index as read, checked, and held in one piece: a row is decoded only when
    its entry is asked for.

    Laid out as the head (:data:`_HEAD`), the version, the rows' hashes (:func:`_hash` of the
    keys, 4 bytes each, sorted), the rows (fixed size, in the same order), then the keys' and
    heads' texts.
    """

    def __init__(self, raw: bytes, form: Format, version: str) -> None:
        """:raises ValueError: ``raw`` is not an index of ``form`` and ``version``."""
        size, count, digest, tag, heads = _HEAD.unpack_from(raw, 0)
        if (digest, tag, heads) != (form.digest_size // 2, form.tag_size, int(form.heads)):
            raise ValueError("another format")
        at = _HEAD.size
        if raw[at : at + size] != version.encode("utf-8"):
            raise ValueError("another version")
        at += size
        hashes = array("I")
        hashes.frombytes(raw[at : at + 4 * count])
        if len(hashes) != count or hashes.itemsize != 4:
            raise ValueError("cut")
        if sys.byteorder != "little":
            hashes.byteswap()
        self._row = form.row()
        self._tag_size = form.tag_size
        self._rows = at + 4 * count
        self._texts = self._rows + count * self._row.size
        if self._texts > len(raw):
            raise ValueError("cut")
        self._raw = raw
        self._count: int = count
        #: hash -> the first row of that hash (rows of one hash are next to each other); a key
        #: whose hash is not in it has no row (looked for by a store's overlay before its rows).
        self.first: dict[int, int] = dict(zip(reversed(hashes), range(count - 1, -1, -1), strict=True))
        self._hashes = hashes

    def __len__(self) -> int:
        return self._count

    def find(self, key: bytes, hashed: int | None = None) -> int:
        """The row of ``key`` (whose :func:`_hash` is ``hashed``, when known), or -1."""
        found = self.look(key, hashed)
        return -1 if found is None else found[0]

    def look(self, key: bytes, hashed: int | None = None) -> tuple[int, tuple[Any, ...]] | None:
        """The number and the values (see :meth:`row`) of ``key``'s row, or None."""
        if hashed is None:
            hashed = hash_key(key)
        number = self.first.get(hashed)
        if number is None:
            return None
        raw, shape, rows, texts = self._raw, self._row, self._rows, self._texts
        while True:
            row = shape.unpack_from(raw, rows + number * shape.size)
            if raw[texts + row[2] : texts + row[2] + row[3]] == key:
                return number, row
            number += 1
            if number >= self._count or self._hashes[number] != hashed:
                return None

    def row(self, number: int) -> tuple[Any, ...]:
        """Row ``number`` as stored: offset, length, text, key size, head size, digest, tag."""
        return self._row.unpack_from(self._raw, self._rows + number * self._row.size)

    def digest(self, number: int) -> bytes:
        """The digest of row ``number`` (sliced from the index, no row decoded)."""
        at = self._rows + number * self._row.size + _FIXED.size
        return self._raw[at : at + self._row.size - _FIXED.size - 8 * self._tag_size]

    def key(self, number: int) -> str:
        _start, _length, text, size, _head = _FIXED.unpack_from(self._raw, self._rows + number * self._row.size)
        at = self._texts + text
        return self._raw[at : at + size].decode("utf-8", "surrogatepass")

    def head(self, number: int) -> bytes:
        """The head of row ``number`` as written (checked with the index, not decoded)."""
        _start, _length, text, size, head = _FIXED.unpack_from(self._raw, self._rows + number * self._row.size)
        at = self._texts + text + size
        return self._raw[at : at + head]


class Rows(Mapping[str, Row]):
    """A store file's entries as a mapping, each decoded when asked (for what looks at a store
    as a whole): none without an index."""

    def __init__(self, table: Table | None) -> None:
        self._table = table

    def __getitem__(self, key: str) -> Row:
        table = self._table
        number = -1 if table is None else table.find(key_bytes(key))
        if table is None or number < 0:
            raise KeyError(key)
        start, length, _text, _size, _head, digest, *tag = table.row(number)
        return tuple(tag), start, length, digest.hex()

    def __iter__(self) -> Iterator[str]:
        table = self._table
        for number in range(0 if table is None else len(table)):
            yield table.key(number)  # type: ignore[union-attr]

    def __len__(self) -> int:
        return 0 if self._table is None else len(self._table)


def encode(rows: list[tuple[bytes, Tag, int, int, bytes, bytes]], form: Format, version: str) -> bytes:
    """The index of ``rows`` (key, tag, offset, length, raw digest, head) as :class:`Table` reads it.

    :raises struct.error: a value that does not fit (a tag beyond 64 bits).
    """
    rows.sort(key=lambda row: hash_key(row[0]))
    shape = form.row()
    hashes = array("I", [hash_key(row[0]) for row in rows])
    if sys.byteorder != "little":
        hashes.byteswap()
    packed: list[bytes] = []
    texts: list[bytes] = []
    at = 0
    for key, tag, start, length, digest, head in rows:
        packed.append(shape.pack(start, length, at, len(key), len(head), digest, *tag))
        texts.append(key)
        texts.append(head)
        at += len(key) + len(head)
    encoded = version.encode("utf-8")
    head = _HEAD.pack(len(encoded), len(rows), form.digest_size // 2, form.tag_size, int(form.heads))
    return b"".join([head, encoded, hashes.tobytes(), *packed, *texts])


def version_of(path: Path) -> str | None:
    """The version a store file was written for (its index whole and checked), or None: for
    tools and tests that look at a store from outside."""
    with contextlib.suppress(OSError, ValueError, struct.error):
        data = path.read_bytes()
        trailer = data[-TRAILER_SIZE:]
        if trailer.startswith(TRAILER_MARK) and len(data) > TRAILER_SIZE:
            raw = data[int(trailer[6:22], 16) : -TRAILER_SIZE]
            if hashlib.sha256(raw).hexdigest().encode("ascii") == trailer[23:87]:
                size = _HEAD.unpack_from(raw, 0)[0]
                return raw[_HEAD.size : _HEAD.size + size].decode("utf-8")
    return None


class Writer:
    """A new store file being written beside its final name, entry by entry."""

    def __init__(self, folder: Path, form: Format) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=folder, prefix=form.prefix, suffix=".tmp")
        self.path = Path(name)
        self.file: BinaryIO = os.fdopen(handle, "wb")
        self.file.write(form.magic)
        #: The SHA-256 of every byte written, for the file's proof (see the module).
        self._whole = hashlib.sha256(form.magic)
        self._form = form
        self.offset = len(form.magic)
        #: key -> (tag, offset, length, digest) of each entry written, in order.
        self.keys: Index = {}
        #: key -> the head of each entry as written, for a format with heads.
        self.heads: dict[str, bytes] = {}

    def add(
        self, key: str, tag: Tag, body: bytes, digest: str, head: object = None, *, head_json: bytes | None = None
    ) -> None:
        """Write an entry (a key written again is found at its last body), with its head for a
        format with heads (``head_json``: the head already written as JSON).

        :raises ValueError: an entry the index cannot hold (a tag beyond 64 bits), not written.
        """
        try:
            struct.pack(f"<{len(tag)}q", *tag)
        except struct.error as error:
            raise ValueError(f"a tag the index cannot hold: {tag}") from error
        if len(digest) != self._form.digest_size or len(tag) != self._form.tag_size:
            raise ValueError("another format's entry")
        self.file.write(body)
        self._whole.update(body)
        self.keys[key] = (tag, self.offset, len(body), digest)
        if self._form.heads:
            if head_json is None:
                head_json = json.dumps(head, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            self.heads[key] = head_json
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
        """Write the index and trailer, and put the file at ``target`` in one step.

        :raises OSError: also for an entry the index cannot hold (a tag beyond 64 bits).
        """
        rows = [
            (key_bytes(key), tag, start, count, bytes.fromhex(digest), self.heads.get(key, b""))
            for key, (tag, start, count, digest) in self.keys.items()
        ]
        try:
            index = encode(rows, self._form, version)
        except (struct.error, ValueError, UnicodeEncodeError) as error:
            raise OSError(f"not a store's entry: {error}") from error
        trailer = TRAILER_MARK + b"%016x %s\n" % (self.offset, hashlib.sha256(index).hexdigest().encode("ascii"))
        self.file.write(index)
        self.file.write(trailer)
        self._whole.update(index)
        self._whole.update(trailer)
        self.file.close()
        self.path.chmod(0o644)
        self.path.replace(target)
        # The bytes just written, to prove the file by once its stamp has settled (see prove()).
        with contextlib.suppress(OSError):
            write_proof(target, "pending", stamp_of(target.stat()), self._whole.hexdigest())

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            self.file.close()
        with contextlib.suppress(OSError):
            self.path.unlink(missing_ok=True)
