"""Small copies of the artwork and photos for the pages, cached between runs."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import json
import os
import re
import time
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import ClassVar, TypeVar

import PIL
from PIL import Image, ImageOps

from . import atomicfile, images, remote_images, unitcache, walks
from .atomicfile import atomic_write
from .images import ImageTooLarge, upright
from .model import Show, is_remote
from .output import Content, Stored, child
from .unitcache import ledger


@dataclass(frozen=True, slots=True, kw_only=True)
class Picture:
    """An image shown on a page: a path inside public/, or an absolute URL."""

    src: str


#: Where resized images are kept between runs, in the show folder: making them is the slowest
#: part of rendering (a 1400 px cover decodes and resizes in ~80 ms), and they rarely change.
IMAGE_CACHE = Path(".entretiens") / "cache" / "images"
#: What :func:`cached_image` makes: bytes, or None for a source that cannot be read.
Made = TypeVar("Made", bytes, bytes | None)
#: What every check file of :data:`IMAGE_CACHE` holds, before the SHA-256 of the entry's key,
#: then the SHA-256 of its bytes: an entry cut short, damaged, or left by another version does
#: not match and is made anew.
_CACHE_MAGIC = b"entretiens image cache 3\n"
#: Where earlier versions kept each entry's check (the entry itself holds the picture's bytes
#: alone, so that the output can copy it as it is). Still read, for an entry the index does not
#: name: the 10,000 cards of a show kept so are not drawn again. None is written now: the
#: cache's index is every entry's check (see :func:`write_entry`).
_CHECKS = "checks"
#: The stamps of the entries whose bytes were checked (see :class:`~entretiens.unitcache.Checked`):
#: a rebuild reads an entry's bytes only once it moved, not the 10,000 cards of a show each time.
_LEDGER = "checked.json"


#: What identifies an image file's content for the caches: its path, size, modification time
#: (ns), inode and change time (ns), as the per-episode units do (the ctime is what moves when
#: a picture is rewritten in place at the same size with its mtime put back).
Stamp = tuple[str, int, int, int, int]


def source_stamp(source: Path) -> Stamp | None:
    """The :data:`Stamp` of an image file; None when it cannot be read."""
    try:
        status = source.stat()
    except OSError:
        return None
    return (str(source), status.st_size, status.st_mtime_ns, status.st_ino, status.st_ctime_ns)


def settled(stamp: Stamp) -> bool:
    """Whether any later change to the file will change its stamp: it last changed over a
    timestamp tick ago (:func:`walks.settled`: by the later of its mtime and ctime, as a picture
    saved with its mtime put back has a new ctime). A file changed within a tick of being read
    can change again with the same stamp, so what is made from it is not kept. Ask before
    reading the file."""
    return walks.settled((stamp[1], stamp[2], stamp[4], stamp[3]), time.time_ns())


def cached_image(
    root: Path, kind: str, key: Sequence[object], suffix: str, make: Callable[[], Made], *, keep: bool = True
) -> Made | Stored:
    """``make()``'s bytes, kept in the show's :data:`IMAGE_CACHE` as ``kind-<digest><suffix>``
    under ``key`` (everything that shapes them, JSON-serialisable; Pillow's version is added).

    The one cache of thumbnails and social cards (see :meth:`ImageCache.get`).
    """
    return ImageCache(root).get(kind, identity(kind, key), suffix, make, keep=keep)


def identity(kind: str, key: Sequence[object]) -> str:
    """The text an entry of ``kind`` made under ``key`` is kept by (its name holds its digest):
    JSON with the default separators, which :class:`~entretiens.cards.Deck` writes in pieces."""
    return json.dumps([kind, PIL.__version__, *key], ensure_ascii=False)


class ImageCache:
    """One build's view of a show's image cache: its folder, index and ledger looked up once,
    not for each of 10,000 cards (see :meth:`get`)."""

    def __init__(self, root: Path) -> None:
        self._folder = _Folder.of(root)
        self._index = _Index.of(self._folder.path)
        self._checked = ledger(self._folder.ledger)
        #: The folder as a path, which each kept picture's is made from (see :data:`_CHILD`).
        self._parent = Stored(self._folder.path)
        #: Whether an earlier version left check files (none to look for otherwise: a cold
        #: build of 10,000 cards tried to open 10,000 missing files, one after the other).
        self._checks = os.path.isdir(self._folder.checks)

    @property
    def folder(self) -> str:
        """The cache's folder, where :func:`write_entry` writes its entries."""
        return self._folder.path

    def get(
        self, kind: str, identity: str, suffix: str, make: Callable[[], Made], *, keep: bool = True
    ) -> Made | Stored:
        """``make()``'s bytes, kept as ``kind-<digest><suffix>`` under ``identity`` (see :func:`identity`).

        A kept picture is handed on as a :class:`~entretiens.output.Stored` file, not as bytes
        (10,000 cards are 250 MB), and only when the file matches its check (see :meth:`kept`):
        a damaged or foreign file is ignored and replaced, never published. Empty or None
        results are not kept (they are cheap to find again), nor any with ``keep`` false (made
        from a file that is not :func:`settled`).
        """
        name, hexdigest = entry_name(kind, identity, suffix)
        found = self.kept(name, hexdigest)
        if found is not None:
            return found
        data = make()
        if data and keep:
            written = self.put(name, hexdigest, data)
            if written is not None:
                return written
        return data

    def kept(self, name: str, hexdigest: str) -> Stored | None:
        """The entry ``name`` kept under the key of SHA-256 ``hexdigest``, if its file matches
        its check: the digest of its key, and of its bytes, found in the cache's index (this
        build's or the last one's), or in the check file an earlier version wrote beside it;
        the bytes read now, or trusted from the ledger of the files checked when the file's
        stamp, ctime and inode have not moved since."""
        folder = self._folder
        # Checked as a string; made into the Stored file it is handed on as only when kept.
        path = f"{folder.path}/{name}"
        index, checked = self._index, self._checked
        try:
            # What the index says of the entry (no file opened), else what its own check says;
            # the ledger's key is the file's name (given, not taken from the path again).
            known = index.find(name, hexdigest)
            if known is None or not checked.holds(path, known[1], known[0], name):
                known = _read_check(f"{folder.checks}/{name}", hexdigest) if self._checks else None
                if known is not None and not checked.holds(path, known[1], known[0], name):
                    known = None
        except (OSError, ValueError):
            known = None
        if known is None:
            return None
        index.note(name, hexdigest, *known)
        kept = child(self._parent, name)
        kept.sha256, kept.size, kept.marks = known[0], known[1], None
        return kept

    def put(self, name: str, hexdigest: str, data: bytes) -> Stored | None:
        """Keep ``data`` as the entry ``name`` (see :meth:`get`): the file kept, or None when it
        cannot be written (the cache only ever saves time: that is no error)."""
        digest = write_entry(self._folder.path, name, data)
        return None if digest is None else self.noted(name, hexdigest, digest, len(data))

    def noted(self, name: str, hexdigest: str, digest: str, size: int) -> Stored:
        """The entry ``name`` just written (here, or by a worker: :func:`write_entry`) with bytes
        of that digest and size, noted in the index (its check: no check file is written) and
        in the ledger (checked once more when the ledger is saved: the next build trusts it by
        stamp)."""
        self._index.note(name, hexdigest, digest, size)
        self._index.wrote = True
        # Made as a kept picture's is (see :meth:`kept`), not parsed from the whole path.
        written = child(self._parent, name)
        written.sha256, written.size, written.marks = digest, size, None
        self._checked.wrote(written, size, digest)
        return written

    def made_in_workers(self, wanted: Sequence[Sequence[Entry]]) -> list[list[Stored | None]]:
        """Each group of entries of ``wanted`` (an entry: its name, its key's SHA-256, how to make
        its bytes) made by forked workers (:func:`~entretiens.unitcache.in_workers`), a group in
        one job, one after the other (an episode's cover thumbnail and its card share one decode
        of the cover). A worker writes each entry into the cache (:func:`write_entry`) and sends
        back only the SHA-256 and size of its bytes: noted here as :meth:`put` notes an entry it
        wrote, never read back (the ledger checks it once settled, as every file a build
        writes). None for an entry left to the caller: a worker failed, could not write it, or
        made nothing (an image Pillow cannot read)."""
        folder = self._folder.path
        jobs: list[unitcache.Job] = [
            (
                group[0][0],
                functools.partial(_made, [make for _, _, make in group]),
                (),
                0,
                functools.partial(_written, folder, [name for name, _, _ in group]),
            )
            for group in wanted
        ]
        found: list[list[Stored | None]] = []
        for group, entry in zip(wanted, unitcache.in_workers(jobs, Path(folder)), strict=True):
            lines = [] if entry is None else entry.decode("ascii").split("\n")
            noted: list[Stored | None] = []
            for index, (name, hexdigest, _) in enumerate(group):
                digest, _, size = lines[index].partition(" ") if len(lines) == len(group) else ("", "", "")
                noted.append(self.noted(name, hexdigest, digest, int(size)) if size else None)
            found.append(noted)
        return found


#: An entry of the image cache to make: its name, the SHA-256 of its key, how to make its bytes.
Entry = tuple[str, str, Callable[[], bytes | None]]


def _made(makes: Sequence[Callable[[], bytes | None]]) -> dict[str, bytes]:
    """In a worker: the bytes of each entry of a group (as a unit's files, by their place in
    it; none for one that made nothing), nothing decoded held after them."""
    try:
        made: dict[str, bytes] = {}
        for index, make in enumerate(makes):
            data = make()
            if data:
                made[str(index)] = data
        return made
    finally:
        images.forget()


def _written(folder: str, names: Sequence[str], key: str, made: dict[str, bytes]) -> bytes | None:
    """In a worker: each entry of a group written into the cache under its name, and what the
    parent notes of them, a line each: "<SHA-256> <size>", empty for one that made nothing or
    cannot be written (made by the parent then)."""
    lines = []
    for index, name in enumerate(names):
        data = made.get(str(index))
        digest = write_entry(folder, name, data) if data else None
        lines.append("" if digest is None or not data else f"{digest} {len(data)}")
    return "\n".join(lines).encode("ascii")


def entry_name(kind: str, identity: str, suffix: str) -> tuple[str, str]:
    """The file name of the entry of ``kind`` kept under ``identity``, and the SHA-256 of
    ``identity``: the name holds the first half of it (the index and checks hold it whole)."""
    hexdigest = hashlib.sha256(identity.encode("utf-8")).hexdigest()
    return f"{kind}-{hexdigest[:32]}{suffix}", hexdigest


def write_entry(folder: str, name: str, data: bytes) -> str | None:
    """Write an entry's file whole (a temporary file renamed into place), and give the SHA-256
    of its bytes; None when it cannot be written. Its check is the cache's index, which the
    caller notes (:meth:`ImageCache.noted`): the check file per entry that earlier versions
    wrote beside it doubled the files a cold build creates (about 0.4 ms each here).

    One file created, not :func:`~entretiens.atomicfile.atomic_write`'s temporary made private
    by ``mkstemp``, opened again, then given its mode; safe in a forked worker (the name of the
    temporary holds the process id)."""
    temporary = f"{folder}/.{name}.{os.getpid()}.tmp"
    try:
        try:
            handle = os.open(temporary, _WRITE, 0o644)
        except FileNotFoundError:
            os.makedirs(folder, exist_ok=True)  # the first entry of the cache
            handle = os.open(temporary, _WRITE, 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(handle, view) :]
        finally:
            os.close(handle)
        os.replace(temporary, f"{folder}/{name}")
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        return None
    return hashlib.sha256(data).hexdigest()


#: How :func:`write_entry` opens its temporary file: created anew (one left by a process
#: killed while writing it is replaced), never followed through a link, and without blocking
#: (a FIFO at its name is an error, not a build waiting for a reader forever).
_WRITE = (
    os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
)


@dataclass(frozen=True, slots=True)
class _Folder:
    """Where one show's image cache is, its checks and its ledger: built once per show folder,
    not for each of 10,000 cards (joining paths was a third of a kept card's cost)."""

    path: str
    checks: str
    ledger: Path

    @staticmethod
    @functools.lru_cache(maxsize=8)
    def of(root: Path) -> _Folder:
        path = root / IMAGE_CACHE
        return _Folder(str(path), str(path / _CHECKS), path / _LEDGER)


def _read_check(check: str, identity: str) -> tuple[str, int] | None:
    """The digest and size of the entry whose check is at ``check``, if it is kept for this
    key (the entry's bytes are then checked against them). The check is opened without
    blocking (a FIFO must not block the build) and read up to the size a check has; an entry
    larger than any picture is none (a link to a huge file must not fill the memory)."""
    handle = os.open(check, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        text = os.read(handle, _CHECK_MOST)
    finally:
        os.close(handle)
    if not text.startswith(_CACHE_MAGIC):
        return None
    kept, digest, size = text[len(_CACHE_MAGIC) :].decode("ascii").split("\n")[:3]
    if kept != identity or int(size) > _LARGEST_ENTRY:
        return None
    return digest, int(size)


#: More than a check holds (its magic line, two digests and a size).
_CHECK_MOST = 512


class _Index:
    """The entries of one image cache checked or made by a build, in one checked file: a
    rebuild finds a kept picture's key, digest and size here, then checks its bytes by stamp
    (the ledger) or by reading them. The only check of an entry made since check files are no
    longer written (an entry the index does not name is made again).

    The file holds a magic line, the SHA-256 of the JSON that follows, and the JSON: one that
    is cut, damaged, foreign or older is ignored whole (an entry with no check file of an
    earlier version is made again).
    Each build keeps the entries it used or made (:func:`keep_index`).
    """

    #: The index of each cache folder opened by this build, until :func:`keep_index`.
    opened: ClassVar[dict[str, _Index]] = {}

    def __init__(self, folder: str) -> None:
        self._path = Path(folder) / _INDEX
        self._known: dict[str, list[object]] = {}
        self._used: dict[str, list[object]] = {}
        #: Whether this build wrote an entry into the folder (its temporaries are tidied then).
        self.wrote = False
        with contextlib.suppress(OSError, ValueError, TypeError, KeyError):
            self._known = self._read()

    @classmethod
    def of(cls, folder: str) -> _Index:
        found = cls.opened.get(folder)
        if found is None:
            found = cls.opened[folder] = _Index(folder)
        return found

    def _read(self) -> dict[str, list[object]]:
        data = walks.read_regular(self._path, _LARGEST_INDEX)
        if data is None:
            return {}
        digest, _, body = data.removeprefix(_INDEX_MAGIC).partition(b"\n")
        if not data.startswith(_INDEX_MAGIC) or digest != hashlib.sha256(body).hexdigest().encode("ascii"):
            return {}
        entries = json.loads(body)["entries"]
        return entries if isinstance(entries, dict) else {}

    def find(self, name: str, identity: str) -> tuple[str, int] | None:
        """The digest and size noted for entry ``name`` made under ``identity``, if any (by
        this build first: an entry it wrote has no other check)."""
        entry = self._used.get(name) or self._known.get(name)
        if (
            isinstance(entry, list)
            and len(entry) == 3
            and entry[0] == identity
            and isinstance(entry[1], str)
            and isinstance(entry[2], int)
        ):
            return entry[1], entry[2]
        return None

    @property
    def used(self) -> Collection[str]:
        """The names of the entries this build checked or made."""
        return self._used.keys()

    def note(self, name: str, identity: str, digest: str, size: int) -> None:
        """An entry checked or made by this build, kept in the index it saves."""
        self._used[name] = [identity, digest, size]

    def save(self) -> None:
        """Keep the entries this build used (no error if the index cannot be written)."""
        if not self._used or self._used == self._known:
            return
        body = json.dumps({"entries": self._used}, separators=(",", ":")).encode("ascii")
        with contextlib.suppress(OSError), atomic_write(self._path) as temporary:
            temporary.write_bytes(_INDEX_MAGIC + hashlib.sha256(body).hexdigest().encode("ascii") + b"\n" + body)


def keep_index(root: Path) -> None:
    """Save the index of the show's image cache, once its pictures are all asked for (the
    site's build), and close it: the next build reads it anew."""
    folder = str(root / IMAGE_CACHE)
    index = _Index.opened.pop(folder, None)
    if index is not None:
        index.save()
        if index.wrote:
            remove_leftovers(folder, time.time_ns(), used=index.used)


def remove_leftovers(folder: str, now: int, *, used: Collection[str] | None = None) -> int:
    """Remove the temporary files the writers of an image cache left in ``folder`` when killed
    while writing (an entry's, the index's, the ledger's; its workers' folders: see
    :func:`unitcache.remove_spills`), and, given ``used`` (the entries this
    build checked or made, which its index now names alone), the entries no build will find
    again: one that no index names is made anew when asked for. Each once written more than
    :data:`~entretiens.atomicfile.LEFTOVER_NS` before ``now`` (ns): a younger one may be another
    build's (a ``serve`` beside a ``publish``), still being written or about to be published.
    Regular files only, named exactly as those writers name them.

    Done by a build that wrote an entry (the folder listed then: 20,000 names at 10,000
    episodes), never by one that made no picture. Without it, every change of what a picture is
    made from (a new version of Pillow, the show folder moved) left the 10,000 cards of the old
    key in the cache, about 250 MB. Returns how many were removed; never raises on I/O."""
    try:
        names = os.listdir(folder)
    except OSError:
        return 0
    spilled = False
    old: list[str] = []
    for name in names:
        if name.startswith("."):
            if _TEMPORARY.fullmatch(name) is not None:
                old.append(name)
            else:
                # A killed build's workers' folder (cold builds draw the cards on every core)?
                spilled = spilled or name.startswith(unitcache.SPILL_PREFIX)
        elif used is not None and name not in used and _ENTRY.fullmatch(name) is not None:
            old.append(name)
    removed = atomicfile.remove_old(folder, old, now)
    if spilled:
        removed += unitcache.remove_spills(Path(folder), now)
    return removed


#: The name of an image cache's entry (:func:`entry_name`).
_ENTRY = re.compile(r"[a-z]+-[0-9a-f]{32}\.[a-z0-9]+")


#: The names of an image cache's temporary files: an entry's (:func:`write_entry`: ``.<entry's
#: name>.<pid>.tmp``), the ledger's and its delta's
#: (:func:`~entretiens.checkedfiles.replace`: ``.checked.json[.delta].<pid>.tmp``), the
#: index's (:func:`~entretiens.atomicfile.atomic_write`: ``.index.`` and ``mkstemp``'s 8 letters).
_TEMPORARY = re.compile(
    r"\.(?:[a-z]+-[0-9a-f]{32}\.[a-z0-9]+|checked\.json(?:\.delta)?)\.[0-9]+\.tmp|\.index\.[a-z0-9_]{8}"
)


#: The index of an image cache's entries (see :class:`_Index`), and what it starts with.
_INDEX = "index"
_INDEX_MAGIC = b"entretiens image index 1\n"
#: Far more than the index of any show (about 150 bytes an entry).
_LARGEST_INDEX = 256 * 1024 * 1024
#: Far more than any card or thumbnail takes (a card is about 80 KB).
_LARGEST_ENTRY = 16 * 1024 * 1024


class Images:
    """Small copies of the artwork and photos for the pages, made once each.

    The same source at the same size is encoded once per run (episodes often share a cover),
    and kept in :data:`IMAGE_CACHE` by the source's path, size and modification time, so that
    a rebuild reads it back instead of decoding the original again.
    """

    def __init__(self, show: Show, files: dict[PurePosixPath, Content]) -> None:
        self._show = show
        self._files = files
        self._made: dict[tuple[str, PurePosixPath], Picture | None] = {}
        self._encoded: dict[tuple[str, int, bool, str], Content | None] = {}

    def thumbnail(
        self, reference: str | None, target: PurePosixPath, size: int, *, square: bool = False, local_only: bool = False
    ) -> Picture | None:
        """A copy of an image at most ``size`` pixels wide, saved at ``target``.

        Remote images are linked as they are (or not at all with ``local_only``); an image
        Pillow cannot read is linked as published.
        """
        if not reference:
            return None
        if is_remote(reference):
            # Served from the site, made from a downloaded copy; never linked from its host.
            copy = remote_images.local_copy(self._show.root, reference)
            if not isinstance(copy, Path):
                return None  # the checks say why
            reference, local_only = str(copy), True
        key = (reference, target)
        if key not in self._made:
            self._made[key] = self._make(reference, target, size, square=square, local_only=local_only)
        return self._made[key]

    def prefetch(
        self,
        references: Iterable[str],
        size: int,
        suffix: str,
        paired: Callable[[str], Entry | None] = lambda reference: None,
    ) -> dict[str, Stored]:
        """Make in forked workers the thumbnails :meth:`thumbnail` will ask for at ``size`` as
        ``suffix`` of ``references`` (local images), when many are neither made by this build
        nor kept in the cache: a cold build of a show whose episodes each have their own cover
        (each 50-80 ms, one after the other in this process otherwise). The same key and the
        same bytes as :meth:`thumbnail` makes here (:func:`_encode`); those kept are looked up
        once, here. What no worker made (a file not :func:`settled`, an image Pillow cannot
        read, a worker lost) is left to :meth:`thumbnail`, which makes it as before.

        ``paired(reference)``, asked only for a thumbnail to make: another entry made from the
        same image by the same job, after it, from the same decode (an episode's card, when it
        is missing too). Gives those made, by reference.
        """
        cache = ImageCache(self._show.root)
        missing: dict[tuple[str, int, bool, str], list[Entry]] = {}
        for reference in references:
            encoding = (reference, size, False, suffix)
            if not reference or is_remote(reference) or encoding in self._encoded or encoding in missing:
                continue
            source = self._show.root / reference
            stamp = source_stamp(source)
            if stamp is None or not settled(stamp):
                continue
            name, hexdigest = entry_name("thumbnail", identity("thumbnail", [*stamp, size, False]), suffix)
            kept = cache.kept(name, hexdigest)
            if kept is not None:
                self._encoded[encoding] = kept
            else:
                make = functools.partial(_encode, source, size, square=False, suffix=suffix)
                missing[encoding] = [(name, hexdigest, make)]
        others: dict[str, Stored] = {}
        if unitcache.parallel(len(missing)):
            for encoding, group in missing.items():
                other = paired(encoding[0])
                if other is not None:
                    group.append(other)
            for encoding, made in zip(missing, cache.made_in_workers(list(missing.values())), strict=True):
                if made[0] is not None:
                    self._encoded[encoding] = made[0]
                if len(made) > 1 and made[1] is not None:
                    others[encoding[0]] = made[1]
        return others

    def _make(
        self, reference: str, target: PurePosixPath, size: int, *, square: bool, local_only: bool
    ) -> Picture | None:
        encoding = (reference, size, square, target.suffix)
        if encoding not in self._encoded:
            self._encoded[encoding] = self._cached(reference, size, square=square, suffix=target.suffix)
        data = self._encoded[encoding]
        if data == _REFUSED:
            # Too many pixels: reported by the checks; linking it would hand it to every visitor.
            return None
        if data is None:
            return None if local_only else Picture(src=reference)
        self._files[target] = data
        return Picture(src=str(target))

    def _cached(self, reference: str, size: int, *, square: bool, suffix: str) -> Content | None:
        """The encoded image, from the cache when its source has not changed since."""
        source = self._show.root / reference
        stamp = source_stamp(source)
        if stamp is None:
            return None
        make = functools.partial(_encode, source, size, square=square, suffix=suffix)
        key = [*stamp, size, square]
        return cached_image(self._show.root, "thumbnail", key, suffix, make, keep=settled(stamp))


def _encode(source: Path, size: int, *, square: bool, suffix: str) -> bytes | None:
    """An image at most ``size`` pixels wide as PNG or JPEG bytes; None if Pillow cannot read it,
    :data:`_REFUSED` if it declares too many pixels to decode."""
    try:
        original = upright(source)  # shared with the card made next: changed only in copies
        image = ImageOps.fit(original, (size, size)) if square else original.copy()
        image.thumbnail((size, size), Image.Resampling.LANCZOS)
        if image.mode not in ("RGB", "L"):
            background = Image.new("RGB", image.size, (255, 255, 255))
            background.paste(image.convert("RGBA"), mask=image.convert("RGBA").split()[3])
            image = background
        buffer = io.BytesIO()
        if suffix == ".png":
            # An icon needs few colours: a palette makes it half the size.
            image.quantize(colors=128).save(buffer, format="PNG", optimize=True)
        else:
            image.save(buffer, format="JPEG", quality=85, optimize=True, progressive=True)
    except ImageTooLarge:
        return _REFUSED
    except (OSError, ValueError, SyntaxError):
        return None
    return buffer.getvalue()


#: What :func:`_encode` gives for an image it refuses to decode (never cached: it is empty).
_REFUSED = b""
