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
from itertools import repeat
from operator import itemgetter, methodcaller
from pathlib import Path
from typing import BinaryIO, Final

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
#: The size a ledger gives a file whose stamp it could not keep (a time 64 bits do not hold):
#: such a stamp never holds, and the file is stamped again and read back at each write.
NEVER: Final = -3

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


def coarse(stats: tuple[int, int, int, int]) -> bool:
    """Whether a stamp's times betray a coarse file system (whole multiples of 10 ms: FAT's 2 s),
    whose tick :func:`settled` takes as :data:`RACY_NS`."""
    return stats[1] % 10_000_000 == 0 and stats[2] % 10_000_000 == 0


def read_regular(path: Path, most: int = 1 << 30) -> bytes | None:
    """The bytes of ``path`` if it is a regular file of at most ``most`` bytes, else None
    (missing, unreadable, a folder, a link, a FIFO or a device).

    For the files of ``.entretiens/`` read whole (the build record, the ledgers): a show folder
    can come from anyone, and a FIFO opened and read the plain way blocks the publish forever.
    """
    try:
        handle = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    try:
        status = os.fstat(handle)
        if not stat.S_ISREG(status.st_mode) or status.st_size > most:
            return None
        with os.fdopen(handle, "rb", closefd=False) as stream:
            # What fstat said, and one byte more to see growth: a read of `most` would reserve
            # that much (a gigabyte) for every small file.
            data = stream.read(min(most, status.st_size) + 1)
            if status.st_size < len(data) <= most:
                data += _rest(stream, most + 1 - len(data))
        return data if len(data) <= most else None
    except OSError:
        return None
    finally:
        os.close(handle)


def _rest(stream: BinaryIO, most: int) -> bytes:
    """At most ``most`` more bytes of a file that grew since it was measured, a chunk at a time."""
    parts: list[bytes] = []
    while most > 0:
        chunk = stream.read(min(most, 1 << 20))
        if not chunk:
            break
        parts.append(chunk)
        most -= len(chunk)
    return b"".join(parts)


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
    moved: set[str] | None = None,
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
    :param moved: given with ``known``, the names whose stamp is not the one ``known`` holds
        (added, changed or gone) are added to it: the others are ``known``'s own values.
    """
    top = out_dir.resolve()
    if known is not None and since is not None:
        return _rewalk(top, known, since, empty, moved if moved is not None else set())
    found = _walk(top, skip=set(), folders=True, empty=empty)
    if moved is not None and known is not None:
        moved.update(name for name, stamp in found.items() if tuple(known.get(name, ())) != stamp)
        moved.update(known.keys() - found.keys())
    return found


def holds(out_dir: Path, known: Mapping[str, Sequence[int]], since: int | None) -> bool:
    """Whether :func:`outputs` would find exactly ``known``, the stamps a walk found, begun at
    ``since`` (the ledger's; None: unknown, the folder is walked and compared).

    Each recorded entry is stamped by its path, and the only folders listed are the top one
    and those whose stamp, the same as recorded, had not settled then: any other added entry
    would have moved its folder's stamp, which no longer matches. Half the cost of a walk
    (no folder is listed, no entry object made per file).

    A file (or link) whose recorded stamp has coarse times (:func:`coarse`: whole seconds, on
    ext3, FAT, some network mounts) and had not settled by ``since`` proves nothing: another
    program rewriting it at the same size in the same second as the write that left it keeps
    that stamp. It is then not taken as unchanged (the publish builds, and reads it back),
    until a write records it settled. Fine times are trusted as they are: their tick is a few
    ms, and a publish right after its own write would otherwise never find the output still
    holding.
    """
    top = out_dir.resolve()
    if since is None:
        found = outputs(top)
        return (
            len(found) == len(known)
            and all(tuple(known.get(name, ())) == stamp for name, stamp in found.items())
            # Taken at an unknown moment: no coarse stamp of a file can be said to have settled.
            and not any(stamp[0] != -1 and coarse(stamp) for stamp in found.values())
        )
    base = str(top) + "/"
    listed = [str(top)]
    # A stamp whose times are both older than this had settled by ``since`` whatever its tick:
    # only the others (the files the last write made, mostly) are asked whether they are coarse.
    young = since - RACY_NS
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
                stamp = (LINK, status.st_mtime_ns, status.st_ctime_ns, status.st_ino)
                if not stat.S_ISLNK(status.st_mode) or tuple(recorded) != stamp:
                    return False
            else:
                status = os.stat(base + name)
                stamp = (status.st_size, status.st_mtime_ns, status.st_ctime_ns, status.st_ino)
                if tuple(recorded) != stamp:
                    return False
        except OSError:
            return False
        if (stamp[2] >= young or stamp[1] >= young) and coarse(stamp):
            return False  # not settled by ``since`` (walks.settled's window for coarse times)
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


def _walk(top: Path, *, skip: set[Path], folders: bool, empty: list[str] | None = None) -> Stats:
    """The inputs under ``top`` (``folders=False``: caches and version control skipped), or the
    output (``folders=True``: every file and folder; see :func:`outputs` for ``empty``), each
    folder listed."""
    found: Stats = {}
    base = str(top) + "/"
    prefix = len(base)
    stack = [str(top)]
    while stack:
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
                        found[entry.path[prefix:] + "/"] = (-1, status.st_mtime_ns, status.st_ctime_ns, status.st_ino)
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


def _rewalk(
    top: Path, known: Mapping[str, Sequence[int]], since: int, empty: list[str] | None, moved: set[str]
) -> Stats:
    """:func:`outputs` from ``known``, begun at ``since``: each recorded entry stamped by its path
    (one ``stat``), then the top folder and the folders whose stamp moved, or had not settled
    then, listed for what was added.

    An entry whose stamp holds keeps ``known``'s value (no tuple made, no name); one that
    moved, came or went is named in ``moved``. A folder whose entries changed has a new stamp
    (POSIX moves it at each entry added, removed or renamed), so it is listed, and what it
    lists stands over what was stamped by path. A recorded folder that is no longer one (a
    link put in its place) takes its recorded entries with it: they were stamped through it.
    """
    found: Stats = dict(known)  # type: ignore[arg-type]  # the ledger's own tuples, kept
    base = str(top) + "/"
    prefix = len(base)
    listing = [str(top)]
    lost: list[str] = []  # recorded folders no longer folders: nothing under them stands
    lstat, stat_, is_dir, is_file, is_link = os.lstat, os.stat, stat.S_ISDIR, stat.S_ISREG, stat.S_ISLNK
    # A folder whose times are both before this has settled, whatever its file system's tick
    # (the longer one): :func:`settled` is only asked about the others (few).
    long_settled = since - RACY_NS
    for name, recorded in known.items():
        if recorded[0] >= 0:  # a file: its stamp holds (most), or it is looked at again below
            try:
                status = stat_(base + name)
            except OSError:
                del found[name]
                moved.add(name)
                continue
            # The same inode, unchanged since (its ctime): still this folder's regular file.
            if (
                status.st_ctime_ns == recorded[2]
                and status.st_ino == recorded[3]
                and status.st_size == recorded[0]
                and status.st_mtime_ns == recorded[1]
            ):
                continue
        try:
            if name[-1] == "/":
                status = lstat(base + name[:-1])  # not through a link put in its place ("d/" follows it)
                if not is_dir(status.st_mode):
                    lost.append(name)
                    del found[name]
                    moved.add(name)
                    continue
                stamp = (-1, status.st_mtime_ns, status.st_ctime_ns, status.st_ino)
                if stamp != tuple(recorded):
                    found[name] = stamp
                    moved.add(name)
                    listing.append(base + name[:-1])
                elif (stamp[1] >= long_settled or stamp[2] >= long_settled) and not settled(stamp, since):
                    listing.append(base + name[:-1])
                continue
            if recorded[0] == LINK:
                status = lstat(base + name)
                if not is_link(status.st_mode):
                    raise FileNotFoundError  # its folder moved: listed, it finds what is there
                stamp = (LINK, status.st_mtime_ns, status.st_ctime_ns, status.st_ino)
            elif recorded[0] == NEVER and is_file((status := stat_(base + name)).st_mode):
                # A file whose stamp the ledger could not keep: stamped now, and read back.
                stamp = (status.st_size, status.st_mtime_ns, status.st_ctime_ns, status.st_ino)
            elif recorded[0] < 0:
                raise FileNotFoundError  # no stamp a walk gives: not trusted
            elif not is_file(status.st_mode):
                raise FileNotFoundError  # a folder now (its folder moved: listed)
            else:
                stamp = (status.st_size, status.st_mtime_ns, status.st_ctime_ns, status.st_ino)
        except OSError:
            del found[name]
            moved.add(name)
            continue
        if stamp != tuple(recorded):
            found[name] = stamp
            moved.add(name)
    if lost:
        _drop_under(found, tuple(lost), moved)
    if empty is not None:
        # A recorded folder no recorded entry is in, not listed (its stamp held, settled): few,
        # one whose removal failed before. Those listed are seen empty below.
        empty.extend(
            name for name in _childless(known) if name in found and name not in moved and settled(found[name], since)
        )
    unreadable: list[str] = []
    while listing:
        folder = listing.pop()
        try:
            with os.scandir(folder) as scanned:
                entries = list(scanned)
        except OSError:
            unreadable.append(folder[prefix:] + "/" if len(folder) > prefix else "")  # "": the top
            continue
        if not entries and empty is not None and len(folder) > prefix:
            empty.append(folder[prefix:] + "/")
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    name = entry.path[prefix:] + "/"
                    if name not in found:  # else stamped above, and listed if its stamp moved
                        status = entry.stat(follow_symlinks=False)
                        found[name] = (-1, status.st_mtime_ns, status.st_ctime_ns, status.st_ino)
                        moved.add(name)
                        listing.append(entry.path)
                    continue
                name = entry.path[prefix:]
                if entry.is_symlink():
                    had = found.get(name)
                    if had is None or had[0] != LINK:  # else stamped above, as a link
                        status = entry.stat(follow_symlinks=False)
                        found[name] = (LINK, status.st_mtime_ns, status.st_ctime_ns, status.st_ino)
                        moved.add(name)
                    continue
                if not entry.is_file():
                    continue  # a socket, a device...: not the output's
                had = found.get(name)
                if had is None or had[0] < 0:  # else stamped above, by its path
                    status = entry.stat()
                    found[name] = (status.st_size, status.st_mtime_ns, status.st_ctime_ns, status.st_ino)
                    moved.add(name)
            except OSError:
                continue
    if unreadable:
        _drop_under(found, tuple(unreadable), moved, keep=True)
    return found


def _childless(names: Collection[str]) -> list[str]:
    """The folders among ``names`` (those ending in "/") that are no other name's folder.

    Each name's folder without its "/" ("" for the top) is what is left of it, its last
    character cut off, before its last "/": a file's last character is no "/", and a folder's
    is the one cut. Made in C (map, set), not one Python step per name: 80,000 names at
    10,000 episodes, of which almost never one is childless.
    """
    cut = itemgetter(slice(None, -1))
    parents = set(map(itemgetter(0), map(str.rpartition, map(cut, names), repeat("/"))))
    folders = set(map(cut, filter(methodcaller("endswith", "/"), names)))
    return [folder + "/" for folder in folders - parents]


def _drop_under(found: Stats, folders: tuple[str, ...], moved: set[str], *, keep: bool = False) -> None:
    """Take out of ``found`` what is under ``folders`` (and, unless ``keep``, the folders)."""
    for name in [name for name in found if name.startswith(folders) and not (keep and name in folders)]:
        del found[name]
        moved.add(name)
