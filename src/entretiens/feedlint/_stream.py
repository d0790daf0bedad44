"""The lint of a feed read as a stream: each item checked when its end tag is read, then freed.

A whole parsed tree of a 10,000-item feed costs about 190 MiB; streaming keeps one item and the
channel's own elements. It must report exactly what the whole-tree lint reports, in the same
order, so it only answers for feeds where that is certain: one ``<rss>`` holding one
``<channel>`` whose own elements all come before its items (as every feed we write). Anything
else (an element between or after the items, another element in ``<rss>``, XML the parser
refuses) makes it give up, and the caller runs the whole-tree lint.

How the order stays the same: the whole-tree lint runs its check families one after the other,
each walking the document in order. Here each family keeps its own list: the channel's part
(checked once the document is read; the items are gone by then) goes before the items' parts,
which is document order because the channel's elements come first. The findings that name an
earlier item (duplicate guid or audio URL) keep that item's name as text, not the element.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import datetime

from lxml import etree

from entretiens.errors import Problem
from entretiens.feedlint import _apple, _apple_items, _podcast, _rss, _xml
from entretiens.feedlint._context import Context, children, is_element, qname, self_link_url, text_of


class _Fallback(Exception):
    """The feed has a shape the stream cannot check exactly like the whole tree."""


def lint_stream(xml: bytes, *, feed_url: str | None, now: datetime) -> list[Problem] | None:
    """The findings after the document checks, or None when the whole-tree lint must answer.

    :param xml: the feed.
    :param feed_url: the URL the feed is served at, if known.
    :param now: the moment after which dates count as future.
    :returns: the findings in the whole-tree lint's order (before its final sort), or None.
    """
    try:
        return _Stream(feed_url=feed_url, now=now).run(xml)
    except (_Fallback, etree.LxmlError):
        return None


class _Stream:
    """One streaming lint run: the parser's state and each check family's findings."""

    def __init__(self, *, feed_url: str | None, now: datetime) -> None:
        self.feed_url = feed_url
        self.now = now
        self.ctx: Context | None = None
        self.root: etree._Element | None = None
        self.channel: etree._Element | None = None
        #: The channel's last node before the first item: what stays once the items are gone.
        self.anchor: etree._Element | None = None
        #: The last item checked, emptied; removed when the next item ends (never the item that
        #: just ended: the parser may still be writing the text after it).
        self.previous: etree._Element | None = None
        self.seen: set[tuple[str | None, str]] = set()
        self.guids: dict[str, str] = {}
        self.urls: dict[str, str] = {}
        self.show_type = "episodic"
        self.namespaces: list[Problem] = []
        self.markup: list[Problem] = []
        self.rss: list[Problem] = []
        self.apple: list[Problem] = []
        self.stray: list[Problem] = []
        self.podcast: list[Problem] = []

    def run(self, xml: bytes) -> list[Problem]:
        events = etree.iterparse(
            io.BytesIO(xml),
            events=("end",),
            tag="item",
            resolve_entities=False,
            no_network=True,
            strip_cdata=False,
            huge_tree=False,
        )
        for _, item in events:
            self._item(item)
        return self._finish(events.root)

    def _item(self, item: etree._Element) -> None:
        parent = item.getparent()
        if self.channel is None:
            if parent is None or parent.tag != "channel":
                return
            root = parent.getparent()
            if root is None or root.getparent() is not None or root.tag != "rss" or root.find("channel") is not parent:
                return
            self._start(root, parent, item)
        elif parent is not self.channel:
            return
        else:
            self._drop_before(item)
            ctx = self._context()
            ctx.register(item)
            ctx.problems = self.namespaces
            _xml.check_namespaces(ctx, item.iter(), self.seen)
        self._check_item(item)

    def _start(self, root: etree._Element, channel: etree._Element, item: etree._Element) -> None:
        """The first item: what precedes it is complete; name and walk it in document order."""
        self.root, self.channel, self.anchor = root, channel, item.getprevious()
        # Only what precedes the item: the parser may already be writing the next ones.
        before: list[etree._Element] = []
        for child in channel.iterchildren(etree.Element):
            if child is item:
                break
            before.append(child)
        self.ctx = Context(
            channel=channel,
            now=self.now,
            feed_url=self.feed_url,
            self_url=self_link_url(before),
            problems=self.namespaces,
        )
        for child in [*before, item]:
            self.ctx.register(child)
        self.show_type = text_of(_apple.itunes(channel, "type")).strip() or "episodic"
        _xml.check_namespaces(self.ctx, _upto(root, channel, item), self.seen)

    def _context(self) -> Context:
        assert self.ctx is not None
        return self.ctx

    def _drop_before(self, item: etree._Element) -> None:
        """Remove the last checked item and comments after it; any other element: fall back."""
        node = item.getprevious()
        while node is not None and node is not self.anchor:
            if is_element(node) and node is not self.previous:
                raise _Fallback
            before = node.getprevious()
            assert self.channel is not None
            self.channel.remove(node)
            node = before

    def _check_item(self, item: etree._Element) -> None:
        ctx = self._context()
        ctx.problems = self.markup
        _xml.check_markup(ctx, item)
        ctx.problems = self.rss
        _rss.check_item(ctx, item, self.guids)
        ctx.problems = self.apple
        _apple_items.check_item(ctx, item, self.show_type, self.urls)
        ctx.problems = self.stray
        _apple.check_stray_tags(ctx, item)
        ctx.problems = self.podcast
        _podcast.check_podcast(ctx, item)
        ctx.forget(item)
        item.clear(keep_tail=True)
        self.previous = item

    def _finish(self, root: etree._Element) -> list[Problem]:
        """The document is read: check the channel's own part and join the families in order."""
        channels = children(root)
        if root.tag != "rss" or len(channels) != 1 or channels[0].tag != "channel":
            raise _Fallback
        channel = channels[0]
        if self.channel is None:
            self.root, self.channel = root, channel
            self.ctx = Context(
                channel=channel,
                now=self.now,
                feed_url=self.feed_url,
                self_url=self_link_url(children(channel)),
                problems=self.namespaces,
            )
            for child in children(channel):
                self.ctx.register(child)
            _xml.check_namespaces(self.ctx, root.iter(), self.seen)
        elif channel is not self.channel:
            raise _Fallback
        else:
            self._drop_after()
        ctx = self._context()
        if any(qname(child) == "item" for child in children(channel)):
            raise _Fallback
        problems = _xml.check_root(root)
        problems.extend(self.namespaces)
        ctx.problems = problems
        _xml.check_markup(ctx, channel)
        problems.extend(self.markup)
        _rss.check_channel(ctx)
        problems.extend(self.rss)
        _apple.check_channel(ctx)
        problems.extend(self.apple)
        _apple.check_stray_tags(ctx)
        problems.extend(self.stray)
        _podcast.check_podcast(ctx)
        problems.extend(self.podcast)
        return problems

    def _drop_after(self) -> None:
        """Remove the last item; fall back if any element followed the items."""
        assert self.channel is not None
        node = self.channel[-1] if len(self.channel) else None
        while node is not None and node is not self.anchor:
            if is_element(node) and node is not self.previous:
                raise _Fallback
            before = node.getprevious()
            self.channel.remove(node)
            node = before


def _upto(root: etree._Element, channel: etree._Element, item: etree._Element) -> Iterator[etree._Element]:
    """The document's nodes in order, up to the end of ``item`` (nothing the parser is still writing)."""
    yield root
    for child in root.iterchildren():
        if child is channel:
            break
        yield from child.iter()
    yield channel
    for child in channel.iterchildren():
        yield from child.iter()
        if child is item:
            break
