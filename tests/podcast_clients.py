"""Real podcast clients (podcastparser, feedparser, podcast-partytime) run on a feed, for tests."""

from __future__ import annotations

import calendar
import io
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal, NoReturn, TypedDict, cast

import feedparser
import podcastparser
import pytest

if TYPE_CHECKING:
    from collections.abc import Iterable

#: The folder of the small Node project that pins podcast-partytime.
CLIENTS_DIR = Path(__file__).parent / "clients"
PARTYTIME_SCRIPT = CLIENTS_DIR / "partytime.cjs"
#: Present once ``npm ci --prefix tests/clients`` has run.
PARTYTIME_MANIFEST = CLIENTS_DIR / "node_modules" / "podcast-partytime" / "package.json"
INSTALL_HINT = "run `npm ci --prefix tests/clients`"

PODCAST_NAMESPACE = "https://podcastindex.org/namespace/1.0"
#: The only URIs under which podcastparser 0.6 reads ``podcast:`` tags.
PODCAST_NAMESPACE_ALIAS = "https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/1.0.md"

ClientName = Literal["podcastparser", "feedparser", "partytime"]
CLIENTS: tuple[ClientName, ...] = ("podcastparser", "feedparser", "partytime")

# A node that hangs must not hang the suite; parsing a feed takes well under a second.
_NODE_TIMEOUT = 60
#: partytime.cjs exit status when partytime returned null or threw.
_PARTYTIME_REJECTED = 3


class FeedClientError(Exception):
    """A client could not parse the feed at all (the feed rules count this as an error)."""


# --- podcastparser 0.6 output (only the keys it can set; most are optional) ---------------


class PodcastparserEnclosure(TypedDict):
    url: str | None
    #: -1 when ``length`` is missing, zero or not an integer.
    file_size: int
    #: ``application/octet-stream`` when ``type`` is missing or has no slash.
    mime_type: str


class PodcastparserPerson(TypedDict):
    name: str
    #: Lower-cased; defaults "host" and "cast".
    role: str
    group: str
    href: str | None
    img: str | None


class PodcastparserChapter(TypedDict, total=False):
    """A Podlove Simple Chapters ``psc:chapter`` as podcastparser reads it."""

    #: Whole seconds (fractions dropped).
    start: int
    title: str
    href: str
    image: str


class PodcastparserEpisode(TypedDict, total=False):
    title: str
    guid: str
    link: str
    description: str
    description_html: str
    subtitle: str
    #: Epoch seconds; 0 when missing or unparseable.
    published: int
    #: Whole seconds (fractions dropped); 0 when missing or unparseable.
    total_time: int
    enclosures: list[PodcastparserEnclosure]
    explicit: bool
    number: int
    season: int
    type: str
    episode_art_url: str
    itunes_author: str
    payment_url: str | None
    #: podcast: tags, read only under the alias namespace URI; the last transcript wins.
    transcript_url: str
    chapters_json_url: str
    persons: list[PodcastparserPerson]
    #: Podlove Simple Chapters (``psc:``), read whatever the podcast: namespace URI.
    chapters: list[PodcastparserChapter]


class PodcastparserFeed(TypedDict, total=False):
    title: str
    link: str
    description: str
    language: str
    cover_url: str
    type: str
    explicit: bool
    itunes_author: str
    itunes_owner: dict[str, str]
    #: One list per top-level category: ``[parent, child, ...]``, unknown names kept.
    itunes_categories: list[list[str]]
    generator: str
    new_url: str
    #: podcast: tags, read only under the alias namespace URI; the last funding wins.
    funding_url: str
    #: ``podcast:locked`` yes/true -> True, no/false -> False; owner= not needed.
    import_prohibited: bool
    episodes: list[PodcastparserEpisode]


# --- partytime.cjs output (documented at the top of the script) ----------------------------


class PartytimeClient(TypedDict):
    name: str
    version: str


class PartytimeOwner(TypedDict):
    name: str | None
    email: str | None


class PartytimePerson(TypedDict):
    name: str | None
    #: Taxonomy case ("Guest"); an unknown role reads as "Host", an unknown group as "Cast".
    role: str | None
    group: str | None
    href: str | None
    img: str | None


class PartytimeFunding(TypedDict):
    url: str | None
    message: str | None


class PartytimeLicense(TypedDict):
    identifier: str | None
    url: str | None


class PartytimeLocation(TypedDict):
    name: str | None
    geo: str | None
    osm: str | None


class PartytimeEnclosure(TypedDict):
    url: str | None
    #: 0 when missing.
    length: int | None
    #: Guessed from the URL's extension when missing (``.m4a`` -> ``audio/m4a``).
    type: str | None


class PartytimeTranscript(TypedDict):
    url: str | None
    #: ``application/x-subrip`` reads as ``application/srt``; unknown types as ``unknown``.
    type: str | None
    #: Falls back to the channel's ``<language>``.
    language: str | None
    #: Any ``rel`` reads as ``captions``.
    rel: str | None


class PartytimeChapters(TypedDict):
    url: str | None
    type: str | None


class PartytimeSoundbite(TypedDict):
    start_time: float | None
    duration: float | None
    title: str | None


class PartytimeEpisodeNumber(TypedDict):
    number: float | None
    display: str | None


class PartytimeSeason(TypedDict):
    number: int | None
    name: str | None


class PartytimeItem(TypedDict):
    title: str | None
    guid: str | None
    enclosure: PartytimeEnclosure | None
    duration: float | None
    pub_date: str | None
    pub_date_epoch: int | None
    explicit: bool | None
    episode_type: str | None
    itunes_episode: int | None
    itunes_season: int | None
    podcast_episode: PartytimeEpisodeNumber | None
    podcast_season: PartytimeSeason | None
    persons: list[PartytimePerson]
    transcripts: list[PartytimeTranscript]
    chapters: PartytimeChapters | None
    soundbites: list[PartytimeSoundbite]
    funding: list[PartytimeFunding]
    license: PartytimeLicense | None
    location: PartytimeLocation | None
    image: str | None
    itunes_image: str | None
    link: str | None


class PartytimeFeed(TypedDict):
    client: PartytimeClient
    title: str | None
    link: str | None
    language: str | None
    guid: str | None
    locked: bool | None
    locked_owner: str | None
    owner: PartytimeOwner | None
    author: str | None
    explicit: bool | None
    itunes_type: str | None
    itunes_categories: list[str]
    categories: list[str]
    image: str | None
    itunes_image: str | None
    medium: str | None
    license: PartytimeLicense | None
    location: PartytimeLocation | None
    funding: list[PartytimeFunding]
    persons: list[PartytimePerson]
    items: list[PartytimeItem]


# --- the three clients ---------------------------------------------------------------------


def parse_with_podcastparser(xml: bytes, url: str) -> PodcastparserFeed:
    """Parse a feed as gPodder does, with ``podcastparser.parse(url, stream)``.

    Quirks of podcastparser 0.6.x worth knowing when reading its output:

    - ``podcast:`` tags are read only when the prefix is bound to the GitHub alias URI
      (:data:`PODCAST_NAMESPACE_ALIAS`); under the canonical :data:`PODCAST_NAMESPACE`
      it sees no person, transcript, chapters, funding or locked. See
      :func:`alias_podcast_namespace`.
    - A ``<guid>`` without ``isPermaLink="false"`` is a permalink: it is resolved against
      ``url`` (``ep-1`` becomes ``https://host/dir/ep-1``) and copied into ``link``.
    - Episodes come back sorted by ``pubDate``: newest first, or oldest first when
      ``itunes:type`` is ``serial``; ties keep document order.
    - ``itunes:duration`` accepts ``S``, ``M:S`` and ``H:M:S`` with a fraction, and keeps
      whole seconds; anything else reads as 0. Only one transcript and one funding URL (the
      last) are kept; ``podcast:guid``, ``podcast:season`` and ``podcast:episode`` are
      not read.

    :param xml: the feed document.
    :param url: the feed's URL, used to resolve relative links and permalink GUIDs.
    :returns: podcastparser's dict.
    :raises FeedClientError: podcastparser rejected the document.
    """
    try:
        parsed = podcastparser.parse(url, io.BytesIO(xml))
    except podcastparser.FeedParseError as exc:
        message = f"podcastparser could not parse the feed: {exc}"
        raise FeedClientError(message) from exc
    return cast("PodcastparserFeed", parsed)


def parse_with_feedparser(xml: bytes, *, strict: bool = True) -> feedparser.FeedParserDict:
    """Parse a feed with feedparser 6, as many podcast apps and scripts do.

    feedparser reads ``itunes:duration``, ``itunes:episode`` and ``itunes:season`` as raw
    strings and ``itunes:explicit`` only as ``yes`` (True) or ``clean`` (False): Apple's
    ``true``/``false`` read as None. It has no ``podcast:`` support: each such tag becomes a
    ``podcast_<name>`` key holding only the *last* tag's attributes, and its text only when
    it has no attributes. A ``<guid>`` keeps its text; without ``isPermaLink="false"`` it
    also becomes the entry's ``link`` (``guidislink``). Entries keep document order.

    :param xml: the feed document.
    :param strict: raise when feedparser flags the document (``bozo``), for instance when it
        is not well-formed XML; with False, return feedparser's best effort.
    :returns: feedparser's result (``.feed``, ``.entries``, ``.bozo``, ...).
    :raises FeedClientError: feedparser flagged the document and ``strict`` is set.
    """
    # A stream, not bytes: feedparser would first try bytes as a file name.
    parsed = feedparser.parse(io.BytesIO(xml))
    if strict and parsed.bozo:
        message = f"feedparser flagged the feed: {parsed.get('bozo_exception')!r}"
        raise FeedClientError(message)
    return parsed


def parse_with_partytime(xml: bytes) -> PartytimeFeed:
    """Parse a feed with podcast-partytime, Podcast Index's parser, through Node.

    Runs ``tests/clients/partytime.cjs``; its header documents every key. Quirks of
    partytime 5:

    - Items without an enclosure URL, without a ``<guid>``, or without both title and
      description are skipped. A title or guid that looks like a number is read as a
      number: ``<title>42</title>`` is lost (and the item skipped when it has no
      description), ``<guid>00123</guid>`` reads as ``123`` and ``1e3`` as ``1000``.
    - ``podcast:locked`` is ignored without its ``owner`` attribute (``locked`` is None).
    - Categories outside Apple's list are dropped from ``itunes_categories``.
    - Tags are matched on the literal ``podcast:`` and ``itunes:`` prefixes; namespace URIs
      are not checked. Item-level ``podcast:funding`` is not read.
    - A soundbite whose ``startTime`` is 0 is dropped. An unparseable ``itunes:duration``
      reads as 1800 s; fractional seconds are kept.
    - ``pubDate`` goes through JavaScript's ``Date``: lenient (a wrong weekday passes), but
      zone names such as ``CET`` give null, and a date without zone is node's local time.

    :param xml: the feed document.
    :returns: what partytime read.
    :raises FeedClientError: partytime rejected the document (invalid XML, no channel).
    """
    node = shutil.which("node")
    if node is None:
        _unavailable("node is not on PATH (Debian: apt-get install nodejs npm)")
    if not PARTYTIME_MANIFEST.is_file():
        _unavailable(f"podcast-partytime is not installed in {CLIENTS_DIR}")
    # pino logs to stdout, where our JSON goes: keep it quiet whatever the caller's setting.
    env = {**os.environ, "PARTYTIME_LOG": "silent"}
    # The arguments are fixed (node and our own script); the feed goes through stdin.
    result = subprocess.run(
        [node, str(PARTYTIME_SCRIPT)],
        input=xml,
        capture_output=True,
        cwd=CLIENTS_DIR,
        env=env,
        timeout=_NODE_TIMEOUT,
        check=False,
    )
    stderr = result.stderr.decode("utf-8", "replace").strip()
    if result.returncode == _PARTYTIME_REJECTED:
        raise FeedClientError(stderr)
    if result.returncode != 0:
        message = f"partytime.cjs failed with status {result.returncode}: {stderr}"
        raise RuntimeError(message)
    return cast("PartytimeFeed", json.loads(result.stdout))


def alias_podcast_namespace(xml: bytes) -> bytes:
    """Rebind the ``podcast:`` prefix to the GitHub alias URI that podcastparser 0.6 reads.

    :param xml: a feed using the canonical namespace URI.
    :returns: the same feed with the alias URI instead.
    """
    return xml.replace(PODCAST_NAMESPACE.encode(), PODCAST_NAMESPACE_ALIAS.encode())


def _unavailable(reason: str) -> NoReturn:
    """Skip the test, or fail it when the environment requires every tool."""
    if os.environ.get("ENTRETIENS_REQUIRE_TOOLS") == "1":
        pytest.fail(f"{reason}; {INSTALL_HINT}", pytrace=False)
    pytest.skip(f"{reason} ({INSTALL_HINT})")


# --- one shape for all three ---------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Enclosure:
    """The first enclosure an episode has, as a client read it."""

    url: str | None
    #: Bytes; None when the client read no positive length.
    length: int | None
    type: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class NormalizedEpisode:
    """What a client read of one episode, in the same terms for every client."""

    title: str | None
    guid: str | None
    enclosure: Enclosure | None
    #: Seconds; None when the client read none (its 0 means "unknown").
    duration: float | None
    #: Epoch seconds of ``pubDate``; None when the client read none.
    published: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class NormalizedFeed:
    """What a client read of a feed: its title and its episodes, oldest first."""

    title: str | None
    #: Sorted by ``published`` (episodes without one last); ties keep document order, so
    #: the order no longer depends on the client (podcastparser sorts, the others do not).
    episodes: tuple[NormalizedEpisode, ...]


def normalized(xml: bytes, url: str, clients: Iterable[ClientName] = CLIENTS) -> dict[ClientName, NormalizedFeed]:
    """Parse a feed with each client and bring what they read into one shape.

    Two clients agree when their :class:`NormalizedFeed` values are equal. Where partytime is
    not installed, it is left out of the result, so that the test still runs with the two
    Python clients (under ENTRETIENS_REQUIRE_TOOLS=1 its absence fails the test instead).

    :param xml: the feed document.
    :param url: the feed's URL (podcastparser resolves against it).
    :param clients: which clients to run.
    :returns: one normalized feed per client.
    :raises FeedClientError: a client could not parse the feed.
    """
    feeds: dict[ClientName, NormalizedFeed] = {}
    for client in clients:
        if client == "podcastparser":
            feeds[client] = normalize_podcastparser(parse_with_podcastparser(xml, url))
        elif client == "feedparser":
            feeds[client] = normalize_feedparser(parse_with_feedparser(xml))
        else:
            try:
                feeds[client] = normalize_partytime(parse_with_partytime(xml))
            except pytest.skip.Exception:
                continue
    return feeds


def normalize_podcastparser(parsed: PodcastparserFeed) -> NormalizedFeed:
    """Bring podcastparser's output into the common shape.

    :param parsed: a :func:`parse_with_podcastparser` result.
    :returns: the normalized feed.
    """
    episodes = []
    for episode in parsed.get("episodes", []):
        first = next(iter(episode.get("enclosures", [])), None)
        enclosure = None if first is None else _enclosure(first["url"], first["file_size"], first["mime_type"])
        episodes.append(
            NormalizedEpisode(
                title=episode.get("title"),
                guid=episode.get("guid"),
                enclosure=enclosure,
                duration=_positive_seconds(episode.get("total_time")),
                published=episode.get("published") or None,
            )
        )
    return NormalizedFeed(title=parsed.get("title"), episodes=_oldest_first(episodes))


def normalize_feedparser(parsed: feedparser.FeedParserDict) -> NormalizedFeed:
    """Bring feedparser's output into the common shape.

    feedparser leaves ``itunes:duration`` as text; it is read here with
    :func:`parse_duration`, the way a client doing the simplest thing would.

    :param parsed: a :func:`parse_with_feedparser` result.
    :returns: the normalized feed.
    """
    episodes = []
    for entry in parsed.entries:
        # An entry without any link has no ``enclosures`` key at all.
        first = next(iter(entry.get("enclosures", [])), None)
        enclosure = (
            None if first is None else _enclosure(first.get("href"), _integer(first.get("length")), first.get("type"))
        )
        published = entry.get("published_parsed")
        duration = entry.get("itunes_duration")
        episodes.append(
            NormalizedEpisode(
                title=entry.get("title"),
                guid=entry.get("id"),
                enclosure=enclosure,
                duration=None if duration is None else parse_duration(duration),
                published=None if published is None else calendar.timegm(published),
            )
        )
    return NormalizedFeed(title=parsed.feed.get("title"), episodes=_oldest_first(episodes))


def normalize_partytime(parsed: PartytimeFeed) -> NormalizedFeed:
    """Bring partytime's output into the common shape.

    :param parsed: a :func:`parse_with_partytime` result.
    :returns: the normalized feed.
    """
    episodes = []
    for item in parsed["items"]:
        first = item["enclosure"]
        enclosure = None if first is None else _enclosure(first["url"], first["length"], first["type"])
        episodes.append(
            NormalizedEpisode(
                title=item["title"],
                guid=item["guid"],
                enclosure=enclosure,
                duration=_positive_seconds(item["duration"]),
                published=item["pub_date_epoch"],
            )
        )
    return NormalizedFeed(title=parsed["title"], episodes=_oldest_first(episodes))


_DURATION = re.compile(r"(?:(?:(\d+):)?(\d+):)?(\d+(?:\.\d+)?)")


def parse_duration(text: str) -> float | None:
    """Read an ``itunes:duration`` value: ``S``, ``M:S`` or ``H:M:S``, seconds maybe fractional.

    :param text: the element's text.
    :returns: seconds (an int when whole), or None when empty, zero or unreadable.
    """
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        return None
    hours, minutes, seconds = match.groups()
    total = (int(hours or 0) * 60 + int(minutes or 0)) * 60 + float(seconds)
    if total <= 0:
        return None
    return int(total) if total.is_integer() else total


def published_epoch(rfc2822: str) -> int:
    """Turn an RFC 2822 date with a numeric zone into epoch seconds, for expectations.

    :param rfc2822: e.g. ``Tue, 05 Mar 2024 10:00:00 +0100``.
    :returns: epoch seconds.
    :raises ValueError: the date is unreadable or has no zone.
    """
    moment = parsedate_to_datetime(rfc2822)
    if moment.tzinfo is None:
        message = f"no time zone in {rfc2822!r}"
        raise ValueError(message)
    return int(moment.timestamp())


def _oldest_first(episodes: list[NormalizedEpisode]) -> tuple[NormalizedEpisode, ...]:
    # sorted() is stable, and podcastparser's own sort is too, so ties stay in document order.
    return tuple(sorted(episodes, key=lambda e: (e.published is None, e.published or 0)))


def _enclosure(url: str | None, length: int | None, mime_type: str | None) -> Enclosure:
    # Clients use 0 or -1 for an unknown length.
    positive = length if length is not None and length > 0 else None
    return Enclosure(url=url, length=positive, type=mime_type)


def _positive_seconds(value: float | None) -> float | None:
    if value is None or value <= 0:
        return None
    return int(value) if float(value).is_integer() else value


def _integer(text: str | None) -> int | None:
    try:
        return None if text is None else int(text)
    except ValueError:
        return None
