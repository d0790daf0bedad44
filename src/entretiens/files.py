"""The files stage: every file of public/ (feed, pages, media, chapters, transcripts) by path, in memory.

Nothing here touches the output folder: :mod:`entretiens.output` writes what this returns.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from . import chapters, feed, layout, site, transcripts
from .errors import EntretiensError
from .model import Project, Release
from .output import Content


def build_files(project: Project, releases: tuple[Release, ...]) -> dict[PurePosixPath, Content]:
    """Every file of public/, by path.

    :raises EntretiensError: two different files would be published at one path, or a page
        cannot be rendered.
    """
    show = project.show
    files: dict[PurePosixPath, Content] = {}

    def add(path: PurePosixPath, content: Content) -> None:
        if path in files and files[path] != content:
            msg = f"two different files would be published as {path}"
            raise EntretiensError(msg + "; rename one of them")
        files[path] = content

    for path, content in feed.build_feeds(show, releases).items():
        add(path, content)
    for reference in _copied_media(project, releases):
        add(PurePosixPath(reference), show.root / reference)
    for release in releases:
        episode = release.episode
        if release.audio_file is not None:
            add(PurePosixPath(episode.audio), release.audio_file)
        if release.chapters:
            add(layout.chapters_file(episode), chapters.json_chapters(show, release.chapters, release.audio))
        for path, content in transcripts.files(show, release).items():
            add(path, content)
    for path, content in site.build_site(project, releases).items():
        add(path, content)
    return files


def _copied_media(project: Project, releases: tuple[Release, ...]) -> list[str]:
    """Show files published as they are: audio, artwork, photos, chapter images."""
    references: list[str | None] = [project.show.cover_image]
    references += [person.image for person in project.show.hosts]
    for release in releases:
        episode = release.episode
        references += [episode.cover_image]
        references += [guest.image for guest in episode.guests]
        references += [chapter.image for chapter in release.chapters]
    return sorted({ref for ref in references if ref and "://" not in ref})
