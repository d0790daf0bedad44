"""Each feed item's own findings, kept between builds in one checked file.

A rebuild after one edit changes one item of the feed; the findings of the others are read back
from here, under a digest of the item's bytes (see :mod:`entretiens.feedlint._pieces`). The file
holds one context (what every item's checks read besides the item: the rules' code, the
namespaces in scope, the show's type, the feed's URLs) and, per item digest, its findings with
their places relative to the item. A file that is missing, of another context, truncated or
altered (its body no longer matches the digest in its header) is ignored, and an entry of the
wrong shape is recomputed: the file only ever saves time, never decides what is reported.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
from pathlib import Path
from typing import Any, Final

_MAGIC: Final = b"entretiens-lint 1\n"


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
        self._found: dict[str, Any] = {}
        self._used: dict[str, Any] = {}
        self._changed = False

    def open(self, context: str) -> None:
        """Read the kept entries made in ``context``; those of any other context are ignored."""
        self._context = context
        self._found, self._used, self._changed, self.checked = {}, {}, False, 0
        if self.path is None:
            return
        try:
            # Only a regular file: a FIFO here would hang every build.
            if not stat.S_ISREG(self.path.stat().st_mode):
                return
            data = self.path.read_bytes()
        except OSError:
            return
        if not data.startswith(_MAGIC):
            return
        end = data.find(b"\n", len(_MAGIC))
        try:
            header = json.loads(data[len(_MAGIC) : end])
            body = memoryview(data)[end + 1 :]
            if header["context"] != context or header["sha256"] != hashlib.sha256(body).hexdigest():
                return
            entries = json.loads(bytes(body))
        except (ValueError, KeyError, TypeError):
            return
        if isinstance(entries, dict):
            self._found = entries

    def get(self, key: str) -> Any:
        """The entry kept under ``key`` (of any shape: the caller checks it), or None."""
        return self._found.get(key)

    def keep(self, key: str, entry: Any) -> None:
        """Mark ``entry`` as used by this lint; a new one (``entry`` not read back) is written."""
        if self._found.get(key) is not entry:
            self._changed = True
        self._used[key] = entry

    def save(self) -> None:
        """Write the entries this lint used, if they differ from what was read; no error if it cannot."""
        if self.path is None or self._context is None:
            return
        if not self._changed and len(self._used) == len(self._found):
            return
        body = json.dumps(self._used, separators=(",", ":")).encode("utf-8")
        header = json.dumps({"context": self._context, "sha256": hashlib.sha256(body).hexdigest()})
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary.write_bytes(_MAGIC + header.encode("utf-8") + b"\n" + body)
            temporary.replace(self.path)
        except OSError:
            with contextlib.suppress(OSError):
                temporary.unlink(missing_ok=True)
        self._found, self._changed = dict(self._used), False
