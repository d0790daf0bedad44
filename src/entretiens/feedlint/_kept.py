"""Each feed item's own findings, kept between builds in one checked file and its delta.

A rebuild after one edit changes one item of the feed; the findings of the others are read back
from here, under a digest of the item's bytes (see :mod:`entretiens.feedlint._pieces`). The file
holds one context (what every item's checks read besides the item: the rules' code, the
namespaces in scope, the show's type, the feeds' URLs) and, per item digest, its findings with
their places relative to the item. What a lint changes (the entries it made, those it no longer
used) goes to a delta file beside it, tied to the file by the digest of its body: the file of a
10,000-episode show (2 MB) is written whole only once the delta is an eighth of it, not at each
edit. A file or delta that is missing, of another context or base, truncated or altered (its
body no longer matches the digest in its header) is ignored, and an entry of the wrong shape is
recomputed: the file only ever saves time, never decides what is reported.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
from pathlib import Path
from typing import Any, Final

from entretiens import atomicfile

_MAGIC: Final = b"entretiens-lint 1\n"
_DELTA_MAGIC: Final = b"entretiens-lint-delta 1\n"
#: The file is written whole when what its delta changes is more than this share of it.
_DELTA_SHARE: Final = 8


class KeptItems:
    """The kept findings of a feed's items: read once per lint, written once if they changed."""

    def __init__(self, path: Path | None, *, version: str) -> None:
        """:param path: the file; None keeps nothing (every item is checked).
        :param version: the code that checks the items (``buildrecord.code()``), part of the context.
        """
        self.path = path
        self.version = version
        #: How many items were checked rather than read back, in the last lint.
        self.checked = 0
        self._context: str | None = None
        #: The entries of the file, and the digest of its body (what a delta is tied to).
        self._whole: dict[str, Any] = {}
        self._base: str | None = None
        #: The entries in effect (the file's, changed by its delta), and those this lint used.
        self._found: dict[str, Any] = {}
        self._used: dict[str, Any] = {}
        self._changed = False

    def open(self, context: str) -> None:
        """Read the kept entries made in ``context``; those of any other context are ignored."""
        self._context = context
        self._found, self._used, self._changed, self.checked = {}, {}, False, 0
        self._whole, self._base = {}, None
        if self.path is None:
            return
        read = _read(self.path, _MAGIC, context)
        if read is None:
            return
        header, entries = read
        if not isinstance(entries, dict):
            return
        self._whole = self._found = entries
        self._base = header["sha256"]
        delta = _read(self.path.with_name(self.path.name + ".delta"), _DELTA_MAGIC, context)
        if delta is None or delta[0].get("base") != self._base:
            return
        changes = delta[1]
        try:
            added, dropped = changes["added"], changes["dropped"]
            if not (isinstance(added, dict) and isinstance(dropped, list)):
                return
            found = dict(entries)
            for key in dropped:
                found.pop(key, None)
        except (KeyError, TypeError):
            return
        found.update(added)
        self._found = found

    def get(self, key: str) -> Any:
        """The entry kept under ``key`` (of any shape: the caller checks it), or None."""
        return self._found.get(key)

    def keep(self, key: str, entry: Any) -> None:
        """Mark ``entry`` as used by this lint; a new one (``entry`` not read back) is written."""
        if self._found.get(key) is not entry:
            self._changed = True
        self._used[key] = entry

    def save(self) -> None:
        """Keep the entries this lint used, if they differ from what was read; no error if it cannot.

        What differs from the file goes to its delta (rewritten), unless the delta would be an
        eighth of the file or more: then the file is written whole, and the delta removed."""
        if self.path is None or self._context is None:
            return
        if not self._changed and len(self._used) == len(self._found):
            return
        whole, used = self._whole, self._used
        added = {key: entry for key, entry in used.items() if whole.get(key) is not entry}
        dropped = sorted(whole.keys() - used.keys())
        delta = self.path.with_name(self.path.name + ".delta")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # What a lint killed as it wrote this file or its delta left.
            atomicfile.remove_leftovers_in(self.path.parent)
            if whole and _DELTA_SHARE * (len(added) + len(dropped)) <= len(whole):
                changes = {"added": added, "dropped": dropped}
                _write(delta, _DELTA_MAGIC, {"context": self._context, "base": self._base}, changes)
                self._found, self._changed = dict(used), False
                return
            self._base = _write(self.path, _MAGIC, {"context": self._context}, used)
            delta.unlink(missing_ok=True)
        except OSError:
            return
        self._whole = self._found = dict(used)
        self._changed = False


def _read(path: Path, magic: bytes, context: str) -> tuple[dict[str, Any], Any] | None:
    """The header and the body of a kept file of ``context``, or None if it cannot be used."""
    try:
        # Only a regular file: a FIFO here would hang every build.
        if not stat.S_ISREG(path.stat().st_mode):
            return None
        data = path.read_bytes()
    except OSError:
        return None
    if not data.startswith(magic):
        return None
    end = data.find(b"\n", len(magic))
    try:
        header = json.loads(data[len(magic) : end])
        body = memoryview(data)[end + 1 :]
        if header["context"] != context or header["sha256"] != hashlib.sha256(body).hexdigest():
            return None
        return header, json.loads(bytes(body))
    except (ValueError, KeyError, TypeError):
        return None


def _write(path: Path, magic: bytes, header: dict[str, Any], body: object) -> str:
    """Write a kept file (its header with the digest of its body) under a temporary name, then
    rename it into place; the digest of its body.

    :raises OSError: it cannot be written.
    """
    data = json.dumps(body, separators=(",", ":")).encode("utf-8")
    digest = hashlib.sha256(data).hexdigest()
    text = json.dumps({**header, "sha256": digest}).encode("utf-8")
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_bytes(magic + text + b"\n" + data)
        temporary.replace(path)
    except OSError:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
        raise
    return digest
