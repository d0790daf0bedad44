"""Where a show is deployed: an S3-compatible bucket (through boto3) or a plain folder.

Both answer the same few questions (what is there, read one object, put one, delete one,
check an enclosure), so ordering and safety rules are written once, in :mod:`.plan`.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Protocol

from ..errors import DeployError
from ..output import Content
from .headers import Headers

#: Called with the number of bytes sent since the last call.
Sent = Callable[[int], None]

_CHUNK = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Stored:
    """An object as the target lists it."""

    size: int
    #: Changes whenever the bytes are replaced: the S3 ETag, or a file's modification time.
    tag: str


class Target(Protocol):
    """A place listeners fetch the show from."""

    #: How messages name it: ``s3://bucket/prefix`` or a folder path. Never holds credentials.
    description: str

    def list(self) -> dict[str, Stored]:
        """Every object under the target, by key relative to it."""
        ...

    def read(self, key: str, *, max_bytes: int) -> bytes | None:
        """An object's bytes, or None when it does not exist."""
        ...

    def put(self, key: str, content: Content, headers: Headers, sent: Sent | None = None) -> Stored:
        """Store one object whole (readers see the old or the new bytes, never a mix)."""
        ...

    def delete(self, key: str) -> None:
        """Remove one object; a missing one is not an error."""
        ...

    def check_enclosure(self, key: str, length: int) -> str | None:
        """What is wrong with serving ``key`` as an enclosure of ``length`` bytes, or None."""
        ...


def parse_target(spec: str, *, base: Path) -> tuple[str, str] | Path:
    """``s3://BUCKET/PREFIX`` as (bucket, prefix ending in "/" or empty), anything else as a folder.

    :param base: relative folders are relative to it (the show folder).
    :raises DeployError: an s3:// address without a bucket, or another URL scheme.
    """
    if spec.startswith("s3://"):
        bucket, _, prefix = spec[len("s3://") :].partition("/")
        prefix = prefix.strip("/")
        if not bucket:
            raise DeployError(f"{spec}: no bucket name (write s3://BUCKET or s3://BUCKET/PREFIX)")
        if any(part in ("", ".", "..") for part in prefix.split("/")) and prefix:
            raise DeployError(f"{spec}: the prefix has an empty, '.' or '..' part")
        return bucket, f"{prefix}/" if prefix else ""
    if "://" in spec:
        scheme = spec.split("://", 1)[0]
        raise DeployError(f"{spec}: cannot deploy to {scheme}:// (use s3://BUCKET/PREFIX or a folder)")
    return (base / Path(spec).expanduser()).resolve()


class FolderTarget:
    """A folder served by a web server (a mounted web root, a synced directory).

    Each file is written beside its final place and renamed over it, so a web server never
    serves half a file. Headers are the web server's business here.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.description = str(root)

    def _path(self, key: str) -> Path:
        parts = PurePosixPath(key).parts
        if not parts or any(part in ("", ".", "..") for part in parts) or PurePosixPath(key).is_absolute():
            raise DeployError(f"{key}: refusing to write outside {self.root}")
        return self.root.joinpath(*parts)

    def list(self) -> dict[str, Stored]:
        if not self.root.exists():
            return {}
        if not self.root.is_dir():
            raise DeployError(f"{self.root}: exists and is not a folder")
        found: dict[str, Stored] = {}
        for path in self.root.rglob("*"):
            if path.name.startswith(".entretiens-part-") or path.is_symlink() or not path.is_file():
                continue
            stat = path.stat()
            found[path.relative_to(self.root).as_posix()] = Stored(stat.st_size, str(stat.st_mtime_ns))
        return found

    def read(self, key: str, *, max_bytes: int) -> bytes | None:
        path = self._path(key)
        try:
            with path.open("rb") as stream:
                data = stream.read(max_bytes + 1)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise DeployError(f"{path}: cannot read: {exc.strerror}") from exc
        if len(data) > max_bytes:
            raise DeployError(f"{path}: larger than {max_bytes} bytes")
        return data

    def put(self, key: str, content: Content, headers: Headers, sent: Sent | None = None) -> Stored:
        del headers  # a folder has no per-file headers; the web server sets them
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(prefix=".entretiens-part-", dir=path.parent)
        except OSError as exc:
            raise DeployError(f"{path.parent}: cannot write: {exc.strerror}") from exc
        try:
            with os.fdopen(fd, "wb") as out:
                if isinstance(content, bytes):
                    out.write(content)
                    if sent:
                        sent(len(content))
                else:
                    with content.open("rb") as source:
                        while chunk := source.read(_CHUNK):
                            out.write(chunk)
                            if sent:
                                sent(len(chunk))
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temporary, 0o644)
            os.replace(temporary, path)
        except OSError as exc:
            Path(temporary).unlink(missing_ok=True)
            raise DeployError(f"{path}: cannot write: {exc.strerror}") from exc
        stat = path.stat()
        return Stored(stat.st_size, str(stat.st_mtime_ns))

    def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            path.unlink(missing_ok=True)
            # Folders emptied by the removal go too, up to (not including) the root.
            for parent in path.parents:
                if parent == self.root or self.root not in parent.parents:
                    break
                if any(parent.iterdir()):
                    break
                parent.rmdir()
        except OSError as exc:
            raise DeployError(f"{path}: cannot delete: {exc.strerror}") from exc

    def check_enclosure(self, key: str, length: int) -> str | None:
        path = self._path(key)
        try:
            size = path.stat().st_size
            with path.open("rb") as stream:
                stream.seek(max(0, length - 1))
                stream.read(1)
        except OSError as exc:
            return f"cannot be read ({exc.strerror})"
        if size != length:
            return f"is {size} bytes, the feed says {length}"
        return None
