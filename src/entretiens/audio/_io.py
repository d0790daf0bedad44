"""Reading audio files through one small buffer, and turning mutagen's errors into ours."""

from __future__ import annotations

from collections.abc import Callable
from io import BufferedReader
from pathlib import Path
from typing import Any, Final

import mutagen
from mutagen.id3 import ID3NoHeaderError

from ..errors import AudioError

_WINDOW: Final = 1 << 20
_BLOCK: Final = 1 << 14
_HINT_EXPORT: Final = "the file is damaged or incomplete: export or upload it again"
_HINT_CONVERT: Final = "convert it to MP3 or M4A, e.g. ffmpeg -i FILE -b:a 128k episode.mp3"


class _Reader:
    """Random access to a file through one small buffer, so that memory stays flat."""

    def __init__(self, stream: BufferedReader, size: int) -> None:
        self._stream = stream
        self.size = size
        self._base = 0
        self._buffer = b""

    def window(self, pos: int, need: int = 4) -> tuple[bytes, int]:
        """A buffer holding ``need`` bytes from ``pos`` if the file has them, and its offset."""
        if not (self._base <= pos and pos + need <= self._base + len(self._buffer)):
            self._stream.seek(pos)
            self._buffer = self._stream.read(max(need, _WINDOW))
            self._base = pos
        return self._buffer, self._base

    def read(self, pos: int, count: int) -> bytes:
        """Up to ``count`` bytes from ``pos``."""
        if not (self._base <= pos and pos + count <= self._base + len(self._buffer)):
            # A header or a tail is read, not walked: a small block, not a whole window, so
            # that a file probed from its headers reads kilobytes, not megabytes.
            self._stream.seek(pos)
            self._buffer = self._stream.read(max(count, _BLOCK))
            self._base = pos
        return self._buffer[pos - self._base : pos - self._base + count]

    def find(self, needle: bytes, start: int, stop: int) -> int:
        """The offset of ``needle`` in ``[start, stop)``, or -1."""
        pos = start
        while pos < stop:
            buffer, base = self.window(pos, len(needle))
            hit = buffer.find(needle, pos - base, stop - base)
            if hit >= 0:
                return base + hit
            if base + len(buffer) >= min(stop, self.size):
                return -1
            pos = base + len(buffer) - len(needle) + 1
        return -1


def _load(path: Path, loader: Callable[[Path], Any], what: str) -> Any:
    """Run a mutagen loader, turning its errors into ours; None for a file without ID3 tag."""
    try:
        return loader(path)
    except ID3NoHeaderError:
        return None
    except mutagen.MutagenError as exc:
        raise AudioError(path, f"cannot read the {what} ({exc})", _HINT_EXPORT) from exc


def _skip_id3v2(reader: _Reader, pos: int) -> int:
    """The offset after any ID3v2 tags starting at ``pos``."""
    while (head := reader.read(pos, 10))[:3] == b"ID3" and len(head) == 10:
        size = (head[6] & 0x7F) << 21 | (head[7] & 0x7F) << 14 | (head[8] & 0x7F) << 7 | head[9] & 0x7F
        pos += 10 + size + (10 if head[5] & 0x10 else 0)
    return pos
