"""feedgen extension for the Podcasting 2.0 namespace (``podcast:``).

Registered under the attribute name ``podcastindex``: feedgen's own iTunes extension already
takes ``podcast``. The XML prefix stays ``podcast:``, which the Podcast Index parser matches
literally. Values arrive validated by the loader; the setters only refuse what would make an
invalid tag, and elements are built in ``extend_rss``.
"""

from __future__ import annotations

from dataclasses import dataclass

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from lxml import etree

from ..podcast_spec import PODCAST_NS, PODCAST_TEXT_LIMIT


@dataclass(frozen=True, slots=True)
class PersonTag:
    """The attributes of one ``<podcast:person>``."""

    name: str
    role: str = "host"
    group: str = "cast"
    img: str | None = None
    href: str | None = None


def _element(parent: etree._Element, tag: str, text: str | None = None, **attributes: str | None) -> etree._Element:
    element = etree.SubElement(
        parent, f"{{{PODCAST_NS}}}{tag}", {key: value for key, value in attributes.items() if value is not None}
    )
    if text is not None:
        element.text = text
    return element


def _https(url: str | None) -> str | None:
    # Every URL of the namespace must be https; a plain-http value is dropped, not published.
    if url is not None and not url.startswith("https://"):
        raise ValueError(f"Podcasting 2.0 URLs must use https: {url!r}")
    return url


def _seconds(value: float) -> str:
    # Decimal seconds, without a trailing ".0" for whole values.
    return f"{value:.3f}".rstrip("0").rstrip(".")


def _persons(parent: etree._Element, persons: list[PersonTag]) -> None:
    for person in persons:
        _element(parent, "person", person.name, role=person.role, group=person.group, img=person.img, href=person.href)


class PodcastIndexExtension(BaseExtension):  # type: ignore[misc]
    """Channel-level ``podcast:`` tags."""

    def __init__(self) -> None:
        self._guid: str | None = None
        self._locked: tuple[bool, str | None] | None = None
        self._funding: list[tuple[str, str]] = []
        self._persons: list[PersonTag] = []
        self._medium: str | None = None
        self._license: tuple[str, str | None] | None = None
        self._location: tuple[str, str | None, str | None, str | None] | None = None

    def extend_ns(self) -> dict[str, str]:
        return {"podcast": PODCAST_NS}

    def set_guid(self, guid: str) -> None:
        """``<podcast:guid>``: the show's permanent identity (a UUID)."""
        self._guid = guid

    def set_locked(self, locked: bool, owner: str | None) -> None:
        """``<podcast:locked owner>``; give the owner e-mail, or some parsers ignore the tag."""
        self._locked = (locked, owner)

    def add_funding(self, url: str, text: str) -> None:
        """``<podcast:funding url>text``; text is at most 128 characters."""
        if len(text) > PODCAST_TEXT_LIMIT:
            raise ValueError("podcast:funding text is limited to 128 characters")
        self._funding.append((_https(url) or url, text))

    def add_person(self, person: PersonTag) -> None:
        """``<podcast:person>`` for the whole show (hosts)."""
        _https(person.img)
        _https(person.href)
        self._persons.append(person)

    def set_medium(self, medium: str) -> None:
        """``<podcast:medium>``."""
        self._medium = medium

    def set_license(self, identifier: str, url: str | None) -> None:
        """``<podcast:license url>identifier``."""
        self._license = (identifier, _https(url))

    def set_location(self, name: str, geo: str | None, osm: str | None, country: str | None) -> None:
        """``<podcast:location geo osm country>name``."""
        self._location = (name, geo, osm, country)

    def extend_rss(self, feed: etree._Element) -> etree._Element:
        channel = feed[0]
        if self._guid:
            _element(channel, "guid", self._guid)
        if self._locked is not None:
            locked, owner = self._locked
            _element(channel, "locked", "yes" if locked else "no", owner=owner)
        for url, text in self._funding:
            _element(channel, "funding", text, url=url)
        _persons(channel, self._persons)
        if self._medium:
            _element(channel, "medium", self._medium)
        if self._license:
            _element(channel, "license", self._license[0], url=self._license[1])
        if self._location:
            name, geo, osm, country = self._location
            _element(channel, "location", name, geo=geo, osm=osm, country=country)
        return feed


class PodcastIndexEntryExtension(BaseEntryExtension):  # type: ignore[misc]
    """Item-level ``podcast:`` tags."""

    def __init__(self) -> None:
        self._persons: list[PersonTag] = []
        self._season: tuple[int, str | None] | None = None
        self._episode: tuple[float, str | None] | None = None
        self._chapters: tuple[str, str] | None = None
        self._transcripts: list[tuple[str, str, str | None, str | None]] = []
        self._soundbites: list[tuple[float, float, str]] = []

    def extend_ns(self) -> dict[str, str]:
        return {"podcast": PODCAST_NS}

    def add_person(self, person: PersonTag) -> None:
        """``<podcast:person>`` of this episode; item persons replace the channel's in apps."""
        _https(person.img)
        _https(person.href)
        self._persons.append(person)

    def set_season(self, number: int, name: str | None = None) -> None:
        """``<podcast:season name>number``."""
        if name is not None and len(name) > PODCAST_TEXT_LIMIT:
            raise ValueError("podcast:season name is limited to 128 characters")
        self._season = (number, name)

    def set_episode(self, number: float, display: str | None = None) -> None:
        """``<podcast:episode display>number``."""
        if display is not None and len(display) > 32:
            raise ValueError("podcast:episode display is limited to 32 characters")
        self._episode = (number, display)

    def set_chapters(self, url: str, mime_type: str = "application/json+chapters") -> None:
        """``<podcast:chapters url type>``."""
        self._chapters = (_https(url) or url, mime_type)

    def add_transcript(self, url: str, mime_type: str, language: str | None = None, rel: str | None = None) -> None:
        """``<podcast:transcript url type language rel>``; rel="captions" for timed captions."""
        self._transcripts.append((_https(url) or url, mime_type, language, rel))

    def add_soundbite(self, start: float, duration: float, title: str = "") -> None:
        """``<podcast:soundbite startTime duration>title``."""
        if start < 0 or duration <= 0:
            raise ValueError("podcast:soundbite needs startTime >= 0 and duration > 0")
        self._soundbites.append((start, duration, title))

    def extend_rss(self, item: etree._Element) -> etree._Element:
        if self._season is not None:
            _element(item, "season", str(self._season[0]), name=self._season[1])
        if self._episode is not None:
            number, display = self._episode
            _element(item, "episode", _seconds(number), display=display)
        _persons(item, self._persons)
        if self._chapters is not None:
            _element(item, "chapters", url=self._chapters[0], type=self._chapters[1])
        for url, mime_type, language, rel in self._transcripts:
            _element(item, "transcript", url=url, type=mime_type, language=language, rel=rel)
        for start, duration, title in self._soundbites:
            _element(item, "soundbite", title or None, startTime=_seconds(start), duration=_seconds(duration))
        return item
