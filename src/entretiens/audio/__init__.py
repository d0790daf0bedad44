"""Audio probing: what a file really is, how long it really lasts, and a cache of the answers."""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Generator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import Any, Final, Literal, TypeAlias, cast

from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis

from ..errors import AudioError
from ..model import AudioInfo
from ._containers import _probe_flac, _probe_mp4, _probe_ogg, _probe_wav
from ._io import _HINT_CONVERT, _HINT_EXPORT, _WINDOW, _Reader, _skip_id3v2
from ._mpeg import _find_mpeg_run, _mpeg_end, _probe_mp3
from .cache import CACHE_VERSION, ProbeCache, _info_from_json, _info_to_json

__all__ = [
    "CACHE_VERSION",
    "Container",
    "Measured",
    "ProbeCache",
    "measure",
    "measure_each",
    "mime_type_for",
    "pool_size",
    "probe",
]


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
    info, stat = measure(path)
    if cache is not None:
        cache.put(path, info, stat=stat)
    return info


def measure(path: Path) -> tuple[AudioInfo, os.stat_result]:
    """:func:`probe` without a cache: the facts, and the file's stat when they were read (the
    key a cache keeps them under, taken before reading so that a file still being written misses).

    :raises AudioError: as :func:`probe`.
    """
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
    return replace(info, size=stat.st_size, mime_type=mime_type), stat


# --- Many files, on every core ---------------------------------------------------------------

#: One file measured (:func:`measure`'s answer), or why it could not be.
Measured: TypeAlias = tuple[AudioInfo, os.stat_result] | AudioError

#: Fewer unmeasured files than this are measured in this process: starting two workers costs
#: about 50 ms, the time of some 150 header reads (0.35 ms a file), so a pool pays from a few
#: hundred files on two idle cores.
POOL_MIN_FILES: Final = 256
#: ... unless they are this big together (files without a header the probe trusts are walked).
POOL_MIN_BYTES: Final = 1 << 30
#: Most worker processes: beyond a few, the disk is the limit, and each one costs memory.
POOL_MAX_WORKERS: Final = 8


def pool_size(files: int, size: int) -> int:
    """How many processes should measure ``files`` unmeasured files of ``size`` bytes in all
    (1: this one, no pool)."""
    if files < 2 or (files < POOL_MIN_FILES and size < POOL_MIN_BYTES):
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(cores, POOL_MAX_WORKERS, files))


def measure_each(paths: Sequence[Path], *, workers: int = 1) -> Generator[Measured, None, None]:
    """Measure ``paths`` with ``workers`` processes (1: in this one), answering in their order.

    Each answer comes as soon as it and those before it are ready, so that a caller reporting
    progress reports it in the same order either way. A pool that cannot start or whose worker
    dies (killed, out of memory) leaves the files it did not answer to this process.
    """
    done = 0
    if workers > 1 and len(paths) > 1:
        try:
            executor = ProcessPoolExecutor(workers, mp_context=_start_method())
        except (OSError, NotImplementedError, ValueError):
            executor = None
        if executor is not None:
            chunk = max(1, min(16, len(paths) // (workers * 4)))
            finished = False
            try:
                for answer in executor.map(_measure_portably, paths, chunksize=chunk):
                    done += 1
                    finished = done == len(paths)
                    yield _unpack(paths[done - 1], answer)
            except BrokenProcessPool:
                finished = False
            finally:
                # Waiting for a pool that broke or was left early can hang: its threads may
                # never hear from the workers again. A finished one is waited for, so that
                # no worker outlives the call.
                executor.shutdown(wait=finished, cancel_futures=True)
    for path in paths[done:]:
        try:
            yield measure(path)
        except AudioError as exc:
            yield exc


def _start_method() -> BaseContext:
    """fork where it is safe (no other thread whose locks a child could inherit held): workers
    start in milliseconds with the probe already imported; else a clean interpreter."""
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def _measure_portably(path: Path) -> tuple[list[Any], os.stat_result] | tuple[str, str | None]:
    """:func:`measure` in a worker, answered in plain data: an AudioError does not survive pickling
    (it is rebuilt from its message), and the cache's own encoding of an answer is exact."""
    try:
        info, stat = measure(path)
    except AudioError as exc:
        return exc.message, exc.hint
    return _info_to_json(info), stat


def _unpack(path: Path, answer: tuple[list[Any], os.stat_result] | tuple[str, str | None]) -> Measured:
    first, second = answer
    if isinstance(first, str):
        return AudioError(path, first, second if isinstance(second, str) else None)
    return _info_from_json(first), cast(os.stat_result, second)


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
