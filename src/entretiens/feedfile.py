"""A feed document written to a file of the cache while it is built, and handed on as that file
(so is the home page joined from its kept entries, see :mod:`entretiens.site`).

At 10,000 episodes the feed is tens of MB. Held as bytes, it lived from the feed stage to the
end of the write (a quarter of a build's memory), and its buffer grew by copies while it was
built. Here each piece (the head, each item, the tail) goes to a file as it is made, and its
SHA-256, its size and what the dating hashes of it (its text without ``lastBuildDate``, see
:mod:`entretiens.dates`) are taken on the way: the build hands on a
:class:`~entretiens.content.Stored` file, which the write copies and checks like any page kept
in a cache, and which the dating and the lint read a piece at a time.

Each build writes its documents into a folder of its own (:func:`build_folder`), removed as
soon as the command that made the build is done with it (:func:`remove`): a ``check``, a dry
run or a refused publish leaves nothing behind, however many run in a row. Files are named by
their SHA-256, written under a temporary name and renamed into place. A missing or damaged file
is refused by the write (its SHA-256 is checked on the copy); no build reads another's folder,
and each writes its feeds afresh.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import itertools
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

from .atomicfile import LEFTOVER_NS, last_written, lock_folder, remove_old
from .content import PIECE, Content, Stored, stored
from .errors import EntretiensError, OutputError

#: The feed's own date, which the show's hash leaves out (see :mod:`entretiens.dates`).
LAST_BUILD = re.compile(rb"<lastBuildDate>[^<]*</lastBuildDate>")
_OPEN = b"<lastBuildDate>"
#: How much of a file's start is read for its ``lastBuildDate`` (a channel's head is a few KB).
HEAD = 64 * 1024
#: What other builds left younger than this is kept when the folder is tidied (one may be in use):
#: the caches' one rule for what a killed build left.
_KEEP_NS = LEFTOVER_NS
#: How each build's own folder of documents begins (:func:`build_folder`).
_PREFIX = "build-"
#: The names a build gives what it writes in the folder of documents: its own folder
#: (``mkdtemp``'s letters after the prefix), and loose, as earlier versions wrote them, a
#: document (its SHA-256 and suffix) or one being written (``.<pid>.<n>.tmp``). Nothing else
#: there is tidied: the folder may be a link to one the host keeps other things in.
_OURS = re.compile(rf"{_PREFIX}[a-z0-9_]+|[0-9a-f]{{64}}\.(?:xml|html)|\.[0-9]+\.[0-9]+\.tmp")
#: Each temporary file's own number in this process.
_NUMBERS = itertools.count()
#: The build folders this process holds, each by a descriptor locked (``flock``) until the
#: folder is removed or let go (:func:`release`): a build of another process leaves a locked
#: folder, however long ago it was written (a deploy uploading for an hour, a first publish
#: copying hours of audio).
_HELD: dict[Path, int] = {}

#: Where each item of a document lies in its file, and the SHA-256 of its bytes (hex): what the
#: lint looks up its kept findings by, without cutting the file and hashing each item again.
Item = tuple[int, int, str]
#: The items of the documents written by this process, by the SHA-256 of the whole file (see
#: :func:`items_of`); only the last few (a build writes one feed, its archive pages, a copy).
_ITEMS: dict[str, tuple[Item, ...]] = {}
_ITEMS_KEPT = 16


class Writer:
    """A feed document written a piece at a time: into a file of ``folder``, or into memory.

    Each piece written must be a whole number of XML nodes (the head up to a line break, whole
    items, the tail): no ``lastBuildDate`` element spans two pieces, so that what the dating
    hashes is taken piece by piece.
    """

    def __init__(self, folder: Path | None, *, text: bool = True, suffix: str = ".xml") -> None:
        """:param folder: where the file goes; None: the document is made as bytes.
        :param text: take what the dating hashes on the way (see :func:`text_part`).
        :param suffix: the file's, after its SHA-256.
        """
        self._folder = folder
        self._suffix = suffix
        self._take_text = text
        self._memory = io.BytesIO()
        self._sha256 = hashlib.sha256()
        self._text = hashlib.sha256()
        self._size = 0
        #: Each item written with :meth:`write_item` (place, length, SHA-256); None once an item
        #: came after the piece that followed the items: no items are then handed on.
        self._items: list[Item] | None = []
        self._tail = False
        #: The file's descriptor while the document goes to a file; None: it is made in memory.
        self._fd: int | None = None
        self._temporary: Path | None = None
        #: The pieces not yet written to the file, and their size: written a PIECE at a time.
        self._pending: list[bytes] = []
        self._pending_size = 0
        #: The bytes written to the file so far: exactly its first bytes, all of the document's.
        self._on_disk = 0
        if folder is not None:
            temporary = folder / f".{os.getpid()}.{next(_NUMBERS)}.tmp"
            try:
                folder.mkdir(parents=True, exist_ok=True)
                self._fd = os.open(temporary, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
                self._temporary = temporary
            except OSError:
                # A cache only saves memory: a show folder that cannot be written (read-only,
                # another owner) still builds, its feed held as bytes as before.
                self._fd = None

    def write_item(self, piece: bytes, sha256: str | None = None, *, undated: bool = False) -> None:
        """Add the next item of the document, and note where it lies and its SHA-256 (taken
        here unless given: the digest of exactly these bytes, see :func:`items_of`).

        :param undated: the piece holds no ``lastBuildDate`` element (:func:`dated` said so
            when it was made): it is not searched for one (2 ms a MB, at every build).

        The items are one run of pieces: one written after a piece that followed the items
        gives the document no items (it is linted by cutting it, see :mod:`entretiens.feedlint`).
        """
        if self._fd is not None and self._items is not None:
            if self._tail:
                self._items = None
            else:
                self._items.append((self._size, len(piece), sha256 or hashlib.sha256(piece).hexdigest()))
        self._write(piece, undated=undated)

    def write(self, piece: bytes) -> None:
        """Add the next piece of the document (not an item: see :meth:`write_item`)."""
        if self._items:
            self._tail = True
        self._write(piece)

    def _write(self, piece: bytes, *, undated: bool = False) -> None:
        if self._fd is None:
            self._memory.write(piece)
            return
        self._sha256.update(piece)
        self._size += len(piece)
        if self._take_text:
            if undated:
                self._text.update(piece)
            else:
                text_part(piece, self._text)
        self._pending.append(piece)
        self._pending_size += len(piece)
        if self._pending_size >= PIECE:
            self._drain()

    def _drain(self) -> None:
        """Write the pending pieces to the file; on a disk that refuses them (full, over quota,
        failing), go on in memory with every byte so far (see :meth:`_to_memory`)."""
        if self._fd is None or not self._pending:
            return
        data = memoryview(b"".join(self._pending))
        self._pending.clear()
        self._pending_size = 0
        try:
            while data:
                written = _write_some(self._fd, data)
                self._on_disk += written
                data = data[written:]
        except OSError:
            self._to_memory(bytes(data))

    def _to_memory(self, rest: bytes) -> None:
        """Go on in memory: the file's bytes so far read back, then ``rest``, and the file removed.

        The file only saves memory (a cache): a disk that fills up while a feed is written
        must not fail a publish that can hold the feed as bytes.

        :raises OutputError: even the bytes already written cannot be read back.
        """
        assert self._fd is not None
        try:
            done = os.pread(self._fd, self._on_disk, 0) if self._on_disk else b""
        except OSError as exc:
            self.discard()
            raise OutputError(f"{self._folder}: the document cannot be written there ({exc.strerror})") from exc
        if len(done) != self._on_disk:
            self.discard()
            raise OutputError(f"{self._folder}: the document written there was cut short; publish again")
        self.discard()
        self._fd = None
        self._items = None
        self._memory.write(done)
        self._memory.write(rest)
        self._memory.write(b"".join(self._pending))
        self._pending.clear()
        self._pending_size = 0

    def flush(self) -> None:
        """Write out what is pending (before the process forks: a child must not hold it)."""
        self._drain()

    def finish(self) -> Content:
        """The document: its bytes, or the file it was written to, renamed after its SHA-256."""
        self._drain()
        if self._fd is None:
            return self._memory.getvalue()
        digest = self._sha256.hexdigest()
        assert self._folder is not None and self._temporary is not None
        target = self._folder / f"{digest}{self._suffix}"
        try:
            os.fchmod(self._fd, 0o644)
            os.replace(self._temporary, target)
        except OSError:
            self._to_memory(b"")
            return self._memory.getvalue()
        fd, self._fd = self._fd, None
        with contextlib.suppress(OSError):
            os.close(fd)
        if self._items:
            _note_items(digest, tuple(self._items))
        return stored(target, digest, self._size, self._text.hexdigest())

    def discard(self) -> None:
        """Drop a document not finished (a build that failed on the way)."""
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None
        if self._temporary is not None:
            with contextlib.suppress(OSError):
                self._temporary.unlink(missing_ok=True)
            self._temporary = None


#: How a document's bytes go to its file (a test stands a full disk in for it).
_write_some = os.write


def items_of(document: Stored) -> tuple[Item, ...] | None:
    """Where each item of a document this process wrote lies in its file, and its SHA-256;
    None if it is not known (then the lint cuts the file).

    Known by the SHA-256 of the whole file, which names it: the places are those of exactly
    the bytes the document was written with. A file changed since is caught where it is read:
    each item the lint checks is read by its place and its SHA-256 checked, and the write
    checks the whole file's SHA-256 before it publishes it.
    """
    return _ITEMS.get(document.sha256)


def _note_items(digest: str, items: tuple[Item, ...]) -> None:
    _ITEMS.pop(digest, None)
    _ITEMS[digest] = items
    while len(_ITEMS) > _ITEMS_KEPT:
        del _ITEMS[next(iter(_ITEMS))]


def dated(piece: bytes) -> bool:
    """Whether ``piece`` may hold a ``lastBuildDate`` element (what :func:`text_part` leaves out)."""
    return _OPEN in piece


def text_part(piece: bytes, digest: hashlib._Hash) -> None:
    """Add to ``digest`` the bytes of ``piece`` around each ``lastBuildDate`` element."""
    if _OPEN not in piece:
        digest.update(piece)
        return
    view = memoryview(piece)
    start = 0
    for found in LAST_BUILD.finditer(piece):
        digest.update(view[start : found.start()])
        start = found.end()
    digest.update(view[start:])


def last_build(feed: Stored) -> tuple[int, bytes] | None:
    """Where the first ``lastBuildDate`` element of a stored feed is, and the element; None if
    it has none. Read from its head (the channel's elements come before its items); the whole
    file only when the head does not settle it.

    :raises EntretiensError: the file cannot be read (a cache file removed under the build).
    """
    try:
        with open(feed, "rb") as stream:
            head = stream.read(HEAD)
            found = LAST_BUILD.search(head)
            # A match ending at the read's end might go on after it.
            if (found is None or found.end() >= len(head)) and len(head) == HEAD:
                head += stream.read()
                found = LAST_BUILD.search(head)
    except OSError as exc:
        raise EntretiensError(f"{feed}: the feed just built cannot be read ({exc.strerror}); publish again") from exc
    return None if found is None else (found.start(), found.group())


def redated(feed: Stored, start: int, old: bytes, new: bytes) -> Content:
    """A copy of a stored feed with the element ``old`` at ``start`` replaced by ``new``, in a
    file of its own beside it (a document's file never changes once made: its name is its
    SHA-256, under which its items' places are noted); as bytes when the folder can no longer
    be written.

    The part the dating hashes does not change (it leaves the element out).

    :raises EntretiensError: the file cannot be read or written.
    """
    writer = Writer(feed.parent, text=False)
    try:
        with open(feed, "rb") as stream:
            head = stream.read(start + len(old))
            if head[start:] != old:
                raise EntretiensError(f"{feed}: the feed just built changed under the build; publish again")
            # Its own piece, as the element is a whole node; then the rest as it was.
            writer.write(head[:start])
            writer.write(new)
            while piece := stream.read(PIECE):
                writer.write(piece)
    except OSError as exc:
        writer.discard()
        raise EntretiensError(f"{feed}: the feed just built cannot be read ({exc.strerror}); publish again") from exc
    except EntretiensError:
        writer.discard()
        raise
    made = writer.finish()
    if isinstance(made, Stored):
        made.marks = feed.marks
        items = items_of(feed)
        # The element is in the head, before every item: each item moves by the change in its length.
        if items and start + len(old) <= items[0][0]:
            shift = len(new) - len(old)
            _note_items(made.sha256, tuple((offset + shift, length, digest) for offset, length, digest in items))
    return made


def build_folder(folder: Path) -> Path | None:
    """A new folder of ``folder`` for one build's documents; None if it cannot be made (a
    read-only or full disk: the documents are then made as bytes, see :class:`Writer`).

    What killed builds left in ``folder`` goes first (see :func:`tidy`).
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
        made = Path(tempfile.mkdtemp(prefix=_PREFIX, dir=folder))
    except OSError:
        return None
    with contextlib.suppress(BlockingIOError):
        held = lock_folder(made)
        if held is not None:
            _HELD[made] = held
    tidy(folder, made.name)
    return made


def remove(folder: Path) -> None:
    """Remove one build's folder of documents, and every file it holds; no error if it cannot."""
    shutil.rmtree(folder, ignore_errors=True)
    release(folder)


def release(folder: Path) -> None:
    """Let go of one build's folder (its lock) without removing it: a later build removes it
    once old enough (a build dropped without being closed)."""
    held = _HELD.pop(folder, None)
    if held is not None:
        with contextlib.suppress(OSError):
            os.close(held)


def _in_use(folder: str) -> bool:
    """Whether a build still running holds ``folder`` (see :data:`_HELD`)."""
    try:
        held = lock_folder(folder)
    except BlockingIOError:
        return True
    if held is not None:
        os.close(held)
    return False


def _forget_held() -> None:
    """In a forked worker: the parent's folders are the parent's to hold, not kept in use by a
    worker that outlives it (its copy of each descriptor closed; the parent's lock stays)."""
    for held in _HELD.values():
        with contextlib.suppress(OSError):
            os.close(held)
    _HELD.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_held)


def tidy(folder: Path, own: str) -> None:
    """Remove from ``folder`` what killed builds left (all but the folder named ``own``): the
    folders of builds, and the files of versions that wrote documents there loose, each known
    by its name (:data:`_OURS`); no error if it cannot.

    Only what is older than a few minutes goes: another build of the show (``serve`` beside a
    ``publish``) may be writing its folder, or may have handed a file on and not written it
    yet. A folder's age is that of the newest of it and its files (a feed being written is
    younger than the folder it is written in). A folder a running build holds is left,
    however old (see :data:`_HELD`).
    """
    try:
        entries = [entry for entry in os.scandir(folder) if entry.name != own and _OURS.fullmatch(entry.name)]
    except OSError:
        return
    now = time.time_ns()
    folders = {entry.path for entry in entries if entry.is_dir(follow_symlinks=False)}
    remove_old(folder, [entry.name for entry in entries if entry.path not in folders], now)
    for path in folders:
        with contextlib.suppress(OSError):
            if now - last_written(path) > _KEEP_NS and not _in_use(path):
                remove(Path(path))
