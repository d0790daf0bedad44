"""feedgen extension for Podlove Simple Chapters (the ``psc:`` namespace)."""

from __future__ import annotations

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from lxml import etree

from ..podcast_spec import PSC_NS
from ..timecodes import clock


class PscExtension(BaseExtension):  # type: ignore[misc]
    """Declares the namespace on the channel; chapters live in items."""

    def extend_ns(self) -> dict[str, str]:
        return {"psc": PSC_NS}


class PscEntryExtension(BaseEntryExtension):  # type: ignore[misc]
    """``<psc:chapters version="1.2">`` of an episode."""

    def __init__(self) -> None:
        self._chapters: list[tuple[float, str, str | None, str | None]] = []

    def extend_ns(self) -> dict[str, str]:
        return {"psc": PSC_NS}

    def add_chapter(self, start: float, title: str, href: str | None = None, image: str | None = None) -> None:
        """One ``<psc:chapter>``; chapters must be added in order."""
        if self._chapters and start <= self._chapters[-1][0]:
            raise ValueError("psc chapters must be added in ascending order of start")
        self._chapters.append((start, title, href, image))

    def extend_rss(self, item: etree._Element) -> etree._Element:
        if self._chapters:
            chapters = etree.SubElement(item, f"{{{PSC_NS}}}chapters", {"version": "1.2"})
            for start, title, href, image in self._chapters:
                attributes = {"start": clock(start), "title": title}
                if href:
                    attributes["href"] = href
                if image:
                    attributes["image"] = image
                etree.SubElement(chapters, f"{{{PSC_NS}}}chapter", attributes)
        return item
