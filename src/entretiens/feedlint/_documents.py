"""Checks of the chapter and transcript files an episode links to (FEED_RULES §7)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TypeGuard

from lxml import etree

from entretiens.captions import TranscriptError, parse_text
from entretiens.feedlint._context import Context, is_web_url

#: The timed transcript types, and the suffix whose parser reads them.
_TIMED_TRANSCRIPTS = {"text/vtt": ".vtt", "application/x-subrip": ".srt", "application/json": ".json"}
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
    suffix = _TIMED_TRANSCRIPTS.get(kind)
    if suffix is None:
        return
    try:
        # The same parser that checks the show's own transcripts: one definition of each format.
        parse_text(suffix, text)
    except TranscriptError as exc:
        where = f" at line {exc.line}" if exc.line else ""
        ctx.report(
            element,
            f"files.transcript.{suffix[1:]}",
            f"points to {path.name}, which is not valid {kind}{where}: {exc.message}.",
            attribute="url",
            hint="export the transcript again",
        )
