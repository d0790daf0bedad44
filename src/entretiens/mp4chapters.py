"""Nero chapters (``moov/udta/chpl``) written into an MP4 file: the chapter form mutagen and ffmpeg read."""

from __future__ import annotations

import stat
import struct
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

from .atomicfile import atomic_write

#: The chapter count and each title's length fit in one byte.
NERO_MAX = 255


class Mp4LayoutError(Exception):
    """The MP4 boxes are not laid out in a way chapters can be added to."""


def write_nero_chapters(path: Path, chapters: Sequence[tuple[int, str]]) -> None:
    """Put a ``chpl`` box of ``(start ms, title)`` chapters in ``moov/udta``, in place.

    Sample offsets move with the audio when it follows ``moov``. A QuickTime chapter track
    already in the file is unlinked (its ``tref/chap`` becomes ``free``): it would show the
    file's old chapters beside the new ones. At most 255 chapters are written.

    :raises Mp4LayoutError: no single ``moov``, a fragmented file, or damaged boxes.
    :raises OSError: the file cannot be read or replaced.
    """
    size = path.stat().st_size
    with path.open("rb") as stream:
        moov_at, moov_size = _locate_moov(stream, size)
        stream.seek(moov_at)
        moov = stream.read(moov_size)
    new_moov = bytearray(_moov_with_chapters(moov, _nero_box(chapters)))
    _shift_chunk_offsets(new_moov, moov_at + moov_size, len(new_moov) - moov_size)
    mode = stat.S_IMODE(path.stat().st_mode)
    with atomic_write(path, mode=mode) as temporary, temporary.open("wb") as output, path.open("rb") as source:
        _copy_range(source, output, 0, moov_at)
        output.write(new_moov)
        _copy_range(source, output, moov_at + moov_size, size)


def _locate_moov(stream: BinaryIO, size: int) -> tuple[int, int]:
    """Offset and size of the one top-level ``moov``."""
    found: list[tuple[int, int]] = []
    position = 0
    while position + 8 <= size:
        stream.seek(position)
        head = stream.read(16)
        box_size, kind = struct.unpack_from(">I4s", head)
        if box_size == 1 and len(head) == 16:
            box_size = struct.unpack_from(">Q", head, 8)[0]
        elif box_size == 0:
            box_size = size - position
        if box_size < 8:
            raise Mp4LayoutError(f"damaged '{kind.decode('latin-1')}' box at byte {position}")
        if kind == b"moof":
            # Fragment headers carry their own offsets; podcast files are not fragmented.
            raise Mp4LayoutError("the file is fragmented (moof boxes): chapters cannot be added")
        if kind == b"moov":
            found.append((position, box_size))
        position += box_size
    if len(found) != 1:
        raise Mp4LayoutError(f"the file has {len(found)} 'moov' boxes instead of one")
    return found[0]


def _copy_range(source: BinaryIO, output: BinaryIO, start: int, end: int) -> None:
    source.seek(start)
    remaining = end - start
    while remaining > 0:
        block = source.read(min(remaining, 1 << 20))
        if not block:
            break
        output.write(block)
        remaining -= len(block)


def _nero_box(chapters: Sequence[tuple[int, str]]) -> bytes:
    """A version-1 ``chpl`` box: start times in 100 ns units, titles of at most 255 UTF-8 bytes."""
    payload = bytearray(b"\x01\x00\x00\x00" + bytes(4) + bytes([min(len(chapters), NERO_MAX)]))
    for start_ms, title in chapters[:NERO_MAX]:
        encoded = title.encode("utf-8")[:NERO_MAX].decode("utf-8", "ignore").encode("utf-8")
        payload += struct.pack(">QB", start_ms * 10_000, len(encoded)) + encoded
    return _box(b"chpl", bytes(payload))


def _boxes(data: bytes | bytearray, start: int, end: int) -> Iterator[tuple[bytes, int, int, int]]:
    """(type, offset, header size, total size) of each box in ``data[start:end]``."""
    position = start
    while position + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, position)
        header = 8
        if size == 1:
            size, header = struct.unpack_from(">Q", data, position + 8)[0], 16
        elif size == 0:
            size = end - position
        if size < header or position + size > end:
            raise Mp4LayoutError(f"damaged '{kind.decode('latin-1')}' box at byte {position}")
        yield kind, position, header, size
        position += size


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def _moov_with_chapters(moov: bytes, chpl: bytes) -> bytes:
    """``moov`` with ``chpl`` as the last child of its ``udta`` (created if missing)."""
    header = 16 if struct.unpack_from(">I", moov)[0] == 1 else 8
    children = []
    udta_found = False
    for kind, offset, box_header, box_size in _boxes(moov, header, len(moov)):
        raw = moov[offset : offset + box_size]
        if kind == b"udta":
            kept = b"".join(
                moov[child : child + child_size]
                for child_kind, child, _, child_size in _boxes(moov, offset + box_header, offset + box_size)
                if child_kind != b"chpl"
            )
            raw = _box(b"udta", kept + chpl)
            udta_found = True
        elif kind == b"trak":
            raw = _unlink_chapter_track(raw)
        children.append(raw)
    if not udta_found:
        children.append(_box(b"udta", chpl))
    return _box(b"moov", b"".join(children))


def _unlink_chapter_track(trak: bytes) -> bytes:
    data = bytearray(trak)
    for kind, offset, header, size in _boxes(data, 8, len(data)):
        if kind == b"tref":
            for child_kind, child, _, _ in _boxes(data, offset + header, offset + size):
                if child_kind == b"chap":
                    data[child + 4 : child + 8] = b"free"
    return bytes(data)


def _shift_chunk_offsets(moov: bytearray, after: int, delta: int) -> None:
    """Add ``delta`` to every chunk offset at or past ``after``: the audio that moved."""
    if delta == 0:
        return
    for kind, offset, header, size in _boxes(moov, 8, len(moov)):
        if kind != b"trak":
            continue
        stbl = _find(moov, offset + header, offset + size, (b"mdia", b"minf", b"stbl"))
        if stbl is None:
            continue
        for table, at, table_header, _ in _boxes(moov, *stbl):
            if table not in (b"stco", b"co64"):
                continue
            width, code = (4, ">I") if table == b"stco" else (8, ">Q")
            count = struct.unpack_from(">I", moov, at + table_header + 4)[0]
            first = at + table_header + 8
            for index in range(count):
                value = struct.unpack_from(code, moov, first + index * width)[0]
                if value >= after:
                    value += delta
                    if value >= 1 << (8 * width):
                        raise Mp4LayoutError("the file is too large for 32-bit chunk offsets")
                    struct.pack_into(code, moov, first + index * width, value)


def _find(data: bytes | bytearray, start: int, end: int, path: tuple[bytes, ...]) -> tuple[int, int] | None:
    """The payload range of the box at ``path`` under ``data[start:end]``."""
    for kind, offset, header, size in _boxes(data, start, end):
        if kind == path[0]:
            if len(path) == 1:
                return offset + header, offset + size
            return _find(data, offset + header, offset + size, path[1:])
    return None
