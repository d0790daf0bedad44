"""The proof that a :mod:`entretiens.checkedstore` file is whole, so that its bodies are given
without a SHA-256 of each (10,000 items at every edit).

``<file>.proof`` beside a store file says its stamp (size, mtime, ctime, inode) and its
SHA-256. The file's writer notes the SHA-256 of the bytes it wrote, as ``pending``;
:func:`prove`, at the end of a publish, reads the file again once its stamp has settled
(:func:`walks.settled`, the rule of every stamp) and, when it still holds those bytes, notes
it ``proven`` at that stamp. Any later change to the file moves its stamp, and a file whose
stamp is not the proven one is checked body by body: the proof only ever saves time. A proof
is JSON-free text from a show folder: anything else there proves nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import time
from pathlib import Path
from typing import Final

from . import atomicfile, walks
from .checkedfiles import replace

#: The first line of a ``.proof`` file.
_PROOF: Final = b"entretiens-store-proof 1\n"
#: A file's size, mtime, ctime and inode.
Stamp = tuple[int, int, int, int]


def stamp_of(status: os.stat_result) -> Stamp:
    return (status.st_size, status.st_mtime_ns, status.st_ctime_ns, status.st_ino)


def proof_path(path: Path) -> Path:
    return path.with_name(path.name + ".proof")


def read_proof(path: Path) -> tuple[str, Stamp, str] | None:
    """What ``path``'s proof says: ``pending`` or ``proven``, the stamp and the SHA-256; or None."""
    # A regular file only, and no longer than a proof (a FIFO there must not block the build).
    data = walks.read_regular(proof_path(path), 512)
    if data is None or not data.startswith(_PROOF) or not data.endswith(b"\n"):
        return None
    try:
        state, *values, digest = data[len(_PROOF) : -1].decode("ascii").split(" ")
        size, mtime, ctime, inode = (int(value) for value in values)
        if state not in ("pending", "proven") or len(digest) != 64:
            return None
        return state, (size, mtime, ctime, inode), digest
    except ValueError:
        return None


def write_proof(path: Path, state: str, stamp: Stamp, digest: str) -> None:
    """Note ``path``'s proof (no error if it cannot: the file is then checked body by body)."""
    text = _PROOF + f"{state} {' '.join(str(value) for value in stamp)} {digest}\n".encode("ascii")
    with contextlib.suppress(OSError):
        replace(proof_path(path), text)


def proven(path: Path, status: os.stat_result) -> bool:
    """Whether the file at ``path``, opened at ``status``, was proven whole at that very stamp."""
    proof = read_proof(path)
    return proof is not None and proof[0] == "proven" and proof[1] == stamp_of(status)


def _file_sha256(handle: int, size: int) -> str:
    digest = hashlib.sha256()
    offset = 0
    while offset < size:
        chunk = os.pread(handle, min(size - offset, 1 << 20), offset)
        if not chunk:
            break
        digest.update(chunk)
        offset += len(chunk)
    return digest.hexdigest()


def prove(folder: Path) -> int:
    """Prove whole the store files in ``folder`` written since they were last proven, once their
    stamp has settled (see the module): read again, each, and compared with the SHA-256 their
    writer noted. For the end of a publish, when a cold build's stores have had the time of
    the output's write to settle: the next build trusts them without a check per body.
    Returns how many files were proven; never raises on I/O."""
    proven = 0
    now = time.time_ns()
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return 0
    atomicfile.remove_leftovers(folder, names, now)
    for name in names:
        if not name.endswith((".store", ".overlay")):
            continue
        path = folder / name
        proof = read_proof(path)
        if proof is None or proof[0] != "pending":
            continue
        _state, stamp, digest = proof
        try:
            handle = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        except OSError:
            continue
        try:
            status = os.fstat(handle)
            if not stat.S_ISREG(status.st_mode) or stamp_of(status) != stamp or not walks.settled(stamp, now):
                continue
            if _file_sha256(handle, status.st_size) == digest and stamp_of(os.fstat(handle)) == stamp:
                write_proof(path, "proven", stamp, digest)
                proven += 1
        except OSError:
            continue
        finally:
            os.close(handle)
    return proven
