"""feedgen extension naming the show's WebSub hub: ``<atom:link rel="hub" href="...">``.

WebSub (W3C Recommendation, section 4) lets a subscriber discover the hub from the feed itself;
a hub then pushes each new version of the feed to its subscribers as soon as ``deploy`` pings
it, instead of directories polling the feed every few hours.
"""

from __future__ import annotations

from feedgen.ext.base import BaseExtension
from lxml import etree

from ..podcast_spec import ATOM_NS


class WebSubExtension(BaseExtension):  # type: ignore[misc]
    """Adds the hub link to the channel, right after feedgen's ``<atom:link rel="self">``."""

    def __init__(self) -> None:
        self._hub: str | None = None

    def extend_ns(self) -> dict[str, str]:
        return {"atom": ATOM_NS}

    def set_hub(self, url: str) -> None:
        """The hub's URL (https); WebSub requires the feed to name its own URL too (rel="self")."""
        if not url.startswith(("https://", "http://")):
            raise ValueError(f"a WebSub hub must be an http(s) URL, not {url!r}")
        self._hub = url

    def extend_rss(self, feed: etree._Element) -> etree._Element:
        if self._hub is None:
            return feed
        channel = feed.find("channel")
        link = etree.Element(f"{{{ATOM_NS}}}link", {"rel": "hub", "href": self._hub})
        own = channel.find(f"{{{ATOM_NS}}}link[@rel='self']") if channel is not None else None
        if own is not None:
            own.addnext(link)
        elif channel is not None:
            channel.append(link)
        return feed
