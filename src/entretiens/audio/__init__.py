"""Audio probing: what a file really is, how long it really lasts, and a cache of the answers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Final, Literal

from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis

from ..errors import AudioError
from ..model import AudioInfo
from ._containers import _probe_flac, _probe_mp4, _probe_ogg, _probe_wav
from ._io import _HINT_CONVERT, _HINT_EXPORT, _WINDOW, _Reader, _skip_id3v2
from ._mpeg import _find_mpeg_run, _mpeg_end, _probe_mp3
from .cache import CACHE_VERSION, ProbeCache

__all__ = ["CACHE_VERSION", "Container", "ProbeCache", "mime_type_for", "probe"]


#: The audio containers the probe reads.
Container = Literal["mp3", "mp4", "vorbis", "opus", "flac", "wav"]


@dataclass(frozen=True, slots=True)
class _Format:
    name: str
    #: The first one is the name to suggest.
    extensions: tuple[str, ...]
    mime_type: str


_FORMATS: Final[dict[str, _Format]] = {
    "mp3": _Format("MP3", (".mp3",), "audio/mpeg"),
    "mp4": _Format("MP4 audio", (".m4a", ".mp4", ".m4b"), "audio/mp4"),
    "vorbis": _Format("Ogg Vorbis", (".ogg", ".oga"), "audio/ogg"),
    "opus": _Format("Ogg Opus", (".opus", ".ogg", ".oga"), "audio/ogg"),
    "flac": _Format("FLAC", (".flac",), "audio/flac"),
    "wav": _Format("WAV", (".wav", ".wave"), "audio/wav"),
}


def mime_type_for(path: Path, container: Container) -> str:
    """Return the enclosure MIME type for a file whose content is ``container``.

    :param path: the file; its extension must agree with its content.
    :param container: what the content really is (see :func:`probe`).
    :returns: the type podcast apps expect: ``audio/x-m4a`` for ``.m4a`` (Apple's spelling),
        ``audio/mp4`` for other MP4 audio.
    :raises AudioError: the extension says something else than the content.
    """
    known = _FORMATS[container]
    suffix = path.suffix.lower()
    if suffix not in known.extensions:
        said = f"its name ends in '{path.suffix}'" if path.suffix else "its name has no extension"
        raise AudioError(
            path,
            f"the file is {known.name}, but {said}",
            f"rename it to {path.with_suffix(known.extensions[0]).name}: apps pick a player from the extension",
        )
    return "audio/x-m4a" if suffix == ".m4a" else known.mime_type


def probe(path: Path, *, cache: ProbeCache | None = None) -> AudioInfo:
    """Read an audio file's size, real duration, MIME type, codec, tags and chapters.

    The file is not hashed: nothing published needs its hash, and hashing cost a third of a cold probe.

    :param path: the audio file.
    :param cache: answers from earlier runs; used when the file's size and mtime match.
    :returns: the measured facts; ``duration_method`` says whether the container's own
        duration was trusted ("header") or computed from the audio data ("measured").
    :raises AudioError: the file is missing, empty, not audio, damaged, or lasts zero seconds.
    """
    if cache is not None:
        known = cache.get(path)
        if known is not None:
            return known
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise AudioError(path, "file not found", "check the audio file name and folder") from None
    except OSError as exc:
        raise AudioError(path, f"cannot read the file: {exc.strerror}") from exc
    if not path.is_file():
        raise AudioError(path, "this is a folder or a special file, not an audio file")
    if stat.st_size == 0:
        raise AudioError(path, "the file is empty (0 bytes)", "the copy or upload did not finish: copy it again")
    try:
        with path.open("rb") as stream:
            reader = _Reader(stream, stat.st_size)
            container, start = _sniff(path, reader)
            mime_type = mime_type_for(path, container)
            info = _PROBES[container](path, reader, start)
    except OSError as exc:
        raise AudioError(path, f"cannot read the file: {exc.strerror or exc}") from exc
    if info.duration.total_seconds() <= 0:
        raise AudioError(path, "the file holds no audio: its duration is zero", "export the recording again")
    if stat.st_size * 8 < info.duration.total_seconds() * MIN_BITS_PER_SECOND:
        # A header may claim anything (an M4A's mdhd can say 136 years); no codec packs
        # speech into fewer bits than this.
        raise AudioError(
            path,
            f"the file claims to last {_span(info.duration.total_seconds())} but holds only {stat.st_size:,} bytes",
            _HINT_EXPORT,
        )
    info = replace(info, size=stat.st_size, mime_type=mime_type)
    if cache is not None:
        cache.put(path, info, stat=stat)
    return info


# --- What the file is ------------------------------------------------------------------------

#: Leading ID3 tags larger than this are refused rather than read: artwork and chapters take
#: a few MB at most, and padding of hundreds of MB would be loaded whole.
MAX_ID3_BYTES: Final = 32 * 1024 * 1024
#: Fewer bits per second than any speech codec produces: the duration is not believable.
MIN_BITS_PER_SECOND: Final = 500

_UNSUPPORTED: Final = {
    b"FORM": "AIFF audio",
    b"0&\xb2u": "Windows Media audio",
    b"#!AM": "AMR audio",
    b"\x1aE\xdf\xa3": "a Matroska/WebM file",
}


def _span(seconds: float) -> str:
    days = seconds / 86400
    return f"{days / 365.25:,.0f} years" if days > 730 else f"{days:,.1f} days" if days > 2 else f"{seconds:,.0f} s"


def _sniff(path: Path, reader: _Reader) -> tuple[Container, int]:
    """The container, from the content, and where it starts: after leading ID3v2 tags, and at
    the first frame for MP3."""
    start = _skip_id3v2(reader, 0)
    if start > MAX_ID3_BYTES:
        # Reading the tags would load all of them into memory (mutagen reads a tag whole).
        raise AudioError(
            path,
            f"the ID3 tags at the start of the file weigh {start:,} bytes (most are a few hundred KB)",
            "strip them, e.g. ffmpeg -i FILE -map 0:a -c copy -map_metadata -1 clean.mp3, then tag again",
        )
    head = reader.read(start, 27 + 255 + 8)
    if head[:4] == b"fLaC":
        return "flac", start
    if head[:4] in (b"RIFF", b"RF64") and head[8:12] == b"WAVE":
        return "wav", start
    if head[4:8] == b"ftyp":
        return "mp4", start
    if head[:4] == b"OggS":
        body = head[27 + head[26] :] if len(head) > 27 else b""
        if body.startswith(b"OpusHead"):
            return "opus", start
        if body.startswith(b"\x01vorbis"):
            return "vorbis", start
        raise AudioError(path, "this Ogg file holds neither Vorbis nor Opus audio", "encode it as Opus or MP3")
    if head[:4] in _UNSUPPORTED:
        raise AudioError(path, f"this is {_UNSUPPORTED[head[:4]]}, which podcast apps do not all play", _HINT_CONVERT)
    # Audio starting more than a little after the tags is not a sound MP3, and searching all
    # of a big non-audio file for frame syncs only invites false positives.
    first = _find_mpeg_run(reader, start, _mpeg_end(reader), limit=start + _WINDOW)
    if first >= 0:
        return "mp3", first
    if start > 0:
        raise AudioError(path, "the file has an ID3 tag but no MPEG audio frames after it", _HINT_EXPORT)
    raise AudioError(path, *_describe_unknown(reader.read(0, 512)))


def _describe_unknown(head: bytes) -> tuple[str, str]:
    """What a file that is no audio we read looks like, and what to do."""
    if len(head) > 1 and head[0] == 0xFF and head[1] & 0xF6 == 0xF0:
        return "this is raw AAC (ADTS)", "put it in an M4A container: ffmpeg -i in.aac -c copy out.m4a"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        text = head[: exc.start].decode("utf-8") if exc.start > len(head) - 4 else ""
    if text and "\0" not in text and all(c.isprintable() or c.isspace() for c in text):
        if text.lstrip().lower().startswith(("<!doctype html", "<html")):
            return "this is an HTML page, not audio", "a download probably failed: fetch the file again"
        return "this is a text file, not audio", "replace it with the recording"
    return "not audio in a format entretiens reads (MP3, M4A/MP4, Ogg Vorbis, Ogg Opus, FLAC, WAV)", _HINT_CONVERT


_PROBES: Final[dict[Container, Callable[[Path, _Reader, int], AudioInfo]]] = {
    "mp3": _probe_mp3,
    "mp4": _probe_mp4,
    "vorbis": lambda path, reader, _start: _probe_ogg(path, reader, OggVorbis),
    "opus": lambda path, reader, _start: _probe_ogg(path, reader, OggOpus),
    "flac": _probe_flac,
    "wav": _probe_wav,
}
