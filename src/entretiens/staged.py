"""Putting a staged output in place: swapped with the old one in one step, or moved into a
mount point entry by entry, and the staging folders of interrupted publishes removed; and
copying a file into it, as a clone where the file system shares blocks.

Used by :func:`entretiens.output.write_tree` once the new tree is complete beside the old one.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import sys
import tempfile
import time
from contextlib import suppress
from pathlib import Path, PurePosixPath

from .atomicfile import lock_folder

_FRESH_SECONDS = 60


def remove_stale(parent: Path, name: str, marker: PurePosixPath) -> list[Path]:
    """Remove the staging folders an interrupted publish left beside the output (up to a full copy).

    Only ours: named as we name them, holding our marker (or nothing at all), and not locked by a
    publish still running.
    """
    removed = []
    for prefix in (f".{name}.new-", f".{name}.old-"):
        for folder in parent.glob(f"{prefix}*"):
            if folder.is_symlink() or not folder.is_dir():
                continue
            # An empty one may be a publish's that has not locked it yet: only old ones.
            empty = not any(folder.iterdir()) and time.time() - folder.stat().st_mtime > _FRESH_SECONDS
            if not ((folder / marker).is_file() or (folder / "previous" / marker).is_file() or empty):
                continue
            try:
                held = lock_folder(folder)
            except BlockingIOError:
                continue  # another publish is writing it now
            if held is None:
                continue  # no lock to tell: it may be another publish's, being written
            os.close(held)
            remove_tree(folder)
            removed.append(folder)
    return removed


def swap(staging: Path, out_dir: Path) -> None:
    """Put the staged tree in place of the old one, with no moment where both are half there."""
    if not out_dir.exists():
        os.replace(staging, out_dir)
        return
    if _exchange(staging, out_dir):
        remove_tree(staging)  # the previous output, now under the staging name
        return
    # No atomic exchange on this system: two renames; out_dir is missing only between them.
    old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=staging.parent))
    try:
        os.replace(out_dir, old / "previous")
    except OSError:
        old.rmdir()
        raise
    try:
        os.replace(staging, out_dir)
    except OSError:
        os.replace(old / "previous", out_dir)
        old.rmdir()
        raise
    remove_tree(old)


def remove_tree(folder: Path) -> None:
    """Delete a previous output, even one whose folders were made read-only (a host's chmod).

    Deleting a file takes write permission on its folder: the folders are made writable for
    their owner first, or a read-only public/ would leave its old copy beside the new one.
    """
    for directory, _subdirs, _names in os.walk(folder):
        with suppress(OSError):
            os.chmod(directory, 0o700)
    shutil.rmtree(folder, ignore_errors=True)


#: Moved last into a mount point: apps read the feed, so everything it points to is in place first.
_LAST = "feed.xml"


def replace_contents(staging: Path, out_dir: Path) -> None:
    """Move the staged entries into ``out_dir`` (staged inside it), removing what is not staged.

    Not atomic (a mount point cannot be renamed), so ordered for readers: each file appears
    whole (a rename), every new file is in place before the feed that names it, and old files
    go only after the new feed is there. A failure half-way leaves the old feed with all its
    files, or the new one with all of its own.
    """
    wanted = {entry.relative_to(staging) for entry in staging.rglob("*")}
    for entry in sorted(staging.iterdir()):
        if entry.name != _LAST:
            _move_into(entry, out_dir / entry.name)
    if (staging / _LAST).exists():
        _move_into(staging / _LAST, out_dir / _LAST)
    staging.rmdir()
    ours = f".{out_dir.name}.new-"
    for entry in sorted(out_dir.rglob("*"), reverse=True):  # children before their folder
        relative = entry.relative_to(out_dir)
        if relative in wanted or relative.parts[0].startswith(ours):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def _move_into(source: Path, target: Path) -> None:
    """Move a staged file or folder over ``target``, merging folders file by file (nothing removed)."""
    if source.is_dir() and not source.is_symlink():
        if target.exists() and not (target.is_dir() and not target.is_symlink()):
            target.unlink()
        target.mkdir(exist_ok=True)
        for entry in sorted(source.iterdir()):
            _move_into(entry, target / entry.name)
        source.rmdir()
    elif target.exists() and os.path.samefile(source, target):
        # An unchanged file staged as a hard link: rename() would do nothing and keep both names.
        source.unlink()
    else:
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        os.replace(source, target)


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths atomically with Linux's renameat2(RENAME_EXCHANGE); False where unavailable."""
    if not hasattr(os, "uname") or os.uname().sysname != "Linux":
        return False
    # The C library the interpreter is already linked to: ctypes.util.find_library would run
    # ldconfig in a subprocess at every swap.
    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    result = renameat2(at_fdcwd, os.fsencode(first), at_fdcwd, os.fsencode(second), rename_exchange)
    return bool(result == 0)


def copy_file(source: Path, target: Path, *, hashed: bool = False) -> str | None:
    """Copy bytes and modification time (for the quick check of an unchanged file).

    Where the file system shares blocks between files (Btrfs, XFS, APFS-like reflinks), the
    copy is a clone: instant and taking no space, yet still a separate file that a rewrite of
    the source in place does not change (a hard link would change the live copy with it).

    The target is created once, and its mode and time set through the open file: a file created
    costs ~0.4 ms on a slow disk, and a clone refused (most file systems) used to remove the
    one it had created and create it again to copy (5,107 copies in a cold build of 1,000).

    :param hashed: return the SHA-256 (hex) of the bytes copied, taken as they are copied (a
        clone's, read from the copy), instead of reading the copy back after; else None.
    """
    before = source.stat()
    digest = None
    reading = os.open(source, os.O_RDONLY | os.O_CLOEXEC)
    try:
        writing = os.open(target, os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
        try:
            if _clone(reading, writing):
                digest = _hashed(writing) if hashed else None
            elif hashed:
                digest = _copy_hashed(reading, writing)
            else:
                _copy(reading, writing)
            after = source.stat()
            # An export still writing the source: the copy would not be the file that was measured.
            if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns) or (
                os.fstat(writing).st_size != before.st_size
            ):
                raise OSError(f"{source} changed while it was copied; publish again once it is finished")
            os.fchmod(writing, 0o644)  # the creation's mode is narrowed by the umask
            os.utime(writing, ns=(before.st_atime_ns, before.st_mtime_ns))
        finally:
            os.close(writing)
    finally:
        os.close(reading)
    return digest


#: Linux's ioctl that makes a file share another's blocks (copy on write).
_FICLONE = 0x40049409
_LINUX = sys.platform.startswith("linux")
#: What :func:`_copy` moves at a time (by the kernel), and what is read at a time here.
_CHUNK = 1 << 30
_PIECE = 1 << 20


def _clone(reading: int, writing: int) -> bool:
    """Make the file open as ``writing`` a copy-on-write clone of ``reading``; False where the
    system cannot (nothing was written then)."""
    if not _LINUX:
        return False
    import fcntl

    try:
        fcntl.ioctl(writing, _FICLONE, reading)
    except OSError:
        return False
    return True


def _copy_hashed(reading: int, writing: int) -> str:
    """Copy a file's bytes into an empty one, read and written here, and their SHA-256 (hex)."""
    hashed = hashlib.sha256()
    while block := os.read(reading, _PIECE):
        hashed.update(block)
        view = memoryview(block)
        while view:
            view = view[os.write(writing, view) :]
    return hashed.hexdigest()


def _hashed(descriptor: int) -> str:
    """The SHA-256 (hex) of an open file's bytes, read from its start."""
    hashed = hashlib.sha256()
    offset = 0
    while block := os.pread(descriptor, _PIECE, offset):
        hashed.update(block)
        offset += len(block)
    return hashed.hexdigest()


def _copy(reading: int, writing: int) -> None:
    """Copy a file's bytes into an empty one, by the kernel where it can (``sendfile``)."""
    offset = 0
    if _LINUX:
        try:
            while sent := os.sendfile(writing, reading, offset, _CHUNK):
                offset += sent
        except OSError:
            if offset:
                raise
        else:
            return
    while block := os.read(reading, _PIECE):
        view = memoryview(block)
        while view:
            view = view[os.write(writing, view) :]
