"""Rules on images from other hosts: pages and the feed's show notes load nothing from elsewhere.

An ``<img>`` from another host in Markdown text or an HTML transcript is dropped when the text
is rendered (:func:`entretiens.markup.sanitize`); an image field holding a URL is downloaded and
served from the site (:mod:`entretiens.remote_images`). These rules say so, at the field.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from entretiens.errors import Problem
from entretiens.loading import FEED_FILE, GUESTS_DIR
from entretiens.markup import remote_images
from entretiens.model import FieldLines, Person, Release, Show, is_remote
from entretiens.remote_images import local_copy

_HINT_TEXT = "put the image in the show folder and name it by its path, or leave it out"
_HINT_FIELD = "check the address, or put the image in the show folder and name it by its path"


def show_remote_problems(show: Show, lines: FieldLines) -> list[Problem]:
    """A warning for each image from another host in feed.yaml (description, artwork, hosts).

    Each build (``serve`` makes many) tries the image URLs afresh once: the caller forgets the
    last build's attempts (:func:`entretiens.remote_images.forget`) before the first check.
    """
    feed = show.root / FEED_FILE
    problems = _text(show.description, feed, "description", lines)
    problems += _field(show, show.cover_image, feed, "image", lines)
    problems += _people(show, show.hosts, feed, "hosts", lines)
    return problems


def episode_remote_problems(show: Show, release: Release, lines: FieldLines) -> list[Problem]:
    """The same warnings for one episode: notes, artwork, guests, HTML transcripts."""
    episode = release.episode
    problems = _text(episode.notes, episode.path, "notes", lines)
    problems += _field(show, episode.cover_image, episode.path, "image", lines)
    problems += _people(show, episode.guests, episode.path, "guests", lines)
    for index, transcript in enumerate(episode.transcripts):
        if transcript.path.suffix.lower() in (".html", ".htm"):
            problems += _transcript(show.root / transcript.path, index)
    return problems


def names_remote_image(show: Show, release: Release) -> bool:
    """Whether an episode's checks fetched an image from another host (their result may change
    from one build to the next without any file changing)."""
    episode = release.episode
    return is_remote(episode.cover_image) or any(is_remote(guest.image) for guest in episode.guests)


def _text(text: str, path: Path, field: str, lines: FieldLines) -> list[Problem]:
    return [
        Problem(
            rule="remote-image",
            path=path,
            line=lines.line(path, field),
            field=field,
            message=f"the image {url} is on another host: it is left out of the pages and the feed",
            hint=_HINT_TEXT,
        )
        for url in dict.fromkeys(remote_images(text))
    ]


def _field(show: Show, reference: str | None, path: Path, field: str, lines: FieldLines) -> list[Problem]:
    if not is_remote(reference):
        return []
    copy = local_copy(show.root, reference)
    if isinstance(copy, Path):
        return []
    return [
        Problem(
            rule="remote-image-failed",
            path=path,
            line=lines.line(path, field),
            field=field,
            message=f"{reference} cannot be shown on the pages: {copy}",
            hint=_HINT_FIELD,
        )
    ]


def _people(show: Show, people: Sequence[Person], path: Path, key: str, lines: FieldLines) -> list[Problem]:
    problems = []
    for index, person in enumerate(people):
        where, prefix = path, f"{key}[{index}]."
        if person.id is not None:
            where, prefix = show.root / GUESTS_DIR / f"{person.id}.yaml", ""
        problems += _text(person.bio, where, f"{prefix}bio", lines)
        problems += _field(show, person.image, where, f"{prefix}image", lines)
    return problems


def _transcript(file: Path, index: int) -> list[Problem]:
    del index
    try:
        text = file.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []  # the transcript checks report it
    return [
        Problem(
            rule="remote-image",
            path=file,
            message=f"the image {url} is on another host: it is left out of the published transcript",
            hint=_HINT_TEXT,
        )
        for url in dict.fromkeys(remote_images(text, markdown=False))
    ]
