"""feedgen extension writing Apple's current ``itunes:`` tags.

feedgen ships a ``podcast`` extension, but it follows Apple's pre-2019 guide: it writes
``itunes:explicit`` as yes/no/clean (Apple now wants true/false), does not know
``itunes:episodeType``, ``itunes:title`` or ``itunes:type``, and does not check categories.
This one takes values the loader already validated and writes exactly what Apple documents.
"""

from __future__ import annotations

from collections.abc import Sequence

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from lxml import etree

from ..podcast_spec import EPISODE_TYPES, ITUNES_NS, SHOW_TYPES, EpisodeType, ShowType


def _element(parent: etree._Element, tag: str, text: str | None = None, **attributes: str) -> etree._Element:
    element = etree.SubElement(parent, f"{{{ITUNES_NS}}}{tag}", attributes)
    if text is not None:
        element.text = text
    return element


def _yes_no(flag: bool) -> str:
    # Apple's guide: "true"/"false" for explicit (since 2019); anything but "Yes" has no effect
    # for block and complete, so those are written only when set.
    return "true" if flag else "false"


class ItunesExtension(BaseExtension):  # type: ignore[misc]
    """Channel-level ``itunes:`` tags."""

    def __init__(self) -> None:
        self._author: str | None = None
        self._owner: tuple[str, str] | None = None
        self._image: str | None = None
        self._categories: list[tuple[str, str | None]] = []
        self._explicit: bool | None = None
        self._type: str | None = None
        self._block = False
        self._complete = False
        self._new_feed_url: str | None = None

    def extend_ns(self) -> dict[str, str]:
        return {"itunes": ITUNES_NS}

    def set_author(self, author: str) -> None:
        """``<itunes:author>``: the people or company behind the show."""
        self._author = author

    def set_owner(self, name: str, email: str) -> None:
        """``<itunes:owner>``: whom Apple contacts about the show."""
        self._owner = (name, email)

    def set_image(self, url: str) -> None:
        """``<itunes:image href>``: Apple reads the attribute, never the element's text."""
        self._image = url

    def set_categories(self, categories: Sequence[tuple[str, str | None]]) -> None:
        """``<itunes:category>``: (category, subcategory or None), Apple's spellings; the first counts most."""
        self._categories = list(categories)

    def set_explicit(self, explicit: bool) -> None:
        """``<itunes:explicit>``."""
        self._explicit = explicit

    def set_type(self, show_type: ShowType) -> None:
        """``<itunes:type>``: "episodic" or "serial"."""
        if show_type not in SHOW_TYPES:
            raise ValueError(f"itunes:type must be episodic or serial, not {show_type!r}")
        self._type = show_type

    def set_block(self, block: bool) -> None:
        """``<itunes:block>Yes``: hide the show from Apple Podcasts."""
        self._block = block

    def set_complete(self, complete: bool) -> None:
        """``<itunes:complete>Yes``: no more episodes will come."""
        self._complete = complete

    def set_new_feed_url(self, url: str) -> None:
        """``<itunes:new-feed-url>``: where the feed moved."""
        self._new_feed_url = url

    def extend_rss(self, feed: etree._Element) -> etree._Element:
        channel = feed[0]
        if self._author:
            _element(channel, "author", self._author)
        if self._owner:
            owner = _element(channel, "owner")
            _element(owner, "name", self._owner[0])
            _element(owner, "email", self._owner[1])
        if self._image:
            _element(channel, "image", href=self._image)
        parents: dict[str, etree._Element] = {}
        for name, sub in self._categories:
            # The name is the `text` attribute, not element text; subcategories of one category
            # nest under a single parent, as in Apple's examples.
            if name not in parents:
                parents[name] = etree.SubElement(channel, f"{{{ITUNES_NS}}}category", {"text": name})
            if sub:
                etree.SubElement(parents[name], f"{{{ITUNES_NS}}}category", {"text": sub})
        if self._explicit is not None:
            _element(channel, "explicit", _yes_no(self._explicit))
        if self._type:
            _element(channel, "type", self._type)
        if self._block:
            _element(channel, "block", "Yes")
        if self._complete:
            _element(channel, "complete", "Yes")
        if self._new_feed_url:
            _element(channel, "new-feed-url", self._new_feed_url)
        return feed


class ItunesEntryExtension(BaseEntryExtension):  # type: ignore[misc]
    """Item-level ``itunes:`` tags."""

    def __init__(self) -> None:
        self._title: str | None = None
        self._duration: int | None = None
        self._image: str | None = None
        self._explicit: bool | None = None
        self._episode: int | None = None
        self._season: int | None = None
        self._episode_type: str | None = None

    def extend_ns(self) -> dict[str, str]:
        return {"itunes": ITUNES_NS}

    def set_title(self, title: str) -> None:
        """``<itunes:title>``: the title alone, without show name or episode number."""
        self._title = title

    def set_duration(self, seconds: int) -> None:
        """``<itunes:duration>`` in whole seconds, the form Apple prefers."""
        if seconds <= 0:
            raise ValueError("itunes:duration must be a positive number of seconds")
        self._duration = seconds

    def set_image(self, url: str) -> None:
        """``<itunes:image href>`` of the episode."""
        self._image = url

    def set_explicit(self, explicit: bool) -> None:
        """``<itunes:explicit>`` of the episode."""
        self._explicit = explicit

    def set_episode(self, number: int) -> None:
        """``<itunes:episode>``: a non-zero integer."""
        if number < 1:
            raise ValueError("itunes:episode must be 1 or more")
        self._episode = number

    def set_season(self, number: int) -> None:
        """``<itunes:season>``: a non-zero integer."""
        if number < 1:
            raise ValueError("itunes:season must be 1 or more")
        self._season = number

    def set_episode_type(self, episode_type: EpisodeType) -> None:
        """``<itunes:episodeType>``: full, trailer or bonus."""
        if episode_type not in EPISODE_TYPES:
            raise ValueError(f"itunes:episodeType must be full, trailer or bonus, not {episode_type!r}")
        self._episode_type = episode_type

    def extend_rss(self, item: etree._Element) -> etree._Element:
        if self._title:
            _element(item, "title", self._title)
        if self._duration is not None:
            _element(item, "duration", str(self._duration))
        if self._image:
            _element(item, "image", href=self._image)
        if self._explicit is not None:
            _element(item, "explicit", _yes_no(self._explicit))
        if self._episode is not None:
            _element(item, "episode", str(self._episode))
        if self._season is not None:
            _element(item, "season", str(self._season))
        if self._episode_type:
            _element(item, "episodeType", self._episode_type)
        return item
