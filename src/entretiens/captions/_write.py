"""Cues written plainly as WebVTT, SubRip or Podcasting 2.0 JSON: the other formats a transcript is published in.

Apart from the readers: a build writes a transcript's other formats from the cues it read,
and the output of each writer is part of the published bytes.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence

from ..timecodes import clock, json_seconds
from ._cues import STYLES, Cue

#: The Podcasting 2.0 JSON transcript version we write.
JSON_TRANSCRIPT_VERSION = "1.0.0"


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
    ordered = [style for style in STYLES if style in styles]
    return "".join(f"<{s}>" for s in ordered) + text + "".join(f"</{s}>" for s in reversed(ordered))


#: Writers by file suffix.
WRITERS = {".vtt": write_vtt, ".srt": write_srt, ".json": write_json}
