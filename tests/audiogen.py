"""Real audio files for tests: a pure-Python MPEG audio writer, WAV variants and ffmpeg encoders."""

from __future__ import annotations

import math
import os
import random
import shutil
import struct
import subprocess
import wave
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mutagen.apev2
import mutagen.id3
import pytest

#: Kilobits per second by bitrate index, layer III.
MPEG1_BITRATES = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
MPEG2_BITRATES = (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)
SAMPLE_RATES: Mapping[float, tuple[int, int, int]] = {
    1: (44100, 48000, 32000),
    2: (22050, 24000, 16000),
    2.5: (11025, 12000, 8000),
}
_VERSION_BITS: Mapping[float, int] = {1: 0b11, 2: 0b10, 2.5: 0b00}
# mutagen's frame classes carry no annotations; reach them through untyped names.
_ID3: Any = mutagen.id3
_APE: Any = mutagen.apev2


def have_tool(name: str) -> bool:
    """Whether a command-line tool is installed; fails the test under ENTRETIENS_REQUIRE_TOOLS=1."""
    if shutil.which(name):
        return True
    if os.environ.get("ENTRETIENS_REQUIRE_TOOLS") == "1":
        pytest.fail(f"{name} is required (ENTRETIENS_REQUIRE_TOOLS=1) but is not installed")
    return False


def require_tool(name: str) -> str:
    """Return the path of a command-line tool, or skip the test (fail under ENTRETIENS_REQUIRE_TOOLS=1)."""
    found = shutil.which(name) if have_tool(name) else None
    if found is None:
        pytest.skip(f"{name} is not installed")
    return found


# --- MPEG audio (MP3) -------------------------------------------------------------------------


def samples_per_frame(mpeg_version: float) -> int:
    """Samples in one layer III frame: 1152 for MPEG-1, 576 for MPEG-2 and 2.5."""
    return 1152 if mpeg_version == 1 else 576


def mp3_frame_count(seconds: float, *, sample_rate: int = 44100, mpeg_version: float = 1) -> int:
    """How many audio frames write_mp3 writes for ``seconds``."""
    return max(0, round(seconds * sample_rate / samples_per_frame(mpeg_version)))


def mp3_duration(seconds: float, *, sample_rate: int = 44100, mpeg_version: float = 1) -> float:
    """The exact duration of the audio frames write_mp3 writes for ``seconds``."""
    frames = mp3_frame_count(seconds, sample_rate=sample_rate, mpeg_version=mpeg_version)
    return frames * samples_per_frame(mpeg_version) / sample_rate


def _bitrates(mpeg_version: float) -> tuple[int, ...]:
    return MPEG1_BITRATES if mpeg_version == 1 else MPEG2_BITRATES


def _frame_length(mpeg_version: float, bitrate: int, sample_rate: int, padding: int) -> int:
    coefficient = 144 if mpeg_version == 1 else 72
    return coefficient * bitrate * 1000 // sample_rate + padding


def mpeg_frame(*, mpeg_version: float, bitrate: int, sample_rate: int, channels: int, padding: int = 0) -> bytearray:
    """One layer III frame of silence: a valid header, zeroed side information and main data."""
    bitrate_index = _bitrates(mpeg_version).index(bitrate)
    rate_index = SAMPLE_RATES[mpeg_version].index(sample_rate)
    mode = 0b11 if channels == 1 else 0b00
    header = (
        (0x7FF << 21)
        | (_VERSION_BITS[mpeg_version] << 19)
        | (0b01 << 17)  # layer III
        | (1 << 16)  # no CRC
        | (bitrate_index << 12)
        | (rate_index << 10)
        | (padding << 9)
        | (mode << 6)
    )
    frame = bytearray(_frame_length(mpeg_version, bitrate, sample_rate, padding))
    frame[:4] = header.to_bytes(4, "big")
    return frame


def _side_info_size(mpeg_version: float, channels: int) -> int:
    if mpeg_version == 1:
        return 17 if channels == 1 else 32
    return 9 if channels == 1 else 17


def _crc16(data: bytes) -> int:
    # CRC-16 with polynomial 0x8005, reflected (the "ARC" variant LAME uses for its tag).
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def _tag_frame(
    kind: str,
    *,
    mpeg_version: float,
    sample_rate: int,
    channels: int,
    frames: int,
    size: int,
    lame: tuple[int, int] | None,
) -> bytearray:
    """The first frame of a VBR file: no audio, a Xing/Info or VBRI table of contents."""
    # The smallest bitrate whose frame holds the table, as encoders do.
    needed = 4 + 32 + 120 + 36
    bitrate = next(b for b in _bitrates(mpeg_version)[1:] if _frame_length(mpeg_version, b, sample_rate, 0) >= needed)
    frame = mpeg_frame(mpeg_version=mpeg_version, bitrate=bitrate, sample_rate=sample_rate, channels=channels)
    total = size + len(frame)
    if kind == "vbri":
        # Fraunhofer's VBRI: always 32 bytes after the header; no TOC entries here.
        frame[36:62] = b"VBRI" + struct.pack(">HHHIIHHHH", 1, 0, 75, total, frames, 0, 1, 2, 0)
        return frame
    at = 4 + _side_info_size(mpeg_version, channels)
    toc = bytes(min(255, i * 256 // 100) for i in range(100))
    name = b"Xing" if kind == "xing" else b"Info"
    frame[at : at + 120] = name + struct.pack(">III", 0x0F, frames, total) + toc + struct.pack(">I", 50)
    if lame is not None:
        delay, end_padding = lame
        tag = at + 120
        frame[tag : tag + 9] = b"LAME3.100"
        frame[tag + 21 : tag + 24] = ((delay << 12) | end_padding).to_bytes(3, "big")
        frame[tag + 34 : tag + 36] = _crc16(bytes(frame[:190])).to_bytes(2, "big")
    return frame


@dataclass(frozen=True, slots=True, kw_only=True)
class ChapterSpec:
    """A chapter to write as an ID3 CHAP frame (or into an MP4 through ffmetadata)."""

    start: float
    end: float
    title: str
    url: str | None = None
    element_id: str = ""


def write_mp3(
    path: Path,
    *,
    seconds: float,
    bitrate: int = 128,
    sample_rate: int = 44100,
    channels: int = 2,
    vbr: bool = False,
    xing: bool | str = False,
    xing_frames: int | None = None,
    lame: tuple[int, int] | None = None,
    mpeg_version: float = 1,
    id3: bool = False,
    id3_tags: Mapping[str, str] | None = None,
    id3_chapters: Sequence[ChapterSpec] | None = None,
    ctoc_order: Sequence[str] | None = None,
    id3v1: bool = False,
    apev2: bool = False,
    leading: bytes = b"",
    trailing: bytes = b"",
    seed: int = 1,
) -> Path:
    """Write an MPEG audio layer III file of silence that mutagen, ffmpeg and players read.

    :param seconds: audio duration; the frame count is rounded (see :func:`mp3_duration`).
    :param vbr: frames of varying bitrates, the first one at the lowest, so that an estimate
        made from the first frame is far off.
    :param xing: ``False``, ``True``/``"xing"``, ``"info"`` (the CBR spelling) or ``"vbri"``.
    :param xing_frames: frame count written in the Xing/VBRI header, to make it lie.
    :param lame: ``(encoder delay, padding)`` written in a LAME tag after the Xing header.
    :param id3: write an ID3v2 tag (also implied by ``id3_tags`` and ``id3_chapters``).
    :param id3_tags: ``{"title": ..., "artist": ..., "album": ...}``.
    :param ctoc_order: element ids for a top-level CTOC; ``None`` lists the chapters in order,
        ``[]`` writes no CTOC.
    :param leading: bytes written before the first frame (after any ID3v2 tag).
    :param trailing: bytes written after the last frame (before any APEv2/ID3v1 tag).
    """
    rates = _bitrates(mpeg_version)
    rng = random.Random(seed)  # noqa: S311 - reproducible bitrates, not secrets
    count = mp3_frame_count(seconds, sample_rate=sample_rate, mpeg_version=mpeg_version)
    coefficient = 144 if mpeg_version == 1 else 72
    audio = bytearray()
    remainder = 0
    for index in range(count):
        rate = bitrate
        if vbr:
            rate = rates[1] if index == 0 else rng.choice(rates[len(rates) // 2 :])
        # Pad one frame in a while so that the mean frame length matches the bitrate exactly.
        remainder += coefficient * rate * 1000 % sample_rate
        padding = 1 if remainder >= sample_rate else 0
        remainder -= padding * sample_rate
        audio += mpeg_frame(
            mpeg_version=mpeg_version, bitrate=rate, sample_rate=sample_rate, channels=channels, padding=padding
        )
    head = bytearray(leading)
    if xing:
        kind = "xing" if xing is True else str(xing)
        head += _tag_frame(
            kind,
            mpeg_version=mpeg_version,
            sample_rate=sample_rate,
            channels=channels,
            frames=count if xing_frames is None else xing_frames,
            size=len(audio),
            lame=lame,
        )
    path.write_bytes(bytes(head + audio) + trailing)
    if apev2:
        ape = _APE.APEv2()
        ape["Title"] = "APE title"
        ape.save(path)
    if id3v1:
        with path.open("ab") as stream:
            stream.write(b"TAG" + b"v1 title".ljust(30, b"\0") + bytes(95))
    if id3 or id3_tags or id3_chapters:
        _write_id3(path, id3_tags or {}, id3_chapters or (), ctoc_order)
    return path


def _write_id3(
    path: Path, tags: Mapping[str, str], chapters: Sequence[ChapterSpec], ctoc_order: Sequence[str] | None
) -> None:
    id3 = _ID3.ID3()
    frames = {"title": _ID3.TIT2, "artist": _ID3.TPE1, "album": _ID3.TALB}
    for key, value in tags.items():
        id3.add(frames[key](encoding=3, text=[value]))
    ids = [chapter.element_id or f"chp{index}" for index, chapter in enumerate(chapters)]
    for element_id, chapter in zip(ids, chapters, strict=True):
        sub_frames = [_ID3.TIT2(encoding=3, text=[chapter.title])]
        if chapter.url:
            sub_frames.append(_ID3.WXXX(encoding=3, desc="", url=chapter.url))
        id3.add(
            _ID3.CHAP(
                element_id=element_id,
                start_time=round(chapter.start * 1000),
                end_time=round(chapter.end * 1000),
                sub_frames=sub_frames,
            )
        )
    order = ids if ctoc_order is None else list(ctoc_order)
    if chapters and order:
        id3.add(
            _ID3.CTOC(
                element_id="toc",
                flags=_ID3.CTOCFlags.TOP_LEVEL | _ID3.CTOCFlags.ORDERED,
                child_element_ids=order,
                sub_frames=[],
            )
        )
    id3.save(path, v1=0)


# --- WAV --------------------------------------------------------------------------------------


def write_wav(
    path: Path,
    seconds: float,
    *,
    sample_rate: int = 8000,
    channels: int = 1,
    sample_width: int = 2,
    header_size: int | None = None,
    info: Mapping[str, str] | None = None,
) -> Path:
    """Write a PCM WAV file holding a 440 Hz tone.

    :param header_size: the data chunk size to write in the header instead of the real one:
        ``0`` or ``0xFFFFFFFF`` as streaming recorders do, or more than the file holds, as in a
        truncated upload.
    :param info: RIFF LIST/INFO tags written after the data chunk (``{"INAM": "title"}``).
    """
    frames = round(seconds * sample_rate)
    peak = 2 ** (8 * sample_width - 1) - 1
    pcm = bytearray()
    for index in range(frames):
        value = round(0.3 * peak * math.sin(2 * math.pi * 440 * index / sample_rate))
        if sample_width == 1:
            pcm += bytes([(value + 128) & 0xFF]) * channels
        else:
            pcm += value.to_bytes(sample_width, "little", signed=True) * channels
    with wave.open(str(path), "wb") as writer:
        writer.setnchannels(channels)
        writer.setsampwidth(sample_width)
        writer.setframerate(sample_rate)
        writer.writeframes(bytes(pcm))
    data = bytearray(path.read_bytes())
    if info:
        body = b"INFO"
        for key, value in info.items():
            text = value.encode() + b"\0"
            body += key.encode() + struct.pack("<I", len(text)) + text + b"\0" * (len(text) % 2)
        data += b"LIST" + struct.pack("<I", len(body)) + body
        data[4:8] = struct.pack("<I", len(data) - 8)
    if header_size is not None:
        # The stdlib writer puts the data chunk size at byte 40 of its 44-byte header.
        data[40:44] = struct.pack("<I", header_size)
        if header_size in (0, 0xFFFFFFFF):
            data[4:8] = struct.pack("<I", header_size)
    path.write_bytes(bytes(data))
    return path


# --- Encoded formats (ffmpeg) -----------------------------------------------------------------


def _ffmpeg(
    path: Path,
    seconds: float,
    codec: Sequence[str],
    *,
    sample_rate: int,
    tags: Mapping[str, str] | None = None,
    chapters: Sequence[ChapterSpec] | None = None,
    fmt: str | None = None,
) -> Path:
    ffmpeg = require_tool("ffmpeg")
    command = [ffmpeg, "-nostdin", "-v", "error", "-y", "-f", "lavfi"]
    command += ["-i", f"sine=frequency=440:sample_rate={sample_rate}:duration={seconds}"]
    if chapters:
        metadata = path.with_name(path.name + ".ffmeta")
        lines = [";FFMETADATA1"]
        for chapter in chapters:
            lines += ["[CHAPTER]", "TIMEBASE=1/1000", f"START={round(chapter.start * 1000)}"]
            lines += [f"END={round(chapter.end * 1000)}", f"title={chapter.title}"]
        metadata.write_text("\n".join(lines) + "\n", encoding="utf-8")
        command += ["-i", str(metadata), "-map", "0", "-map_chapters", "1"]
    for key, value in (tags or {}).items():
        command += ["-metadata", f"{key}={value}"]
    command += list(codec)
    if fmt:
        command += ["-f", fmt]
    command.append(str(path))
    subprocess.run(command, check=True, capture_output=True)
    return path


def write_m4a(
    path: Path,
    seconds: float,
    *,
    chapters: Sequence[ChapterSpec] | None = None,
    tags: Mapping[str, str] | None = None,
) -> Path:
    """Encode AAC in an MP4 container (name it .m4a or .mp4)."""
    codec = ["-c:a", "aac", "-b:a", "48k"]
    return _ffmpeg(path, seconds, codec, sample_rate=44100, tags=tags, chapters=chapters, fmt="mp4")


def write_ogg_vorbis(path: Path, seconds: float, *, tags: Mapping[str, str] | None = None) -> Path:
    """Encode Ogg Vorbis."""
    return _ffmpeg(path, seconds, ["-c:a", "libvorbis", "-q:a", "0"], sample_rate=44100, tags=tags, fmt="ogg")


def write_opus(path: Path, seconds: float, *, tags: Mapping[str, str] | None = None) -> Path:
    """Encode Ogg Opus."""
    return _ffmpeg(path, seconds, ["-c:a", "libopus", "-b:a", "24k"], sample_rate=48000, tags=tags, fmt="ogg")


def write_flac(path: Path, seconds: float, *, tags: Mapping[str, str] | None = None) -> Path:
    """Encode FLAC (16 bit, 44.1 kHz, mono)."""
    return _ffmpeg(path, seconds, ["-c:a", "flac"], sample_rate=44100, tags=tags, fmt="flac")


def flac_clear_total_samples(path: Path) -> Path:
    """Set STREAMINFO's total sample count to 0 ("unknown"), as a streaming encoder leaves it."""
    data = bytearray(path.read_bytes())
    # "fLaC", a 4-byte block header, then STREAMINFO: total samples are the low 36 bits of
    # the 8 bytes at offset 10 of the block.
    at = 4 + 4 + 10
    packed = int.from_bytes(data[at : at + 8], "big") & ~((1 << 36) - 1)
    data[at : at + 8] = packed.to_bytes(8, "big")
    path.write_bytes(bytes(data))
    return path


def truncate(path: Path, keep: float) -> Path:
    """Cut a file, keeping ``keep`` of it (a fraction) or ``keep`` bytes (an int above 1)."""
    size = path.stat().st_size
    kept = int(keep) if keep > 1 else int(size * keep)
    with path.open("r+b") as stream:
        stream.truncate(kept)
    return path


def ffprobe_duration(path: Path) -> float | None:
    """Decode the whole file with ffmpeg and return the duration of the samples it produced.

    Container headers are not read: the samples are counted, so this is the real duration.
    None when ffmpeg is not installed (a failure under ENTRETIENS_REQUIRE_TOOLS=1).
    """
    if not have_tool("ffmpeg"):
        return None
    rate = 8000
    command = ["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-ac", "1", "-ar", str(rate), "-f", "s16le", "-"]
    result = subprocess.run(command, check=True, capture_output=True)
    return len(result.stdout) / 2 / rate
