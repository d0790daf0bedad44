"""The manifest deploy keeps on the target: what it put there, so later deploys send only changes.

For each key: the SHA-256 and size of the bytes sent, and the tag the target gave them (the S3
ETag, a file's modification time). An entry is trusted only while the target still lists the
key with that size and tag: a file replaced by hand, or half-replaced by an interrupted deploy,
no longer matches and is sent again. The manifest also says which keys are deploy's own, the
only ones ``--delete`` may remove.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass

from .. import __version__
from ..output import Content
from .targets import Stored

#: The manifest's key on the target, beside the show's files.
MANIFEST_KEY = ".entretiens-deploy.json"
#: A manifest is a few hundred bytes per file: this bounds a show of a million files.
MAX_MANIFEST_BYTES = 256 * 1024 * 1024
_FORMAT = 1
_CHUNK = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Entry:
    """One file deploy put on the target."""

    sha256: str
    size: int
    tag: str

    def matches(self, stored: Stored | None) -> bool:
        """Whether the target still holds the bytes this entry describes."""
        return stored is not None and stored.size == self.size and stored.tag == self.tag


def digest(content: Content) -> tuple[str, int]:
    """SHA-256 (hex) and size of a file's future bytes, read in 1 MiB pieces."""
    if isinstance(content, bytes):
        return hashlib.sha256(content).hexdigest(), len(content)
    hasher = hashlib.sha256()
    size = 0
    with content.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            hasher.update(chunk)
            size += len(chunk)
    return hasher.hexdigest(), size


def parse_manifest(data: bytes | None) -> tuple[dict[str, Entry], bool]:
    """The entries of a manifest, and whether it was readable (a missing one is readable and empty).

    A damaged manifest is not fatal: every file is then sent again, and nothing is deleted
    because nothing is known to be deploy's own.
    """
    if data is None:
        return {}, True
    try:
        raw = json.loads(data)
        files = raw["files"]
        if raw.get("format") != _FORMAT or not isinstance(files, dict):
            return {}, False
        entries = {
            str(key): Entry(str(value["sha256"]), int(value["size"]), str(value["tag"])) for key, value in files.items()
        }
    except (ValueError, KeyError, TypeError):
        return {}, False
    return entries, True


def render_manifest(entries: Mapping[str, Entry]) -> bytes:
    """The manifest's bytes: sorted, one entry per line, so a diff of two is readable."""
    files = {key: {"sha256": e.sha256, "size": e.size, "tag": e.tag} for key, e in sorted(entries.items())}
    body = json.dumps({"format": _FORMAT, "generator": f"entretiens {__version__}", "files": files}, indent=1)
    return (body + "\n").encode()
