"""Checks of Podlove Simple Chapters (``psc:chapters``) inside items: times and titles."""

from __future__ import annotations

import re

from lxml import etree

from entretiens.feedlint._context import Context, children, local, namespace
from entretiens.podcast_spec import PSC_NS

_PSC_START = re.compile(r"(?:(\d+):)?([0-5]?\d):([0-5]\d)(?:\.(\d{1,3}))?")


def _psc_seconds(value: str) -> float | None:
    match = _PSC_START.fullmatch(value.strip())
    if match is None:
        return None
    hours, minutes, seconds, millis = match.groups()
    return int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds) + int((millis or "0").ljust(3, "0")) / 1000


def check_psc_chapters(ctx: Context, item: etree._Element) -> None:
    """Check Podlove Simple Chapters: well-formed, ordered start times and titles (warnings).

    :param ctx: the lint run.
    :param item: the item that may hold ``<psc:chapters>``.
    """
    for chapters in item.iter(f"{{{PSC_NS}}}chapters"):
        previous: float | None = None
        for chapter in children(chapters):
            if namespace(chapter) != PSC_NS or local(chapter) != "chapter":
                continue
            start = chapter.get("start", "")
            seconds = _psc_seconds(start)
            if seconds is None:
                ctx.report(
                    chapter,
                    "psc.chapter.start",
                    f'is "{start}", not a time like HH:MM:SS or HH:MM:SS.mmm.',
                    attribute="start",
                    hint='write start="00:05:30.000"',
                )
                continue
            if previous is not None and seconds < previous:
                ctx.report(
                    chapter,
                    "psc.chapters.order",
                    f"starts at {start}, before the chapter above it.",
                    attribute="start",
                    hint="list chapters in the order they play",
                )
            previous = seconds
            if not (chapter.get("title") or "").strip():
                ctx.report(
                    chapter,
                    "psc.chapter.title",
                    "has no title, which Podlove Simple Chapters requires.",
                    attribute="title",
                    hint="give the chapter a title",
                )
