"""Caption and transcript formats: WebVTT, SubRip and Podcasting 2.0 JSON, read strictly and written plainly."""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from .timecodes import clock as clock  # the WebVTT form, also used by the SubRip writer
from .timecodes import json_seconds

#: The Podcasting 2.0 JSON transcript version we write.
JSON_TRANSCRIPT_VERSION = "1.0.0"

_STYLES = ("b", "i", "u")
_TIMESTAMP = r"(?:(\d{2,}):)?([0-5]\d):([0-5]\d)\.(\d{3})"
_VTT_TIMING = re.compile(rf"{_TIMESTAMP}[ \t]+-->[ \t]+{_TIMESTAMP}(?:[ \t]+.*)?")
_ALMOST_TIMING = re.compile(r"\s*\d+:\d[\d:.,]*\s*-+>?")
_SRT_TIMESTAMP = r"(\d+):([0-5]\d):([0-5]\d)[,.](\d{3})"
_SRT_TIMING = re.compile(rf"{_SRT_TIMESTAMP}[ \t]*-->[ \t]*{_SRT_TIMESTAMP}(?:[ \t]+.*)?")
_VTT_TAG = re.compile(r"<(/?)([a-z]+|\d[\d:.]*)([^>\s]*)(?:[ \t]+([^>]*))?>")
#: A JSON string (escapes included) or one of the characters that give a document its structure.
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\],:]')
_SRT_TAG = re.compile(r"</?(?:[biu]|font)\b[^>]*>|\{\\[^}]*\}", re.IGNORECASE)


class TranscriptError(Exception):
    """A transcript file breaks its format's rules (``transcript-syntax``, ``transcript-encoding``)."""

    def __init__(self, rule: str, line: int | None, message: str, hint: str | None = None) -> None:
        self.rule = rule
        self.line = line
        self.message = message
        self.hint = hint
        super().__init__(f"line {line}: {message}" if line else message)


@dataclass(frozen=True, slots=True)
class Span:
    """Plain text and the styles (``b``, ``i``, ``u``) it is shown with."""

    text: str
    styles: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Run:
    """Part of a cue said by one speaker (None: not named)."""

    speaker: str | None
    spans: tuple[Span, ...]

    @property
    def text(self) -> str:
        """The run as plain text."""
        return "".join(span.text for span in self.spans)


@dataclass(frozen=True, slots=True, kw_only=True)
class Cue:
    """One timed piece of a transcript, whatever its format."""

    start: float
    end: float
    runs: tuple[Run, ...]
    #: Line of the file where the cue (its timing line, or its JSON object) is written.
    line: int | None = None

    @property
    def text(self) -> str:
        """The cue as plain text, on one line."""
        return " ".join(" ".join(run.text.split()) for run in self.runs if run.text.strip())


# -- reading ---------------------------------------------------------------------------------------


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
        elif name in _STYLES:
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
        if name in _STYLES:
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


def parse_json(text: str) -> tuple[Cue, ...]:
    """Read a Podcasting 2.0 JSON transcript (already decoded).

    :raises TranscriptError: ``transcript-syntax`` with the line at fault.
    """
    try:
        document = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float, parse_int=_bounded_int)
    except json.JSONDecodeError as exc:
        hint = "check the quotes, commas and brackets on this line and the one before"
        raise TranscriptError("transcript-syntax", exc.lineno, f"invalid JSON: {exc.msg}", hint) from None
    except _NotANumber as exc:
        where = text.count("\n", 0, max(text.find(exc.literal), 0)) + 1
        raise TranscriptError(
            "transcript-syntax",
            where,
            f"{exc.literal[:20]} is not a number of seconds",
            "write seconds as a plain number such as 12.5",
        ) from None
    except RecursionError:
        raise TranscriptError(
            "transcript-syntax",
            None,
            "the JSON is nested too deeply",
            "a JSON transcript is one object holding a flat list of segments",
        ) from None
    hint = 'write {"version": "1.0.0", "segments": [{"startTime": 0.5, "endTime": 2.0, "body": "..."}]}'
    if not isinstance(document, dict) or not isinstance(document.get("version"), str):
        raise TranscriptError("transcript-syntax", 1, "a JSON transcript is an object with a `version` string", hint)
    segments = document.get("segments")
    if not isinstance(segments, list):
        raise TranscriptError("transcript-syntax", 1, "a JSON transcript needs a `segments` list", hint)
    cues = []
    for index, segment in enumerate(segments):
        message = _segment_problem(segment)
        if message:
            line = segment_lines(text).get(index)
            raise TranscriptError("transcript-syntax", line, f"segments[{index}]: {message}", hint)
        speaker = segment.get("speaker")
        cues.append(
            Cue(
                start=float(segment["startTime"]),
                end=float(segment["endTime"]),
                runs=(Run(speaker or None, (Span(segment["body"]),)),),
            )
        )
    return tuple(cues)


class _NotANumber(ValueError):
    """A JSON number no time can be: NaN, Infinity, or too long to be real (5000 digits)."""

    def __init__(self, literal: str) -> None:
        super().__init__(literal)
        self.literal = literal


def _refuse_constant(literal: str) -> float:
    raise _NotANumber(literal)


def _finite_float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise _NotANumber(literal)
    return value


def _bounded_int(literal: str) -> int:
    # Python refuses to read integers over 4300 digits (a ValueError); no time needs 16.
    if len(literal) > 16:
        raise _NotANumber(literal)
    return int(literal)


def _segment_problem(segment: object) -> str | None:
    if not isinstance(segment, dict):
        return "each segment must be an object"
    for key in ("startTime", "endTime"):
        value = segment.get(key)
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
            return f"`{key}` must be a number of seconds, 0 or more"
    if not isinstance(segment.get("body"), str):
        return "`body` must be a string"
    if not isinstance(segment.get("speaker", ""), str):
        return "`speaker` must be a string"
    return None


def segment_lines(text: str) -> dict[int, int]:
    """The line of each segment object of a (valid) JSON transcript, by index in ``segments``.

    The json module keeps no positions, so the text is read again as marks: strings whole (a
    brace inside one is text), and the brackets and separators that give the structure; only
    the objects opened directly in the root's ``segments`` array are recorded.
    """
    lines: dict[int, int] = {}
    open_containers: list[str] = []
    key: object = None  # the root object's key whose value is being read
    last_string = ""
    index = position = 0
    line = 1
    for match in _JSON_TOKEN.finditer(text):
        mark = match.group()
        depth = len(open_containers)
        in_segments = depth == 2 and open_containers[1] == "[" and key == "segments"
        if mark.startswith('"'):
            if depth == 1:
                last_string = mark
        elif mark == ":":
            if depth == 1:
                key = json.loads(last_string)
        elif mark == ",":
            index += in_segments
        elif mark in "{[":
            if in_segments and mark == "{":
                line += text.count("\n", position, match.start())
                position = match.start()
                lines[index] = line
            elif depth == 1 and mark == "[" and key == "segments":
                lines, index = {}, 0  # a repeated key: JSON readers keep the last one
            open_containers.append(mark)
        elif open_containers:
            open_containers.pop()
    return lines


def _clip(text: str, length: int = 60) -> str:
    text = text.strip()
    return text if len(text) <= length else text[: length - 1] + "…"


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


# -- writing ---------------------------------------------------------------------------------------


def write_vtt(cues: Sequence[Cue]) -> bytes:
    """A WebVTT file of the cues; speakers become voice tags."""
    blocks: list[str] = ["WEBVTT"]
    for cue in cues:
        parts = []
        for index, run in enumerate(cue.runs):
            text = "".join(_styled(html.escape(span.text, quote=False), span.styles) for span in run.spans).strip("\n")
            if run.speaker:
                voice = html.escape(run.speaker, quote=False)
                text = f"<v {voice}>{text}" + ("</v>" if index + 1 < len(cue.runs) else "")
            parts.append(text)
        text = "\n".join(part for part in parts if part)
        if text.strip():
            blocks.append(f"{clock(cue.start)} --> {clock(cue.end)}\n{text}")
    return ("\n\n".join(blocks) + "\n").encode("utf-8")


def write_srt(cues: Sequence[Cue]) -> bytes:
    """A SubRip file of the cues; a speaker's name opens their first line after someone else spoke."""
    blocks: list[str] = []
    speaker: str | None = None
    for cue in cues:
        parts = []
        for run in cue.runs:
            text = "".join(_styled(span.text, span.styles) for span in run.spans).strip("\n")
            if not text.strip():
                continue
            if run.speaker and run.speaker != speaker:
                text = f"{run.speaker}: {text}"
            speaker = run.speaker or speaker
            parts.append(text)
        if parts:
            start, end = clock(cue.start).replace(".", ","), clock(cue.end).replace(".", ",")
            blocks.append(f"{len(blocks) + 1}\n{start} --> {end}\n" + "\n".join(parts))
    return ("\n\n".join(blocks) + "\n").encode("utf-8")


def write_json(cues: Sequence[Cue]) -> bytes:
    """A Podcasting 2.0 JSON transcript of the cues: one segment per speaker's run."""
    segments = []
    for cue in cues:
        for run in cue.runs:
            body = " ".join(run.text.split())
            if not body:
                continue
            segment: dict[str, object] = {}
            if run.speaker:
                segment["speaker"] = run.speaker
            segment.update(startTime=json_seconds(cue.start), endTime=json_seconds(cue.end), body=body)
            segments.append(segment)
    document = {"version": JSON_TRANSCRIPT_VERSION, "segments": segments}
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _styled(text: str, styles: frozenset[str]) -> str:
    if not text or not styles:
        return text
    ordered = [style for style in _STYLES if style in styles]
    return "".join(f"<{s}>" for s in ordered) + text + "".join(f"</{s}>" for s in reversed(ordered))


#: Writers by file suffix.
WRITERS = {".vtt": write_vtt, ".srt": write_srt, ".json": write_json}
