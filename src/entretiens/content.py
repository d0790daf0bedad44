"""What a build's file is: bytes, a show's own file, or a cache's checked file (:class:`Stored`).

Apart from the write (output.py), since every stage hands these on: the site and the feed
make them, dates reads their marks, the write proves them against what public/ holds.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, TypeVar

#: A file's future content: bytes, or an existing file whose bytes are published unchanged
#: (a show's file, or a cache's :class:`Stored` file).
Content = bytes | Path

if TYPE_CHECKING:
    _ConcretePath = Path
else:
    _ConcretePath = type(Path())  # PosixPath: pathlib before 3.12 cannot make a plain Path subclass


class Stored(_ConcretePath):
    """A file of a cache (a page kept between builds, a social card), published as it is.

    A Path like any other content, so that every consumer of a build's files copies or reads
    it as such, instead of the build holding every page's bytes in memory. The cache checked
    its bytes against :attr:`sha256` when it handed it over; :func:`write_tree` checks the copy
    it publishes again, so a cache file changed since is never published. :attr:`marks` are
    small facts the cache kept about the bytes when they were made (see
    :func:`entretiens.dates.fingerprints`), so that nothing needs to read them again.

    The marks of a kept page start with its SHA-256 and a space: such a file holds its digest
    once, in its marks (:func:`digest_in_marks`; 30,000 texts of 64 characters fewer through a
    build of 10,000 episodes), and hands it on as :attr:`sha256` all the same.
    """

    __slots__ = ("_sha256", "marks", "size")
    _sha256: str | None
    size: int
    marks: str | None

    @property
    def sha256(self) -> str:
        """The SHA-256 (hex) the cache checked the file's bytes against."""
        own = self._sha256
        # None: the head of the marks, as digest_in_marks() set it.
        return own if own is not None else self.marks[:64]  # type: ignore[index]

    @sha256.setter
    def sha256(self, value: str) -> None:
        self._sha256 = value


def digest_in_marks(made: Stored, size: int, marks: str) -> None:
    """Give ``made`` its size and its marks, which start with its SHA-256 and a space (see
    :class:`Stored`), for its digest too. The marks of such a file are not changed after."""
    made._sha256, made.size, made.marks = None, size, marks


def content_bytes(content: Content) -> bytes:
    """The bytes a file will hold (read from the file for a path)."""
    return content if isinstance(content, bytes) else content.read_bytes()


def stored(path: Path, sha256: str, size: int, marks: str | None = None) -> Stored:
    """A :class:`Stored` file: ``path``, whose bytes have this SHA-256 (hex) and size."""
    made = Stored(path)
    made.sha256, made.size, made.marks = sha256, size, marks
    return made


def _quick_child() -> Callable[[Stored, str], Stored] | None:
    """How Python 3.10 and 3.11 make a folder's child in ``iterdir()`` (its parts and one name
    more), where ``/`` parses the whole path again: a tenth of the cost for the 60,000 kept
    files of a large show. A private method, so taken only where it makes exactly the path
    ``/`` makes; 3.12 parses paths lazily, and ``/`` is as quick there."""
    if sys.version_info >= (3, 12):
        return None
    make = getattr(Stored, "_make_child_relpath", None)
    if make is None:
        return None
    try:
        same = same_path(make(Stored("/a/b"), "c.1"), Stored("/a/b") / "c.1")
    except Exception:
        return None
    return make if same else None


def same_path(made: object, plain: PurePath) -> bool:
    """Whether a path made by one of pathlib's private methods is exactly the one parsing makes
    (type, text, parts, parent, name, hash, equality): the only case where one is taken."""
    return (
        type(made) is type(plain)
        and isinstance(made, PurePath)
        and (str(made), made.parts, made.parent, made.name, hash(made))
        == (str(plain), plain.parts, plain.parent, plain.name, hash(plain))
        and made == plain
    )


_QUICK_CHILD = _quick_child()


def _quick_parts() -> bool:
    """Whether a :class:`Stored` file may be made from its folder's parsed parts and its name
    directly, as Python 3.10 and 3.11 make a child (see :func:`_quick_child`) without its two
    calls: for the 30,000 kept files of a large show read back at each build, in one loop
    (see :func:`entretiens.unitstore.decode_stored`). Taken only where it makes exactly the
    path ``/`` makes."""
    if sys.version_info >= (3, 12):
        return False
    try:
        folder = Stored("/a/b")
        made = object.__new__(Stored)
        made._drv, made._root, made._parts = folder._drv, folder._root, [*folder._parts, "c.1"]  # type: ignore[attr-defined]
        return same_path(made, folder / "c.1") and same_path(made.parent, folder)
    except Exception:
        return False


#: Whether a Stored file may be made from its folder's parts (:func:`_quick_parts`).
QUICK_PARTS = _quick_parts()


_P = TypeVar("_P", bound=PurePath)


def child(folder: _P, name: str) -> _P:
    """``folder / name`` for a plain file name (no separator), made as cheaply as Python allows
    (``folder``: a Stored, or any path: the method is PurePath's)."""
    return _QUICK_CHILD(folder, name) if _QUICK_CHILD is not None else folder / name  # type: ignore[arg-type,return-value]


def file_sha256(path: Path | int) -> str:
    """The SHA-256 (hex) of a file (a path or an open descriptor), read a piece at a time."""
    hashed = hashlib.sha256()
    with open(path, "rb", buffering=0, closefd=not isinstance(path, int)) as stream:
        buffer = bytearray(PIECE)
        view = memoryview(buffer)
        while read := stream.readinto(buffer):
            hashed.update(view[:read])
    return hashed.hexdigest()


#: What :func:`file_sha256` reads at a time.
PIECE = 256 * 1024
