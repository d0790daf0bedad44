"""The show and its releases into podcast RSS bytes, through feedgen and our extensions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from feedgen.feed import FeedGenerator

from . import __version__, layout, notes
from .errors import FeedError
from .ext.itunes import ItunesEntryExtension, ItunesExtension
from .ext.podcastindex import PersonTag, PodcastIndexEntryExtension, PodcastIndexExtension
from .ext.psc import PscEntryExtension, PscExtension
from .ext.stylesheet import StylesheetExtension
from .ext.websub import WebSubExtension
from .markup import escape, render_markdown
from .model import Person, Release, Show

GENERATOR = f"entretiens {__version__}"


def duration_seconds(release: Release) -> int:
    """Whole seconds for ``itunes:duration``, never 0 for real audio."""
    return max(1, round(release.audio.duration.total_seconds()))


def build_feed(show: Show, releases: Sequence[Release], *, build_date: datetime, stylesheet: bool = True) -> bytes:
    """Write the RSS feed of the show.

    :param releases: the episodes to publish, in any order; the feed lists them newest first.
    :param build_date: written as ``lastBuildDate``: the newest content change, so that an
        unchanged show rebuilds to identical bytes.
    :raises FeedError: feedgen refused a value (a bug: the loader should have caught it).
    """
    try:
        return _build(show, releases, build_date, stylesheet=stylesheet)
    except ValueError as exc:
        msg = f"could not build the feed ({exc}); this is a bug in entretiens, please report it"
        raise FeedError(msg) from exc


def _build(show: Show, releases: Sequence[Release], build_date: datetime, *, stylesheet: bool) -> bytes:
    fg = FeedGenerator()
    fg.register_extension("itunes", ItunesExtension, ItunesEntryExtension, atom=False)
    fg.register_extension("podcastindex", PodcastIndexExtension, PodcastIndexEntryExtension, atom=False)
    fg.register_extension("psc", PscExtension, PscEntryExtension, atom=False)
    if stylesheet:
        fg.register_extension("stylesheet", StylesheetExtension, None, atom=False)
        fg.stylesheet.set_href(str(layout.FEED_STYLESHEET))

    if show.websub_hub:
        # Registered only when used, so a show without a hub keeps exactly the bytes it had.
        fg.register_extension("websub", WebSubExtension, None, atom=False)
        fg.websub.set_hub(show.websub_hub)

    fg.title(show.title)
    # feedgen takes the RSS <link> from the last link given: the website must come last.
    fg.link(href=show.feed_url, rel="self", type="application/rss+xml")
    fg.link(href=show.link, rel="alternate")
    # HTML, sanitized like every other field apps render: plain text would let an escaped
    # "&lt;script&gt;" in the Markdown turn back into a tag in the apps.
    fg.description(render_markdown(show.description, base_url=show.link) or escape(show.title))
    fg.language(show.language)
    if show.copyright:
        fg.copyright(show.copyright)
    fg.generator(GENERATOR)
    fg.lastBuildDate(build_date)
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

    ordered = sorted(releases, key=lambda r: (r.episode.date, r.episode.slug), reverse=True)
    for release in ordered:
        _add_item(fg, show, release)
    data: bytes = fg.rss_str(pretty=True, encoding="UTF-8", xml_declaration=True)
    # feedgen writes the declaration with single quotes; Apple's examples and most validators
    # expect the conventional double-quoted form.
    return data.replace(b"<?xml version='1.0' encoding='UTF-8'?>", b'<?xml version="1.0" encoding="UTF-8"?>', 1)


def _person_tag(show: Show, person: Person) -> PersonTag:
    image = layout.absolute(show, person.image) if person.image else None
    return PersonTag(name=person.name, role=person.role, group=person.group, img=image, href=person.url)


def _add_item(fg: FeedGenerator, show: Show, release: Release) -> None:
    episode = release.episode
    entry = fg.add_entry(order="append")
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
