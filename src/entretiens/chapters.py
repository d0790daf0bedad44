"""Chapters in every form apps read: Podcasting 2.0 JSON chapters, from the YAML or the audio itself."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from itertools import pairwise

from . import layout
from .errors import Problem
from .model import AudioInfo, Chapter, EmbeddedChapter, Episode, Show
from .timecodes import json_seconds, timecode

#: The JSON chapters format version we write (Podcasting 2.0 jsonChapters.md).
JSON_CHAPTERS_VERSION = "1.2"


def chapters_for(episode: Episode, audio: AudioInfo) -> tuple[tuple[Chapter, ...], list[Problem]]:
    """The chapters to publish: the YAML's, else those embedded in the audio.

    :returns: the chapters, by start time; a ``chapters-disagree`` warning when the YAML and
        the audio both have chapters and they differ; a ``chapter-order`` error when chapters
        embedded in the audio (used for want of YAML ones) share a start.
    """
    problems: list[Problem] = []
    if episode.chapters:
        # The YAML's are published: the audio's are only compared with them, as they are
        # (no Chapter made of each, for each episode of every build).
        if audio.chapters and _differ_embedded(episode.chapters, audio):
            problems.append(
                Problem(
                    rule="chapters-disagree",
                    path=episode.path,
                    line=episode.line_of("chapters"),
                    field="chapters",
                    message=f"the chapters differ from the {len(audio.chapters)} embedded in {episode.audio}; "
                    "the YAML's are published",
                    hint="update one of them so listeners see the same chapters everywhere",
                )
            )
        return episode.chapters, problems
    embedded = embedded_chapters(audio)
    for previous, chapter in pairwise(embedded):
        if chapter.start - previous.start < 0.001:
            problems.append(
                Problem(
                    rule="chapter-order",
                    path=episode.path,
                    line=episode.line_of("audio"),
                    field="audio",
                    message=f"two chapters embedded in {episode.audio} start at "
                    f"{timecode(chapter.start)}: '{previous.title}' and '{chapter.title}'",
                    hint="fix them in the audio file, or list the chapters in the YAML, which then replace them",
                )
            )
    return embedded, problems


def _differ_embedded(chapters: tuple[Chapter, ...], audio: AudioInfo) -> bool:
    """``differ(chapters, embedded_chapters(audio))``, from the audio's chapters as they are.

    One loop each, not a generator through :func:`differ`: asked for each episode of every
    build that has chapters in both its YAML and its audio."""
    embedded = audio.chapters
    if len(chapters) != len(embedded):
        return True
    before = -math.inf
    for chapter in embedded:
        if chapter.start < before:
            embedded = tuple(sorted(embedded, key=_start))
            break
        before = chapter.start
    for written, found in zip(chapters, embedded):  # noqa: B905  (as long, checked above)
        if abs(written.start - found.start) > 1 or written.title.strip() != found.title.strip():
            return True
    return False


def _start(chapter: EmbeddedChapter) -> float:
    return chapter.start


def embedded_chapters(audio: AudioInfo) -> tuple[Chapter, ...]:
    """The chapters the audio file holds, by start time."""
    # A CTOC may list chapters in any order; every format we write needs them by start time.
    found = (Chapter(start=c.start, title=c.title, url=c.url) for c in audio.chapters)
    return tuple(sorted(found, key=lambda c: c.start))


def differ(first: Sequence[Chapter | EmbeddedChapter], second: Sequence[Chapter | EmbeddedChapter]) -> bool:
    """Whether two chapter lists would show listeners something different (starts within 1 s agree)."""
    if len(first) != len(second):
        return True
    pairs = zip(first, second, strict=True)
    return any(abs(a.start - b.start) > 1 or a.title.strip() != b.title.strip() for a, b in pairs)


def timing_problems(episode: Episode, chapters: tuple[Chapter, ...], audio: AudioInfo) -> list[Problem]:
    """Errors for chapters and soundbites that do not fit in the audio."""
    end = audio.duration.total_seconds()
    problems = []
    for index, chapter in enumerate(chapters):
        if chapter.start >= end:
            problems.append(
                Problem(
                    rule="chapter-after-end",
                    path=episode.path,
                    line=chapter.source.line if chapter.source else episode.line_of("chapters"),
                    field=f"chapters[{index}].start",
                    message=f"chapter '{chapter.title}' starts at {timecode(chapter.start)}, "
                    f"after the end of the audio ({timecode(end)})",
                    hint="fix its start time, or the audio file",
                )
            )
    for index, soundbite in enumerate(episode.soundbites):
        if soundbite.start + soundbite.duration > end + 0.5:
            problems.append(
                Problem(
                    rule="soundbite-after-end",
                    path=episode.path,
                    line=soundbite.source.line if soundbite.source else episode.line_of("soundbites"),
                    field=f"soundbites[{index}]",
                    message=f"the soundbite ends at {timecode(soundbite.start + soundbite.duration)}, "
                    f"after the end of the audio ({timecode(end)})",
                    hint="shorten it or move its start",
                )
            )
    return problems


def chapter_ends(chapters: tuple[Chapter, ...], audio: AudioInfo) -> tuple[float, ...]:
    """Where each chapter ends: where the next one starts, and the last one with the audio."""
    duration = audio.duration.total_seconds()
    return tuple(chapter.start for chapter in chapters[1:]) + ((duration,) if chapters else ())


def json_chapters(show: Show, chapters: tuple[Chapter, ...], audio: AudioInfo) -> bytes:
    """The Podcasting 2.0 JSON chapters file (``application/json+chapters``)."""
    items = []
    for chapter, end in zip(chapters, chapter_ends(chapters, audio), strict=True):
        item: dict[str, object] = {"startTime": json_seconds(chapter.start), "title": chapter.title}
        item["endTime"] = json_seconds(end)
        if chapter.url:
            item["url"] = chapter.url
        if chapter.image:
            item["img"] = layout.absolute(show, chapter.image)
        items.append(item)
    document = {"version": JSON_CHAPTERS_VERSION, "chapters": items}
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
