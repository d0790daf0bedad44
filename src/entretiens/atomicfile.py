"""Writing one file whole: readers see the old file or the new one, never half of one.

Used where one file is replaced on its own: ``published.yaml``, the probe and link caches, the
templates' generated code, cached images and tagged audio copies.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import OutputError


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
