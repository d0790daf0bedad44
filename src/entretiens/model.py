"""Typed values for a show, its episodes and their audio: what every stage reads, with no I/O."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal, TypeGuard

from .errors import Problem
from .podcast_spec import EpisodeType, ShowType

#: How a duration was obtained: "header" (the container's own, trusted), "measured" (frames
#: walked, or the audio present when the header announces more), or "declared" (a remote
#: recording, as the feed that first published it said).
DurationMethod = Literal["header", "measured", "declared"]


#: A file the show publishes (audio, artwork, a photo, a chapter image): a path relative to the
#: show folder (``audio/001.mp3``) or an absolute http(s) URL. Which one is told by
#: :func:`is_remote`, the only place that knows how.
MediaRef = str


def is_remote(reference: MediaRef | None) -> TypeGuard[MediaRef]:
    """Whether a media reference is a URL (served by another host) rather than a show file."""
    return reference is not None and "://" in reference


def is_local(reference: MediaRef | None) -> TypeGuard[MediaRef]:
    """Whether a media reference names a file of the show folder (None and "" name nothing)."""
    return bool(reference) and not is_remote(reference)


@dataclass(frozen=True, slots=True, kw_only=True)
class Source:
    """Where a value was written: the file and the 1-based line, for error messages."""

    path: Path
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.path}:{self.line}" if self.line else str(self.path)


@dataclass(frozen=True, slots=True, kw_only=True)
class Owner:
    """Who Apple contacts about the show. RSS: <itunes:owner>."""

    name: str
    #: Published in the feed (Apple needs it); also the owner of <podcast:locked>.
    email: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Person:
    """A host or a guest. RSS: <podcast:person>; pages: a guest card."""

    name: str
    #: Registry id (``guests/<id>.yaml``), or None for a person written inline.
    id: str | None = None
    #: Podcasting 2.0 taxonomy role and group, lower case ("guest", "cast").
    role: str = "guest"
    group: str = "cast"
    #: Markdown.
    bio: str = ""
    #: The person's own page. RSS: <podcast:person href>.
    url: str | None = None
    #: Photo: an absolute URL, or a show-relative file that publish copies.
    image: MediaRef | None = None
    #: Other profiles (label -> URL), shown on pages.
    social: tuple[tuple[str, str], ...] = ()
    #: The registry file ``guests/<id>.yaml`` and the lines of its fields; None and () inline.
    #: Out of repr: the lines name private keys (``email``) the model never carries.
    source: Source | None = field(default=None, compare=False, repr=False)
    lines: tuple[tuple[str, int], ...] = field(default=(), compare=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Link:
    """A resource cited during an interview."""

    title: str
    url: str
    source: Source | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Chapter:
    """A moment of the conversation. RSS: JSON chapters, <psc:chapter>; audio: ID3 CHAP."""

    start: float
    title: str
    url: str | None = None
    image: MediaRef | None = None
    source: Source | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Soundbite:
    """A short excerpt an app may play as a preview. RSS: <podcast:soundbite>."""

    start: float
    duration: float
    title: str = ""
    source: Source | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Transcript:
    """A transcript file of the show folder. RSS: <podcast:transcript>."""

    path: Path
    #: BCP 47 language; defaults to the show's.
    language: str
    source: Source | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Funding:
    """Where listeners can support the show. RSS: <podcast:funding>."""

    url: str
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Category:
    """An Apple Podcasts category, with at most one subcategory. RSS: <itunes:category>."""

    name: str
    subcategory: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class License:
    """RSS: <podcast:license>."""

    identifier: str
    url: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Location:
    """RSS: <podcast:location>."""

    name: str
    geo: str | None = None
    osm: str | None = None
    country: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoteAudioSettings:
    """Bounds of remote audio downloads, from feed.yaml's ``remote_audio:``; None means the default."""

    #: Largest file downloaded, in bytes (default 2 GiB, see remote.py).
    max_size: int | None = None
    #: Seconds one file may take to download (default 30 minutes).
    deadline: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DeploySettings:
    """Where ``entretiens deploy`` puts public/, from feed.yaml's ``deploy:``. Never credentials."""

    #: ``s3://BUCKET/PREFIX`` or a folder (absolute, or relative to the show folder).
    to: str | None = None
    #: The S3-compatible service's URL (R2, B2, MinIO...); None lets boto3 decide (AWS, AWS_ENDPOINT_URL).
    endpoint_url: str | None = None
    region: str | None = None
    #: Tell the Podcast Index (pubnotify) after each deploy.
    podcast_index: bool = True
    #: A Podping HTTP gateway; its token is read from the environment, never from a file.
    podping: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Show:
    """The podcast itself, read from ``feed.yaml``."""

    #: The folder holding feed.yaml; relative paths in the show resolve against it.
    root: Path
    title: str
    subtitle: str = ""
    #: Markdown. RSS: <description>, <itunes:summary>.
    description: str
    #: ISO 639-1 code with an optional region ("fr", "fr-FR").
    language: str
    #: Where public/ is served, always ending in "/".
    base_url: str
    #: The show's website. Defaults to base_url.
    link: str
    timezone: str = "UTC"
    author: str
    owner: Owner
    #: Square JPEG/PNG, 1400-3000 px: a show-relative path or an absolute URL. RSS: <itunes:image>.
    cover_image: MediaRef
    categories: tuple[Category, ...]
    explicit: bool = False
    #: "episodic" or "serial". RSS: <itunes:type>.
    show_type: ShowType = "episodic"
    copyright: str = ""
    hosts: tuple[Person, ...] = ()
    funding: tuple[Funding, ...] = ()
    #: RSS: <podcast:locked>: other platforms may not import the feed.
    locked: bool = True
    #: RSS: <podcast:guid>: feed.yaml's `guid:`, else pinned in published.yaml, else computed.
    podcast_guid: str = ""
    #: RSS: <podcast:medium>.
    medium: str = "podcast"
    license: License | None = None
    location: Location | None = None
    #: RSS: <itunes:block>, <itunes:complete>, <itunes:new-feed-url>.
    block: bool = False
    complete: bool = False
    new_feed_url: str | None = None
    #: Directory pages listeners subscribe from (label -> URL): "apple", "spotify", ...
    subscribe: tuple[tuple[str, str], ...] = ()
    #: Write tags, artwork and chapters into the published audio copies.
    tag_audio: bool = False
    #: Ask browsers to show feed.xml through feed.xsl (XSLT, which browsers are removing).
    feed_stylesheet: bool = False
    #: A WebSub hub that deploy notifies. RSS: <atom:link rel="hub">.
    websub_hub: str | None = None
    #: The newest this many episodes in feed.xml, the older ones in RFC 5005 archive pages.
    #: RSS: <atom:link rel="prev-archive">; None: every episode in feed.xml.
    feed_limit: int | None = None
    deploy: DeploySettings = field(default_factory=DeploySettings)
    remote_audio: RemoteAudioSettings = field(default_factory=RemoteAudioSettings)
    source: Source | None = field(default=None, compare=False)
    #: The line of every field of feed.yaml, nested ones included (``hosts[0].url``).
    lines: tuple[tuple[str, int], ...] = field(default=(), compare=False)

    def line_of(self, key: str) -> int | None:
        """The line a field of feed.yaml was written on (dotted: ``funding[1].url``), if known."""
        return dict(self.lines).get(key)

    @property
    def feed_url(self) -> str:
        """The URL the feed is served at."""
        return self.base_url + "feed.xml"


@dataclass(frozen=True, slots=True, kw_only=True)
class DeclaredAudio:
    """Audio left at another host, as that host's feed declared it (an imported show).

    Published as declared, without downloading the file: ``check --remote-audio`` verifies it.
    """

    #: RSS: <enclosure length>.
    length: int
    #: RSS: <enclosure type>.
    mime_type: str
    duration: timedelta


@dataclass(frozen=True, slots=True, kw_only=True)
class Episode:
    """One interview, read from ``episodes/<slug>.yaml``."""

    slug: str
    #: The YAML file the episode comes from.
    path: Path
    title: str
    #: tz-aware publication date. RSS: <pubDate>.
    date: datetime
    #: A show-relative audio file, or an absolute https URL (http too when ``declared_audio``).
    audio: MediaRef
    #: For audio left at another host: the length, type and duration its feed declared.
    declared_audio: DeclaredAudio | None = None
    number: int | None = None
    season: int | None = None
    season_name: str | None = None
    #: "full", "trailer" or "bonus". RSS: <itunes:episodeType>.
    episode_type: EpisodeType = "full"
    #: One or two sentences, plain text.
    summary: str = ""
    #: Show notes, Markdown.
    notes: str = ""
    guests: tuple[Person, ...] = ()
    links: tuple[Link, ...] = ()
    #: The sentence to remember from the interview.
    quote: str = ""
    chapters: tuple[Chapter, ...] = ()
    soundbites: tuple[Soundbite, ...] = ()
    transcripts: tuple[Transcript, ...] = ()
    #: Episode artwork, same rules as the show's. RSS: <itunes:image>.
    cover_image: MediaRef | None = None
    #: None inherits the show's value.
    explicit: bool | None = None
    #: The GUID: the YAML's `guid:`, else the one pinned in published.yaml, else a new one.
    guid: str = ""
    draft: bool = False
    #: Written by ``import``: the episode was live at another host before (its number may be shared).
    imported: bool = False
    #: Line numbers of the episode's fields, for messages about them.
    lines: tuple[tuple[str, int], ...] = field(default=(), compare=False)

    def line_of(self, key: str) -> int | None:
        """The line a top-level field was written on, if known."""
        return dict(self.lines).get(key)


@dataclass(frozen=True, slots=True, kw_only=True)
class Project:
    """A loaded show folder: the show and every episode file, oldest first."""

    show: Show
    episodes: tuple[Episode, ...]
    #: GUIDs pinned by earlier publishes (published.yaml).
    state: PublishState
    #: Warnings met while loading.
    warnings: tuple[Problem, ...] = ()
    #: slug -> :meth:`entry_digest` (the episodes the loader could write as a kept entry).
    entry_digests: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)
    #: The people of the guests' registry as the loader read them: the very objects its
    #: episodes hold for the guests their files name by id. None: not known (then any guest
    #: may be one of them, see :meth:`entry_digest`).
    people: tuple[Person, ...] | None = field(default=None, compare=False, repr=False)

    def entry_digest(self, slug: str) -> str | None:
        """A digest of everything the episode ``slug`` of :attr:`episodes` holds, or None.

        It digests the loader's kept entry that the Episode is exactly what decodes to (see
        :mod:`entretiens.episodecache`: every field, lines and sources included): the entry's
        body, the episode file's path, and the GUID the loader gave the episode (pinned,
        written or derived). Equal digests mean equal Episodes, field for field, in any build
        of the show, but for the guests of the registry: the entry names them by their id, and
        the Episode holds the registry's own Person (one of :attr:`people`, the very object),
        which the digest does NOT cover (digest each such guest apart, see
        :func:`entretiens.unitkeys.episode_digests`): so that editing one guest's file moves no
        episode's digest. Any other guest (written in the episode's file, or a registry guest
        with a role or bio of its own there) is in the entry whole, so in the digest.

        It does NOT cover what the Episode only names either: the content of its audio, images
        and transcript files, nor the show's settings (feed.yaml), nor the other episodes. None
        when the loader could not write the episode as an entry (a file the cache is off for,
        a value the format does not hold): then digest the Episode itself.
        """
        return self.entry_digests.get(slug)


@dataclass(frozen=True, slots=True)
class Change:
    """What a publish put out for the show or one episode (a hash), and since when it has been so."""

    hash: str
    date: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class PublishState:
    """What earlier publishes pinned: the show's podcast:guid and each episode's GUID, and when
    what they published last changed (the feed's lastBuildDate, the sitemap's lastmod)."""

    podcast_guid: str | None = None
    #: slug -> GUID.
    guids: tuple[tuple[str, str], ...] = ()
    #: The whole show's last change, if recorded.
    show_change: Change | None = None
    #: slug -> each episode's last change.
    episode_changes: tuple[tuple[str, Change], ...] = ()

    def guid_for(self, slug: str) -> str | None:
        """The GUID pinned for an episode slug, if any."""
        return dict(self.guids).get(slug)


@dataclass(frozen=True, slots=True, kw_only=True)
class EmbeddedChapter:
    """A chapter read from the audio file itself (ID3 CHAP, MP4 chapters)."""

    start: float
    title: str
    url: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AudioInfo:
    """What the audio file really is, measured by the probe."""

    #: Exact size in bytes. RSS: <enclosure length>.
    size: int
    #: Measured duration. RSS: <itunes:duration> (rounded to whole seconds).
    duration: timedelta
    #: RSS: <enclosure type>: audio/mpeg, audio/x-m4a, audio/ogg, ...
    mime_type: str
    #: Short codec name for people: "MP3", "AAC", "Opus", ...
    codec: str = ""
    bitrate: int | None = None
    sample_rate: int | None = None
    channels: int | None = None
    #: How the duration was obtained.
    duration_method: DurationMethod = "header"
    #: The longer duration the file's own header announced, when the audio present ends
    #: before it: most likely a cut copy or upload.
    announced: timedelta | None = None
    #: Bytes after the end of the audio that are neither audio nor tags (junk, zeros): apps
    #: download them for nothing. Measured for MP3.
    trailing: int = 0
    #: Embedded title/artist/album tags, as read.
    tags: tuple[tuple[str, str], ...] = ()
    chapters: tuple[EmbeddedChapter, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class PublishedTranscript:
    """A transcript file as published: where it is and how the feed announces it."""

    #: Path inside public/.
    path: str
    mime_type: str
    language: str
    #: "captions" for timed formats (VTT, SRT), None otherwise.
    rel: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Release:
    """An episode ready to publish: the episode, its measured audio and what was derived from both."""

    episode: Episode
    audio: AudioInfo
    #: The YAML's chapters, or those embedded in the audio when the YAML has none.
    chapters: tuple[Chapter, ...] = ()
    transcripts: tuple[PublishedTranscript, ...] = ()
    #: The file published at the enclosure URL: the original, or a tagged copy. None for remote audio.
    audio_file: Path | None = None
    #: Size of the published audio in bytes (differs from audio.size when tags are written into
    #: the copy). RSS: <enclosure length>. No default: a 0 would be a lie apps believe.
    enclosure_length: int
    #: (size, mtime, ctime in ns) of ``audio_file`` when it was measured: publish refuses to copy a file
    #: that changed since (an export still writing), whose enclosure length would be wrong.
    audio_stamp: tuple[int, int, int] | None = None
    #: Previous and next published episodes' slugs, oldest to newest.
    previous: str | None = None
    next: str | None = None


_FIELD_PART = re.compile(r"\[\d+\]|[^.\[\]]+")


class FieldLines:
    """Where each field of the show's YAML files was written, from the loader's one parse.

    Covers feed.yaml, every episode file and the registry files of the guests and hosts the
    show names; no file is read again.
    """

    def __init__(self, project: Project) -> None:
        self._project = project
        # Made at the first question: a build whose checks are all kept asks none.
        self._files: dict[str, tuple[tuple[str, int], ...]] | None = None
        #: The files asked about, as mappings (each made at its first question).
        self._asked: dict[str, dict[str, int]] = {}

    def _made(self) -> dict[str, tuple[tuple[str, int], ...]]:
        # Keyed by the paths' texts, each already made by the loader (a Path's hash is taken
        # part by part), and each file's lines left as they are until asked about: an edit's
        # checks ask about one episode, and a mapping made for each file of 10,000 cost ~20 ms.
        files: dict[str, tuple[tuple[str, int], ...]] = {}
        show = self._project.show
        episodes = self._project.episodes
        if show.source is not None:
            files[str(show.source.path)] = show.lines
        for episode in episodes:
            files[str(episode.path)] = episode.lines
        for person in (*show.hosts, *(guest for episode in episodes for guest in episode.guests)):
            if person.source is not None:
                files[str(person.source.path)] = person.lines
        self._files = files
        return files

    def line(self, path: Path, field: str) -> int | None:
        """The line of the deepest part of ``field`` the file holds (the item, when the key is absent).

        A lone value written where a list is allowed counts as a list of one: ``guests[0].bio``
        of ``guest: ada`` is the line of ``guest``.
        """
        key = str(path)
        lines = self._asked.get(key)
        if lines is None:
            files = self._files if self._files is not None else self._made()
            found = files.get(key)
            if found is None:
                return None
            lines = self._asked[key] = dict(found)
        parts = _FIELD_PART.findall(field)
        for end in range(len(parts), 0, -1):
            dotted = "".join(
                part if part.startswith("[") or not index else f".{part}" for index, part in enumerate(parts[:end])
            )
            if dotted in lines:
                return lines[dotted]
        return lines.get("")
