"""Safe writes into the output folder: all or nothing, and untouched files stay untouched."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tempfile
import time
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from itertools import repeat
from pathlib import Path, PurePosixPath

from . import buildrecord, inplace, staged, walks
from .atomicfile import lock_folder, resolved
from .buildrecord import Ledger
from .content import PIECE as _PIECE
from .content import Content as Content
from .content import Stored as Stored
from .content import child as child
from .content import content_bytes as content_bytes
from .content import file_sha256 as file_sha256
from .content import stored as stored
from .errors import OutputError

#: Written in every output folder: publish replaces only folders that carry it (or empty ones).
MARKER = PurePosixPath(".entretiens-output")
_MARKER_NAME = str(MARKER)
_MARKER_TEXT = (
    b"This folder is written by `entretiens publish`, which replaces all of its content at every\n"
    b"publish. Do not keep other files here.\n"
)


@dataclass(slots=True)
class WriteReport:
    """What a write changed, relative to the previous output."""

    written: list[PurePosixPath] = field(default_factory=list)
    unchanged: list[PurePosixPath] = field(default_factory=list)
    removed: list[PurePosixPath] = field(default_factory=list)
    #: The folder as this write left it, for the next one (when asked: see :func:`write_tree`).
    ledger: Ledger | None = None
    #: How many old files were read back to be compared (the others were proved from the ledger).
    read_back: int = 0

    @property
    def changed(self) -> bool:
        """Whether the output differs from before."""
        return bool(self.written or self.removed)


def check_target(out_dir: Path, protected: Path) -> None:
    """Refuse an output folder that would destroy something: the show itself, or a foreign folder.

    :raises OutputError: out_dir is the show folder or one of its parents, or a non-empty
        folder that entretiens did not write (no marker file).
    """
    out = resolved(out_dir)
    show = protected.resolve()
    if out == show or out in show.parents:
        msg = f"{out_dir}: the output folder cannot be the show folder or one of its parents"
        raise OutputError(msg + " (choose a new folder, e.g. public/)")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        msg = f"{out_dir}: this folder has files that entretiens did not write"
        raise OutputError(msg + "; publish replaces the whole folder, so choose an empty or new one")
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out_dir}: exists and is not a folder")


def write_tree(
    out_dir: Path,
    files: Mapping[PurePosixPath, Content],
    kept: Ledger | None = None,
    sources: Mapping[str, tuple[int, int, int]] | None = None,
) -> WriteReport:
    """Make ``out_dir`` hold exactly ``files``, atomically (a few changes to a large tree: in place,
    all or nothing, see :mod:`entretiens.inplace`).

    The new tree is staged beside ``out_dir`` and swapped in at the end, so a failure at any
    point leaves the previous output as it was. Files whose bytes did not change are carried
    over as the same file (hard link), keeping their modification time; when nothing changed,
    nothing is written at all.

    :param kept: the folder as the previous write left it (an empty ledger when unknown: every
        old file is then read back before it is kept): a file whose stamp still matches it is
        proved unchanged by its digest, without reading it back. Given, the report carries the
        ledger of the folder after this write, made from the one walk before it and what was
        written (no walk after, unless staged).
    :param sources: (size, mtime, ctime in ns) of copied files by their path, as the caller has just
        checked them (the audio: see :func:`entretiens.releases.changed_audio`): not stat'ed again.
    :raises OutputError: a path escapes the folder, or the disk refuses a write.
    """
    files = {**files, MARKER: _MARKER_TEXT}
    # A symlinked output folder (public -> /srv/www/podcast) is updated where it points; swapping
    # the link itself would leave the served folder stale.
    out_dir = resolved(out_dir)
    taken = time.time_ns()
    # The folders whose stamps the ledger proves are not listed again: their files are stamped.
    known, since = (kept.stats, kept.since) if kept is not None else (None, None)
    empty: list[str] = []
    # The names whose stamp or digest this write finds or makes other than ``kept``'s: the
    # journals append only those (None: not known, they are compared whole).
    moved: set[str] | None = set() if kept is not None and out_dir.is_dir() else None
    found = buildrecord.outputs(out_dir, known, since, empty, moved) if out_dir.is_dir() else {}
    if empty:
        _drop_empty(out_dir, found, empty, moved if moved is not None else set())
    report, proven = _compare(out_dir, files, found, kept, taken, sources or {}, moved)
    changes = None if kept is None or moved is None else (kept, moved)
    if not report.changed and out_dir.is_dir():
        if kept is not None:
            report.ledger = Ledger(stats=found, digests=proven, since=taken, changes=changes)
        return _without_marker(report)
    # A mount point (a container volume, a USB disk) cannot be renamed: stage inside it and
    # move the entries in place. Not one atomic step, but each file still appears whole.
    mounted = out_dir.is_dir() and os.path.ismount(out_dir)
    count = len(report.written) + len(report.removed)
    if not mounted and out_dir.is_dir() and inplace.worth_it(count, len(files), coarse=_coarse(found)):
        try:
            inplace.update(
                out_dir,
                files,
                report.written,
                report.removed,
                write=_write_new,
                marker=(MARKER, _MARKER_TEXT),
                lock_folder=lock_folder,
            )
        except OSError:
            pass  # every file is back as it was: the whole tree is staged instead
        else:
            if kept is not None:
                report.ledger = _ledger_in_place(out_dir, files, found, proven, report, taken, changes)
            return _without_marker(report)
    parent = out_dir if mounted else out_dir.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staged.remove_stale(parent, out_dir.name, MARKER)
        staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.new-", dir=parent))
        # Held until this write ends (or the process dies): the next publish then knows this
        # staging folder is in use, not left over from an interrupted one.
        lock = lock_folder(staging)
    except OSError as exc:
        raise OutputError(f"{out_dir}: cannot create the output folder: {exc.strerror}") from exc
    # A set: testing each of n paths against a list of n was the quadratic step of a rebuild.
    unchanged = set(report.unchanged)
    try:
        # In the order of paths, by a string key compared in C: sorting the (path, content)
        # pairs compared two Paths in Python per step (a million at 10,000 episodes).
        made: set[Path] = {staging}
        for path in sorted(files, key=path_order):
            _stage(staging, out_dir, path, files[path], path in unchanged, made)
        staging.chmod(0o755)
        if mounted:
            staged.replace_contents(staging, out_dir)
        else:
            staged.swap(staging, out_dir)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise OutputError(f"{out_dir}: writing the output failed, the previous output is untouched: {exc}") from exc
    finally:
        if lock is not None:
            os.close(lock)
    if kept is not None:
        # Every file is a new name (a copy, or a hard link whose ctime moved): walked afresh.
        if len(files) >= inplace.MIN_FILES:
            # Waited for: the files just written settle (buildrecord.settled), so each gets its
            # digest now, not a read back at the next write (241 at 1,000 episodes). Time, no work.
            time.sleep(walks.FINE_RACY_NS / 1e9)
        taken = time.time_ns()
        report.ledger = _ledger(files, buildrecord.outputs(out_dir), taken)
    return _without_marker(report)


def _ledger(files: Mapping[PurePosixPath, Content], stats: buildrecord.Stats, taken: int) -> Ledger:
    """The ledger of a folder holding ``files``, all new (staged), whose stamps are ``stats``,
    taken after ``taken``: a file gets a digest only if its stamp had settled when it was taken;
    the others are compared by reading at the next write, and settle then."""
    known: dict[str, str] = {}
    for path, content in files.items():
        name = str(path)
        stamp = stats.get(name)
        if stamp is not None and buildrecord.settled(stamp, taken):
            known[name] = _digest(content)
    return Ledger(stats=stats, digests=known, since=taken)


def _ledger_in_place(
    out_dir: Path,
    files: Mapping[PurePosixPath, Content],
    found: buildrecord.Stats,
    proven: dict[str, str],
    report: WriteReport,
    taken: int,
    changes: tuple[Ledger, set[str]] | None,
) -> Ledger:
    """The ledger after an update in place: the walk before it (``found``, updated here) with
    the files written and removed, and their folders (whose times moved), stamped again, and
    the digests ``proven`` of the files left as they were. No second walk, no second pass over
    every file: only what was written or removed is visited.

    A file written now gets a digest only if its new stamp had settled when it was taken (a
    tick after its write: seldom); it is compared by reading at the next write, and settles then.
    The ledger's stamps date from ``taken`` (the walk's start): the folders stamped again here
    changed after it, so the next walk lists them.
    """
    stats = found
    folders: set[str] = set()
    for path in (*report.written, *report.removed):
        stats.pop(str(path), None)
        parts = path.parts
        folders.update("/".join(parts[:end]) + "/" for end in range(1, len(parts)))
    later = time.time_ns()
    for path in report.written:
        name = str(path)
        with suppress(OSError):
            status = os.stat(out_dir / name)
            stamp = stats[name] = (status.st_size, status.st_mtime_ns, status.st_ctime_ns, status.st_ino)
            if buildrecord.settled(stamp, later):
                proven[name] = _digest(files[path])
    for folder in folders:
        stats.pop(folder, None)
        with suppress(OSError):
            status = os.lstat(out_dir / folder)
            if stat.S_ISDIR(status.st_mode):
                stats[folder] = (-1, status.st_mtime_ns, status.st_ctime_ns, status.st_ino)
    if changes is not None:
        changes[1].update(folders)  # the written and removed: named by _compare
    return Ledger(stats=stats, digests=proven, since=taken, changes=changes)


def _coarse(found: buildrecord.Stats) -> bool:
    """Whether the output's times are coarse (:func:`walks.coarse`), told by its marker's stamp:
    written at its first write, then kept (in place) or linked anew (staged), never by hand."""
    stamp = found.get(_MARKER_NAME)
    return stamp is not None and stamp[0] >= 0 and walks.coarse(stamp)


def _drop_empty(out_dir: Path, found: buildrecord.Stats, empty: list[str], moved: set[str]) -> None:
    """Remove the empty folders a walk found (added by hand: a cold build makes none, and an
    in-place write removes those its removals empty), and the folders they leave empty; the
    folders that held them are stamped again, in ``found`` too.

    Before, a publish that wrote nothing left an empty folder for good. Only ever an empty
    folder: ``rmdir`` refuses any other (one filled since the walk, by another program)."""
    base = str(out_dir) + "/"
    touched: set[str] = set()
    for name in empty:
        folder = name
        while folder:
            try:
                os.rmdir(base + folder)
            except OSError:
                break
            found.pop(folder, None)
            moved.add(folder)
            touched.discard(folder)
            folder = folder[: folder.rfind("/", 0, len(folder) - 1) + 1]
            touched.add(folder)
    moved.update(touched)
    for folder in touched:
        if folder in found:
            try:
                status = os.lstat(base + folder)
            except OSError:
                found.pop(folder)
                continue
            found[folder] = (-1, status.st_mtime_ns, status.st_ctime_ns, status.st_ino)


def _without_marker(report: WriteReport) -> WriteReport:
    """The report as people read it: the marker file is bookkeeping, not content.

    Looked for by its name from the end (it is the files' last key: an unchanged one is the
    last path met), not by a Path comparison, made in Python, with each of the output's files.
    """
    for paths in (report.unchanged, report.written):
        for index in range(len(paths) - 1, -1, -1):
            if str(paths[index]) == _MARKER_NAME:
                del paths[index]
                return report
    return report


def _check_relative(path: PurePosixPath) -> None:
    """Refuse a path that is absolute, empty or goes up. From its string, made once per path
    anyway (a PurePosixPath has no empty or "." part but a lone "."): no tuple per path."""
    name = str(path)
    if name.startswith(("/", "../")) or name in (".", "..") or name.endswith("/..") or "/../" in name:
        raise OutputError(f"{path}: refusing to write outside the output folder")


#: The digest a ledger keeps for a file copied as it is (audio, a show's picture): such a file
#: is the same while its size and mtime are its source's (see :func:`_same`).
_COPY = "copy"


def _digest(content: Content) -> str:
    """What a ledger keeps of a file's content: its SHA-256, or :data:`_COPY` for a copied file."""
    if isinstance(content, bytes):
        return hashlib.sha256(content).hexdigest()
    return content.sha256 if isinstance(content, Stored) else _COPY


def _compare(
    out_dir: Path,
    files: Mapping[PurePosixPath, Content],
    found: buildrecord.Stats,
    kept: Ledger | None,
    taken: int,
    sources: Mapping[str, tuple[int, int, int]],
    moved: set[str] | None = None,
) -> tuple[WriteReport, dict[str, str]]:
    """What a write changes, and the digests of the files it leaves as they are, for the ledger
    of the folder after it (``found`` was taken after ``taken``).

    A file proved unchanged from ``kept`` (its stamp as the last write left it, and the digest
    it kept is the content's) keeps its digest, without being read. A file read back and found
    unchanged gets one if its stamp had settled when it was taken (:func:`buildrecord.settled`).
    One pass over the files, in the build's order: only the files to write are sorted.

    :param moved: the names whose stamp in ``found`` is not ``kept``'s (the walk's: see
        :func:`walks.outputs`), None: unknown, compared here. The kept digests of the others
        still hold, so a file proved by its digest costs one lookup, not one per mapping. The
        names whose digest or stamp this write changes are added to it (for the journals).
    """
    report = WriteReport()
    written, unchanged = report.written, report.unchanged
    recorded = kept.stats if kept is not None else {}
    # The kept digests whose file's stamp still holds: the digests of the folder after the
    # write, once those written or removed go, and those read back and found equal come.
    if kept is None:
        held: dict[str, str] = {}
    elif moved is not None:
        held = dict(kept.digests)
        for name in moved:
            held.pop(name, None)
    else:
        held = {name: digest for name, digest in kept.digests.items() if _holds_stamp(name, found, recorded)}
    changed = moved if moved is not None else set()
    # The moment the kept stamps began to be taken (None: unknown, no coarse stamp is proven).
    since = kept.since if kept is not None else None
    new = 0
    for path, content in files.items():
        name = str(path)
        digest = held.get(name)
        if digest is not None:
            # As the last write left it (its stamp had settled): its digest says its bytes. A
            # kept page (most files) and a copy (the audio) are compared without a call.
            kind = type(content)
            if kind is Stored:
                if digest == content.sha256:  # type: ignore[union-attr]
                    unchanged.append(path)
                    continue
                written.append(path)  # other bytes than those it holds: written, nothing read
                continue
            if digest == _COPY and kind is not bytes:
                if _copied(found[name], content, sources):
                    unchanged.append(path)
                    continue
                # A copy whose source was touched (a re-export): compared below, as with no digest.
                del held[name]
            elif _sized(content, found[name][0]) and digest == _digest(content):
                unchanged.append(path)
                continue
            else:
                written.append(path)
                continue
        stamp = found.get(name)
        if stamp is None:
            # Checked before anything is written; a path the walk found is inside the folder.
            _check_relative(path)
            written.append(path)
            new += 1
            continue
        if stamp[0] == walks.LINK:
            written.append(path)  # a link made by hand where a file goes: the file replaces it
            continue
        before = recorded.get(name)
        report.read_back += 1
        if before is None and kept is not None:
            # No stamp of it recorded (the record lost, damaged, or the file put there since): its
            # size and mtime prove nothing, a file rewritten with its mtime put back keeps them.
            same = _same_bytes(out_dir / path, content)
        elif before is not None and (before != stamp or _unproven(before, since)):
            # Changed since the last write (by hand, even with its mtime put back), or perhaps
            # changed within the coarse tick of its recorded stamp: read.
            same = _same_bytes(out_dir / path, content)
        else:
            same = _same(out_dir / path, content)
        if not same:
            written.append(path)
            continue
        unchanged.append(path)
        changed.add(name)
        if isinstance(content, Path) and type(content) is not Stored:
            stamp = found[name] = _touched(out_dir / path, content) or stamp
        if buildrecord.settled(stamp, taken):
            held[name] = _digest(content)
    for path in written:
        name = str(path)
        held.pop(name, None)
        changed.add(name)
    written.sort(key=path_order)
    if len(files) - new < len(found) - sum(map(str.endswith, found, repeat("/"))):
        wanted = {str(path) for path in files}
        report.removed = sorted(
            (PurePosixPath(name) for name in found if name[-1] != "/" and name not in wanted), key=path_order
        )
        for path in report.removed:
            name = str(path)
            held.pop(name, None)
            changed.add(name)
    return report, held


def _unproven(recorded: tuple[int, int, int, int], since: int | None) -> bool:
    """Whether a recorded stamp has coarse times (whole seconds: ext3, FAT, some network mounts)
    and had not settled by ``since``: a file rewritten at the same size in the tick of the write
    that left it, its mtime put back, keeps that stamp, and a kept page's mtime is its cache
    file's, so the quick check of :func:`_same` would take it as unchanged. Fine times never are
    (their tick is a few ms): the check costs them two remainders."""
    return walks.coarse(recorded) and (since is None or not walks.settled(recorded, since))


def _holds_stamp(name: str, found: buildrecord.Stats, recorded: Mapping[str, tuple[int, int, int, int]]) -> bool:
    """Whether a file's stamp is the one recorded (its kept digest then holds)."""
    stamp = found.get(name)
    return stamp is not None and stamp == recorded.get(name)


def path_order(path: PurePosixPath) -> str:
    """The order of paths (by their parts, as PurePosixPath compares them) as a string key,
    compared in C: "/" (the only separator) becomes the lowest character, which no name holds."""
    return str(path).replace("/", "\0")


def _sized(content: Content, size: int) -> bool:
    """Whether ``content`` may be a file of ``size`` bytes (False: it cannot, so it is not hashed)."""
    if isinstance(content, bytes):
        return len(content) == size
    return content.size == size if isinstance(content, Stored) else True


def _copied(stamp: tuple[int, int, int, int], source: Content, sources: Mapping[str, tuple[int, int, int]]) -> bool:
    """Whether a copied file still has its source's size and mtime, and its source has not
    changed since the copy was made (a copy takes its source's mtime, not its ctime: a source
    rewritten in place at the same size with its mtime put back has a later ctime)."""
    if not isinstance(source, Path):
        return False
    checked = sources.get(str(source))
    if checked is None:
        try:
            status = os.stat(source)
        except OSError:
            return False
        checked = (status.st_size, status.st_mtime_ns, status.st_ctime_ns)
    return checked[:2] == stamp[:2] and checked[2] <= stamp[2]


def _same_bytes(target: Path, content: Content) -> bool:
    """Whether a file holds ``content``, by its bytes (never from its times)."""
    try:
        if isinstance(content, bytes):
            return target.stat().st_size == len(content) and _holds(target, content)
        if isinstance(content, Stored):
            return target.stat().st_size == content.size and file_sha256(target) == content.sha256
        return _equal_files(target, content)
    except OSError:
        return False


def _touched(copy: Path, source: Path) -> tuple[int, int, int, int] | None:
    """A copy read back and found equal to its source, given a ctime after the source's if it
    had none: its new stamp (None: left as it was).

    A source's ctime also moves without its bytes (chmod, chown, a new link): such a copy
    was otherwise read again at every write (only a staged write links it anew). Its mtime is
    left as it is (the quick check of :func:`_same`).
    """
    try:
        status = copy.stat()
        if source.stat().st_ctime_ns <= status.st_ctime_ns:
            return None
        os.utime(copy, ns=(status.st_atime_ns, status.st_mtime_ns))
        status = copy.stat()
    except OSError:
        return None
    return (status.st_size, status.st_mtime_ns, status.st_ctime_ns, status.st_ino)


def _equal_files(first: Path, second: Path) -> bool:
    """Whether two files hold the same bytes, read (filecmp keeps its answers by size and mtime,
    which a file rewritten in place with its mtime put back keeps too)."""
    with first.open("rb") as one, second.open("rb") as other:
        while True:
            block = one.read(1 << 20)
            if block != other.read(1 << 20):
                return False
            if not block:
                return True


def _same(target: Path, content: Content) -> bool:
    if isinstance(content, bytes):
        return target.stat().st_size == len(content) and _holds(target, content)
    published, source = target.stat(), content.stat()
    if published.st_size != source.st_size:
        return False
    # Copies keep their source's mtime, so the same size and mtime mean the same bytes (rsync's
    # quick check): an unchanged show does not read its whole audio again. Unless a source of
    # the show changed after the copy was made (a later ctime): rewritten in place with its
    # mtime put back. A cache's file (Stored) is renamed into place after its copy is made.
    if published.st_mtime_ns == source.st_mtime_ns and (
        type(content) is Stored or source.st_ctime_ns <= published.st_ctime_ns
    ):
        return True
    return _equal_files(target, content)


def _holds(target: Path, content: bytes) -> bool:
    """Whether a file of the right size holds ``content``, read a piece at a time: the old feed
    (tens of MB at 10,000 episodes) is not read into a second copy beside the new one."""
    buffer = bytearray(_PIECE)
    view = memoryview(buffer)
    offset = 0
    with target.open("rb", buffering=0) as stream:
        while read := stream.readinto(buffer):
            if not content.startswith(view[:read], offset):
                return False
            offset += read
    return offset == len(content)


def _stage(
    staging: Path, out_dir: Path, path: PurePosixPath, content: Content, unchanged: bool, made: set[Path]
) -> None:
    """Put one file of the new tree in ``staging``; ``made``: the folders made there so far
    (each asked for once: ``mkdir`` of one that exists fails, and was asked for every file)."""
    target = staging / path
    folder = target.parent
    if folder not in made:
        folder.mkdir(parents=True, exist_ok=True)
        made.add(folder)
    if unchanged:
        # Same inode as before: mtime kept, so uploaders that compare times skip it.
        try:
            os.link(out_dir / path, target)
        except OSError:
            # File systems without hard links (some network mounts): a copy with the same mtime.
            staged.copy_file(out_dir / path, target)
    else:
        _write_new(target, content)


def _write_new(target: Path, content: Content) -> None:
    if isinstance(content, bytes):
        target.write_bytes(content)
        target.chmod(0o644)
    else:
        # A copy, never a link to the show's file: re-exporting an episode over its source must
        # not change what is already published.
        # A cache's file is hashed as it is copied (not read back after): the bytes published
        # are those that gave the digest.
        digest = staged.copy_file(content, target, hashed=isinstance(content, Stored))
        if isinstance(content, Stored) and digest != content.sha256:
            # Checked when the cache read it; changed since (a disk error, another program).
            msg = f"{content}: a cache file changed after it was checked; publish again (it will be made anew)"
            raise OSError(msg)
