"""One kind of units kept in one checked store, not a file per unit.

A rebuild of 10,000 episodes read back 29,500 unit files one by one (a third of an edit's
rebuild went to opening them); it now opens two files per kind, ``<kind>.store`` and
``<kind>.overlay``, in the format of :mod:`entretiens.checkedstore` (shared with the YAML
cache): a store that is missing, cut, damaged, foreign or written by other code is ignored
whole, and an entry whose bytes no longer match its digest is ignored alone: its unit is made
again. The store only ever saves time, never decides what is published. This module holds the
units' own entries: each file's name and size (:func:`encode`) then bytes; for a stored kind
(:data:`STORED_FORMAT`), each file's name, size, SHA-256 and marks as the entry's head in the
store's index (:func:`encode_head`: NUL-separated texts, not JSON), the file itself kept beside
the store as ``<kind>/<key[:2]>/<key>.<n>``, and only the bytes of its :data:`INLINE` files in
the entry.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Final

from .checkedfiles import Checked, replace
from .checkedstore import Format, Store
from .content import QUICK_PARTS, digest_in_marks
from .output import Content, Stored, child

_new = object.__new__

#: The units' files: no tag (a unit's key is a digest of all it is made from), whole digests.
#: Version 2: each entry's names and sizes as :func:`encode` writes them (version 1's were JSON).
FORMAT: Final = Format(magic=b"entretiens-units 2\n", tag_size=0, digest_size=64, prefix=".units.")
#: Version 2: heads in the form of :func:`encode_head` (version 1's were JSON: ignored whole).
STORED_FORMAT: Final = Format(
    magic=b"entretiens-stored-units 2\n", tag_size=0, digest_size=64, prefix=".units.", heads=True
)


def shelf(folder: Path, kind: str, version: str, *, stored: bool = False) -> Store:
    """The store and overlay of one kind of units in ``folder``, for one build. A build asks
    for every unit still of use, so an entry it did not ask for is dropped."""
    return Store(folder, kind, STORED_FORMAT if stored else FORMAT, version, prune=True)


def encode(files: dict[str, bytes]) -> bytes | None:
    """A unit's entry: its names and sizes, each followed by a NUL, after their length, then its
    files' bytes (split when read back: a JSON line cost a decode per kept item at every
    build). None for a name holding a NUL (no file's name does): such a unit is not kept."""
    names = "".join(f"{name}\0{len(content)}\0" for name, content in files.items())
    if names.count("\0") != 2 * len(files):
        return None
    header = names.encode("utf-8", "surrogatepass")
    return b"".join([b"%d\n" % len(header), header, *files.values()])


def decode(entry: bytes) -> dict[str, Content] | None:
    """What :func:`encode` was given, or None when ``entry`` is not one."""
    end = entry.find(b"\n", 0, 12)
    if end < 1 or not entry[:end].isdigit():
        return None
    offset = end + 1 + int(entry[:end])
    try:
        fields = entry[end + 1 : offset].decode("utf-8", "surrogatepass").split("\0")
        count = len(fields) - 1
        if count % 2 or fields[count]:
            return None
        files: dict[str, Content] = {}
        for at in range(0, count, 2):
            length = int(fields[at + 1])
            if length < 0:
                return None
            files[fields[at]] = entry[offset : offset + length]
            offset += length
    except ValueError:  # UnicodeDecodeError too
        return None
    return files if offset == len(entry) else None


#: What to note about a unit's files when it is made: name -> a short text, kept with the unit.
Marks = Callable[[Mapping[str, bytes]], Mapping[str, str]]
#: A name starting with this is the unit's own data, not a page (site's home page entry): kept
#: in the entry and handed on as bytes.
INLINE: Final = "#"


def _body(folder: Path | str, key: str, number: int) -> str:
    """Where file ``number`` of a stored unit is kept (a text: one Path per page is not free)."""
    return f"{folder}/{key[:2]}/{key}.{number}"


def write_stored(folder: Path, key: str, files: dict[str, bytes], marks: Marks | None) -> bytes | None:
    """Keep a stored unit's files as plain files of their own and return its entry: its head
    (:func:`encode_head`: names, sizes, digests and marks) after its length, then the bytes of
    the :data:`INLINE` files. The files are written before the entry is, so an entry found
    names files that were all written. None when they could not be kept (no error: the unit is
    then handed on as bytes), or when a name or a mark holds a NUL (no file's name does)."""
    noted = marks(files) if marks is not None else {}
    entries: list[tuple[str, int, str, str | None]] = []
    inline = []
    written: list[Path] = []
    try:
        (folder / key[:2]).mkdir(parents=True, exist_ok=True)
        for number, (name, content) in enumerate(files.items()):
            entries.append((name, len(content), hashlib.sha256(content).hexdigest(), noted.get(name)))
            if name.startswith(INLINE):
                inline.append(content)
                continue
            body = Path(_body(folder, key, number))
            replace(body, content)
            written.append(body)
        head = encode_head(entries)
    except (OSError, ValueError):
        for body in written:
            with contextlib.suppress(OSError):
                body.unlink()
        return None
    return b"".join([b"%d\n" % len(head), head, *inline])


#: A mark noted in a head as it is (``=``), or as the text after the file's SHA-256 and a space
#: (``+``: the marks of a page start with its digest, 65 bytes a file not kept twice).
_AS_IS, _AFTER_DIGEST = "=", "+"


def encode_head(entries: list[tuple[str, int, str, str | None]]) -> bytes:
    """A stored unit's head: for each file, its name, size, SHA-256 and marks, each followed by
    a NUL (a mark as :data:`_AS_IS` or :data:`_AFTER_DIGEST` says; none: empty). Split in one
    call when read back, where the JSON it replaced cost a decode of ~1 KB per kept unit.

    :raises ValueError: a name, digest or mark holding a NUL.
    """
    fields: list[str] = []
    for name, size, sha256, mark in entries:
        if mark is None:
            noted = ""
        elif mark.startswith(sha256 + " "):
            noted = _AFTER_DIGEST + mark[len(sha256) + 1 :]
        else:
            noted = _AS_IS + mark
        fields += (name, str(size), sha256, noted)
    if any("\0" in field for field in fields):
        raise ValueError("a NUL in a stored unit's head")
    return "".join(field + "\0" for field in fields).encode("utf-8", "surrogatepass")


def decode_head(head: bytes) -> list[tuple[str, int, str, str | None]] | None:
    """What :func:`encode_head` was given, or None when ``head`` is not one."""
    try:
        return list(_rows(head))
    except ValueError:  # UnicodeDecodeError too
        return None


def _rows(head: bytes) -> Iterator[tuple[str, int, str, str | None]]:
    """Each file :func:`encode_head` wrote in ``head``. :raises ValueError: not a head."""
    fields = head.decode("utf-8", "surrogatepass").split("\0")
    count = len(fields) - 1
    if count % 4 or fields[count]:
        raise ValueError("not a stored unit's head")
    for at in range(0, count, 4):
        name, size, sha256, noted = fields[at : at + 4]
        yield name, int(size), sha256, _mark(sha256, noted)


def _mark(sha256: str, noted: str) -> str | None:
    """A file's marks as :func:`encode_head` noted them. :raises ValueError: not a mark's form."""
    if not noted:
        return None
    if noted[0] == _AFTER_DIGEST:
        return f"{sha256} {noted[1:]}"
    if noted[0] == _AS_IS:
        return noted[1:]
    raise ValueError("not a stored unit's head")


class Bodies:
    """Where a stored kind's files are (``<folder>/<key[:2]>/<key>.<n>``), as texts and as
    :class:`~entretiens.output.Stored` paths: each made from its bucket's path, kept once, and
    its name (a whole path parsed again for each of 40,000 files cost ten times as much)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._text = str(folder)
        #: bucket name -> (its path as a text ending with "/", as a Stored path).
        self._buckets: dict[str, tuple[str, Stored]] = {}

    def text(self, key: str, number: int) -> str:
        """Where file ``number`` of the unit ``key`` is."""
        return _body(self._text, key, number)

    def stored(self, key: str, name: str, sha256: str, size: int, marks: str | None) -> Stored:
        """The file ``name`` (``<key>.<n>``) of the unit ``key`` as the :class:`Stored` file it is
        handed on as (the name text held once, by the path and the ledger alike)."""
        made = child(self.bucket(key)[1], name)
        made.sha256, made.size, made.marks = sha256, size, marks
        return made

    def bucket(self, key: str) -> tuple[str, Stored]:
        """The folder of the unit ``key``'s files: its text (ending with "/"), and its path."""
        found = self._buckets.get(key[:2])
        if found is None:
            text = f"{self._text}/{key[:2]}"
            found = self._buckets[key[:2]] = (text + "/", Stored(text))
        return found


def split_stored(entry: bytes) -> tuple[bytes, bytes] | None:
    """The head and the inline bytes of an entry :func:`write_stored` returned, or None."""
    end = entry.find(b"\n", 0, 12)
    length = entry[:end]
    if end < 1 or not length.isdigit() or end + 1 + int(length) > len(entry):
        return None
    return entry[end + 1 : end + 1 + int(length)], entry[end + 1 + int(length) :]


def decode_stored(
    bodies: Bodies, key: str, head: bytes, inline: bytes, checked: Checked, *, check: bool
) -> dict[str, Content] | None:
    """The files of a stored unit, from its head and the bytes of its inline files; None when
    one does not check out (made anew).

    :param head: each file's name, size, SHA-256 and marks (:func:`encode_head`), as the
        store's index holds it (checked here: it comes from a show folder).
    :param check: check each file against its digest (through the ledger); False for the files
        this build has just written, which the ledger is told of instead (see :meth:`Checked.wrote`).
    """
    try:
        fields = head.decode("utf-8", "surrogatepass").split("\0")
    except UnicodeDecodeError:
        return None
    count = len(fields) - 1
    if count % 4 or fields[count]:
        return None
    files: dict[str, Content] = {}
    offset = 0
    folder, bucket = bodies.bucket(key)
    holds = checked.holds if check else checked.wrote_file
    # Each file's path made from its bucket's parts, where Python allows (content.QUICK_PARTS).
    quick = (bucket._drv, bucket._root, bucket._parts) if QUICK_PARTS else None  # type: ignore[attr-defined]
    each = iter(fields)
    try:
        # The fields of each file in turn (read as _rows reads them, without a generator's
        # step, a slice of the fields, nor a call to child per file: 30,000 files
        # at every build of 10,000 episodes).
        for number, (name, text, sha256, noted) in enumerate(zip(each, each, each, each)):  # noqa: B905 (4 a file, checked)
            size = int(text)
            if size < 0:
                return None
            if name.startswith(INLINE):
                files[name] = inline[offset : offset + size]
                offset += size
                continue
            marks = _mark(sha256, noted)
            # The file's name, held once by its path and the ledger (see Checked.holds).
            own = f"{key}.{number}"
            if not holds(folder + own, size, sha256, own):
                return None
            if quick is None:
                made = child(bucket, own)
            else:
                made = _new(Stored)
                made._drv, made._root, made._parts = quick[0], quick[1], [*quick[2], own]  # type: ignore[attr-defined]
            if marks is not None and noted[0] == _AFTER_DIGEST and len(sha256) == 64:
                # The digest held once, as the head of the marks (see Stored).
                digest_in_marks(made, size, marks)
            else:
                made.sha256, made.size, made.marks = sha256, size, marks
            files[name] = made
    except (OSError, ValueError):
        return None
    return files if offset == len(inline) else None


def remove_files(bucket: Path, keys: set[str]) -> None:
    """Remove the files of stored units (``<key>.<n>`` in their bucket)."""
    with contextlib.suppress(OSError):
        for entry in os.scandir(bucket):
            if entry.name.partition(".")[0] in keys:
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
