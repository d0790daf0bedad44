"""The show and its releases into podcast RSS bytes, through feedgen and our extensions."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

from feedgen.entry import FeedEntry
from feedgen.feed import FeedGenerator
from lxml import etree

from . import __version__, feedfile, gcpause, layout, notes, unitcache
from .content import Content
from .errors import FeedError
from .ext.history import FeedHistoryExtension
from .ext.itunes import ItunesEntryExtension, ItunesExtension
from .ext.podcastindex import PersonTag, PodcastIndexEntryExtension, PodcastIndexExtension
from .ext.psc import PscEntryExtension, PscExtension
from .ext.stylesheet import StylesheetExtension
from .ext.websub import WebSubExtension
from .markup import escape, render_markdown
from .model import Person, Release, Show
from .show_templates import TEMPLATES_DIR
from .unitcache import Digests, Units

GENERATOR = f"entretiens {__version__}"


def duration_seconds(release: Release) -> int:
    """Whole seconds for ``itunes:duration``, never 0 for real audio."""
    return max(1, round(release.audio.duration.total_seconds()))


@dataclass(frozen=True, slots=True)
class _Page:
    """Where one document of an archived feed (RFC 5005) sits among the others."""

    #: This document's own URL (its ``rel="self"``).
    url: str
    #: Links to the other documents: (relation, URL).
    links: tuple[tuple[str, str], ...]
    archive: bool
    #: The feed stylesheet, relative to this document.
    stylesheet: str


def build_feeds(
    show: Show,
    releases: Sequence[Release],
    items: Units | None = None,
    digests: Digests | None = None,
    *,
    last_build: datetime | None = None,
    folder: Path | None = None,
) -> dict[PurePosixPath, Content]:
    """feed.xml, and with ``feed_limit`` the RFC 5005 archive pages of the older episodes.

    feed.xml keeps the newest ``feed_limit`` episodes. Archive pages hold ``feed_limit``
    episodes each, counted from the oldest, and only whole pages are published, so that a
    page, once out, never changes as the show grows (RFC 5005 asks that of archive documents);
    the newest page may repeat some episodes of feed.xml, which apps merge by GUID.

    :param items: where each episode's ``<item>`` is kept between builds (see :func:`build_feed`).
    :param digests: the releases' digests of this build (shared with the pages and checks).
    :param last_build: feed.xml's ``lastBuildDate``, when the caller knows better than the newest
        episode (see :func:`build_feed`).
    :param folder: where each document is written while it is built, and handed on as that
        file (see :mod:`entretiens.feedfile`); None: as bytes.
    :raises FeedError: feedgen refused a value (a bug: the loader should have caught it).
    :raises OutputError: ``folder`` cannot be written.
    """
    items = items or Units(None, "items", version="")
    digests = digests or Digests()
    ordered = sorted(releases, key=lambda r: (r.episode.date, r.episode.slug))
    limit = show.feed_limit
    if limit is None or len(ordered) <= limit:
        return {
            layout.FEED: build_feed(
                show,
                ordered,
                build_date=_newest(ordered),
                last_build=last_build,
                stylesheet=show.feed_stylesheet,
                items=items,
                digests=digests,
                folder=folder,
            )
        }
    pages = [ordered[start : start + limit] for start in range(0, len(ordered) - limit, limit)]
    urls = [layout.url_for(show, layout.feed_archive(number)) for number in range(1, len(pages) + 1)]
    current = ordered[-limit:]
    files = {
        layout.FEED: build_feed(
            show,
            current,
            build_date=_newest(current),
            last_build=last_build,
            stylesheet=show.feed_stylesheet,
            page=_Page(
                show.feed_url, (("prev-archive", urls[-1]),), archive=False, stylesheet=str(layout.FEED_STYLESHEET)
            ),
            items=items,
            digests=digests,
            folder=folder,
        )
    }
    for index, page in enumerate(pages):
        links = [("current", show.feed_url)]
        if index > 0:
            links.append(("prev-archive", urls[index - 1]))
        if index + 1 < len(pages):
            links.append(("next-archive", urls[index + 1]))
        stylesheet = "../" + str(layout.FEED_STYLESHEET)
        files[layout.feed_archive(index + 1)] = build_feed(
            show,
            page,
            build_date=_newest(page),
            stylesheet=show.feed_stylesheet,
            page=_Page(urls[index], tuple(links), archive=True, stylesheet=stylesheet),
            items=items,
            digests=digests,
            folder=folder,
        )
    return files


def _newest(releases: Sequence[Release]) -> datetime:
    """A document's lastBuildDate: its newest episode, so that the same episodes build the same bytes."""
    return max(r.episode.date for r in releases)


def build_feed(
    show: Show,
    releases: Sequence[Release],
    *,
    build_date: datetime,
    last_build: datetime | None = None,
    stylesheet: bool = True,
    page: _Page | None = None,
    items: Units | None = None,
    digests: Digests | None = None,
    folder: Path | None = None,
) -> Content:
    """Write the RSS feed of the show.

    feedgen writes the channel and each new ``<item>``; an item is kept (in ``items``) as a
    small document of its own under a digest of what it is made from, and every item, new or
    kept, is parsed back and serialised by lxml in its place in the channel (one at a time, so
    that a long feed is never one tree in memory), so that a rebuild writes the same bytes as a
    cold build while running feedgen and the notes' Markdown for the changed
    episodes only.

    :param releases: the episodes to publish, in any order; the feed lists them newest first.
    :param build_date: written as ``lastBuildDate``: the newest content change, so that an
        unchanged show rebuilds to identical bytes.
    :param last_build: the ``lastBuildDate`` alone, when it is not ``build_date``: the date
        :func:`entretiens.dates.stamp` will most likely give it, so that it does not copy a feed
        of tens of MB to date it (it still checks, and dates it when the guess was wrong).
    :param page: this document's place in an archived feed (see :func:`build_feeds`).
    :param folder: where the document is written while it is built: the feed is then that file
        (a :class:`~entretiens.content.Stored`, see :mod:`entretiens.feedfile`), not bytes.
    :raises FeedError: feedgen refused a value (a bug: the loader should have caught it).
    :raises OutputError: ``folder`` cannot be written.
    """
    try:
        return _build(
            show,
            releases,
            build_date,
            last_build or build_date,
            stylesheet=stylesheet,
            page=page,
            items=items or Units(None, "items", version=""),
            digests=digests or Digests(),
            folder=folder,
        )
    except ValueError as exc:
        msg = f"could not build the feed ({exc}); this is a bug in entretiens, please report it"
        raise FeedError(msg) from exc


def _build(
    show: Show,
    releases: Sequence[Release],
    build_date: datetime,
    last_build: datetime,
    *,
    stylesheet: bool,
    page: _Page | None,
    items: Units,
    digests: Digests,
    folder: Path | None,
) -> Content:
    fg = FeedGenerator()
    fg.register_extension("itunes", ItunesExtension, ItunesEntryExtension, atom=False)
    fg.register_extension("podcastindex", PodcastIndexExtension, PodcastIndexEntryExtension, atom=False)
    fg.register_extension("psc", PscExtension, PscEntryExtension, atom=False)
    if stylesheet:
        fg.register_extension("stylesheet", StylesheetExtension, None, atom=False)
        fg.stylesheet.set_href(page.stylesheet if page else str(layout.FEED_STYLESHEET))
    if page is not None:
        # Registered only for a capped feed, so other shows keep exactly the bytes they had.
        fg.register_extension("history", FeedHistoryExtension, None, atom=False)
        fg.history.set_archive(page.archive)
        for rel, href in page.links:
            fg.history.add_link(rel, href)

    if show.websub_hub:
        # Registered only when used, so a show without a hub keeps exactly the bytes it had.
        fg.register_extension("websub", WebSubExtension, None, atom=False)
        fg.websub.set_hub(show.websub_hub)

    fg.title(show.title)
    # feedgen takes the RSS <link> from the last link given: the website must come last.
    fg.link(href=page.url if page else show.feed_url, rel="self", type="application/rss+xml")
    fg.link(href=show.link, rel="alternate")
    # HTML, sanitized like every other field apps render: plain text would let an escaped
    # "&lt;script&gt;" in the Markdown turn back into a tag in the apps.
    fg.description(render_markdown(show.description, base_url=show.link) or escape(show.title))
    fg.language(show.language)
    if show.copyright:
        fg.copyright(show.copyright)
    fg.generator(GENERATOR)
    fg.lastBuildDate(last_build)
    fg.pubDate(build_date)
    artwork = layout.absolute(show, show.cover_image)
    fg.image(url=artwork, title=show.title, link=show.link)

    itunes: ItunesExtension = fg.itunes
    itunes.set_author(show.author)
    itunes.set_owner(show.owner.name, show.owner.email)
    itunes.set_image(artwork)
    itunes.set_categories([(c.name, c.subcategory) for c in show.categories])
    itunes.set_explicit(show.explicit)
    itunes.set_type(show.show_type)
    itunes.set_block(show.block)
    itunes.set_complete(show.complete)
    if show.new_feed_url:
        itunes.set_new_feed_url(show.new_feed_url)

    podcast: PodcastIndexExtension = fg.podcastindex
    podcast.set_guid(show.podcast_guid)
    podcast.set_locked(show.locked, show.owner.email)
    for funding in show.funding:
        podcast.add_funding(funding.url, funding.text)
    for host in show.hosts:
        podcast.add_person(_person_tag(show, host))
    podcast.set_medium(show.medium)
    if show.license:
        podcast.set_license(show.license.identifier, show.license.url)
    if show.location:
        location = show.location
        podcast.set_location(location.name, location.geo, location.osm, location.country)

    # The channel alone, written by feedgen (its items come last in it), then read by lxml.
    root = etree.fromstring(fg.rss_str(pretty=False, encoding="UTF-8", xml_declaration=True), _PARSER)
    channel = root.find("channel")
    assert channel is not None
    # The document is written a piece at a time, never held as one tree (at 10,000 episodes
    # that tree took hundreds of MiB): lxml pretty-prints the channel around a placeholder,
    # then each item, one at a time, inside an empty channel of the same namespaces, which
    # indents it as it would be in the whole document.
    head, tail = _around_placeholder(root.getroottree(), channel, xml_declaration=True)
    # lxml writes the declaration with single quotes; Apple's examples and most validators
    # expect the conventional double-quoted form.
    head = head.replace(b"<?xml version='1.0' encoding='UTF-8'?>", b'<?xml version="1.0" encoding="UTF-8"?>', 1)
    wrapper = etree.Element("rss", nsmap=dict(root.nsmap))
    holder = etree.SubElement(wrapper, "channel")
    document = wrapper.getroottree()
    before, after = _around_placeholder(document, holder, xml_declaration=False)

    def placed(item: bytes) -> bytes:
        """An item's bytes as the document writes them, indented inside its channel."""
        holder.append(etree.fromstring(item, _PARSER)[0])
        try:
            written = etree.tostring(document, pretty_print=True, encoding="UTF-8", xml_declaration=False)
        finally:
            holder.remove(holder[0])
        if not (written.startswith(before) and written.endswith(after)):
            msg = "an item did not serialise inside its channel; this is a bug in entretiens, please report it"
            raise FeedError(msg)
        return bytes(written[len(before) : len(written) - len(after)])

    def make_item(release: Release) -> dict[str, bytes]:
        # Written by feedgen, then placed in its channel by lxml once: a rebuild copies the
        # kept bytes of every other item as they are, and their SHA-256 taken here, which
        # the lint finds its kept findings by (see feedfile.items_of): not hashed again.
        item = placed(_item(fg, show, release, root.nsmap))
        unit = {"item": item, "sha256": hashlib.sha256(item).hexdigest().encode("ascii")}
        if not feedfile.dated(item):
            # Said here once: the writer does not look for a date in it at each build.
            unit["undated"] = b""
        return unit

    overrides = unitcache.tree_stamps(show.root / TEMPLATES_DIR)
    # Taken once: the repr of the show's settings is long, and every item's key holds it. An
    # item is kept as it is written in its channel, whose namespaces it depends on.
    common = unitcache.digest(show, overrides, sorted(root.nsmap.items(), key=str))
    ordered = sorted(releases, key=lambda r: (r.episode.date, r.episode.slug), reverse=True)
    requests: list[unitcache.Request] = []
    # The requests (a closure, a key and a list an episode, none in a cycle) made with the
    # collector off and held out of its passes: else they set off full passes over the build
    # (~20 ms at 10,000 episodes). Not around get_many, which may fork workers (see gcpause).
    with gcpause.paused(hold=True):
        _requests(requests, ordered, common, digests, overrides, make_item)

    # Written as it is made (with a folder, to a file: never the whole document in memory).
    out = feedfile.Writer(folder)
    try:
        out.write(head)
        for start in range(0, len(requests), _BATCH):
            # Nothing left in the buffer for a worker the cache forks to write a second time.
            out.flush()
            for kept in items.get_many(requests[start : start + _BATCH]):
                out.write_item(kept["item"], _sha256_of(kept), undated="undated" in kept)
        out.write(tail)
    except BaseException:
        out.discard()
        raise
    return out.finish()


def _requests(
    requests: list[unitcache.Request],
    ordered: Sequence[Release],
    common: str,
    digests: Digests,
    overrides: tuple[tuple[str, object], ...],
    make_item: Callable[[Release], dict[str, bytes]],
) -> None:
    """Add to ``requests`` each release's item: its inputs, how it is made, the files it reads."""
    stamps = [stamp for _, stamp in overrides]
    for release in ordered:
        # Neighbours are not in an item (out of the release's digest); the templates of the notes are.
        requests.append(((common, digests.release(release)), functools.partial(make_item, release), stamps))


def _sha256_of(unit: dict[str, bytes]) -> str | None:
    """The SHA-256 an item's unit kept of its bytes (the unit store checks what it hands back
    against the digest it kept of it), or None when it has none of the right form."""
    digest = unit.get("sha256")
    if digest is None or len(digest) != 64 or digest.strip(b"0123456789abcdef"):
        return None
    return digest.decode("ascii")


#: Items read back from the cache at a time: enough for the cache to make missing ones on every
#: core (it forks from 64 up), few enough that the kept bytes of a 10,000-episode show are
#: never all in memory at once.
_BATCH = 512

#: Stands for the items while the rest of a document is serialised (no RSS element has this name).
_PLACEHOLDER = "entretiens-items-go-here"


def _around_placeholder(
    document: etree._ElementTree, parent: etree._Element, *, xml_declaration: bool
) -> tuple[bytes, bytes]:
    """The pretty-printed bytes of ``document`` before and after the line of a placeholder that
    is appended to ``parent`` for the time of the call (removed again on return)."""
    placeholder = etree.SubElement(parent, _PLACEHOLDER)
    try:
        whole = etree.tostring(document, pretty_print=True, encoding="UTF-8", xml_declaration=xml_declaration)
    finally:
        parent.remove(placeholder)
    found = whole.index(b"<" + _PLACEHOLDER.encode() + b"/>")
    return whole[: whole.rindex(b"\n", 0, found) + 1], whole[whole.index(b"\n", found) + 1 :]


def _person_tag(show: Show, person: Person) -> PersonTag:
    image = layout.absolute(show, person.image) if person.image else None
    return PersonTag(name=person.name, role=person.role, group=person.group, img=image, href=person.url)


#: Reads back what lxml wrote: CDATA sections (the notes in content:encoded) kept as they are.
_PARSER = etree.XMLParser(strip_cdata=False, resolve_entities=False, huge_tree=True, no_network=True)


def _item(fg: FeedGenerator, show: Show, release: Release, nsmap: Mapping[str | None, str]) -> bytes:
    """One episode's ``<item>``, written by feedgen, as a document whose root declares the
    feed's namespaces (so that the item reads back with the same prefixes)."""
    entry = fg.add_entry(order="append")
    _fill_item(entry, show, release)
    holder = etree.Element("rss", nsmap=dict(nsmap))
    holder.append(entry.rss_entry())
    return bytes(etree.tostring(holder, encoding="utf-8"))


def _fill_item(entry: FeedEntry, show: Show, release: Release) -> None:
    episode = release.episode
    entry.title(episode.title)
    entry.link(href=layout.episode_url(show, episode))
    entry.guid(episode.guid, permalink=False)
    entry.pubDate(episode.date)
    entry.description(notes.feed_description(show, release))
    entry.content(notes.feed_content(show, release), type="CDATA")
    entry.enclosure(layout.enclosure_url(show, episode), str(release.enclosure_length), release.audio.mime_type)

    itunes: ItunesEntryExtension = entry.itunes
    itunes.set_title(episode.title)
    itunes.set_duration(duration_seconds(release))
    itunes.set_image(layout.absolute(show, episode.cover_image or show.cover_image))
    itunes.set_explicit(show.explicit if episode.explicit is None else episode.explicit)
    if episode.number is not None:
        itunes.set_episode(episode.number)
    if episode.season is not None:
        itunes.set_season(episode.season)
    itunes.set_episode_type(episode.episode_type)

    podcast: PodcastIndexEntryExtension = entry.podcastindex
    if episode.season is not None:
        podcast.set_season(episode.season, episode.season_name)
    if episode.number is not None:
        podcast.set_episode(episode.number)
    # Item persons replace the channel's in apps, so hosts are repeated beside the guests.
    for person in (*show.hosts, *episode.guests):
        podcast.add_person(_person_tag(show, person))
    if release.chapters:
        podcast.set_chapters(layout.url_for(show, layout.chapters_file(episode)))
    for transcript in release.transcripts:
        podcast.add_transcript(
            layout.url_for(show, transcript.path), transcript.mime_type, transcript.language, transcript.rel
        )
    for soundbite in episode.soundbites:
        podcast.add_soundbite(soundbite.start, soundbite.duration, soundbite.title)

    psc: PscEntryExtension = entry.psc
    for chapter in release.chapters:
        psc.add_chapter(
            chapter.start,
            chapter.title,
            chapter.url,
            layout.absolute(show, chapter.image) if chapter.image else None,
        )
