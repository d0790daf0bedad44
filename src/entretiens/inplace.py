"""A few changed files of a large output folder, written in place, all or nothing.

Staging a whole new tree and swapping it in (:func:`entretiens.output.write_tree`) costs a
hard link per unchanged file and the removal of the old tree: 50,000 files at 10,000
episodes, for a rebuild that changed three. When few files change in a large tree, they are
written here instead: each new content beside its target under a temporary name first, then
renamed over it (each file appears whole), the feed last (apps read it, so everything it
names is in place first), removed files last. Every replaced or removed file is kept, as a
hard link, in a folder beside the output until the end; any failure puts every file back as
it was and raises, so that the caller can fall back to staging (a read-only folder, a file
system without hard links).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import TypeVar

from . import layout

#: In place only in trees of at least this many files, and when at most one file in
#: ``SHARE`` changes: a small tree stages in no time, and a large change is safer staged.
MIN_FILES = 200
SHARE = 20
#: Put in place last: apps read the feed, so everything it names must be there first.
_LAST = str(layout.FEED)

Content = TypeVar("Content")


def worth_it(changes: int, total: int, *, coarse: bool = False) -> bool:
    """Whether ``changes`` written or removed files of a ``total``-file tree are written in place.

    :param coarse: the tree's times are coarse (whole seconds: ext3, FAT, some network mounts).
        Staged, every file kept is linked anew, which moves its ctime into the write's tick: for
        a tick (2 s, :data:`entretiens.walks.RACY_NS`) its stamp proves nothing, so the next
        write reads every file back whole, the audio copies too, and the next publish is never
        answered from the record. In place, only the files written are: in place then, in a tree
        of any size, while at least half its files stay as they are.
    """
    if coarse:
        return changes * 2 <= total
    return total >= MIN_FILES and changes * SHARE <= total


def update(
    out_dir: Path,
    files: Mapping[PurePosixPath, Content],
    written: Sequence[PurePosixPath],
    removed: Sequence[PurePosixPath],
    *,
    write: Callable[[Path, Content], None],
    marker: tuple[PurePosixPath, bytes],
    lock_folder: Callable[[Path], int | None],
) -> None:
    """Write ``written`` (from ``files``) and remove ``removed`` in ``out_dir``.

    :param write: writes one content into a new file (bytes, or a copy keeping its mtime).
    :param marker: our marker file, put into the folder of kept files so that an interrupted
        run's folder is recognised and removed by the next publish.
    :param lock_folder: locks that folder while it is in use (returns the descriptor to close).
    :raises OSError: anything failed; every file is back as it was.
    """
    # Nothing is written through a link: a folder of the output that is a link (made by hand)
    # would have the write land outside it. Refused here; staged, the link is replaced.
    checked: set[Path] = set()
    for path in (*written, *removed):
        _no_link_between(out_dir, (out_dir / path).parent, checked)
    keep = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=out_dir.parent))
    lock = lock_folder(keep)
    staged: list[tuple[Path, Path]] = []
    done: list[tuple[Path, Path | None]] = []
    made: list[Path] = []
    try:
        (keep / marker[0]).write_bytes(marker[1])
        for path in sorted(written, key=lambda p: (str(p) == _LAST, str(p))):
            target = out_dir / path
            _make_parents(out_dir, target.parent, made)
            temporary = target.with_name(f".{target.name}.new-{os.getpid()}")
            staged.append((temporary, target))
            write(temporary, files[path])
        for temporary, target in staged:
            kept = None
            if target.is_file() and not target.is_symlink():
                kept = keep / "files" / target.relative_to(out_dir)
                kept.parent.mkdir(parents=True, exist_ok=True)
                os.link(target, kept)
            elif target.exists() or target.is_symlink():
                raise OSError(f"{target}: not a regular file")
            os.replace(temporary, target)
            done.append((target, kept))
        for path in removed:
            target = out_dir / path
            kept = keep / "files" / path
            kept.parent.mkdir(parents=True, exist_ok=True)
            os.replace(target, kept)
            done.append((target, kept))
    except OSError:
        for target, kept in reversed(done):
            with contextlib.suppress(OSError):
                if kept is None:
                    target.unlink()
                else:
                    os.replace(kept, target)
        for temporary, _target in staged:
            with contextlib.suppress(OSError):
                temporary.unlink(missing_ok=True)
        for folder in reversed(made):
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
    finally:
        shutil.rmtree(keep, ignore_errors=True)
        if lock is not None:
            os.close(lock)
    # Folders emptied by the removals go too, as a staged tree would not have them.
    for path in removed:
        folder = (out_dir / path).parent
        while folder != out_dir:
            try:
                folder.rmdir()
            except OSError:
                break
            folder = folder.parent


def _no_link_between(out_dir: Path, folder: Path, checked: set[Path]) -> None:
    """Raise OSError when a folder from ``out_dir`` down to ``folder`` is a link or no folder
    (``checked`` holds the folders already found to be real ones)."""
    between = []
    while folder != out_dir and folder not in checked:
        between.append(folder)
        folder = folder.parent
    for part in reversed(between):
        try:
            mode = os.lstat(part).st_mode
        except FileNotFoundError:
            return  # made below, and everything under it
        if not stat.S_ISDIR(mode):
            raise OSError(f"{part}: not a folder of the output (a link?)")
        checked.add(part)


def _make_parents(out_dir: Path, folder: Path, made: list[Path]) -> None:
    """Create ``folder`` and its missing parents inside ``out_dir``, noting each for an undo."""
    missing = []
    while folder != out_dir and not folder.is_dir():
        missing.append(folder)
        folder = folder.parent
    for new in reversed(missing):
        new.mkdir()
        made.append(new)
