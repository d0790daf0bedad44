"""MP4, Ogg, FLAC and WAV: durations checked against the bytes really present."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Final

from mutagen.flac import FLAC
from mutagen.mp4 import MP4
from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis

from ..errors import AudioError
from ..model import AudioInfo, DurationMethod, EmbeddedChapter
from ._io import _HINT_EXPORT, _WINDOW, _load, _Reader


def _probe_mp4(path: Path, reader: _Reader, start: int) -> AudioInfo:
    pos, boxes, moov = start, set(), (0, 0)
    while pos + 8 <= reader.size:
        head = reader.read(pos, 16)
        size, kind = struct.unpack_from(">I4s", head)
        header = 8
        if size == 1 and len(head) == 16:
            size, header = struct.unpack_from(">Q", head, 8)[0], 16
        elif size == 0:
            size = reader.size - pos
        if not all(32 <= char < 127 or char == 0xA9 for char in kind):
            break  # Trailing junk after the last box, which players ignore.
        name = kind.decode("latin-1")
        if size < header:
            raise AudioError(path, f"the MP4 '{name}' box at byte {pos} is damaged", _HINT_EXPORT)
        if pos + size > reader.size:
            raise AudioError(
                path,
                f"the file is truncated: its '{name}' box needs {pos + size - reader.size} more bytes",
                "the header's duration would be wrong: upload or export the file again",
            )
        boxes.add(kind)
        if kind == b"moov":
            moov = (pos, pos + size)
        pos += size
    if b"moov" not in boxes:
        raise AudioError(path, "the MP4 file has no 'moov' box: the recording or export did not finish", _HINT_EXPORT)
    mp4 = _load(path, MP4, "MP4 data")
    info = mp4.info
    tags = tuple(
        (key, str(values[0]))
        for key, atom in (("title", "\xa9nam"), ("artist", "\xa9ART"), ("album", "\xa9alb"))
        if mp4.tags is not None and (values := mp4.tags.get(atom))
    )
    chapters = tuple(EmbeddedChapter(start=c.start, title=c.title) for c in (mp4.chapters or ()))
    return AudioInfo(
        size=0,
        duration=timedelta(seconds=info.length),
        mime_type="",
        codec="AAC" if info.codec.startswith("mp4a.40") else info.codec_description or info.codec,
        bitrate=info.bitrate or None,
        sample_rate=info.sample_rate or None,
        channels=_aac_lc_channels(reader, *moov) or info.channels or None,
        tags=tags,
        chapters=chapters,
    )


def _descriptor(data: bytes, pos: int) -> tuple[int, int, int]:
    """An MPEG-4 descriptor at ``pos``: (tag, offset of its body, body size)."""
    tag, size, pos = data[pos], 0, pos + 1
    for _ in range(4):
        byte = data[pos]
        pos += 1
        size = size << 7 | byte & 0x7F
        if not byte & 0x80:
            break
    return tag, pos, size


def _aac_lc_channels(reader: _Reader, start: int, end: int) -> int | None:
    """The channel count an AAC-LC track's own configuration gives, or None.

    mutagen falls back to the sample entry's template count (2, as ffmpeg writes it) when the
    configuration alone cannot rule out parametric stereo; plain AAC-LC (object type 2) has no
    parametric stereo, so its channel configuration is the answer.
    """
    found = reader.find(b"esds", start, end)
    if found < 0:
        return None
    data = reader.read(found + 8, 256)
    try:
        tag, pos, _ = _descriptor(data, 0)
        if tag != 0x03:
            return None
        flags = data[pos + 2]
        pos += 3 + (2 if flags & 0x80 else 0)  # ES_ID, flags, then dependsOn_ES_ID
        pos += 1 + data[pos] if flags & 0x40 else 0  # URL
        pos += 2 if flags & 0x20 else 0  # OCR_ES_Id
        tag, pos, _ = _descriptor(data, pos)
        if tag != 0x04:
            return None
        tag, pos, size = _descriptor(data, pos + 13)
        if tag != 0x05 or size < 2:
            return None
        config = int.from_bytes(data[pos : pos + 2], "big")
    except IndexError:
        return None
    object_type, frequency, channels = config >> 11, config >> 7 & 0xF, config >> 3 & 0xF
    if object_type != 2 or frequency == 15 or not 1 <= channels <= 6:
        return None
    return channels


# --- Ogg ---------------------------------------------------------------------------------------


@dataclass(slots=True)
class _OggLink:
    """One logical stream of a chain (Ogg files joined with ``cat`` play one after the other)."""

    serial: int
    rate: int
    pre_skip: int
    last_granule: int = 0
    has_data: bool = False


def _ogg_links(reader: _Reader) -> list[_OggLink]:
    """Walk the complete pages; a page cut at the end of the file is ignored, as players do."""
    links: list[_OggLink] = []
    pos = 0
    while pos + 27 <= reader.size:
        head = reader.read(pos, 27 + 255)
        if head[:5] != b"OggS\0":
            # Garbage between pages: decoders resynchronise on the next capture pattern.
            pos = reader.find(b"OggS", pos + 1, reader.size)
            if pos < 0:
                break
            continue
        segments = head[26]
        end = pos + 27 + segments + sum(head[27 : 27 + segments])
        if len(head) < 27 + segments or end > reader.size:
            break
        flags, granule, serial = struct.unpack_from("<BqI", head, 5)
        if flags & 2:
            body = reader.read(pos + 27 + segments, 20)
            opus, vorbis = body.startswith(b"OpusHead"), body.startswith(b"\x01vorbis")
            # A second audio stream starting before the first one has data is multiplexed
            # alongside it, not chained after it.
            if (opus or vorbis) and (not links or links[-1].has_data):
                rate = 48000 if opus else struct.unpack_from("<I", body, 12)[0]
                pre_skip = struct.unpack_from("<H", body, 10)[0] if opus else 0
                links.append(_OggLink(serial=serial, rate=rate, pre_skip=pre_skip))
        elif links and serial == links[-1].serial:
            links[-1].has_data = True
            if granule >= 0:  # -1: no packet ends on this page.
                links[-1].last_granule = granule
        pos = end
    return links


#: The longest page: a 27-byte header, 255 lacing values and 255 segments of 255 bytes (RFC 3533).
_OGG_MAX_PAGE: Final = 27 + 255 + 255 * 255
#: Reverses the bits of every byte: the page CRC is the unreflected CRC-32, zlib's is reflected.
_BIT_REVERSED: Final = bytes(int(f"{byte:08b}"[::-1], 2) for byte in range(256))


def _ogg_crc(page: bytes) -> int:
    """The CRC of an Ogg page (RFC 3533: polynomial 0x04C11DB7, initial value 0, no final xor,
    computed with its own CRC field zeroed).

    zlib computes the same polynomial bit-reversed and with inverted initial and final values;
    fed bit-reversed bytes and undone on both ends it gives the page CRC at C speed, where a
    Python loop would cost a millisecond per page.
    """
    zeroed = page[:22] + bytes(4) + page[26:]
    reflected = zlib.crc32(zeroed.translate(_BIT_REVERSED), 0xFFFFFFFF) ^ 0xFFFFFFFF
    return int(f"{reflected:032b}"[::-1], 2)


def _ogg_whole_page(data: bytes, pos: int) -> int:
    """Where the page at ``data[pos:]`` ends if it is a whole version-0 page, else -1."""
    if data[pos : pos + 5] != b"OggS\0" or pos + 27 > len(data):
        return -1
    segments = data[pos + 26]
    if pos + 27 + segments > len(data):
        return -1
    return pos + 27 + segments + sum(data[pos + 27 : pos + 27 + segments])


def _ogg_first_link(reader: _Reader) -> _OggLink | None:
    """The stream the file starts with, from its first page: a whole, CRC-valid beginning-of-
    stream page holding an Opus or Vorbis identification header; else None."""
    head = reader.read(0, 27 + 255)
    end = _ogg_whole_page(head, 0)
    if end < 0 or end > reader.size:
        return None
    page = reader.read(0, end)
    flags, _, serial, sequence, crc = struct.unpack_from("<BqIII", page, 5)
    if not flags & 2 or sequence != 0 or _ogg_crc(page) != crc:
        return None
    body = page[27 + page[26] :]
    if body.startswith(b"OpusHead") and len(body) >= 19:
        return _OggLink(serial=serial, rate=48000, pre_skip=struct.unpack_from("<H", body, 10)[0])
    if body.startswith(b"\x01vorbis") and len(body) >= 30:
        return _OggLink(serial=serial, rate=struct.unpack_from("<I", body, 12)[0], pre_skip=0)
    return None


def _ogg_trusted_end(reader: _Reader) -> list[_OggLink] | None:
    """The file's one stream, its length read from the last page, when the end of the file can be
    trusted; None when the pages must be walked.

    Trusted only when the file ends exactly with a whole page whose CRC holds, of the stream
    the first page began (the same serial), past that first page, with a granule position (the
    count of samples decoded by the end of its last packet; -1 when no packet ends on it). A cut
    upload ends in a partial page, a file with another stream appended (``cat``) ends in a page
    of another serial, and damage at the end breaks the CRC: all of them are walked. Links that
    share one serial (RFC 3533 gives each stream of a file its own) are not told apart.
    """
    link = _ogg_first_link(reader)
    if link is None or not link.rate:
        return None
    first = max(0, reader.size - _OGG_MAX_PAGE)
    tail = reader.read(first, reader.size - first)
    pos = tail.rfind(b"OggS")
    while pos >= 0 and _ogg_whole_page(tail, pos) != len(tail):
        pos = tail.rfind(b"OggS", 0, pos)
    if pos < 0:
        return None
    page = tail[pos:]
    flags, granule, serial, sequence, crc = struct.unpack_from("<BqIII", page, 5)
    if serial != link.serial or sequence == 0 or flags & 2 or granule < 0 or _ogg_crc(page) != crc:
        return None
    link.last_granule, link.has_data = granule, True
    return [link]


def _probe_ogg(path: Path, reader: _Reader, kind: type[OggOpus] | type[OggVorbis]) -> AudioInfo:
    links = _ogg_trusted_end(reader)
    trusted = links is not None
    if links is None:
        links = _ogg_links(reader)
    seconds = sum(max(link.last_granule - link.pre_skip, 0) / link.rate for link in links if link.rate)
    ogg = _load(path, kind, "Ogg data")
    comments = ogg.tags
    tags = tuple((key, str(comments[key][0])) for key in ("title", "artist", "album") if comments and comments.get(key))
    return AudioInfo(
        size=0,
        duration=timedelta(seconds=seconds),
        mime_type="",
        codec="Opus" if kind is OggOpus else "Vorbis",
        bitrate=round(reader.size * 8 / seconds) if seconds else None,
        sample_rate=links[0].rate if links else None,
        channels=ogg.info.channels,
        # mutagen reads the granule of the last page of the first stream: right unless the
        # file is a chain or ends in a cut page.
        duration_method="header" if trusted or abs(ogg.info.length - seconds) < 0.001 else "measured",
        tags=tags,
    )


# --- FLAC --------------------------------------------------------------------------------------


def _crc8(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc << 1 ^ 0x07 if crc & 0x80 else crc << 1) & 0xFF
    return crc


def _flac_frame(head: bytes, fixed_block: int) -> tuple[int, int] | None:
    """(first sample, block size) of the FLAC frame header ``head`` starts with, or None."""
    if len(head) < 6 or head[0] != 0xFF or head[1] & 0xFE != 0xF8:
        return None
    block_code, rate_code = head[2] >> 4, head[2] & 15
    if block_code == 0 or rate_code == 15 or head[3] >> 4 > 10 or head[3] & 1:
        return None
    # The frame (or sample) number, coded like UTF-8 on up to 7 bytes.
    lead, extra, mask = head[4], 0, 0x40
    if lead >= 0x80:
        while lead & mask:
            extra, mask = extra + 1, mask >> 1
        if not 1 <= extra <= 6:
            return None
    number = lead & (mask - 1) if extra else lead
    pos = 5
    for byte in head[pos : pos + extra]:
        if byte & 0xC0 != 0x80:
            return None
        number = number << 6 | byte & 0x3F
    pos += extra
    if block_code == 1:
        block = 192
    elif block_code <= 5:
        block = 576 << (block_code - 2)
    elif block_code <= 7:
        width = block_code - 5
        block = int.from_bytes(head[pos : pos + width], "big") + 1
        pos += width
    else:
        block = 256 << (block_code - 8)
    pos += {12: 1, 13: 2, 14: 2}.get(rate_code, 0)
    if len(head) <= pos or _crc8(head[:pos]) != head[pos]:
        return None
    return (number if head[1] & 1 else number * fixed_block), block


def _flac_audio_start(reader: _Reader, start: int) -> int:
    pos = start + 4
    while head := reader.read(pos, 4):
        pos += 4 + int.from_bytes(head[1:4], "big")
        if head[0] & 0x80 or len(head) < 4:
            break
    return pos


def _crc16(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc = (crc << 8 & 0xFFFF) ^ _CRC16[crc >> 8 ^ byte]
    return crc


def _crc16_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = (crc << 1 ^ 0x8005 if crc & 0x8000 else crc << 1) & 0xFFFF
        table.append(crc)
    return tuple(table)


_CRC16: Final = _crc16_table()


def _flac_end_sample(reader: _Reader, audio_start: int, fixed_block: int, max_frame: int, total: int) -> int | None:
    """The sample where the last whole frame ends, from the frame headers near the end.

    A header counts only if an earlier header in the window ends exactly where it starts (or it
    is the first frame): a sync code and CRC-8 can match by chance in compressed data.
    """
    window = max(_WINDOW, 3 * max_frame)
    first = max(audio_start, reader.size - window)
    data = reader.read(first, reader.size - first)
    found: list[tuple[int, int, int]] = []
    pos = data.find(b"\xff")
    while 0 <= pos < len(data) - 5:
        if data[pos + 1] & 0xFE == 0xF8 and (frame := _flac_frame(data[pos : pos + 16], fixed_block)):
            found.append((first + pos, *frame))
        pos = data.find(b"\xff", pos + 1)
    ends = {sample + block for _, sample, block in found}
    for offset, sample, block in reversed(found):
        if sample in ends or (offset == audio_start and sample == 0):
            # A frame ends with a CRC-16 of itself, so a whole last frame, CRC included, sums
            # to 0; a cut one does not, and players drop it.
            whole = sample + block == total or _crc16(data[offset - first :]) == 0
            return sample + block if whole else sample
    return None


def _probe_flac(path: Path, reader: _Reader, start: int) -> AudioInfo:
    flac = _load(path, FLAC, "FLAC data")
    info = flac.info
    if not info.sample_rate:
        raise AudioError(path, "the FLAC header gives no sample rate", _HINT_EXPORT)
    audio_start = _flac_audio_start(reader, start)
    end = _flac_end_sample(reader, audio_start, info.max_blocksize, info.max_framesize, info.total_samples)
    if end is None:
        raise AudioError(path, "no FLAC audio frames found: the file is cut or damaged", _HINT_EXPORT)
    # STREAMINFO's total is 0 when the encoder could not seek back to write it, and too large
    # when the file was cut; the last frame header tells the truth in both cases.
    method: DurationMethod = "header" if end == info.total_samples else "measured"
    announced = timedelta(seconds=info.total_samples / info.sample_rate) if info.total_samples > end else None
    comments = flac.tags
    tags = tuple((key, str(comments[key][0])) for key in ("title", "artist", "album") if comments and comments.get(key))
    seconds = end / info.sample_rate
    return AudioInfo(
        size=0,
        duration=timedelta(seconds=seconds),
        mime_type="",
        codec="FLAC",
        bitrate=round((reader.size - audio_start) * 8 / seconds) if seconds else None,
        sample_rate=info.sample_rate,
        channels=info.channels,
        duration_method=method,
        announced=announced,
        tags=tags,
    )


# --- WAV ---------------------------------------------------------------------------------------

_WAV_CODECS: Final = {1: "PCM", 3: "PCM float", 0xFFFE: "PCM"}
_RIFF_INFO: Final = {b"INAM": "title", b"IART": "artist", b"IPRD": "album"}


def _probe_wav(path: Path, reader: _Reader, start: int) -> AudioInfo:
    pos, fmt, data = start + 12, b"", (0, 0)
    tags: list[tuple[str, str]] = []
    while pos + 8 <= reader.size:
        chunk, size = struct.unpack("<4sI", reader.read(pos, 8))
        body = pos + 8
        if chunk == b"fmt ":
            fmt = reader.read(body, 16)
        elif chunk == b"data":
            data = (body, size)
            if size in (0, 0xFFFFFFFF) or body + size > reader.size:
                break  # Written while streaming, or cut: the data runs to the end of the file.
        elif chunk == b"LIST" and reader.read(body, 4) == b"INFO":
            tags += _riff_info(reader.read(body + 4, max(min(size, 65536) - 4, 0)))
        pos = body + size + (size & 1)
    if len(fmt) < 16:
        raise AudioError(path, "the WAV file has no valid 'fmt ' chunk", _HINT_EXPORT)
    codec, channels, rate, byte_rate, block_align, _ = struct.unpack("<HHIIHH", fmt)
    if not data[0]:
        raise AudioError(path, "the WAV file has no 'data' chunk: it holds no audio", _HINT_EXPORT)
    if not (rate and byte_rate and block_align):
        raise AudioError(path, "the WAV header is damaged: its sample rate or sizes are zero", _HINT_EXPORT)
    offset, declared = data
    present = reader.size - offset
    announced = None
    method: DurationMethod
    if 0 < declared < 0xFFFFFFFF and declared <= present:
        length, method = declared, "header"
    else:
        length, method = present - present % block_align, "measured"
        if 0 < declared < 0xFFFFFFFF:
            announced = timedelta(seconds=declared / byte_rate)
    return AudioInfo(
        size=0,
        duration=timedelta(seconds=length / byte_rate),
        mime_type="",
        codec=_WAV_CODECS.get(codec, f"WAV format 0x{codec:04x}"),
        bitrate=byte_rate * 8,
        sample_rate=rate,
        channels=channels,
        duration_method=method,
        announced=announced,
        tags=tuple(tags),
    )


def _riff_info(data: bytes) -> Iterator[tuple[str, str]]:
    pos = 0
    while pos + 8 <= len(data):
        key, size = struct.unpack_from("<4sI", data, pos)
        if key in _RIFF_INFO:
            value = data[pos + 8 : pos + 8 + size].split(b"\0", 1)[0].decode("utf-8", "replace").strip()
            if value:
                yield _RIFF_INFO[key], value
        pos += 8 + size + (size & 1)
