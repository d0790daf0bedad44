"""Checks of the chapter and transcript files an episode links to (FEED_RULES §7)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TypeGuard

from lxml import etree

from entretiens.feedlint._context import Context, is_web_url

_VTT_TIMING = re.compile(
    r"(?:\d{2,}:)?[0-5]\d:[0-5]\d\.\d{3}[ \t]+-->[ \t]+(?:\d{2,}:)?[0-5]\d:[0-5]\d\.\d{3}(?:[ \t].*)?"
)
_SRT_TIMING = re.compile(r"\d{2,}:[0-5]\d:[0-5]\d[,.]\d{3}[ \t]+-->[ \t]+\d{2,}:[0-5]\d:[0-5]\d[,.]\d{3}[ \t]*")
_GEO = re.compile(r"geo:-?\d+(?:\.\d+)?,-?\d+(?:\.\d+)?(?:[,;].*)?")


def _read_text(ctx: Context, element: etree._Element, path: Path, rule: str) -> str | None:
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        ctx.report(
            element,
            rule,
            f"points to {path.name}, which is not UTF-8 (byte {exc.start}).",
            attribute="url",
            hint="save the file as UTF-8",
        )
        return None
    return text.removeprefix("\ufeff")


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_chapters_file(ctx: Context, element: etree._Element, path: Path, duration: float | None) -> None:
    """Check a JSON chapters file against the Podcasting 2.0 chapters format.

    :param ctx: the lint run.
    :param element: the ``<podcast:chapters>`` element.
    :param path: the file.
    :param duration: the episode's length in seconds, when known.
    """
    text = _read_text(ctx, element, path, "files.chapters.syntax")
    if text is None:
        return
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        ctx.report(
            element,
            "files.chapters.syntax",
            f"points to {path.name}, which is not valid JSON ({exc}).",
            attribute="url",
            hint="fix the JSON",
        )
        return
    faults = _chapters_faults(data)
    for fault in faults:
        ctx.report(element, "files.chapters.structure", f"points to {path.name}: {fault}.", attribute="url")
    if faults:
        return
    previous: float | None = None
    for index, chapter in enumerate(data["chapters"], start=1):
        start = float(chapter["startTime"])
        if previous is not None and start < previous:
            ctx.report(
                element,
                "files.chapters.order",
                f"points to {path.name}, whose chapter {index} starts at {start:g} s, before the one above it.",
                attribute="url",
                hint="list chapters in ascending startTime",
            )
        previous = start
        end = chapter.get("endTime")
        if end is not None and float(end) <= start:
            ctx.report(
                element,
                "files.chapters.end_time",
                f"points to {path.name}, whose chapter {index} ends at {end:g} s, not after its start.",
                attribute="url",
            )
        if duration is not None and start >= duration:
            ctx.report(
                element,
                "files.chapters.after_end",
                f"points to {path.name}, whose chapter {index} starts at {start:g} s, after the episode's end "
                f"({duration:.0f} s).",
                attribute="url",
                hint="remove the chapter or fix its start",
            )


def _chapters_faults(data: object) -> list[str]:
    if not isinstance(data, dict):
        return ["the top level is not a JSON object"]
    faults = []
    if not isinstance(data.get("version"), str):
        faults.append('"version" is missing or not a string')
    chapters = data.get("chapters")
    if not isinstance(chapters, list):
        return [*faults, '"chapters" is missing or not an array']
    for index, chapter in enumerate(chapters, start=1):
        faults.extend(f"chapter {index} {fault}" for fault in _chapter_faults(chapter))
    return faults


def _chapter_faults(chapter: object) -> list[str]:
    if not isinstance(chapter, dict):
        return ["is not an object"]
    faults = []
    start = chapter.get("startTime")
    if not _is_number(start) or start < 0:
        faults.append("has no startTime of zero or more seconds")
    if "title" in chapter and not isinstance(chapter["title"], str):
        faults.append("has a title that is not a string")
    for key in ("img", "url"):
        if key in chapter and not (isinstance(chapter[key], str) and is_web_url(chapter[key])):
            faults.append(f'has an "{key}" that is not an absolute http(s) URL')
    if "toc" in chapter and not isinstance(chapter["toc"], bool):
        faults.append('has a "toc" that is not true or false')
    if "endTime" in chapter and not _is_number(chapter["endTime"]):
        faults.append('has an "endTime" that is not a number')
    location = chapter.get("location")
    if location is not None and not (
        isinstance(location, dict)
        and isinstance(location.get("name"), str)
        and isinstance(location.get("geo"), str)
        and _GEO.fullmatch(location["geo"])
    ):
        faults.append('has a "location" without a "name" and a "geo" URI')
    return faults


def check_transcript_file(ctx: Context, element: etree._Element, path: Path) -> None:
    """Check a transcript file: UTF-8, and the shape its declared type promises.

    :param ctx: the lint run.
    :param element: the ``<podcast:transcript>`` element.
    :param path: the file.
    """
    text = _read_text(ctx, element, path, "files.transcript.encoding")
    if text is None:
        return
    kind = (element.get("type") or "").split(";")[0].strip().lower()
    checks = {
        "text/vtt": ("files.transcript.vtt", _vtt_fault),
        "application/x-subrip": ("files.transcript.srt", _srt_fault),
        "application/json": ("files.transcript.json", _json_fault),
    }
    if kind not in checks:
        return
    rule, check = checks[kind]
    fault = check(text)
    if fault is not None:
        ctx.report(
            element,
            rule,
            f"points to {path.name}, which {fault}.",
            attribute="url",
            hint="export the transcript again",
        )


def _vtt_fault(text: str) -> str | None:
    lines = text.splitlines()
    first = lines[0] if lines else ""
    if not (first == "WEBVTT" or first.startswith(("WEBVTT ", "WEBVTT\t"))):
        return 'does not start with "WEBVTT"'
    if not any(_VTT_TIMING.fullmatch(line.strip()) for line in lines[1:]):
        return "has no cue (no line like 00:00:01.000 --> 00:00:04.000)"
    return None


def _srt_fault(text: str) -> str | None:
    blocks = [
        block.strip().splitlines() for block in re.split(r"\n[ \t]*\n", text.replace("\r\n", "\n")) if block.strip()
    ]
    if not blocks:
        return "has no cue"
    for index, block in enumerate(blocks, start=1):
        if not block[0].strip().isdigit() or len(block) < 2 or not _SRT_TIMING.fullmatch(block[1].strip()):
            return f"has a cue {index} that is not a number followed by a line like 00:00:01,000 --> 00:00:04,000"
    return None


def _json_fault(text: str) -> str | None:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return "is not valid JSON"
    if not isinstance(data, dict) or not isinstance(data.get("version"), str):
        return 'has no "version" string at the top level'
    segments = data.get("segments")
    if not isinstance(segments, list):
        return 'has no "segments" array'
    for index, segment in enumerate(segments, start=1):
        if not (
            isinstance(segment, dict) and _is_number(segment.get("startTime")) and isinstance(segment.get("body"), str)
        ):
            return f"has a segment {index} without a numeric startTime and a body"
    return None
