"""The files stage: every file of public/ (feed, pages, media, chapters, transcripts) by path, in memory.

Nothing here touches the output folder: :mod:`entretiens.output` writes what this returns.
"""

from __future__ import annotations

import os
import stat
from datetime import datetime
from pathlib import Path, PurePosixPath

from . import feed, layout, site, transcripts
from .errors import EntretiensError
from .model import Project, Release, is_local
from .output import MARKER, Content
from .unitcache import Digests, Units

#: Files the host wants in public/ as they are (CNAME, .htaccess, robots.txt, a favicon).
STATIC_DIR = "static"


def build_files(
    project: Project,
    releases: tuple[Release, ...],
    units: Units | None = None,
    items: Units | None = None,
    digests: Digests | None = None,
    *,
    last_build: datetime | None = None,
    texts: Units | None = None,
    documents: Path | None = None,
) -> dict[PurePosixPath, Content]:
    """Every file of public/, by path.

    :param units: the cache of each episode's own pages and chapters (see :mod:`entretiens.unitcache`).
    :param items: the cache of each episode's feed item.
    :param digests: the releases' digests of this build, shared by every kind of unit.
    :param texts: the cache of each transcript's published files (a stored kind).
    :param last_build: the feed's lastBuildDate as the dating will most likely set it (see
        :func:`entretiens.feed.build_feed`).
    :param documents: the folder the feed documents are written to as they are built, and handed on
        as files (see :mod:`entretiens.feedfile`); None: as bytes.

    :raises EntretiensError: two different files would be published at one path, or a page
        cannot be rendered.
    """
    show = project.show
    files: dict[PurePosixPath, Content] = {}
    digests = digests or Digests()

    def add(path: PurePosixPath, content: Content) -> None:
        if path in files and files[path] != content:
            raise _clash(path)
        files[path] = content

    for path, content in feed.build_feeds(
        show, releases, items, digests, last_build=last_build, folder=documents
    ).items():
        add(path, content)
    for reference in _copied_media(project, releases):
        add(PurePosixPath(reference), show.root / reference)
    for release, made in zip(releases, transcripts.published(show, releases, texts), strict=True):
        episode = release.episode
        if release.audio_file is not None:
            add(layout.path_of(episode.audio), release.audio_file)
        for path, text in made.items():
            add(path, text)
    _merge(files, site.build_site(project, releases, units, digests, folder=documents))
    # Last: a static file may not replace a generated one (add() refuses a clash).
    for path, source in static_files(show.root).items():
        add(path, source)
    return files


def _merge(files: dict[PurePosixPath, Content], more: dict[PurePosixPath, Content]) -> None:
    """``add()`` for each file of ``more`` in turn, in one update: the site's 50,000 paths of a
    large show are not hashed twice more each (a dict copies the hashes it holds), only the
    files already there looked up in ``more`` (the feed, the audio).

    :raises EntretiensError: as ``add()`` would, for the first file of ``more`` that clashes.
    """
    clashes = {path for path, content in files.items() if path in more and more[path] != content}
    if clashes:
        raise _clash(next(path for path in more if path in clashes))
    files.update(more)


def _clash(path: PurePosixPath) -> EntretiensError:
    return EntretiensError(f"two different files would be published as {path}; rename one of them")


def static_files(root: Path) -> dict[PurePosixPath, Content]:
    """The files of ``static/``, hidden ones included, by their path in public/.

    Publish replaces the whole output folder, so a file a host needs there (a CNAME for GitHub
    Pages, an .htaccess) lives in static/. Each must be a regular file resolving inside static/.

    :raises EntretiensError: a link leaving static/, a FIFO or device, or our marker's name.
    """
    folder = root / STATIC_DIR
    if not folder.is_dir():
        return {}
    base = folder.resolve()
    found: dict[PurePosixPath, Content] = {}
    for directory, _subdirs, names in os.walk(folder, onerror=_walk_error):
        for name in names:
            source = Path(directory) / name
            relative = PurePosixPath(source.relative_to(folder).as_posix())
            try:
                resolved = source.resolve(strict=True)
                regular = stat.S_ISREG(resolved.stat().st_mode)
            except (OSError, RuntimeError):
                resolved, regular = source, False
            if base not in resolved.parents or not regular:
                msg = f"{STATIC_DIR}/{relative}: not a regular file inside {STATIC_DIR}/ (a link out of it, a loop, "
                raise EntretiensError(msg + "a FIFO or a device); copy the file itself there")
            if relative == MARKER:
                raise EntretiensError(f"{STATIC_DIR}/{relative}: this name is entretiens' own; remove the file")
            found[relative] = resolved
    return found


def _walk_error(error: OSError) -> None:
    raise EntretiensError(f"{error.filename}: the folder cannot be read ({error.strerror})")


def _copied_media(project: Project, releases: tuple[Release, ...]) -> list[str]:
    """Show files published as they are: audio, artwork, photos, chapter images."""
    references: list[str | None] = [project.show.cover_image]
    references += [person.image for person in project.show.hosts]
    for release in releases:
        episode = release.episode
        references += [episode.cover_image]
        references += [guest.image for guest in episode.guests]
        references += [chapter.image for chapter in release.chapters]
    return sorted({ref for ref in references if ref and is_local(ref)})
