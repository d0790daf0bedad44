"""MP3: walking MPEG audio frames to measure a duration, and reading ID3 tags and chapters."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Final

from mutagen.id3 import ID3, CTOCFlags

from ..model import AudioInfo, DurationMethod, EmbeddedChapter
from ._io import _load, _Reader, _skip_id3v2

_MPEG1_KBPS: Final = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0)
_MPEG2_KBPS: Final = (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0)
#: By the header's version bits: 3 = MPEG-1, 2 = MPEG-2, 0 = MPEG-2.5 (1 is reserved).
_MPEG_RATES: Final = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}
#: Header bits every frame of one stream shares: sync, version, layer, sample rate.
_MPEG_FIXED: Final = 0xFFFE0C00
#: Consecutive frames that must chain before bytes count as MPEG audio: random data
#: often holds one plausible frame header, practically never four linked ones.
_MPEG_RUN: Final = 4
_U32 = struct.Struct(">I").unpack_from


def _mpeg_lengths(header: int) -> tuple[int, ...] | None:
    """Frame length by bitrate index (0 = invalid) for a layer III header's stream, or None."""
    version, layer, rate_index = header >> 19 & 3, header >> 17 & 3, header >> 10 & 3
    if header >> 21 != 0x7FF or version == 1 or layer != 1 or rate_index == 3:
        return None
    rate = _MPEG_RATES[version][rate_index]
    if version == 3:
        return tuple(144000 * kbps // rate for kbps in _MPEG1_KBPS)
    return tuple(72000 * kbps // rate for kbps in _MPEG2_KBPS)


def _mpeg_chain(reader: _Reader, pos: int, end: int, fixed: int | None) -> bool:
    """Whether a run of valid, consistent frames starts at ``pos``."""
    first = _U32(reader.read(pos, 4))[0]
    lengths = _mpeg_lengths(first)
    if lengths is None or (fixed is not None and first & _MPEG_FIXED != fixed):
        return False
    for _ in range(_MPEG_RUN):
        head = reader.read(pos, 4)
        if len(head) < 4:
            return False
        header = _U32(head)[0]
        length = lengths[header >> 12 & 15]
        if header & _MPEG_FIXED != first & _MPEG_FIXED or not length:
            return False
        pos += length + (header >> 9 & 1)
        if pos >= end:
            # A file of fewer frames than a run is audio only if they end exactly at its end.
            return pos == end
    return True


def _find_mpeg_run(reader: _Reader, start: int, end: int, fixed: int | None = None, limit: int | None = None) -> int:
    """The first frame of a run in ``[start, limit)``, the audio ending at ``end``; or -1."""
    pos = start
    while (pos := reader.find(b"\xff", pos, min(end, limit or end) - 3)) >= 0:
        if _mpeg_chain(reader, pos, end, fixed):
            return pos
        pos += 1
    return -1


def _mpeg_end(reader: _Reader) -> int:
    """Where MPEG audio data stops: before an ID3v1 tag and an APEv2 tag at the end."""
    end = reader.size
    if end >= 128 and reader.read(end - 128, 3) == b"TAG":
        end -= 128
        if end >= 227 and reader.read(end - 227, 4) == b"TAG+":
            end -= 227
    footer = reader.read(end - 32, 32) if end >= 32 else b""
    if footer[:8] == b"APETAGEX":
        size, flags = struct.unpack_from("<I4xI", footer, 12)
        end -= size + (32 if flags & 0x80000000 else 0)
    return max(end, 0)


def _walk_mpeg(reader: _Reader, first: int, end: int) -> tuple[int, int]:
    """Count the frames from the first real one, at ``first``, to the end of the audio data;
    return their number and where the last one ends.

    Every frame header is read because neither the first frame's bitrate nor a Xing header
    can be trusted: VBR files without a header, files joined with ``cat`` and truncated
    uploads all make them lie.
    """
    pos = first
    header = _U32(reader.read(first, 4))[0]
    fixed = header & _MPEG_FIXED
    lengths = _mpeg_lengths(header) or ()
    frames = 0
    buffer, base = reader.window(pos)
    while True:
        while pos + 4 <= end:
            offset = pos - base
            if offset + 4 > len(buffer):
                buffer, base = reader.window(pos)
                offset = 0
            header = _U32(buffer, offset)[0]
            length = lengths[header >> 12 & 15]
            if header & _MPEG_FIXED != fixed or not length:
                break
            length += header >> 9 & 1
            if pos + length > end:
                break
            pos += length
            frames += 1
        # Junk or an ID3 tag between frames (files joined together): carry on after it,
        # as decoders do; a cut last frame or trailing junk ends the audio.
        resume = _find_mpeg_run(reader, _skip_id3v2(reader, pos), end, fixed) if pos + 4 <= end else -1
        if resume < 0:
            return frames, pos
        pos = resume


@dataclass(frozen=True, slots=True)
class _VbrHeader:
    """What a Xing/Info or VBRI header in the first frame announces."""

    #: Audio frames after the header's own frame, if given.
    frames: int | None
    #: Bytes of the stream from the header's frame to the last frame's end, if given.
    size: int | None
    #: The LAME encoder delay plus padding, in samples.
    trim: int


def _vbr_header(reader: _Reader, pos: int, header: int) -> _VbrHeader | None:
    """The Xing/Info or VBRI header in the frame at ``pos``; None when the frame is audio."""
    mono = header >> 6 & 3 == 3
    side = (17 if mono else 32) if header >> 19 & 3 == 3 else (9 if mono else 17)
    data = reader.read(pos, 4 + side + 160)
    tag = data[4 + side : 8 + side]
    if tag in (b"Xing", b"Info") and len(data) >= 16 + side:
        (flags,) = struct.unpack_from(">I", data, 8 + side)
        frames = _U32(data, 12 + side)[0] if flags & 1 else None
        size_at = 12 + side + 4 * (flags & 1)
        size = _U32(data, size_at)[0] if flags & 2 and len(data) >= size_at + 4 else None
        lame = size_at + 4 * (flags >> 1 & 1) + 100 * (flags >> 2 & 1) + 4 * (flags >> 3 & 1)
        trim = 0
        if data[lame : lame + 4] in (b"LAME", b"Lavf", b"Lavc", b"GOGO") and len(data) >= lame + 24:
            packed = int.from_bytes(data[lame + 21 : lame + 24], "big")
            trim = (packed >> 12) + (packed & 0xFFF)
        return _VbrHeader(frames, size, trim)
    vbri = reader.read(pos + 36, 18)
    if vbri[:4] == b"VBRI" and len(vbri) == 18:
        return _VbrHeader(_U32(vbri, 14)[0], _U32(vbri, 10)[0], 0)
    return None


def _header_fits(reader: _Reader, vbr: _VbrHeader, first: int, audio_start: int, end: int, header: int) -> bool:
    """Whether a VBR header's counts agree with the file, so that its frames need no walk.

    Three checks, each cheap: the byte count it gives is the size of the stream present (encoders
    count from the header's frame, some from the file's start); the mean frame length it implies
    is one this stream can have; and the data ends with whole frames (a preallocated download
    that never finished has the right size but no frames at its end). Files joined with ``cat``
    and cut uploads fail the first check; a made-up frame count fails the second.
    """
    if not vbr.frames or vbr.size is None:
        return False
    if vbr.size not in (end - first, end, reader.size - first, reader.size):
        return False
    lengths = [length for length in _mpeg_lengths(header) or () if length]
    if not lengths or not min(lengths) <= (end - audio_start) / vbr.frames <= max(lengths) + 1:
        return False
    return _ends_with_frames(reader, audio_start, end, header & _MPEG_FIXED, max(lengths) + 1)


def _ends_with_frames(reader: _Reader, start: int, end: int, fixed: int, longest: int) -> bool:
    """Whether two chained frames of the stream end exactly at ``end``."""
    first = max(start, end - 2 * longest - 4)
    data = reader.read(first, end - first)
    lengths = _mpeg_lengths(fixed) or ()
    ends: dict[int, int] = {}
    pos = data.find(b"\xff")
    while 0 <= pos <= len(data) - 4:
        header = _U32(data, pos)[0]
        length = lengths[header >> 12 & 15] if header & _MPEG_FIXED == fixed else 0
        if length:
            ends[first + pos] = first + pos + length + (header >> 9 & 1)
        pos = data.find(b"\xff", pos + 1)
    stops = set(ends.values())
    return any(stop == end and at in stops for at, stop in ends.items())


def _probe_mp3(path: Path, reader: _Reader, first: int) -> AudioInfo:
    header = _U32(reader.read(first, 4))[0]
    end = _mpeg_end(reader)
    version = header >> 19 & 3
    rate = _MPEG_RATES[version][header >> 10 & 3]
    method: DurationMethod = "measured"
    trim, audio_start, announced = 0, first, None
    per_frame = 1152 if version == 3 else 576
    vbr = _vbr_header(reader, first, header)
    if vbr is not None:
        # The Xing/VBRI frame carries no audio; decoders skip it.
        audio_start += (_mpeg_lengths(header) or ())[header >> 12 & 15] + (header >> 9 & 1)
    if vbr is not None and vbr.frames and _header_fits(reader, vbr, first, audio_start, end, header):
        frames, stop, method, trim = vbr.frames, end, "header", vbr.trim
    else:
        # No header, or one the file contradicts: every frame is counted.
        frames, stop = _walk_mpeg(reader, first, end)
        if vbr is not None:
            frames -= 1
            if vbr.frames is not None and abs(vbr.frames - frames) <= 1:
                method, trim = "header", vbr.trim
            elif vbr.frames is not None and vbr.frames > frames:
                announced = timedelta(seconds=vbr.frames * per_frame / rate)
    seconds = max(frames * per_frame - trim, 0) / rate
    tags, chapters = _id3_tags(path)
    return AudioInfo(
        size=0,
        duration=timedelta(seconds=seconds),
        mime_type="",
        codec="MP3",
        bitrate=round((stop - audio_start) * 8 / seconds) if seconds else None,
        sample_rate=rate,
        channels=1 if header >> 6 & 3 == 3 else 2,
        duration_method=method,
        announced=announced,
        trailing=end - stop,
        tags=tags,
        chapters=chapters,
    )


def _id3_tags(path: Path) -> tuple[tuple[tuple[str, str], ...], tuple[EmbeddedChapter, ...]]:
    id3 = _load(path, ID3, "ID3 tag")
    if id3 is None:
        return (), ()
    tags = tuple(
        (key, str(frames[0].text[0]))
        for key, frame_id in (("title", "TIT2"), ("artist", "TPE1"), ("album", "TALB"))
        if (frames := id3.getall(frame_id)) and frames[0].text
    )
    return tags, _id3_chapters(id3)


def _id3_chapters(id3: Any) -> tuple[EmbeddedChapter, ...]:
    """CHAP frames, in the order of the top-level CTOC when there is one, else by start time."""
    chaps = {frame.element_id: frame for frame in id3.getall("CHAP")}
    tocs = {frame.element_id: frame for frame in id3.getall("CTOC")}
    order: list[str] = []

    def visit(toc_id: str, seen: set[str]) -> None:
        seen.add(toc_id)
        for child in tocs[toc_id].child_element_ids:
            if child in chaps and child not in order:
                order.append(child)
            elif child in tocs and child not in seen:
                visit(child, seen)

    tops = [key for key, toc in tocs.items() if toc.flags & CTOCFlags.TOP_LEVEL] or list(tocs)[:1]
    for top in tops:
        visit(top, set())
    rest = sorted((key for key in chaps if key not in order), key=lambda key: chaps[key].start_time)
    chapters = []
    for key in order + rest:
        sub_frames = chaps[key].sub_frames
        titles = sub_frames.getall("TIT2")
        urls = [frame.url for name, frame in sub_frames.items() if name.startswith("W")]
        chapters.append(
            EmbeddedChapter(
                start=chaps[key].start_time / 1000,
                title=str(titles[0].text[0]) if titles and titles[0].text else "",
                url=str(urls[0]) if urls else None,
            )
        )
    return tuple(chapters)
