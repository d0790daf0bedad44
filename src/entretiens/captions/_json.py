"""Podcasting 2.0 JSON transcripts read strictly, with the line of each segment for the messages.

JSON is read by the json module, with every number checked (no NaN, no Infinity, no integer
of thousands of digits); since the json module keeps no positions, the segments' lines are
found by a second, light pass over the text.
"""

from __future__ import annotations

import json
import math
import re

from ._cues import Cue, Run, Span, TranscriptError

#: A JSON string (escapes included) or one of the characters that give a document its structure.
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\],:]')


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
