"""An RSS podcast feed into the plain data of a show folder: feed.yaml, episodes, guests, GUIDs.

Everything that is live is kept exactly as it was: GUIDs (an item without one is known to apps
by its enclosure URL, which becomes its GUID), publication instants with their offsets,
titles, enclosure URLs (even http://), numbers (even shared ones). Whatever cannot be carried,
or only approximately, is written in the report, one line per field and item.

The channel is read in ``_channel.py``, the items in ``_items.py``; this module joins them
into the :class:`Draft` of a show folder.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from typing import Any

from .. import podcast_spec
from . import _values as values
from ._channel import read_show, self_link
from ._elements import PC
from ._items import Fetch, guest_registry, read_items
from ._report import Report


@dataclass(slots=True)
class Draft:
    """The show folder to write, as plain data."""

    feed: dict[str, Any]
    #: (slug, episode data), oldest first.
    episodes: list[tuple[str, dict[str, Any]]]
    #: guest id -> guest data, for people met in several episodes.
    guests: dict[str, dict[str, Any]]
    #: slug -> GUID, exactly as live.
    guids: dict[str, str]
    podcast_guid: str
    fetches: list[Fetch] = field(default_factory=list)
    #: slug -> (enclosure URL, declared length), for --download-audio.
    enclosures: dict[str, tuple[str, int | None]] = field(default_factory=dict)


def convert(channel: ElementTree.Element, *, feed_url: str | None, base_url: str | None, report: Report) -> Draft:
    """Turn the ``<channel>`` of a podcast feed into the data of a show folder."""
    self_url = feed_url or self_link(channel)
    feed = read_show(channel, base_url=base_url, feed_url=self_url, report=report)
    pinned_guid = values.text_of(channel.findtext(PC + "guid"))
    if pinned_guid:
        podcast_guid = pinned_guid
    elif self_url:
        podcast_guid = podcast_spec.podcast_guid_for(self_url)
        report.add(
            "note", "show", "guid", f"the feed has no podcast:guid: the one its URL implies is kept ({podcast_guid})"
        )
    else:
        podcast_guid = podcast_spec.podcast_guid_for(values.text_of(channel.findtext("link")) or feed["title"])
        report.add(
            "approx",
            "show",
            "guid",
            "the feed has no podcast:guid and no URL of its own: one was derived from its link",
        )
    feed["guid"] = podcast_guid
    hosts = {h["name"] for h in feed.get("hosts", [])}
    items = read_items(channel, self_url, hosts=hosts, report=report)
    guests = guest_registry(items)
    episodes = [(slug, data) for slug, data, _, _ in items]
    draft = Draft(
        feed=feed,
        episodes=episodes,
        guests=guests,
        guids={slug: guid for slug, _, guid, _ in items},
        podcast_guid=podcast_guid,
    )
    for slug, data, _, extra in items:
        draft.fetches += extra.get("fetches", [])
        if "enclosure" in extra:
            draft.enclosures[slug] = extra["enclosure"]
        data.pop("_fetch", None)
    report.title = feed["title"]
    report.imported = len(episodes)
    return draft
