"""The per-episode cache: what one episode's work produced, kept on disk under a digest of its inputs.

An episode's pages and its own problems are a function of explicit inputs: the episode, its
measured audio, its neighbours, the show's settings, the files it names (by size, mtime and
inode), the show's template overrides and the code that builds it. A rebuild after one edit
recomputes only the units whose digest changed; every other unit is read back from
``.entretiens/cache/units/``. A unit file that is missing, foreign, truncated or altered (its
body no longer matches the digest in its header) is ignored and computed again: the cache only
ever saves time, never decides what is published.

Digests are taken over ``repr`` of the frozen model values: each is a dataclass whose repr
names every field (what is out of repr, such as a person's YAML lines, is added by the caller).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import json
import multiprocessing
import os
import stat
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from importlib import metadata
from pathlib import Path
from typing import Final

from .output import Content, file_sha256, stored

#: Where the units are kept, in the show folder.
UNITS_DIR: Final = Path(".entretiens") / "cache" / "units"
_MAGIC: Final = b"entretiens-unit 1\n"
#: A file modified this close (ns) to the moment it was read may change again without its stats
#: changing (see :mod:`entretiens.buildrecord`): a unit reading one is not kept.
RACY_NS: Final = 2_000_000_000


#: The libraries whose output lands in a unit: an upgrade of one changes the bytes it writes
#: (feedgen and lxml the items, Jinja2 the pages, markdown-it-py, linkify and nh3 the notes,
#: PyYAML the line records, Pillow the image checks) without changing entretiens' own files.
LIBRARIES: Final = (
    "feedgen",
    "lxml",
    "Jinja2",
    "MarkupSafe",
    "markdown-it-py",
    "linkify-it-py",
    "nh3",
    "PyYAML",
    "Pillow",
)


@functools.cache
def libraries() -> str:
    """The versions of :data:`LIBRARIES`, part of every unit's key."""
    found = []
    for name in LIBRARIES:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name} ?")
    return ", ".join(found)


def digest(*parts: object) -> str:
    """A stable digest of values whose ``repr`` names all they hold."""
    hashed = hashlib.sha256()
    for part in parts:
        hashed.update(repr(part).encode("utf-8", "surrogatepass"))
        hashed.update(b"\0")
    return hashed.hexdigest()


class Digests:
    """The digest of each release, taken once per build whatever number of units keys on it.

    A release's repr is long (its notes, chapters, people): digesting it for its pages, its
    feed item and its checks cost a tenth of the rebuild after one edit. Kept by the identity
    of the values (held here, so that no identity is reused while the build runs): a release
    copied with other neighbours, or with the same values, is digested once.
    """

    def __init__(self) -> None:
        self._taken: dict[tuple[int, ...], tuple[tuple[object, ...], str]] = {}

    def release(self, release: object) -> str:
        """A digest of everything a dataclass ``release`` holds but its neighbours
        (:data:`NEIGHBOURS`), which the units that show them key on apart."""
        kind = type(release)
        names = _OWN_FIELDS.get(kind)
        if names is None:
            names = _OWN_FIELDS[kind] = tuple(f.name for f in dataclasses.fields(kind) if f.name not in NEIGHBOURS)  # type: ignore[arg-type]
        values = tuple(getattr(release, name) for name in names)
        key = tuple(map(id, values))
        found = self._taken.get(key)
        if found is None:
            found = self._taken[key] = (values, digest(type(release).__name__, *values))
        return found[1]


#: The fields of a release that name its neighbours, out of :meth:`Digests.release`.
NEIGHBOURS: Final = frozenset({"previous", "next"})

#: The fields of each kind of release outside :data:`NEIGHBOURS`, by type.
_OWN_FIELDS: dict[type, tuple[str, ...]] = {}


def file_stamp(path: Path) -> tuple[int, int, int] | None:
    """(size, mtime_ns, inode) of a file the unit reads, or None when it cannot be read."""
    try:
        stat = path.stat()
    except (OSError, ValueError):
        return None
    return (stat.st_size, stat.st_mtime_ns, stat.st_ino)


def tree_stamps(folder: Path) -> tuple[tuple[str, tuple[int, int, int] | None], ...]:
    """The stamp of every file under ``folder`` (a show's template overrides), sorted by path."""
    found: list[tuple[str, tuple[int, int, int] | None]] = []
    if not folder.is_dir():
        return ()
    for directory, _subdirs, names in os.walk(folder):
        for name in names:
            path = Path(directory) / name
            found.append((str(path.relative_to(folder)), file_stamp(path)))
    return tuple(sorted(found))


class Units:
    """The units of one kind (``pages``, ``checks``) read and written by one build."""

    def __init__(
        self, root: Path | None, kind: str, *, version: str, stored: bool = False, marks: Marks | None = None
    ) -> None:
        """:param root: the show folder; None keeps nothing (every unit is computed).
        :param version: the code that builds the units (``buildrecord.code()``), part of every key.
        :param stored: keep each file of a unit as a file of its own, handed over as a
            :class:`~entretiens.output.Stored` path by :meth:`get_files` (pages, published as
            they are) rather than as bytes held in memory.
        :param marks: what to note about a stored unit's files when it is made, kept with it
            (see :attr:`entretiens.output.Stored.marks`).
        """
        self._folder = None if root is None else root / UNITS_DIR / kind
        self._checked = Checked(None if self._folder is None or not stored else self._folder.with_suffix(".checked"))
        self._version = f"{kind} {version} {libraries()}"
        self._started = time.time_ns()
        self._stored = stored
        self._marks = marks
        #: Keys read or written by this build, and how many units were computed.
        self.used: set[str] = set()
        self.computed = 0

    def get(
        self, inputs: tuple[object, ...], make: Callable[[], dict[str, bytes]], *, stamps: Iterable[object] = ()
    ) -> dict[str, bytes]:
        """The unit made from ``inputs``: read back, or made by ``make`` and kept.

        :param inputs: everything ``make`` depends on, each value's repr naming all it holds.
        :param stamps: the stamps of the files ``make`` reads (in ``inputs`` too): a unit that
            read a file modified just now is not kept (its next change may not show).
        """
        return self.get_many([(inputs, make, tuple(stamps))])[0]

    def get_many(self, requests: Sequence[Request]) -> list[dict[str, bytes]]:
        """Like :meth:`get` for each request, in order; many missing units are made on every core.

        Each unit is a function of its inputs alone, so the missing ones of a cold build are
        made by forked worker processes (:data:`PARALLEL_MIN` of them at least, on a machine
        with more than one core, in a process running no other thread) that write them to the
        cache; this process reads them back. A unit a worker could not make or keep is made
        here, where its error, if any, is raised as usual.
        """
        if self._stored:
            raise TypeError("the units of a stored kind are read with get_files()")
        return [{name: _as_bytes(content) for name, content in unit.items()} for unit in self._get(requests)]

    def get_files(self, requests: Sequence[Request]) -> list[dict[str, Content]]:
        """Like :meth:`get_many`; a kept unit's files come as :class:`~entretiens.output.Stored`
        paths (checked against their digests) when the kind is ``stored``, as bytes otherwise."""
        return self._get(requests)

    def _get(self, requests: Sequence[Request]) -> list[dict[str, Content]]:
        keys = [digest(self._version, *inputs, *tuple(stamps)) for inputs, _make, stamps in requests]
        found = [self._read(key) for key in keys]
        missing = [index for index, unit in enumerate(found) if unit is None]
        if self._folder is not None and len(missing) >= PARALLEL_MIN and _can_fork():
            jobs: list[Job] = [
                (self._path(keys[i]), requests[i][1], tuple(requests[i][2]), self._started, self._write)
                for i in missing
            ]
            _in_workers(jobs)
            for index in missing:
                found[index] = self._read(keys[index])
        results: list[dict[str, Content]] = []
        for index, (key, unit) in enumerate(zip(keys, found, strict=True)):
            self.used.add(key)
            if unit is None:
                _inputs, make, stamps = requests[index]
                made = make()
                unit = dict(made)
                if self._folder is not None and not _racy(stamps, self._started):
                    kept = self._write(self._path(key), made)
                    # Handed on as the files just kept: a cold build on one core holds no page.
                    unit = kept or unit
            results.append(unit)
        self.computed += len(missing)
        return results

    def _path(self, key: str) -> Path:
        assert self._folder is not None
        return self._folder / key[:2] / key

    def _read(self, key: str) -> dict[str, Content] | None:
        if self._folder is None:
            return None
        if self._stored:
            return _read_stored(self._path(key), self._checked)
        try:
            data = self._path(key).read_bytes()
        except OSError:
            return None
        if not data.startswith(_MAGIC):
            return None
        end = data.find(b"\n", len(_MAGIC))
        try:
            header = json.loads(data[len(_MAGIC) : end])
            body = memoryview(data)[end + 1 :]
            if header["sha256"] != hashlib.sha256(body).hexdigest():
                return None
            files: dict[str, Content] = {}
            offset = 0
            for name, length in header["files"]:
                files[str(name)] = bytes(body[offset : offset + int(length)])
                offset += int(length)
        except (ValueError, KeyError, TypeError):
            return None
        return files if offset == len(body) else None

    def _write(self, path: Path, files: dict[str, bytes]) -> dict[str, Content] | None:
        if self._stored:
            return _write_stored(path, files, self._marks)
        _write(path, files)
        return None

    def prune(self) -> None:
        """Remove the units this build did not use (an edited episode's old unit), keeping the folder
        small, and keep the stamps of the files checked (see :class:`Checked`)."""
        save_ledgers()
        if self._folder is None or not self.used:
            return
        self._checked.save()
        with contextlib.suppress(OSError):
            for bucket in os.scandir(self._folder):
                if not bucket.is_dir(follow_symlinks=False):
                    continue
                for entry in os.scandir(bucket.path):
                    # A stored unit's files are named after its key: <key>.<n>.
                    if entry.name.partition(".")[0] not in self.used:
                        with contextlib.suppress(OSError):
                            os.unlink(entry.path)


def _as_bytes(content: Content) -> bytes:
    assert isinstance(content, bytes), "only stored kinds hand over files"
    return content


def _write(path: Path, files: dict[str, bytes]) -> None:
    """Keep a unit (temporary file, then rename); one that cannot be written is no error."""
    body = b"".join(files.values())
    header: dict[str, object] = {"files": [[name, len(content)] for name, content in files.items()]}
    header["sha256"] = hashlib.sha256(body).hexdigest()
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_bytes(_MAGIC + json.dumps(header).encode("utf-8") + b"\n" + body)
        temporary.replace(path)
    except OSError:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)


#: What a stored unit's header starts with; its files are kept beside it as ``<key>.<n>``.
_STORED_MAGIC: Final = b"entretiens-unit-files 2\n"
#: What to note about a unit's files when it is made: name -> a short text, kept with the unit.
Marks = Callable[[Mapping[str, bytes]], Mapping[str, str]]
#: Larger than any page: a file of another size at a body's name is not read at all.
_LARGEST_BODY: Final = 64 * 1024 * 1024
#: A name starting with this is the unit's own data, not a page (site's home page entry): kept
#: in the header and handed on as bytes.
INLINE: Final = "#"


def _write_stored(path: Path, files: dict[str, bytes], marks: Marks | None) -> dict[str, Content] | None:
    """Keep a unit as a header (names, sizes, digests, marks, then the :data:`INLINE` files'
    bytes) and one plain file per other file, bodies first, so that a header found names bodies
    that were all written. None when it could not be kept (no error: the unit is then handed
    over as bytes)."""
    noted = marks(files) if marks is not None else {}
    entries = []
    kept: dict[str, Content] = {}
    written: list[Path] = []
    inline = [content for name, content in files.items() if name.startswith(INLINE)]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        for number, (name, content) in enumerate(files.items()):
            sha256 = hashlib.sha256(content).hexdigest()
            entries.append([name, len(content), sha256, noted.get(name)])
            if name.startswith(INLINE):
                kept[name] = content
                continue
            body = path.with_name(f"{path.name}.{number}")
            _replace(body, content)
            written.append(body)
            kept[name] = stored(body, sha256, len(content), noted.get(name))
        text = json.dumps({"files": entries}, ensure_ascii=False).encode("utf-8")
        check = hashlib.sha256(text)
        for content in inline:
            check.update(content)
        _replace(path, b"".join([_STORED_MAGIC, text, b"\n", check.hexdigest().encode(), b"\n", *inline]))
    except OSError:
        for body in written:
            with contextlib.suppress(OSError):
                body.unlink()
        return None
    return kept


def _replace(path: Path, data: bytes) -> None:
    """Write a file whole under a temporary name, then rename it into place."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_bytes(data)
        temporary.replace(path)
    except OSError:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
        raise


def _read_stored(path: Path, checked: Checked) -> dict[str, Content] | None:
    """A stored unit whose header and every file check out, else None (made anew)."""
    try:
        data = path.read_bytes()
        if not data.startswith(_STORED_MAGIC):
            return None
        text, check, inline = data[len(_STORED_MAGIC) :].split(b"\n", 2)
        digest = hashlib.sha256(text)
        digest.update(inline)
        if check.decode("ascii") != digest.hexdigest():
            return None
        files: dict[str, Content] = {}
        offset = 0
        for number, (name, size, sha256, marks) in enumerate(json.loads(text)["files"]):
            if str(name).startswith(INLINE):
                files[str(name)] = inline[offset : offset + int(size)]
                offset += int(size)
                continue
            body = path.with_name(f"{path.name}.{number}")
            if not checked.holds(body, int(size), str(sha256)):
                return None
            files[str(name)] = stored(body, str(sha256), int(size), None if marks is None else str(marks))
    except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError):
        return None
    return files if offset == len(inline) else None


class Checked:
    """The files of a cache whose digest was checked, by stamp (size, mtime, ctime, inode), as
    git's index does: a file whose stamp has not moved since is not read again, so a rebuild
    reads the files it uses only once they changed, not every page of the show each time.

    Any write to a file moves its ctime (which no program can set back), and a file copied
    from elsewhere has another inode: a changed or foreign file is always read and checked.
    A stamp taken within :data:`RACY_NS` of the file's last change is not kept (the file may
    change again within the same timestamp tick). The ledger is a JSON file beside the cache;
    one that cannot be read is as none (every file is read again).
    """

    def __init__(self, ledger: Path | None) -> None:
        self._ledger = ledger
        self._known: dict[str, list[object]] = {}
        self._seen: dict[str, list[object]] = {}
        self._started = time.time_ns()
        if ledger is None:
            return
        with contextlib.suppress(OSError, ValueError, TypeError, KeyError):
            document = json.loads(ledger.read_bytes())
            if document["version"] == _LEDGER_VERSION and isinstance(document["files"], dict):
                self._known = document["files"]

    def holds(self, body: Path, size: int, sha256: str) -> bool:
        """Whether ``body`` is a regular file of that size and digest: from its stamp when it was
        checked before and has not moved, else read a piece at a time (its bytes are not kept).
        Opened without blocking: a FIFO at its name is no file."""
        name = body.name  # <key>.<n>: unique in the kind's folder
        status = os.stat(body, follow_symlinks=False)
        if not stat.S_ISREG(status.st_mode) or status.st_size != size or size > _LARGEST_BODY:
            return False
        stamp: list[object] = [size, status.st_mtime_ns, status.st_ctime_ns, status.st_ino, sha256]
        known = self._known.get(name)
        if known == stamp:
            # The ledger's own entry: 30,000 of them at 10,000 episodes, not held twice.
            self._seen[name] = known
            return True
        handle = os.open(body, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
        try:
            status = os.fstat(handle)
            if not stat.S_ISREG(status.st_mode) or status.st_size != size:
                return False
            if file_sha256(handle) != sha256:
                return False
        finally:
            os.close(handle)
        if max(status.st_mtime_ns, status.st_ctime_ns) < self._started - RACY_NS:
            self._seen[name] = [size, status.st_mtime_ns, status.st_ctime_ns, status.st_ino, sha256]
        return True

    def save(self) -> None:
        """Keep the stamps of the files checked or trusted by this build (no error if it cannot)."""
        if self._ledger is None or self._seen == self._known:
            return
        with contextlib.suppress(OSError):
            _replace(self._ledger, json.dumps({"version": _LEDGER_VERSION, "files": self._seen}).encode("utf-8"))


_LEDGER_VERSION: Final = 1
#: The ledgers of caches used by several stages of a build (the image cache), by path: one
#: :class:`Checked` each, saved with the pages' ledger (:meth:`Units.prune`), once per build.
_LEDGERS: dict[Path, Checked] = {}


def ledger(path: Path) -> Checked:
    """The build's one :class:`Checked` kept at ``path`` (read on first use), for a cache whose
    files are checked by several stages: saved and closed by :func:`save_ledgers`."""
    if path not in _LEDGERS:
        _LEDGERS[path] = Checked(path)
    return _LEDGERS[path]


def save_ledgers() -> None:
    """Keep and close the ledgers opened with :func:`ledger`: the next build opens them anew."""
    while _LEDGERS:
        _LEDGERS.popitem()[1].save()


#: One unit to get: its inputs, how to make it, and the stamps of the files it reads.
Request = tuple[tuple[object, ...], Callable[[], dict[str, bytes]], Sequence[object]]
#: A unit for a worker to make: where to keep it, how to make it, the stamps of the files it
#: reads, when the build started, and how to write it.
Job = tuple[Path, Callable[[], dict[str, bytes]], tuple[object, ...], int, Callable[[Path, dict[str, bytes]], object]]
#: Fewer missing units than this are made in this process: a worker costs a fork.
PARALLEL_MIN = 64
#: Most worker processes used, whatever the number of cores.
MAX_WORKERS = 8
#: The jobs of the running pool: set before the fork, so that workers inherit them (closures
#: over the build's values, which could not be sent to a process otherwise).
_JOBS: list[Job] = []


def _cores() -> int:
    """The cores this process may run on (a container or ``taskset`` may allow fewer than the machine has)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _can_fork() -> bool:
    """Whether units may be made by forked workers: several cores, Linux, and no
    other thread in this process (``serve``'s server), whose locks a fork would copy held."""
    return (
        _cores() > 1
        # Linux only: macOS offers fork, but its system libraries are not safe across one.
        and sys.platform.startswith("linux")
        and "fork" in multiprocessing.get_all_start_methods()
        and threading.active_count() == 1
    )


def _in_workers(jobs: list[Job]) -> None:
    """Make and keep ``jobs`` in forked worker processes; failures are left to the caller."""
    _JOBS[:] = jobs
    workers = min(_cores(), MAX_WORKERS, len(jobs))
    finished = False
    try:
        # An executor rather than multiprocessing.Pool: a worker killed (out of memory, a
        # signal) breaks it at once, where a Pool would wait for the lost task forever.
        executor = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))
    except (OSError, ValueError):
        _JOBS.clear()
        return  # no worker could start: the caller makes every unit itself
    try:
        for _ in executor.map(_job, range(len(jobs)), chunksize=max(1, len(jobs) // (workers * 4))):
            pass
        finished = True
    except (OSError, BrokenProcessPool):
        pass  # the units no worker kept are made by the caller
    finally:
        # A broken pool is not waited for: its threads may never hear from the workers again.
        executor.shutdown(wait=finished, cancel_futures=True)
        _JOBS.clear()


def _job(index: int) -> None:
    """In a worker: make one unit and keep it (an error leaves it to the parent to raise)."""
    path, make, stamps, started, write = _JOBS[index]
    try:
        made = make()
    except Exception:
        return
    if not _racy(stamps, started):
        write(path, made)


def _racy(stamps: Iterable[object], started: int) -> bool:
    limit = started - RACY_NS
    for stamp in stamps:
        if isinstance(stamp, tuple) and len(stamp) == 3 and isinstance(stamp[1], int) and stamp[1] >= limit:
            return True
    return False
