"""Caption and transcript formats: WebVTT, SubRip and Podcasting 2.0 JSON, read strictly and written plainly.

The package's parts: ``_cues.py`` the model (cues, runs, spans) and the error; ``_timed_text.py``
WebVTT and SubRip read; ``_json.py`` JSON transcripts read; ``_write.py`` the three written.
This module decodes a file and hands it to its format's reader.
"""

from __future__ import annotations

from ..timecodes import clock  # the WebVTT form, also used by the SubRip writer
from ._cues import Cue, Run, Span, TranscriptError
from ._json import parse_json, segment_lines
from ._timed_text import parse_srt, parse_vtt
from ._write import JSON_TRANSCRIPT_VERSION, WRITERS, write_json, write_srt, write_vtt

__all__ = [
    "JSON_TRANSCRIPT_VERSION",
    "WRITERS",
    "Cue",
    "Run",
    "Span",
    "TranscriptError",
    "clock",
    "decode",
    "parse",
    "parse_json",
    "parse_srt",
    "parse_text",
    "parse_vtt",
    "segment_lines",
    "write_json",
    "write_srt",
    "write_vtt",
]


def decode(data: bytes) -> str:
    """UTF-8 bytes into text, without a byte-order mark and with ``\\n`` line ends.

    :raises TranscriptError: ``transcript-encoding``, naming the line of the first bad byte.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise TranscriptError("transcript-encoding", 1, "the file is UTF-16 text, not UTF-8", "save it as UTF-8")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise TranscriptError(
            "transcript-encoding", line, f"the file is not UTF-8 text (byte {exc.start})", "save it as UTF-8"
        ) from None
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def parse(suffix: str, data: bytes) -> tuple[Cue, ...] | None:
    """Decode and parse a transcript; None for untimed formats (HTML, plain text), checked for encoding only.

    :raises TranscriptError: the file is not UTF-8 or breaks its format's syntax.
    """
    return parse_text(suffix, decode(data))


def parse_text(suffix: str, text: str) -> tuple[Cue, ...] | None:
    """Parse decoded text by suffix; None for untimed formats, which only must not be empty."""
    if suffix == ".vtt":
        return parse_vtt(text)
    if suffix == ".srt":
        return parse_srt(text)
    if suffix == ".json":
        return parse_json(text)
    if not text.strip():
        raise TranscriptError("transcript-syntax", None, "the transcript is empty", "remove it, or fill it in")
    return None
