"""The Podcasting 2.0 JSON chapters and JSON transcript rules, checked independently of our writers."""

from __future__ import annotations

from typing import TypeGuard
from urllib.parse import urlsplit


def _number(value: object) -> TypeGuard[float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _absolute_url(value: object) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def json_chapters_errors(document: object) -> list[str]:
    """Every way a document breaks the JSON chapters spec (jsonChapters.md); empty when valid.

    An object with a ``version`` string and a ``chapters`` array; each chapter has a numeric
    ``startTime`` >= 0, in ascending order; optional ``title`` (string), ``img`` and ``url``
    (absolute URLs), ``toc`` (boolean), ``endTime`` (> startTime), ``location`` {name, geo}.
    """
    if not isinstance(document, dict):
        return ["the document is not an object"]
    errors = []
    if not isinstance(document.get("version"), str):
        errors.append("version is not a string")
    chapters = document.get("chapters")
    if not isinstance(chapters, list):
        return [*errors, "chapters is not an array"]
    previous = None
    for index, chapter in enumerate(chapters):
        where = f"chapters[{index}]"
        if not isinstance(chapter, dict):
            errors.append(f"{where} is not an object")
            continue
        start = chapter.get("startTime")
        if not _number(start) or start < 0:
            errors.append(f"{where}.startTime is not a number >= 0")
            continue
        if previous is not None and start <= previous:
            errors.append(f"{where}.startTime does not ascend")
        previous = start
        if "title" in chapter and not isinstance(chapter["title"], str):
            errors.append(f"{where}.title is not a string")
        for key in ("img", "url"):
            if key in chapter and not _absolute_url(chapter[key]):
                errors.append(f"{where}.{key} is not an absolute URL")
        if "toc" in chapter and not isinstance(chapter["toc"], bool):
            errors.append(f"{where}.toc is not a boolean")
        end = chapter.get("endTime", start + 1)
        if not _number(end) or end <= start:
            errors.append(f"{where}.endTime is not after startTime")
        if "location" in chapter:
            location = chapter["location"]
            if not isinstance(location, dict) or not isinstance(location.get("name"), str):
                errors.append(f"{where}.location has no name")
            elif not isinstance(location.get("geo"), str):
                errors.append(f"{where}.location has no geo")
    return errors


def json_transcript_errors(document: object) -> list[str]:
    """Every way a document breaks the Podcasting 2.0 JSON transcript format; empty when valid.

    ``{"version": "1.0.0", "segments": [{"startTime", "endTime", "body", "speaker"?}]}``.
    """
    if not isinstance(document, dict):
        return ["the document is not an object"]
    errors = []
    if not isinstance(document.get("version"), str):
        errors.append("version is not a string")
    segments = document.get("segments")
    if not isinstance(segments, list):
        return [*errors, "segments is not an array"]
    for index, segment in enumerate(segments):
        where = f"segments[{index}]"
        if not isinstance(segment, dict):
            errors.append(f"{where} is not an object")
            continue
        start, end = segment.get("startTime"), segment.get("endTime")
        if not (_number(start) and _number(end) and 0 <= start <= end):
            errors.append(f"{where} has no startTime <= endTime")
        if not isinstance(segment.get("body"), str) or not segment["body"].strip():
            errors.append(f"{where}.body is not a non-empty string")
        if "speaker" in segment and not isinstance(segment["speaker"], str):
            errors.append(f"{where}.speaker is not a string")
    return errors
