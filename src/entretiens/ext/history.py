"""feedgen extension for RFC 5005 archived feeds: the links between feed.xml and its archive pages.

A feed capped with ``feed_limit`` keeps its newest episodes; the older ones are published in
archive documents. RFC 5005 section 4: the subscription document (feed.xml) links to the newest
archive with ``rel="prev-archive"``; each archive document carries ``<fh:archive/>``, links back
to the subscription document with ``rel="current"`` and to its neighbours with
``rel="prev-archive"`` and ``rel="next-archive"``. Links are ``atom:link`` elements in RSS.
"""

from __future__ import annotations

from feedgen.ext.base import BaseExtension
from lxml import etree

from ..podcast_spec import ATOM_NS, FEED_HISTORY_NS


class FeedHistoryExtension(BaseExtension):  # type: ignore[misc]
    """Adds the archive links (and ``<fh:archive/>`` on archive pages) to the channel."""

    def __init__(self) -> None:
        self._links: list[tuple[str, str]] = []
        self._archive = False

    def extend_ns(self) -> dict[str, str]:
        return {"atom": ATOM_NS, "fh": FEED_HISTORY_NS}

    def set_archive(self, archive: bool) -> None:
        """Mark this document as an archive document (``<fh:archive/>``), whose entries never change."""
        self._archive = archive

    def add_link(self, rel: str, href: str) -> None:
        """A link to another document of the feed: ``current``, ``prev-archive`` or ``next-archive``."""
        if rel not in ("current", "prev-archive", "next-archive"):
            raise ValueError(f"not an RFC 5005 archive link relation: {rel!r}")
        self._links.append((rel, href))

    def extend_rss(self, feed: etree._Element) -> etree._Element:
        channel = feed.find("channel")
        if channel is None:
            return feed
        anchor = channel.find(f"{{{ATOM_NS}}}link[@rel='self']")
        added = [etree.Element(f"{{{ATOM_NS}}}link", {"rel": rel, "href": href}) for rel, href in self._links]
        if self._archive:
            added.insert(0, etree.Element(f"{{{FEED_HISTORY_NS}}}archive"))
        for element in added:
            # After feedgen's own atom:link, in order, so the channel reads self, history, the rest.
            if anchor is not None:
                anchor.addnext(element)
            else:
                channel.insert(0, element)
            anchor = element
        return feed
