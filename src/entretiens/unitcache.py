"""The per-episode cache: what one episode's work produced, kept on disk under a digest of its inputs.

An episode's pages and its own problems are a function of explicit inputs: the episode, its
measured audio, its neighbours, the show's settings, the files it names (by size, mtime and
inode), the show's template overrides and the code that builds it. A rebuild after one edit
recomputes only the units whose digest changed; every other unit is read back from
``.entretiens/cache/units/``. A unit file that is missing, foreign, truncated or altered (its
body no longer matches the digest in its header) is ignored and computed again: the cache only
ever saves time, never decides what is published.

The keys are taken by :mod:`entretiens.unitkeys` (named here too, where the stages take them).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import multiprocessing
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Final, cast

from . import atomicfile, checkedstore, gcpause, walks

# RACY_NS, Checked and ledger are named here too, where the image cache and the YAML cache take them.
from .checkedfiles import RACY_NS as RACY_NS
from .checkedfiles import Checked as Checked
from .checkedfiles import ledger as ledger
from .checkedfiles import save_ledgers
from .output import Content
from .unitkeys import NEIGHBOURS as NEIGHBOURS
from .unitkeys import Digests as Digests
from .unitkeys import digest as digest
from .unitkeys import file_stamp as file_stamp
from .unitkeys import keyer
from .unitkeys import tree_stamps as tree_stamps
from .unitstore import Bodies, Marks, decode, decode_stored, encode, remove_files, shelf, split_stored, write_stored

#: Where the units are kept, in the show folder.
UNITS_DIR: Final = Path(".entretiens") / "cache" / "units"


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
    """The versions of :data:`LIBRARIES`, part of every unit's key.

    Read from the names of the libraries' ``<name>-<version>.dist-info`` folders, the first
    found along ``sys.path`` (where :mod:`importlib.metadata` finds them too, and what an
    upgrade replaces): importing importlib.metadata and parsing nine metadata files cost
    15 to 45 ms at every edit. A library found otherwise (an ``.egg-info``, a zip, two
    versions in one folder) is asked of importlib.metadata, as before.
    """
    found = _dist_info_versions(sys.path)
    return ", ".join(f"{name} {found.get(_normal(name)) or _metadata_version(name)}" for name in LIBRARIES)


def _normal(name: str) -> str:
    """A project's name as its dist-info folder and its metadata may both spell it (PEP 503)."""
    return re.sub(r"[-_.]+", "_", name).lower()


def _dist_info_versions(path: Sequence[str]) -> dict[str, str | None]:
    """normalized name -> the version of :data:`LIBRARIES` found first along ``path`` from its
    dist-info folder's name, or None where that folder's name does not settle it."""
    wanted = {_normal(name) for name in LIBRARIES}
    found: dict[str, str | None] = {}
    for entry in path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue  # not a folder (a zip: asked of importlib.metadata), or gone
        here: dict[str, str | None] = {}
        for name in names:
            stem, dot, suffix = name.rpartition(".")
            if suffix not in ("dist-info", "egg-info") or not dot:
                continue
            project, dash, version = stem.partition("-")
            key = _normal(project)
            if key not in wanted or key in found:
                continue
            # An egg-info, a name without a version, or two versions side by side: asked of
            # importlib.metadata, which reads the files themselves.
            plain = suffix == "dist-info" and dash and "-" not in version and key not in here
            here[key] = version if plain else None
        found.update(here)
    return found


def _metadata_version(name: str) -> str:
    """A library's version as importlib.metadata reads it (imported only when needed: ~10 ms)."""
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "?"


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
        self._root = root
        self._code = version
        self._version = f"{kind} {version} {libraries()}"
        #: A unit's key: :func:`digest` of the version then its inputs (the version hashed once).
        self._key = keyer(self._version)
        units = None if root is None else root / UNITS_DIR
        self._units = units
        #: Where a stored kind's files are kept, ``<key[:2]>/<key>.<n>``.
        self._folder = None if units is None else units / kind
        self._bodies = None if self._folder is None else Bodies(self._folder)
        self._shelf = None if units is None else shelf(units, kind, self._version, stored=stored)
        self._checked = Checked(None if units is None or not stored else units / f"{kind}.checked")
        self._started = time.time_ns()
        self._stored = stored
        self._marks = marks
        #: Keys read or written by this build, and how many units were computed.
        self.used: set[str] = set()
        self.computed = 0

    def sibling(self, kind: str) -> Units:
        """The units of another kind, kept beside these by the same code: for a unit made from
        units of its own (the guests page from each guest's entry), asked for only when it is made."""
        return Units(self._root, kind, version=self._code)

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
        with more than one core, in a process running no other thread), which write each
        unit's entry to a file of their own (a stored kind's files beside it); this process
        checks and keeps them. A unit a worker could not make or keep is made here, where its
        error, if any, is raised as usual.
        """
        if self._stored:
            raise TypeError("the units of a stored kind are read with get_files()")
        # Each unit a dict of its own (a kept one shared by entries is copied by _read), its
        # files bytes alone (decoded from an entry, or made): handed on as they are, not copied
        # again (two dicts a kept item or checks unit, at every build).
        return cast("list[dict[str, bytes]]", self._get(requests))

    def get_files(self, requests: Sequence[Request]) -> list[dict[str, Content]]:
        """Like :meth:`get_many`; a kept unit's files come as :class:`~entretiens.output.Stored`
        paths (checked against their digests) when the kind is ``stored``, as bytes otherwise."""
        return self._get(requests)

    def _get(self, requests: Sequence[Request]) -> list[dict[str, Content]]:
        # No process is started while the units are keyed and read back (a dict, and a path
        # or bytes per file, for each of 10,000 episodes): the collector paused, and what they
        # made, which lives as long as the build, held out of its passes once read (gcpause).
        # Else it walked them again and again: a tenth of the site's CPU after one edit.
        with gcpause.paused(hold=True):
            keys = [self._key(*inputs, *tuple(stamps)) for inputs, _make, stamps in requests]
            found = [self._read(key) for key in keys]
        missing = [index for index, unit in enumerate(found) if unit is None]
        if self._shelf is not None and len(missing) >= PARALLEL_MIN and _can_fork():
            self._in_workers(requests, keys, missing, found)
        results: list[dict[str, Content]] = []
        for index, (key, unit) in enumerate(zip(keys, found, strict=True)):
            self.used.add(key)
            if unit is None:
                _inputs, make, stamps = requests[index]
                made = make()
                unit = dict(made)
                if self._shelf is not None and not _racy(stamps, self._started):
                    entry = self._entry(key, made)
                    # Handed on as the files just kept: a cold build on one core holds no page.
                    unit = (self._keep(key, entry) if entry is not None else None) or unit
            results.append(unit)
        self.computed += len(missing)
        return results

    def _in_workers(
        self, requests: Sequence[Request], keys: list[str], missing: list[int], found: list[dict[str, Content] | None]
    ) -> None:
        """Make the ``missing`` units in forked workers, and keep each one a worker made."""
        assert self._units is not None
        jobs: list[Job] = [
            (keys[i], requests[i][1], tuple(requests[i][2]), self._started, self._entry) for i in missing
        ]
        for index, entry in zip(missing, in_workers(jobs, self._units), strict=True):
            if entry is not None:
                found[index] = self._keep(keys[index], entry)

    def _read(self, key: str) -> dict[str, Content] | None:
        if self._shelf is None:
            return None
        if not self._stored:
            # A small entry many units share (the checks of an episode with no problem) is
            # read and decoded once; each unit is handed its own dict of it.
            shared = self._shelf.read(key, decode)
            if shared is None:
                self._shelf.forget(key)
                return None
            return dict(shared)
        inline = self._shelf.get(key)
        if inline is None:
            return None
        assert self._bodies is not None
        # The files' names and digests come with the store's index, checked with it in one pass.
        head = self._shelf.head_bytes(key)
        files = None if head is None else decode_stored(self._bodies, key, head, inline, self._checked, check=True)
        if files is None:
            self._shelf.forget(key)
        return files

    def _keep(self, key: str, entry: bytes) -> dict[str, Content] | None:
        """Keep a unit's entry just made (here or by a worker) and hand on its files: a stored
        kind's files, written by this build, are noted to the ledger, not read again."""
        assert self._shelf is not None
        if not self._stored:
            files = decode(entry)
            if files is not None:
                self._shelf.put(key, entry)
            return files
        assert self._bodies is not None
        split = split_stored(entry)
        if split is None:
            return None
        head, inline = split
        files = decode_stored(self._bodies, key, head, inline, self._checked, check=False)
        if files is not None:
            self._shelf.put(key, inline, head_json=head)
        return files

    def _entry(self, key: str, files: dict[str, bytes]) -> bytes | None:
        """The entry of a unit just made (a stored kind's files written beside it), or None
        when it cannot be kept. Runs in a worker too: it writes files, never the store."""
        if not self._stored:
            return encode(files)
        assert self._folder is not None
        return write_stored(self._folder, key, files, self._marks)

    def prune(self) -> None:
        """Keep what this build made, drop the units it did not use (an edited episode's old
        unit), and keep the stamps of the files checked (see :class:`Checked`)."""
        save_ledgers()
        self.close()

    def keep(self) -> None:
        """For a build that stopped before its end (its files could not be built): keep the
        units it made, and the stamps of the files checked, but drop nothing, since the units
        it did not ask for may still be in use. Before, they were lost, and made again."""
        shelf, self._shelf = self._shelf, None
        if shelf is None:
            return
        save_ledgers()
        shelf.keep()
        self._checked.save()

    def close(self) -> None:
        """:meth:`prune` but for the ledgers of other caches: for a kind whose units are all
        asked for at once, kept as soon as they are (a build may stop before its end)."""
        shelf, self._shelf = self._shelf, None
        if shelf is None:
            return
        if not self.used:
            # Nothing asked for: nothing known to be out of use.
            shelf.release()
            return
        # Only a stored kind's unit files are removed by key (a key decoded for each entry not
        # found: not for every kind, ~1 us a key).
        unused = shelf.unused(self.used) if self._stored else set()
        rewritten = shelf.close()
        self._checked.save()
        if self._folder is None or not (rewritten or self._stored) or not self._folder.is_dir():
            return
        if not rewritten:
            # The unit files of the entries just dropped; the others are all in use.
            buckets: dict[str, set[str]] = {}
            for key in unused:
                buckets.setdefault(key[:2], set()).add(key)
            for name, keys in buckets.items():
                remove_files(self._folder / name, keys)
            return
        # The store is rewritten: any file not of a unit in use goes (a unit of an earlier
        # version, one whose store entry was lost), as does what another layout left; but not a
        # unit's temporary file young enough that another build (``serve`` beside a ``publish``)
        # may be writing it. Only such a temporary's stamp is read.
        now = time.time_ns()
        with contextlib.suppress(OSError):
            for bucket in os.scandir(self._folder):
                if not bucket.is_dir(follow_symlinks=False):
                    with contextlib.suppress(OSError):
                        os.unlink(bucket.path)
                    continue
                for entry in os.scandir(bucket.path):
                    if self._stored and entry.name.partition(".")[0] in self.used:
                        continue
                    if not atomicfile.in_use(entry.path, entry.name, now):
                        with contextlib.suppress(OSError):
                            os.unlink(entry.path)


def prove(root: Path) -> int:
    """Prove whole the units' stores, and the YAML cache's beside them, that were written since
    they were last proven and have settled (:func:`entretiens.checkedstore.prove`): for the end
    of a publish, so that the first build after it (an edit after a cold build) reads its kept
    units without a SHA-256 of each. How many files were proven."""
    units = root / UNITS_DIR
    remove_spills(units, time.time_ns())
    return checkedstore.prove(units) + checkedstore.prove(units.parent)


#: The name of the folder a pool's workers write their entries into (:func:`in_workers`):
#: ``tempfile.mkdtemp``'s 8 letters after :data:`SPILL_PREFIX`.
SPILL_PREFIX: Final = ".spill-"
_SPILL_NAME = re.compile(re.escape(SPILL_PREFIX) + r"[a-z0-9_]{8}")


def remove_spills(folder: Path, now: int) -> int:
    """Remove the folders in ``folder`` that a pool's workers wrote their entries into and a
    killed build left (:func:`in_workers` removes its own on every other way out): a real
    folder named as :func:`in_workers` names it, in which nothing was written for
    :data:`atomicfile.LEFTOVER_NS` before ``now`` (ns), by the latest change of the folder and
    of its files (a running build's workers append to theirs). How many were removed; never
    raises on I/O."""
    removed = 0
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            if _SPILL_NAME.fullmatch(entry.name) is None or not entry.is_dir(follow_symlinks=False):
                continue
            with contextlib.suppress(OSError):
                if now - atomicfile.last_written(entry.path) > atomicfile.LEFTOVER_NS:
                    shutil.rmtree(entry.path)
                    removed += 1
    return removed


#: One unit to get: its inputs, how to make it, and the stamps of the files it reads.
Request = tuple[tuple[object, ...], Callable[[], dict[str, bytes]], Sequence[object]]
#: A unit for a worker to make: its key, how to make it, the stamps of the files it reads, when
#: the build started, and how to make its entry (writing a stored kind's files).
Job = tuple[
    str, Callable[[], dict[str, bytes]], tuple[object, ...], int, Callable[[str, dict[str, bytes]], bytes | None]
]
#: Fewer missing units than this are made in this process: a worker costs a fork.
PARALLEL_MIN = 64
#: Most worker processes used, whatever the number of cores.
MAX_WORKERS = 8
#: The jobs of the running pool: set before the fork, so that workers inherit them (closures
#: over the build's values, which could not be sent to a process otherwise).
_JOBS: list[Job] = []


def parallel(count: int) -> bool:
    """Whether ``count`` jobs are worth forked workers (:data:`PARALLEL_MIN`), and may have them."""
    return count >= PARALLEL_MIN and _can_fork()


def in_workers(jobs: list[Job], folder: Path) -> Iterator[bytes | None]:
    """Make ``jobs`` in forked workers: each job's entry, in order, read back and checked, or
    None for a job left to the caller (it failed, its worker was lost, no worker could start,
    ``folder`` cannot be written). The workers write their entries in a folder made in
    ``folder``, removed once they are all read: read one at a time, not all held at once.
    For the units, and for another cache's jobs of the same build (the social cards)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        spill = Path(tempfile.mkdtemp(prefix=SPILL_PREFIX, dir=folder))
    except OSError:
        yield from [None] * len(jobs)
        return
    try:
        for spilled in _in_workers(jobs, spill):
            yield None if spilled is None else _read_spilled(spilled)
    finally:
        shutil.rmtree(spill, ignore_errors=True)


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


#: Where a unit made by a worker is: (file, offset, length, SHA-256 of the entry).
Spilled = tuple[str, int, int, str]
#: The folder the running pool's workers write their entries into, one file per worker.
_SPILL: list[str] = []


def _in_workers(jobs: list[Job], spill: Path) -> list[Spilled | None]:
    """Make ``jobs`` in forked worker processes: where each unit made and kept was written (in
    ``spill``, one file per worker, which the caller removes), in order, or None for the units
    left to the caller (a failure, a worker lost, no worker at all). Entries travel by file:
    sent back through the pool's pipe, a cold build's entries grew this process by what the
    pipe's reader thread had held of them."""
    found: list[Spilled | None] = [None] * len(jobs)
    _JOBS[:] = jobs
    _SPILL[:] = [str(spill)]
    workers = min(_cores(), MAX_WORKERS, len(jobs))
    finished = False
    try:
        # An executor rather than multiprocessing.Pool: a worker killed (out of memory, a
        # signal) breaks it at once, where a Pool would wait for the lost task forever.
        executor = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))
    except (OSError, ValueError):
        _JOBS.clear()
        return found  # no worker could start: the caller makes every unit itself
    try:
        chunks = max(1, len(jobs) // (workers * 4))
        for index, spilled in enumerate(executor.map(_job, range(len(jobs)), chunksize=chunks)):
            found[index] = spilled
        finished = True
    except (OSError, BrokenProcessPool):
        pass  # the units no worker kept are made by the caller
    finally:
        # A broken pool is not waited for: its threads may never hear from the workers again.
        executor.shutdown(wait=finished, cancel_futures=True)
        _JOBS.clear()
    return found


def _job(index: int) -> Spilled | None:
    """In a worker: make one unit and write its entry to the worker's file (an error leaves
    the unit to the parent, which raises it)."""
    key, make, stamps, started, entry = _JOBS[index]
    try:
        made = make()
    except Exception:
        return None
    if _racy(stamps, started):
        return None
    data = entry(key, made)
    if data is None:
        return None
    path = f"{_SPILL[0]}/{os.getpid()}"
    try:
        with open(path, "ab") as spill:
            offset = spill.tell()
            spill.write(data)
    except OSError:
        return None
    return (path, offset, len(data), hashlib.sha256(data).hexdigest())


def _read_spilled(spilled: Spilled) -> bytes | None:
    """The entry a worker wrote, checked (a worker killed while writing it left it cut)."""
    path, offset, length, sha256 = spilled
    try:
        with open(path, "rb", buffering=0) as spill:
            spill.seek(offset)
            data = spill.read(length)
    except OSError:
        return None
    return data if len(data) == length and hashlib.sha256(data).hexdigest() == sha256 else None


def _racy(stamps: Iterable[object], started: int) -> bool:
    """Whether a file of ``stamps`` (:func:`file_stamp`'s, or an audio file's (size, mtime,
    ctime)) had not settled when the build started (:func:`walks.settled`, the rule of every
    stamp): changed again within the same timestamp tick, it would keep the stamp the unit is
    kept under. By the later of its mtime and ctime: a file rewritten with its mtime put back
    has an old mtime but a ctime of now."""
    for stamp in stamps:
        if isinstance(stamp, tuple) and len(stamp) in (3, 4):
            mtime, ctime = stamp[1], stamp[2]
            if type(mtime) is int and type(ctime) is int and not walks.settled((0, mtime, ctime, 0), started):
                return True
    return False
