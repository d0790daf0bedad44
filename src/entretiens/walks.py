"""The stamps of the files under a folder: the show's inputs, and the output's files and folders.

A stamp is (size, mtime, ctime, inode), all in ns: what :mod:`entretiens.buildrecord` records
and compares, and what the output's ledger proves files unchanged by. Listing a folder costs
more than stamping the files in it (at 10,000 episodes the output is 10,000 folders): a folder
of the output whose own stamp is still the one recorded is not listed again, since adding,
removing or renaming an entry moves its folder's mtime and ctime (POSIX); its files are those
recorded, each stamped again (a file written in place, which no folder sees, still shows).

Deliberately small: imported before the stages, while Python is still starting.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Final

#: Folders of the show folder that are never inputs: caches, version control, staging.
_SKIPPED: Final = frozenset({".entretiens", ".git", ".hg", ".svn", "node_modules", "__pycache__"})

#: A file modified this close (ns) to the moment its stats were taken may change again within
#: the same timestamp tick (a few ms on Linux, 2 s on FAT) without its stats changing: such a
#: record is not trusted, as git does with its index.
RACY_NS: Final = 2_000_000_000
#: The same, where the file system's times show a precision finer than 10 ms (Linux's local file
#: systems: they move at every scheduler tick, at most 10 ms apart): 10 ticks.
FINE_RACY_NS: Final = 100_000_000
#: The size an output walk gives a link (made by hand: a write makes none), which no file has:
#: the write never takes it for the file it stands for, and replaces or removes it.
LINK: Final = -2

#: path -> (size, mtime_ns, ctime_ns, inode); folders of the output end in "/" and have size -1.
Stats = dict[str, tuple[int, int, int, int]]


def plain_names(names: Collection[str]) -> bool:
    """Whether every name is one a walk of the output gives (relative, each part a plain name,
    a folder's ending in "/"): what a ledger read from a journal names is stamped and trusted
    by its path, so its names are checked once, all joined by NUL (which no name holds), by a
    few searches in C, not one name at a time."""
    if not names:
        return True
    text = "\0" + "\0".join(names) + "\0"
    if text.count("\0") != len(names) + 1 or "\0\0" in text or "\0/" in text or "//" in text:
        return False  # a NUL in a name, an empty name, a leading "/", an empty part
    # A part that is "." or "..": after each part that starts with a dot (few: hidden files).
    for lead in ("\0.", "/."):
        at = text.find(lead)
        while at >= 0:
            after = text[at + 2 : at + 4]
            if after[0] in "/\0" or (after[0] == "." and after[1] in "/\0"):
                return False
            at = text.find(lead, at + 2)
    return True


def settled(stats: tuple[int, int, int, int], taken_ns: int) -> bool:
    """Whether a stamp taken at ``taken_ns`` proves the file's bytes (a folder's entries) for as
    long as it holds.

    Any later change moves the ctime, unless it falls in the same timestamp tick as the last
    one: a stamp taken less than a tick after the file changed proves nothing (as git's racy
    index entries). Times in whole multiples of 10 ms betray a coarse file system (FAT's 2 s).
    """
    _size, mtime, ctime, _inode = stats
    window = RACY_NS if mtime % 10_000_000 == 0 and ctime % 10_000_000 == 0 else FINE_RACY_NS
    return max(mtime, ctime) < taken_ns - window


def inputs(root: Path, out_dir: Path) -> Stats:
    """Size, mtime and inode of every file under the show folder but the output and caches.

    Every file counts, not only those the show names: a new guest photo or transcript is
    picked up without knowing which file it will be.
    """
    return _walk(root, skip={out_dir.resolve()}, folders=False)


def outputs(
    out_dir: Path,
    known: Mapping[str, Sequence[int]] | None = None,
    since: int | None = None,
    empty: list[str] | None = None,
) -> Stats:
    """Every file and folder of the output: a file removed, added or replaced shows in them.

    Every file the output holds is publish's to replace or remove, so none is skipped: the
    files are those ``rglob("*")`` then ``is_file()`` find (a link to a file counts, a linked
    folder is not entered, an unreadable folder is skipped), the folders those it enters.

    :param known: the stamps a walk of this folder found, begun at ``since`` (the ledger's): a
        folder whose stamp is still the one it found, settled then (:func:`settled`), has the
        entries found then; they are stamped again without listing it. The result is the same.
    :param empty: given, the folders found with no entry in the result are added to it (a
        cold build has none), found on the way: listed empty, or recorded so.
    """
    return _walk(out_dir.resolve(), skip=set(), folders=True, known=known, since=since, empty=empty)


def holds(out_dir: Path, known: Mapping[str, Sequence[int]], since: int | None) -> bool:
    """Whether :func:`outputs` would find exactly ``known``, the stamps a walk found, begun at
    ``since`` (the ledger's; None: unknown, the folder is walked and compared).

    Each recorded entry is stamped by its path, and the only folders listed are the top one
    and those whose stamp, the same as recorded, had not settled then: any other added entry
    would have moved its folder's stamp, which no longer matches. Half the cost of a walk
    (no folder is listed, no entry object made per file).
    """
    top = out_dir.resolve()
    if since is None:
        found = outputs(top)
        return len(found) == len(known) and all(tuple(known.get(name, ())) == stamp for name, stamp in found.items())
    base = str(top) + "/"
    listed = [str(top)]
    for name, recorded in known.items():
        try:
            if name[-1] == "/":
                status = os.lstat(base + name)
                stamp = (-1, status.st_mtime_ns, status.st_ctime_ns, status.st_ino)
                if not stat.S_ISDIR(status.st_mode) or tuple(recorded) != stamp:
                    return False
                if not settled(stamp, since):
                    listed.append(base + name[:-1])
                continue
            if recorded[0] == LINK:
                status = os.lstat(base + name)
                if not stat.S_ISLNK(status.st_mode) or tuple(recorded) != (
                    LINK, status.st_mtime_ns, status.st_ctime_ns, status.st_ino
                ):  # fmt: skip
                    return False
                continue
            status = os.stat(base + name)
        except OSError:
            return False
        if tuple(recorded) != (status.st_size, status.st_mtime_ns, status.st_ctime_ns, status.st_ino):
            return False
    prefix = len(base)
    for folder in listed:
        try:
            with os.scandir(folder) as scanned:
                for entry in scanned:
                    if entry.is_dir(follow_symlinks=False):
                        name = entry.path[prefix:] + "/"
                    elif entry.is_file() or entry.is_symlink():
                        name = entry.path[prefix:]
                    else:
                        continue
                    if name not in known:
                        return False
        except OSError:
            continue  # unreadable: as the walk, which skips it
    return True


def _walk(
    top: Path,
    *,
    skip: set[Path],
    folders: bool,
    known: Mapping[str, Sequence[int]] | None = None,
    since: int | None = None,
    empty: list[str] | None = None,
) -> Stats:
    """The inputs under ``top`` (``folders=False``: caches and version control skipped), or the
    output (``folders=True``: every file and folder; see :func:`outputs` for ``known`` and
    ``empty``)."""
    found: Stats = {}
    base = str(top) + "/"
    prefix = len(base)
    proving = folders and known is not None and since is not None
    entries_of = _by_folder(known) if proving and known is not None else {}
    stack = [str(top)]
    kept: list[str] = []  # folders (relative, ending in "/") whose recorded entries still stand
    while stack or kept:
        if kept:
            folder = kept.pop()
            names = entries_of.get(folder, ())
            if not names and empty is not None:
                empty.append(folder)
            if not _restamp(found, base, names, known or {}, since or 0, kept, stack):
                # An entry gone or not what it was (its folder's stamp should have moved): listed.
                stack.append(base + folder[:-1])
            continue
        folder = stack.pop()
        try:
            with os.scandir(folder) as scanned:
                entries = list(scanned)
        except OSError:
            continue
        if not entries and empty is not None and len(folder) > prefix:
            empty.append(folder[prefix:] + "/")
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    if not folders and (
                        entry.name in _SKIPPED
                        or entry.name.startswith((".public.", f".{top.name}."))
                        or Path(entry.path) in skip
                    ):
                        continue
                    if folders:
                        status = entry.stat(follow_symlinks=False)
                        name = entry.path[prefix:] + "/"
                        stamp = found[name] = (-1, status.st_mtime_ns, status.st_ctime_ns, status.st_ino)
                        if proving and _proves(stamp, name, known or {}, since or 0):
                            kept.append(name)
                            continue
                    stack.append(entry.path)
                    continue
                if folders and entry.is_symlink():
                    # Made by hand (a write makes none): never entered nor followed, it is an
                    # entry to replace or remove, as a cold build has no link (see LINK).
                    status = entry.stat(follow_symlinks=False)
                    found[entry.path[prefix:]] = (LINK, status.st_mtime_ns, status.st_ctime_ns, status.st_ino)
                    continue
                if folders and not entry.is_file():
                    continue  # a socket, a device...: not the output's
                status = entry.stat()
            except OSError:
                continue
            found[entry.path[prefix:]] = (status.st_size, status.st_mtime_ns, status.st_ctime_ns, status.st_ino)
    return found


def _proves(stamp: tuple[int, int, int, int], name: str, known: Mapping[str, Sequence[int]], since: int) -> bool:
    """Whether a folder's stamp is the recorded one, settled when recorded: its entries are too."""
    recorded = known.get(name)
    return recorded is not None and tuple(recorded) == stamp and settled(stamp, since)


def _by_folder(known: Mapping[str, Sequence[int]]) -> dict[str, list[str]]:
    """The recorded entries by their folder ("a/b/" holds "a/b/c" and "a/b/d/")."""
    entries: dict[str, list[str]] = {}
    for name in known:
        folder = name[: name.rfind("/", 0, len(name) - 1) + 1]
        found = entries.get(folder)
        if found is None:
            entries[folder] = [name]
        else:
            found.append(name)
    return entries


def _restamp(
    found: Stats,
    base: str,
    names: Sequence[str],
    known: Mapping[str, Sequence[int]],
    since: int,
    proved: list[str],
    listed: list[str],
) -> bool:
    """Stamp again, into ``found``, the entries of a folder whose listing stands, each by its
    path; its folders go to ``proved`` (their entries stand too) or ``listed`` (by their path,
    to list). False: an entry is gone or is no longer a file (a folder), so the folder is to
    be listed after all, and nothing of it is left in ``found``. Written into the caller's
    values, not returned in new ones: two calls per episode at 10,000 episodes."""
    folders: list[str] = []
    for name in names:
        try:
            if name[-1] == "/":
                status = os.lstat(base + name)
                if not stat.S_ISDIR(status.st_mode):
                    break
                found[name] = (-1, status.st_mtime_ns, status.st_ctime_ns, status.st_ino)
                folders.append(name)
                continue
            status = os.stat(base + name)
        except OSError:
            break
        if not stat.S_ISREG(status.st_mode):
            break
        found[name] = (status.st_size, status.st_mtime_ns, status.st_ctime_ns, status.st_ino)
    else:
        for name in folders:
            if _proves(found[name], name, known, since):
                proved.append(name)
            else:
                listed.append(base + name[:-1])
        return True
    for name in names:
        found.pop(name, None)
    return False
