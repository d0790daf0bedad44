"""WebVTT and SubRip read strictly: each cue's timing checked, the line at fault named.

The two text formats share their shape (blocks of lines separated by blank lines, a timing
line, then text with a little markup), so they share the block reader and the span merging.
"""

from __future__ import annotations

import html
import re

from ._cues import STYLES, Cue, Run, Span, TranscriptError

_TIMESTAMP = r"(?:(\d{2,}):)?([0-5]\d):([0-5]\d)\.(\d{3})"


_VTT_TIMING = re.compile(rf"{_TIMESTAMP}[ \t]+-->[ \t]+{_TIMESTAMP}(?:[ \t]+.*)?")


_ALMOST_TIMING = re.compile(r"\s*\d+:\d[\d:.,]*\s*-+>?")


_SRT_TIMESTAMP = r"(\d+):([0-5]\d):([0-5]\d)[,.](\d{3})"


_SRT_TIMING = re.compile(rf"{_SRT_TIMESTAMP}[ \t]*-->[ \t]*{_SRT_TIMESTAMP}(?:[ \t]+.*)?")


_VTT_TAG = re.compile(r"<(/?)([a-z]+|\d[\d:.]*)([^>\s]*)(?:[ \t]+([^>]*))?>")


_SRT_TAG = re.compile(r"</?(?:[biu]|font)\b[^>]*>|\{\\[^}]*\}", re.IGNORECASE)


def _blocks(text: str) -> list[tuple[int, list[str]]]:
    """Groups of lines separated by blank lines, each with the number of its first line."""
    blocks: list[tuple[int, list[str]]] = []
    current: list[str] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            if not current:
                blocks.append((number, current))
            current.append(line)
        else:
            current = []
    return blocks


def _seconds(hours: str | None, minutes: str, seconds: str, millis: str) -> float:
    return int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds) + int(millis) / 1000


def parse_vtt(text: str) -> tuple[Cue, ...]:
    """Read a WebVTT file (already decoded).

    :raises TranscriptError: ``transcript-syntax`` with the line at fault.
    """
    blocks = _blocks(text)
    first = text.split("\n", 1)[0]
    if not (first == "WEBVTT" or first.startswith(("WEBVTT ", "WEBVTT\t"))):
        raise TranscriptError(
            "transcript-syntax", 1, "a WebVTT file must start with the line WEBVTT", "add WEBVTT, then a blank line"
        )
    cues = []
    for start, lines in blocks:
        if start == 1:
            # The header block; a cue written right under it still counts, as browsers read it.
            arrow = next((index for index, line in enumerate(lines) if "-->" in line), None)
            if arrow is None:
                continue
            begin = arrow - 1 if arrow >= 2 else arrow
            start, lines = start + begin, lines[begin:]
        keyword = lines[0].split(None, 1)[0] if lines[0].strip() else ""
        if keyword in ("NOTE", "STYLE", "REGION") and "-->" not in lines[0]:
            continue
        # A first line that is a timing written wrong is not a cue name: point at it.
        timing = 0 if "-->" in lines[0] or _ALMOST_TIMING.match(lines[0]) else 1
        if timing >= len(lines) or ("-->" not in lines[timing] and not _ALMOST_TIMING.match(lines[timing])):
            raise TranscriptError(
                "transcript-syntax",
                start + timing if timing < len(lines) else start,
                f"expected a cue timing line, found '{_clip(lines[timing] if timing < len(lines) else lines[0])}'",
                "a cue is an optional name, then `00:00:01.000 --> 00:00:04.000`, then its text; "
                "a blank line may have split a cue in two",
            )
        match = _VTT_TIMING.fullmatch(lines[timing].strip())
        if match is None:
            raise TranscriptError(
                "transcript-syntax",
                start + timing,
                f"malformed cue timing '{_clip(lines[timing])}'",
                "write HH:MM:SS.mmm --> HH:MM:SS.mmm (hours optional, exactly three digits after the dot)",
            )
        for offset, line in enumerate(lines[timing + 1 :], start=timing + 1):
            if "-->" in line:
                raise TranscriptError(
                    "transcript-syntax",
                    start + offset,
                    "cue text cannot contain '-->'",
                    "a blank line is probably missing before this cue",
                )
        groups = match.groups()
        cues.append(
            Cue(
                start=_seconds(*groups[:4]),
                end=_seconds(*groups[4:]),
                runs=_vtt_runs("\n".join(lines[timing + 1 :])),
                line=start + timing,
            )
        )
    if not cues:
        raise TranscriptError("transcript-syntax", None, "the WebVTT file has no cue", "add the timed captions")
    return tuple(cues)


def _vtt_runs(payload: str) -> tuple[Run, ...]:
    """Cue text into runs: voice tags name the speaker; b, i and u are kept, other markup dropped."""
    runs: list[Run] = []
    spans: list[Span] = []
    speaker: str | None = None
    styles: list[str] = []

    def close_run() -> None:
        # Whitespace between two voices' spans is layout, not speech.
        if "".join(span.text for span in spans).strip():
            runs.append(Run(speaker, _merged(spans)))
        spans.clear()

    position = 0
    for match in _VTT_TAG.finditer(payload):
        if match.start() > position:
            spans.append(Span(html.unescape(payload[position : match.start()]), frozenset(styles)))
        position = match.end()
        closing, name, _, annotation = match.groups()
        if name == "v":
            close_run()
            speaker = None if closing else html.unescape(annotation or "").strip() or None
        elif name in STYLES:
            if closing:
                if name in styles:
                    styles.remove(name)
            else:
                styles.append(name)
    if position < len(payload):
        spans.append(Span(html.unescape(payload[position:]), frozenset(styles)))
    close_run()
    return tuple(runs)


def parse_srt(text: str) -> tuple[Cue, ...]:
    """Read a SubRip file (already decoded).

    :raises TranscriptError: ``transcript-syntax`` with the line at fault.
    """
    cues = []
    for start, lines in _blocks(text):
        if not lines[0].strip().isdigit():
            raise TranscriptError(
                "transcript-syntax",
                start,
                f"expected a cue number, found '{_clip(lines[0])}'",
                "each SubRip cue is a number, a timing line, then its text; "
                "a blank line inside a cue's text splits it in two",
            )
        match = _SRT_TIMING.fullmatch(lines[1].strip()) if len(lines) > 1 else None
        if match is None:
            found = f"'{_clip(lines[1])}'" if len(lines) > 1 else "nothing"
            raise TranscriptError(
                "transcript-syntax",
                start + 1,
                f"malformed cue timing: {found}",
                "write HH:MM:SS,mmm --> HH:MM:SS,mmm (exactly three digits after the comma)",
            )
        groups = match.groups()
        cues.append(
            Cue(
                start=_seconds(*groups[:4]),
                end=_seconds(*groups[4:]),
                runs=_srt_runs("\n".join(lines[2:])),
                line=start + 1,
            )
        )
    if not cues:
        raise TranscriptError("transcript-syntax", None, "the SubRip file has no cue", "add the timed captions")
    return tuple(cues)


def _srt_runs(payload: str) -> tuple[Run, ...]:
    """SubRip text: b, i and u tags kept; font tags and {\\...} overrides dropped; the rest literal."""
    spans: list[Span] = []
    styles: list[str] = []
    position = 0
    for match in _SRT_TAG.finditer(payload):
        if match.start() > position:
            spans.append(Span(payload[position : match.start()], frozenset(styles)))
        position = match.end()
        tag = match.group().lower()
        name = tag.strip("</>")
        if name in STYLES:
            if tag.startswith("</"):
                if name in styles:
                    styles.remove(name)
            else:
                styles.append(name)
    if position < len(payload):
        spans.append(Span(payload[position:], frozenset(styles)))
    return (Run(None, _merged(spans)),) if spans else ()


def _merged(spans: list[Span]) -> tuple[Span, ...]:
    """Neighbouring spans of the same styles joined into one."""
    merged: list[Span] = []
    for span in spans:
        if merged and merged[-1].styles == span.styles:
            merged[-1] = Span(merged[-1].text + span.text, span.styles)
        elif span.text:
            merged.append(span)
    return tuple(merged)


def _clip(text: str, length: int = 60) -> str:
    text = text.strip()
    return text if len(text) <= length else text[: length - 1] + "…"
