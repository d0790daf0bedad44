"""Truthful dates: the feed's lastBuildDate and each page's sitemap lastmod move when, and only
when, what was published changed.

A build hashes what it would publish: each episode (its page and its Markdown notes) and the
show as a whole (every file but the sitemap, the feed without its own lastBuildDate, generated
images by name only, since their bytes follow the Pillow version, copied files by size: see
:func:`_show_hash`). The hashes and the moment each last changed are kept in published.yaml (``changes:``), under
version control beside the GUIDs: a fresh clone or a CI runner keeps the dates, where the build
record under ``.entretiens/`` is a cache that may vanish at any time, and with it every date
would jump to the next publish. A part whose hash is unchanged keeps its date, so a rebuild of
an unchanged show writes the same bytes; one never recorded takes its episode's date (the show:
its newest episode's), which is what the feed said before dates were recorded.
"""

from __future__ import annotations

import email.utils
import functools
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from itertools import repeat
from pathlib import PurePosixPath

from . import feedfile, gcpause, layout, site
from .model import Change, Episode, PublishState, Release, Show
from .output import Content, Stored, path_order

#: Files whose bytes are the show's own words and numbers; others count by name (generated
#: images) or size (copied audio and artwork).
_TEXT = frozenset({".xml", ".html", ".md", ".json", ".vtt", ".srt", ".txt", ".xsl", ".css", ".js"})
_LAST_BUILD = feedfile.LAST_BUILD


@dataclass(frozen=True, slots=True, kw_only=True)
class Changes:
    """When the show and each published episode last changed, as this build would record it."""

    show: Change
    episodes: dict[str, Change] = field(default_factory=dict)


def stamp(
    show: Show, state: PublishState, releases: tuple[Release, ...], files: dict[PurePosixPath, Content], now: datetime
) -> Changes:
    """Date the build in ``files`` (the feed's lastBuildDate, the sitemap) from what changed
    since ``state`` was recorded, and return the record to keep."""
    # With the collector off, and what is made held out of its passes: the names, records and
    # the sitemap's rows (none in a cycle) set off full passes over the whole build otherwise
    # (~80 ms of an edit at 10,000 episodes). Nothing here starts a process.
    with gcpause.paused(hold=True):
        return _stamp(show, state, releases, files, now)


def _stamp(
    show: Show, state: PublishState, releases: tuple[Release, ...], files: dict[PurePosixPath, Content], now: datetime
) -> Changes:
    recorded = dict(state.episode_changes)
    # The files by name, from the show hash's one pass: looked up by string, not by a Path made
    # for the purpose (whose hash and comparison are slow), twice per episode.
    named: dict[str, Content] = {}
    # The audio's sizes as measured (a file changed since is refused before anything is written).
    sizes = {str(r.audio_file): r.audio_stamp[0] for r in releases if r.audio_file and r.audio_stamp}
    digest = _show_hash(files, named, sizes)
    episodes: dict[str, Change] = {}
    for release in releases:
        episode = release.episode
        episode_digest = _episode_hash(named, release)
        before = recorded.get(episode.slug)
        if before is not None and before.hash == episode_digest:
            episodes[episode.slug] = before
        else:
            episodes[episode.slug] = Change(hash=episode_digest, date=now if before is not None else episode.date)
    before_show = state.show_change
    if before_show is not None and before_show.hash == digest:
        show_change = before_show
    elif before_show is not None and _is_v1(before_show.hash) and _show_hash_v1(files, sizes) == before_show.hash:
        # Recorded by a version that hashed the show the first way: the same show keeps its
        # record as it is (published.yaml is the user's, under version control: an upgrade
        # does not rewrite it), until the show changes and is recorded the new way.
        show_change = before_show
    elif before_show is not None:
        show_change = Change(hash=digest, date=now)
    else:
        show_change = Change(hash=digest, date=max(r.episode.date for r in releases))
    feed = files.get(layout.FEED)
    if isinstance(feed, bytes) and (found := _LAST_BUILD.search(feed)):
        when = email.utils.format_datetime(show_change.date).encode("ascii")
        # Joined from a view of the rest: re.sub copied the whole feed twice on the way.
        dated = b"<lastBuildDate>" + when + b"</lastBuildDate>"
        if feed[found.start() : found.end()] != dated:
            files[layout.FEED] = b"".join((feed[: found.start()], dated, memoryview(feed)[found.end() :]))
    elif isinstance(feed, Stored) and (element := feedfile.last_build(feed)) is not None:
        # A feed handed on as a file (see feedfile): its head read, and a copy made if dated anew.
        dated = b"<lastBuildDate>" + email.utils.format_datetime(show_change.date).encode("ascii") + b"</lastBuildDate>"
        if element[1] != dated:
            files[layout.FEED] = feedfile.redated(feed, element[0], element[1], dated)
    files[site.SITEMAP] = site.sitemap(
        show,
        releases,
        guests=layout.GUESTS_PAGE in files,
        show_date=show_change.date,
        episode_dates={slug: change.date for slug, change in episodes.items()},
    )
    return Changes(show=show_change, episodes=episodes)


def fingerprints(files: Mapping[str, bytes]) -> dict[str, str]:
    """What this module hashes of a unit's files, taken when the unit is made and kept with it
    (:attr:`entretiens.output.Stored.marks`), so that a build dates pages it did not read.

    Each text file: its part of the show's hash (:func:`_text_part`) and its record's digest
    (:func:`_record`); an episode's page (``<slug>/index.html``) also the episode's hash with
    the notes beside it, and the notes' SHA-256 it was taken with.
    """
    marks: dict[str, str] = {}
    for name, content in files.items():
        path = PurePosixPath(name)
        if path.suffix not in _TEXT:
            continue
        part = _text_part(content)
        marks[name] = f"{part.hex()} {_record(name, part):064x}"
        if len(path.parts) == 2 and path.name == "index.html":
            notes = _beside(str(path))
            page = files[name]
            beside = files.get(notes)
            words = b"" if beside is None else beside
            episode = _episode_digest([(str(path), page), (notes, words)])
            known = "-" if beside is None else hashlib.sha256(beside).hexdigest()
            marks[name] += f" {episode} {known}"
    return marks


def _episode_hash(named: Mapping[str, Content], release: Release) -> str:
    """The episode's hash, from the files by name (see :func:`_show_hash`)."""
    page = _page_name(release.episode)
    notes = _beside(page)
    kept = named.get(page)
    if isinstance(kept, Stored) and kept.marks and len(marks := kept.marks.split()) == 4:
        beside = named.get(notes)
        if (marks[3] == "-" and beside is None) or (isinstance(beside, Stored) and beside.sha256 == marks[3]):
            return marks[2]
    return _episode_digest([(name, _bytes(named.get(name))) for name in (page, notes)])


#: An episode page's name in its folder (``layout.episode_page``, checked by a test).
_PAGE_NAME = "index.html"


def _page_name(episode: Episode) -> str:
    """``str(layout.episode_page(episode))``, joined from a slug that is one plain name (every
    valid one): no path made and formatted per episode (2 ms at 1,000 episodes)."""
    slug = episode.slug
    if slug and slug != "." and "/" not in slug:
        return f"{slug}/{_PAGE_NAME}"
    return str(layout.episode_page(episode))


def _beside(page: str) -> str:
    """The name of the Markdown notes beside an episode's page (``layout.notes_markdown``), from
    the page's name: a path made and parsed once per episode, not twice."""
    return page[: page.rfind("/") + 1] + layout.NOTES_NAME


def _episode_digest(parts: list[tuple[str, bytes]]) -> str:
    digest = hashlib.sha256()
    for name, content in parts:
        digest.update(name.encode() + b"\0" + content + b"\0")
    return digest.hexdigest()[:32]


def _bytes(content: Content | None) -> bytes:
    """A file's bytes as the episode's hash sees them: a file copied as it is counts as none."""
    if isinstance(content, bytes):
        return content
    return content.read_bytes() if isinstance(content, Stored) else b""


def _text_part(content: bytes) -> bytes:
    """The SHA-256 of a text file without its lastBuildDate (:func:`feedfile.text_part`: taken
    over the pieces around each one, the feed is not copied)."""
    digest = hashlib.sha256()
    feedfile.text_part(content, digest)
    return digest.digest()


def _show_hash(
    files: Mapping[PurePosixPath, Content],
    named: dict[str, Content] | None = None,
    sizes: Mapping[str, int] | None = None,
) -> str:
    """The show's hash: ``v2-`` and the sum (modulo 2**256) of each file's :func:`_record` digest.

    A sum, not one SHA-256 over the records in the order of the paths (:func:`_show_hash_v1`):
    no sort, and a kept page's (a :class:`Stored` file's) digest is taken from its marks, where
    :func:`fingerprints` put it when the page was made, so an unchanged page costs a lookup,
    not a hash (60,000 files at 10,000 episodes). Each name is in its record, and each name is
    one file, so a change to any file, its name or its presence moves the sum.

    ``named`` is filled with the files by name on the way; ``sizes`` are those of copied files
    known already (by their path), not stat'ed again.
    """
    sitemap = str(site.SITEMAP)
    known = sizes or {}
    # The files' names in one pass (a path keeps its text once made): no statement per file.
    names = list(map(str, files))
    if named is not None:
        named.update(zip(names, files.values(), strict=True))
    # The kept pages' record digests as their marks hold them, and the other files' records
    # to hash: each kind summed at once (int and from_bytes mapped over a list, in C), not
    # added one file at a time.
    marked: list[str] = []
    records: list[bytes] = []
    for name, content in zip(names, files.values(), strict=True):
        if name == sitemap:
            continue
        kind = type(content)
        if kind is Stored:
            marks = content.marks  # type: ignore[union-attr]
            # "<part> <record>[ ...]" (see fingerprints): the record digest as it was kept.
            if marks is not None and len(marks) >= 129 and marks[64] == " ":
                marked.append(marks[65:129])
                continue
            # A kept image (a card) counts by its name; the cases of _part inline, as for the
            # copies below: one per episode each.
            part = b"generated" if marks is None and not _is_text(name) else _part(name, content, sizes)
        elif kind is not bytes and (size := known.get(str(content))) is not None:
            part = b"size:%d" % size
        else:
            part = _part(name, content, sizes)
        records.append(b"%s\0%s\0" % (name.encode(), part))
    sha256 = hashlib.sha256
    total = sum(map(int, marked, repeat(16))) + sum(map(_from_big, [sha256(record).digest() for record in records]))
    return f"v2-{total % _MODULUS:064x}"[:35]


#: The show hash's sums are taken modulo this (the size of a SHA-256).
_MODULUS = 1 << 256
#: A digest as the number it is, most significant byte first.
_from_big = functools.partial(int.from_bytes, byteorder="big")


def _record(name: str, part: bytes) -> int:
    """A file's record in the show hash: the SHA-256 of its name and its part, as a number."""
    return int.from_bytes(hashlib.sha256(b"%s\0%s\0" % (name.encode(), part)).digest(), "big")


def _part(name: str, content: Content, sizes: Mapping[str, int] | None) -> bytes:
    """What the show hash takes of a file (see the module): a text file's :func:`_text_part`,
    ``generated`` for any other made file, a copied file's size."""
    text = _is_text(name)
    if isinstance(content, bytes):
        return _text_part(content) if text else b"generated"
    if isinstance(content, Stored):
        # A kept page counts by its bytes, as when it was made; a kept image by its name.
        if not text:
            return b"generated"
        if content.marks and len(first := content.marks.split(" ", 1)[0]) == 64:
            return bytes.fromhex(first)
        return _text_part(content.read_bytes())
    if sizes is not None and (size := sizes.get(str(content))) is not None:
        return b"size:%d" % size
    try:
        return b"size:%d" % content.stat().st_size
    except OSError:
        return b"missing"


def _is_v1(digest: str) -> bool:
    """Whether a recorded show hash is of the first definition (:func:`_show_hash_v1`)."""
    return len(digest) == 32 and not digest.startswith("v")


def _show_hash_v1(files: Mapping[PurePosixPath, Content], sizes: Mapping[str, int] | None = None) -> str:
    """The show's hash as published.yaml recorded it before :func:`_show_hash`: one SHA-256 over
    each file's name and part, in the order of the paths. Taken only to carry such a record
    over: while the show is the one recorded, it keeps that record (and its date)."""
    sitemap = str(site.SITEMAP)
    records: list[bytes] = []
    for path, content in sorted(files.items(), key=_by_parts):
        name = str(path)
        if name != sitemap:
            records.append(b"%s\0%s\0" % (name.encode(), _part(name, content, sizes)))
    return hashlib.sha256(b"".join(records)).hexdigest()[:32]


def _by_parts(item: tuple[PurePosixPath, Content]) -> str:
    """The order of paths (PurePosixPath compares their parts), from a string compared in C: no
    ``.parts`` tuple made (and kept on each of 60,000 paths at 10,000 episodes)."""
    return path_order(item[0])


_TEXT_ENDINGS = tuple(_TEXT)


def _is_text(name: str) -> bool:
    """Whether ``PurePosixPath(name).suffix`` is in :data:`_TEXT`, from the string: it ends with
    one, after at least one character of its last part (".json" alone has no suffix)."""
    return name.endswith(_TEXT_ENDINGS) and name.rfind(".") > name.rfind("/") + 1
