"""Getting a feed from another host: its bytes (from a file or over the network) and its XML tree.

A feed from elsewhere is untrusted input. It is read through :mod:`entretiens.net` (size cap,
stall timeout, deadline, checked redirects) and parsed with defusedxml, which refuses entity
declarations (the "billion laughs" bomb) and external entities or DTDs (which would read local
files or reach other hosts) instead of expanding them.
"""

from __future__ import annotations

import html.entities
import re
import xml.etree.ElementTree as ElementTree

import defusedxml
import defusedxml.ElementTree

from .. import feedsource
from ..errors import EntretiensError
from ..feedsource import FeedSource
from ..podcast_spec import PODCAST_NS, PODCAST_NS_GITHUB

#: The five entities XML itself defines; any other named entity comes from HTML.
_XML_ENTITIES = frozenset({"amp", "lt", "gt", "quot", "apos"})
_NAMED_ENTITY = re.compile(r"&([A-Za-z][A-Za-z0-9]{1,31});")


class ImportError_(EntretiensError):
    """The source cannot be imported at all: unreachable, not a feed, not a podcast, hostile."""


def read_source(source: str) -> FeedSource:
    """The feed's bytes from a URL or a file (see :func:`entretiens.feedsource.read_feed`).

    :raises ImportError_: unreachable, an error status, too big, a web page, a file that cannot be read.
    """
    try:
        return feedsource.read_feed(source)
    except EntretiensError as exc:
        # NetworkError included: an unreachable source stops the import like any unreadable one.
        raise ImportError_(str(exc)) from None


def parse_feed(source: FeedSource) -> tuple[ElementTree.Element, list[str]]:
    """The feed's ``<channel>`` element, and notes on what reading it took.

    :raises ImportError_: not XML, hostile XML, an HTML page, an Atom feed, or not RSS.
    """
    where = source.where
    data = source.data
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if not data.strip():
        raise ImportError_(f"{where}: empty: no feed there")
    # A page that does not even begin as one (an XML declaration, then <html>) is one too.
    if feedsource.is_web_page(data) or (b"<html" in head and b"<rss" not in head):
        raise ImportError_(
            f"{where}: a web page, not a feed. Open the page, look for its RSS or podcast feed "
            "address (the old host shows it in the show's settings) and import that"
        )
    notes: list[str] = []
    if data[:1].isspace():
        # White space before the XML declaration is an error in XML, tolerated by every app.
        data = data.lstrip()
        notes.append("the feed starts with white space before its XML declaration; read without it")
    try:
        root = _parse(data)
    except defusedxml.DefusedXmlException as exc:
        raise ImportError_(
            f"{where}: refused: the XML declares entities or external references ({type(exc).__name__}); "
            "a podcast feed has no reason to, and expanding them could exhaust memory or read local files"
        ) from None
    except ElementTree.ParseError as exc:
        if "undefined entity" not in str(exc):
            raise ImportError_(f"{where}: not well-formed XML ({exc})") from None
        # HTML entities (&nbsp; &eacute;) are common in feeds written by hand or by old tools:
        # read them as the characters they stand for, as podcast apps do.
        fixed, count = _html_entities_to_numeric(data)
        try:
            root = _parse(fixed)
        except (ElementTree.ParseError, defusedxml.DefusedXmlException) as again:
            raise ImportError_(f"{where}: not well-formed XML ({again})") from None
        notes.append(f"the feed uses {count} HTML entities that XML does not define; read as their characters")
    _one_podcast_namespace(root)
    tag = _local(root.tag)
    if tag == "feed":
        raise ImportError_(f"{where}: an Atom feed; podcast apps and entretiens read RSS 2.0 feeds (with <enclosure>)")
    if tag != "rss":
        raise ImportError_(f"{where}: XML, but not an RSS feed (its root element is <{tag}>)")
    channel = root.find("channel")
    if channel is None:
        raise ImportError_(f"{where}: an RSS document without <channel>: not a podcast feed")
    if not any(item.find("enclosure") is not None for item in channel.iter("item")):
        raise ImportError_(f"{where}: an RSS feed without any audio (<enclosure>): a blog feed, not a podcast")
    return channel, notes


def _one_podcast_namespace(root: ElementTree.Element) -> None:
    """Read tags under the Podcasting 2.0 namespace's older URI as the same tags."""
    old = "{" + PODCAST_NS_GITHUB + "}"
    new = "{" + PODCAST_NS + "}"
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag.startswith(old):
            element.tag = new + element.tag[len(old) :]


def _parse(data: bytes) -> ElementTree.Element:
    root: ElementTree.Element = defusedxml.ElementTree.fromstring(
        data, forbid_dtd=False, forbid_entities=True, forbid_external=True
    )
    return root


def _html_entities_to_numeric(data: bytes) -> tuple[bytes, int]:
    count = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal count
        name = match.group(1)
        if name in _XML_ENTITIES or name not in html.entities.name2codepoint:
            return match.group(0)
        count += 1
        return f"&#{html.entities.name2codepoint[name]};"

    # latin-1 maps every byte to one character and back, so the other bytes are untouched.
    text = _NAMED_ENTITY.sub(replace, data.decode("latin-1"))
    return text.encode("latin-1"), count


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]
