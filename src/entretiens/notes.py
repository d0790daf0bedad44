"""Show notes of a release in the forms the feed and the downloads carry.

The item ``<description>`` (kept within Apple's size limit by leaving parts out), the item
``<content:encoded>`` and the episode's ``notes.md``.
"""

from __future__ import annotations

import re

from . import layout
from .markup import escape, render_markdown, sanitize
from .model import Release, Show
from .podcast_spec import DESCRIPTION_LIMIT
from .templating import render
from .timecodes import timecode


def feed_description(show: Show, release: Release) -> str:
    """The item ``<description>``: summary, notes and chapter timecodes, as HTML.

    Kept under Apple's 4000-byte limit by leaving out the notes, then the chapters.
    """
    return description_parts(show, release)[0]


def description_parts(show: Show, release: Release) -> tuple[str, tuple[str, ...]]:
    """The item ``<description>`` and what had to be left out of it ("notes", "chapters", "summary")."""
    episode = release.episode
    summary = f"<p>{escape(episode.summary)}</p>" if episode.summary else ""
    body = render_markdown(episode.notes, base_url=layout.episode_url(show, episode))
    chapters = ""
    if release.chapters:
        lines = "<br>".join(f"{timecode(c.start)} {escape(c.title)}" for c in release.chapters)
        chapters = f"<p>{lines}</p>"
    named = {"summary": summary, "notes": body, "chapters": chapters}
    for kept in (("summary", "notes", "chapters"), ("summary", "chapters"), ("summary",)):
        text = "\n".join(named[name] for name in kept if named[name])
        if len(text.encode("utf-8")) <= DESCRIPTION_LIMIT:
            dropped = tuple(name for name in named if named[name] and name not in kept)
            return text or escape(episode.title), dropped
    # The summary alone is too long: cut the plain text (so no entity or tag is split) at the
    # longest length whose escaped form still fits.
    low, high = 0, len(episode.summary)
    while low < high:
        middle = (low + high + 1) // 2
        if len(f"<p>{escape(episode.summary[:middle].rstrip())}…</p>".encode()) <= DESCRIPTION_LIMIT:
            low = middle
        else:
            high = middle - 1
    cut = f"<p>{escape(episode.summary[:low].rstrip())}…</p>"
    return cut, tuple(name for name in named if named[name])


def feed_content(show: Show, release: Release) -> str:
    """The item ``<content:encoded>``: the full show notes, with absolute links."""
    base = layout.episode_url(show, release.episode)
    text = render(show, "feed_content.html.j2", release=release, episode=release.episode, base=base)
    # Sanitized again as a whole: an overridden template must not open a door either.
    return sanitize(text, base_url=base).strip()


def notes_markdown(show: Show, release: Release) -> str:
    """The episode's show notes as plain Markdown, with absolute links, safe to paste anywhere."""
    base = layout.episode_url(show, release.episode)
    text = render(show, "notes.md.j2", release=release, episode=release.episode, base=base)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
