"""Writing one file whole: readers see the old file or the new one, never half of one.

Used where one file is replaced on its own: ``published.yaml``, the probe and link caches, the
templates' generated code, cached images and tagged audio copies.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import OutputError

#: A temporary file of the caches younger than this is left where it is: a build still running
#: (``serve`` beside a ``publish``) may be writing it. Older, it was left by a build that was
#: killed (kill -9, a power cut, out of memory): no build keeps one open that long.
LEFTOVER_NS = 600 * 1_000_000_000
#: The names of the temporaries written in the caches' folders (``cache`` and its ``units``),
#: as each writer makes them: a store file (:class:`entretiens.storetable.Writer`: its format's
#: prefix, ``mkstemp``'s 8 letters, ``.tmp``), a ledger or a store's proof replaced whole by
#: :func:`entretiens.checkedfiles.replace` (``.<name>.<pid>.tmp``), the probe cache replaced by
#: :func:`atomic_write` (``.probe.json.<8 letters>.json``); in ``.entretiens`` itself, the build
#: record and its journals (``.build.json.<pid>.tmp``, ``.<name>.journal.<pid>.tmp``); in
#: ``cache/lint``, the kept findings and their delta (``.feed-items[.delta].<pid>.tmp``); in a
#: bucket of stored units, a unit's file (``.<key>.<n>.<pid>.tmp``).
_LEFTOVER = re.compile(
    r"\.(?:units|yaml)\.[a-z0-9_]{8}\.tmp"
    r"|\..+\.(?:proof|checked|checked\.delta)\.[0-9]+\.tmp"
    r"|\.probe\.json\.[a-z0-9_]{8}\.json"
    r"|\.build\.json\.[0-9]+\.tmp"
    r"|\.[a-z0-9-]+\.journal\.[0-9]+\.tmp"
    r"|\.feed-items(?:\.delta)?\.[0-9]+\.tmp"
    r"|\.[0-9a-f]{64}\.[0-9]+\.[0-9]+\.tmp"
)


def resolved(out_dir: Path) -> Path:
    """The real path of an output, through symlinks; a symlink loop is the host's to fix, not a traceback."""
    try:
        return out_dir.resolve()
    except (OSError, RuntimeError) as exc:
        raise OutputError(f"{out_dir}: is a symbolic link loop ({exc}); remove the link") from None


@contextmanager
def atomic_write(path: Path, *, mode: int = 0o644) -> Iterator[Path]:
    """A temporary file beside ``path`` that replaces it, whole, when the block ends without error.

    The one way the tool writes a file in place: readers see the old file or the new one, never
    half of one, and the temporary file is removed on every way out (an error, Ctrl-C). The
    block writes to the yielded path as it likes (bytes, a copy, tags written by mutagen); its
    name keeps the suffix of ``path``, for libraries that go by extension.

    :param mode: the permissions the file gets (``mkstemp`` creates it private).
    :raises OSError: the folder cannot be written, or the rename fails.
    """
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        temporary.chmod(mode)
        temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)


def write_file(path: Path, data: bytes) -> bool:
    """Atomically replace one file unless it already holds ``data``.

    :returns: whether the file was written.
    """
    if path.is_file() and path.read_bytes() == data:
        return False
    # Through a symlink (published.yaml kept elsewhere), the file it points to is replaced,
    # not the link; a read-only file is the host saying "do not change": refuse, clearly.
    target = resolved(path) if path.is_symlink() else path
    mode = 0o644
    if target.exists():
        mode = target.stat().st_mode & 0o7777
        if not mode & 0o200:
            msg = f"{path}: the file is read-only, and publish must write it (new GUIDs to pin)"
            raise OutputError(msg + "; make it writable (chmod u+w) and publish again")
    try:
        with atomic_write(target, mode=mode) as temporary:
            temporary.write_bytes(data)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write: {exc.strerror}") from exc
    return True


def last_written(folder: str) -> int:
    """When ``folder`` or one of its entries was last written (ns): the newest of their mtimes
    (a running build writes into a folder of its own long after making it).

    :raises OSError: it cannot be listed, or an entry cannot be looked at.
    """
    latest = os.lstat(folder).st_mtime_ns
    with os.scandir(folder) as entries:
        for entry in entries:
            latest = max(latest, entry.stat(follow_symlinks=False).st_mtime_ns)
    return latest


def lock_folder(folder: str | Path) -> int | None:
    """An exclusive lock (``flock``) on ``folder`` for this process: the descriptor to close to
    let it go, or None where none can be taken (no ``flock``, a file system without locks, not
    a folder that opens). Held by the process that writes a folder, so that another one knows
    the folder is in use, however old; a killed process's lock goes with it.

    :raises BlockingIOError: another process (or another descriptor of this one) holds it.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on Linux or macOS
        return None
    try:
        held = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(held)
        raise
    except OSError:
        os.close(held)
        return None
    return held


def remove_leftovers(folder: Path, names: list[str], now: int) -> int:
    """Remove from ``folder`` (whose entries are ``names``) the temporary files of the caches'
    writers older than :data:`LEFTOVER_NS` at ``now`` (ns): regular files only, named exactly
    as one of the writers names them (see :data:`_LEFTOVER`). Returns how many were removed;
    never raises on I/O."""
    return remove_old(folder, [name for name in names if _ours(name)], now)


def remove_old(folder: Path | str, names: Iterable[str], now: int) -> int:
    """Remove from ``folder`` each of ``names`` that is a regular file last written more than
    :data:`LEFTOVER_NS` before ``now`` (ns): a younger one may be another build's, still being
    written. The caller chose the names. Returns how many were removed; never raises on I/O."""
    removed = 0
    for name in names:
        path = os.path.join(folder, name)
        age = _written_ago(path, now)
        if age is not None and age > LEFTOVER_NS:
            with contextlib.suppress(OSError):
                os.unlink(path)
                removed += 1
    return removed


def remove_leftovers_in(folder: Path) -> int:
    """:func:`remove_leftovers` in ``folder``, listed here (a small folder: one ``listdir``);
    nothing when it cannot be listed."""
    try:
        names = os.listdir(folder)
    except OSError:
        return 0
    return remove_leftovers(folder, names, time.time_ns())


def in_use(path: str, name: str, now: int) -> bool:
    """Whether ``path`` (named ``name``) is a temporary file of the caches' writers younger than
    :data:`LEFTOVER_NS` at ``now`` (ns), which a build still running may be writing: for a
    folder whose other files are removed whatever their age. Only such a name is looked at
    (``lstat``); False when it cannot be."""
    age = _age(path, name, now)
    return age is not None and age <= LEFTOVER_NS


def _age(path: str, name: str, now: int) -> int | None:
    """How long before ``now`` (ns) ``path`` (named ``name``) was last written, if it is a
    regular file named as one of the caches' writers names its temporaries; else None (also
    when it cannot be looked at). Only such a name is looked at (``lstat``)."""
    return _written_ago(path, now) if _ours(name) else None


def _ours(name: str) -> bool:
    """Whether ``name`` is one the caches' writers give their temporaries (:data:`_LEFTOVER`)."""
    return name.startswith(".") and _LEFTOVER.fullmatch(name) is not None


def _written_ago(path: str, now: int) -> int | None:
    """How long before ``now`` (ns) the regular file ``path`` was last written; None for
    anything else, or when it cannot be looked at (``lstat``)."""
    try:
        status = os.lstat(path)
    except OSError:
        return None
    return now - status.st_mtime_ns if stat.S_ISREG(status.st_mode) else None
