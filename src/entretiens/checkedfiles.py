"""A ledger of the files of a cache whose digest was checked, so that a rebuild reads a file
again only once it changed (see :class:`Checked`): the pages kept by
:mod:`entretiens.unitcache` and the pictures kept by :mod:`entretiens.thumbnails`.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import time
from pathlib import Path
from typing import Final

from . import walks
from .output import file_sha256

#: A file modified this close (ns) to the moment it was read may change again without its stats
#: changing (see :mod:`entretiens.buildrecord`): a unit reading one is not kept. (The ledger
#: here keeps a stamp once it has settled by the rule of every stamp: :func:`walks.settled`.)
RACY_NS: Final = 2_000_000_000
#: Larger than any page: a file of another size at a body's name is not read at all.
_LARGEST_BODY: Final = 64 * 1024 * 1024


def replace(path: Path, data: bytes) -> None:
    """Write a file whole under a temporary name, then rename it into place."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_bytes(data)
        temporary.replace(path)
    except OSError:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
        raise


class Checked:
    """The files of a cache whose digest was checked, by stamp (size, mtime, ctime, inode), as
    git's index does: a file whose stamp has not moved since is not read again, so a rebuild
    reads the files it uses only once they changed, not every page of the show each time.

    Any write to a file moves its ctime (which no program can set back), and a file copied
    from elsewhere has another inode: a changed or foreign file is always read and checked.
    A stamp taken before it settled (:func:`walks.settled`: 0.1 s after the file's last change,
    2 s on a file system with coarse times, as the output's and the record's stamps) is not
    kept (the file may change again within the same timestamp tick). The ledger is a JSON
    file beside the cache; one that cannot be read is as none (every file is read again).

    The files a build writes (:meth:`wrote`), and those it checked too soon after they were
    written, are checked once more when the ledger is saved, if their stamp has settled by
    then: so the first rebuild after a cold build trusts them by stamp rather than reading
    every page written in the build's last seconds again, and a file changed within a tick of
    its write is still read, since its stamp is taken only from a read that came after the tick.
    """

    def __init__(self, ledger: Path | None) -> None:
        self._ledger = ledger
        #: name -> its stamp, as :func:`_stamp` writes it: one text a file, not a list of five
        #: values (the ledger of 40,000 pages held 23 MiB through a build of 10,000 episodes).
        self._known: dict[str, object] = {}
        self._seen: dict[str, object] = {}
        #: What the ledger file itself holds, and what its delta file (:func:`_delta`) adds.
        self._whole: dict[str, object] = {}
        self._delta: dict[str, object] = {}
        #: Files to check at :meth:`save`: (path, size, SHA-256), the caller's own objects (held
        #: for every page of a cold build: no copy of them).
        self._written: list[tuple[Path | str, int, str]] = []
        self._started = time.time_ns()
        if ledger is None:
            return
        self._whole = self._known = _read(ledger)
        if self._whole:
            # Entries of any age are sound (each says what a file of that very stamp holds).
            self._delta = _read(_delta(ledger))
            if self._delta:
                self._known = {**self._whole, **self._delta}

    def holds(self, body: Path | str, size: int, sha256: str, name: str | None = None) -> bool:
        """Whether ``body`` is a regular file of that size and digest: from its stamp when it was
        checked before and has not moved, else read a piece at a time (its bytes are not kept).
        Opened without blocking: a FIFO at its name is no file.

        :param name: ``os.path.basename(body)``, when the caller has it (the key in the ledger).
        """
        if name is None:
            name = os.path.basename(body)  # <key>.<n>: unique in the kind's folder
        status = os.stat(body, follow_symlinks=False)
        if not stat.S_ISREG(status.st_mode) or status.st_size != size or size > _LARGEST_BODY:
            return False
        known = self._known.get(name)
        # The ledger is JSON from a show folder: anything may be there, and only its own text
        # matches (:func:`_stamp`'s, spelled out here: a call less for each of 30,000 files).
        if known is not None and known == f"{size} {status.st_mtime_ns} {status.st_ctime_ns} {status.st_ino} {sha256}":
            # The ledger's own entry: 30,000 of them at 10,000 episodes, not held twice.
            self._seen[name] = known
            return True
        found = self._check(body, size, sha256, self._started)
        if found is None:
            return False
        if found:
            self._seen[name] = found
        elif self._ledger is not None:
            # Changed too recently to be trusted by stamp: checked again when the ledger is saved.
            self._written.append((body, size, sha256))
        return True

    def wrote(self, body: Path | str, size: int, sha256: str) -> None:
        """Note a file this build has just written with bytes of that size and digest: it is
        checked when the ledger is saved, and from then on trusted by its stamp. For a cache
        that hands on the files it writes without reading them back (see the class)."""
        if self._ledger is not None:
            self._written.append((body, size, sha256))

    def wrote_file(self, body: Path | str, size: int, sha256: str, name: str | None = None) -> bool:
        """:meth:`wrote`, in the form of :meth:`holds` (True): for a caller that checks the
        files it reads and notes those it wrote in the same loop."""
        self.wrote(body, size, sha256)
        return True

    @staticmethod
    def _check(body: Path | str, size: int, sha256: str, since: int, *, settled: bool = False) -> str | None:
        """Read ``body``: None when it is not a regular file of that size and digest, else its
        stamp to keep, or an empty text when its stamp had not settled at ``since`` (a moment
        before it was opened). :param settled: only a file that can be kept is read."""
        try:
            handle = os.open(body, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            return None
        try:
            status = os.fstat(handle)
            if not stat.S_ISREG(status.st_mode) or status.st_size != size or size > _LARGEST_BODY:
                return None
            stamp = (status.st_size, status.st_mtime_ns, status.st_ctime_ns, status.st_ino)
            racy = not walks.settled(stamp, since)
            if racy and settled:
                return ""
            if file_sha256(handle) != sha256:
                return None
        except OSError:
            return None
        finally:
            os.close(handle)
        return "" if racy else _stamp(status, sha256)

    def save(self) -> None:
        """Keep the stamps of the files checked or trusted by this build (no error if it cannot)."""
        if self._ledger is None:
            return
        now = time.time_ns()
        for body, size, sha256 in self._written:
            name = os.path.basename(body)
            if name not in self._seen and (found := self._check(body, size, sha256, now, settled=True)):
                self._seen[name] = found
        self._written.clear()
        if self._seen == self._known:
            return
        whole = self._whole
        # What this build saw that the ledger file does not say: after an edit, a few files. They
        # go into the delta file (the ledger of 40,000 pages, 7 MB, was written whole after
        # each edit of a large show); the ledger is written whole, without the files no longer
        # seen, once the delta or the files no longer seen are an eighth of it.
        added = {name: found for name, found in self._seen.items() if whole.get(name) != found}
        unseen = len(whole) - (len(self._seen) - len(added))
        with contextlib.suppress(OSError):
            if whole and _DELTA_SHARE * max(len(added), unseen) <= len(whole):
                if added != self._delta:
                    replace(_delta(self._ledger), _document(added))
                return
            replace(self._ledger, _document(self._seen))
            _delta(self._ledger).unlink(missing_ok=True)


_LEDGER_VERSION: Final = 2
#: The ledger file is written whole when what its delta adds, or the files it names that a
#: build no longer saw, are more than this share of it.
_DELTA_SHARE: Final = 8


def _delta(ledger: Path) -> Path:
    """The file beside ``ledger`` holding what a build saw that ``ledger`` does not say."""
    return ledger.with_name(ledger.name + ".delta")


def _read(path: Path) -> dict[str, object]:
    """The files a ledger (or its delta) names, or none when it cannot be read."""
    data = walks.read_regular(path)
    if data is None:
        return {}
    with contextlib.suppress(OSError, ValueError, TypeError, KeyError):
        document = json.loads(data)
        if document["version"] == _LEDGER_VERSION and isinstance(document["files"], dict):
            return document["files"]
    return {}


def _document(files: dict[str, object]) -> bytes:
    return json.dumps({"version": _LEDGER_VERSION, "files": files}).encode("utf-8")


def _stamp(status: os.stat_result, sha256: str) -> str:
    """A file's entry in a ledger: its size, mtime, ctime and inode, and its SHA-256."""
    return f"{status.st_size} {status.st_mtime_ns} {status.st_ctime_ns} {status.st_ino} {sha256}"


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
