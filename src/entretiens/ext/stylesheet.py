"""feedgen extension adding an ``<?xml-stylesheet?>`` so that browsers show the feed as a page."""

from __future__ import annotations

from feedgen.ext.base import BaseExtension
from lxml import etree


class StylesheetExtension(BaseExtension):  # type: ignore[misc]
    """Puts an XSLT processing instruction before the ``<rss>`` root."""

    def __init__(self) -> None:
        self._href: str | None = None

    def set_href(self, href: str) -> None:
        """The stylesheet's URL, relative to the feed or absolute."""
        self._href = href

    def extend_rss(self, feed: etree._Element) -> etree._Element:
        if self._href:
            instruction = etree.ProcessingInstruction("xml-stylesheet", f'type="text/xsl" href="{self._href}"')
            feed.addprevious(instruction)
        return feed
