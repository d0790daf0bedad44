"""The state one lint run shares between its checks: findings, names and places of elements."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from lxml import etree

from entretiens.errors import Problem
from entretiens.podcast_spec import (
    ATOM_NS,
    CONTENT_NS,
    ITUNES_NS,
    PODCAST_NS,
    PSC_NS,
    is_email_address,
)
from entretiens.podcast_spec import is_web_url as is_web_url  # shared with the loader

#: The prefixes we name elements with, whatever the feed uses.
PREFIXES = {ITUNES_NS: "itunes", PODCAST_NS: "podcast", ATOM_NS: "atom", CONTENT_NS: "content", PSC_NS: "psc"}
_TITLE_SHOWN = 30
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def qname(element: etree._Element) -> str:
    """``prefix:local`` (canonical prefix for known namespaces) or the bare local name."""
    uri = namespace(element)
    if uri is None:
        return local(element)
    prefix = PREFIXES.get(uri, str(element.prefix or ""))
    return f"{prefix}:{local(element)}" if prefix else local(element)


def namespace(element: etree._Element) -> str | None:
    """The namespace URI of an element, or None."""
    tag = element.tag
    if isinstance(tag, str):
        # Read from lxml's "{uri}local" spelling: a QName object per call cost a third of a lint.
        return tag[1 : tag.index("}")] if tag[:1] == "{" else None
    uri = etree.QName(element).namespace
    return None if uri is None else str(uri)


def local(element: etree._Element) -> str:
    """The local name of an element."""
    tag = element.tag
    if isinstance(tag, str):
        return tag.rpartition("}")[2]
    return str(etree.QName(element).localname)


def text_of(element: etree._Element | None) -> str:
    """All the text of an element (CDATA included), or ``""`` when it is absent."""
    if element is None:
        return ""
    return "".join(str(text) for text in element.itertext())


def line_of(element: etree._Element) -> int | None:
    """The line an element starts on, when the parser knows it."""
    line = element.sourceline
    return line if isinstance(line, int) else None


def is_email(value: str) -> bool:
    """Tell whether ``value`` is a plain e-mail address."""
    return is_email_address(value.strip())


def is_element(node: object) -> bool:
    """Tell whether a child node is an element (not a comment or processing instruction)."""
    return isinstance(node, etree._Element) and isinstance(node.tag, str)


def words(text: str) -> frozenset[str]:
    """The whitespace-separated words of a list written as prose."""
    return frozenset(text.split())


def children(element: etree._Element) -> list[etree._Element]:
    """The child elements, without comments and processing instructions."""
    return list(element.iterchildren(etree.Element))


def numbered(name: str, position: int) -> str:
    """How an item or liveItem is named in messages before its title: ``item 3``."""
    return f"{'item' if name == 'item' else 'liveItem'} {position}"


def indexed(name: str, position: int) -> str:
    """How an item or liveItem is named in field paths: ``item[3]``."""
    return f"{name}[{position}]"


def microseconds(moment: datetime) -> int:
    """An aware moment as whole microseconds since 1970: compared exactly, kept as a JSON number."""
    return (moment - _EPOCH) // timedelta(microseconds=1)


def self_link_url(channel_children: Iterable[etree._Element]) -> str | None:
    """The href of the first ``<atom:link rel="self">`` among the channel's children."""
    for child in channel_children:
        if namespace(child) == ATOM_NS and local(child) == "link" and child.get("rel") == "self":
            href = child.get("href")
            return str(href) if href is not None else None
    return None


@dataclass(slots=True, kw_only=True)
class Context:
    """What every check reads (the feed's options) and writes (the findings)."""

    channel: etree._Element
    now: datetime
    base_dir: Path | None = None
    #: The URL the feed is published at, as the caller knows it (None: unknown).
    feed_url: str | None = None
    #: The URL of ``<atom:link rel="self">``, when present.
    self_url: str | None = None
    problems: list[Problem] = field(default_factory=list)
    _labels: dict[etree._Element, str] = field(default_factory=dict)
    #: Each item's (and liveItem's) position among its kind, counted once: a warning on each of
    #: 10,000 items must not count the items again for each.
    _positions: dict[etree._Element, int] = field(default_factory=dict)

    #: How many items and liveItems have been named so far, by qualified name.
    counts: dict[str, int] = field(default_factory=dict)
    #: When not None, each date compared with ``now`` (in microseconds) and whether it was later:
    #: what an item's findings depend on of the moment, so that kept findings can be reused
    #: exactly while the same dates are on the same side of it.
    compared: list[tuple[int, bool]] | None = None

    def after_now(self, moment: datetime) -> bool:
        """Whether ``moment`` is later than the lint's ``now`` (recorded in :attr:`compared`)."""
        later = moment > self.now
        if self.compared is not None:
            self.compared.append((microseconds(moment), later))
        return later

    def register(self, child: etree._Element) -> None:
        """Name a channel child if it is an item or liveItem: its position and label.

        Call it on the channel's children in order, each once it is complete. The whole-tree
        lint names every child first; the streaming lint names each item when its end tag has
        been read (its title is known then) and forgets it once checked.
        """
        name = qname(child)
        if name not in ("item", "podcast:liveItem"):
            return
        self.counts[name] = self.counts.get(name, 0) + 1
        self._positions[child] = self.counts[name]
        title = text_of(child.find("title")).strip()
        shown = title if len(title) <= _TITLE_SHOWN else title[: _TITLE_SHOWN - 1].rstrip() + "…"
        label = numbered(name, self.counts[name])
        self._labels[child] = f'{label} ("{shown}")' if shown else label

    def forget(self, child: etree._Element) -> None:
        """Drop what :meth:`register` keeps about ``child``, so that the element can be freed."""
        self._labels.pop(child, None)
        self._positions.pop(child, None)

    @property
    def items(self) -> list[etree._Element]:
        """The ``<item>`` elements of the channel, in order."""
        return [child for child in children(self.channel) if qname(child) == "item"]

    def owner(self, element: etree._Element) -> etree._Element | None:
        """The item or liveItem that holds ``element``, or None for channel-level elements."""
        node: etree._Element | None = element
        while node is not None and node is not self.channel:
            if node in self._labels:
                return node
            node = node.getparent()
        return None

    def where(self, element: etree._Element, attribute: str | None = None) -> str:
        """Name an element for people: ``item 3 ("Title…") <itunes:duration> attribute x``."""
        chain: list[str] = []
        node: etree._Element | None = element
        while node is not None and node is not self.channel and node not in self._labels:
            chain.append(f"<{qname(node)}>")
            node = node.getparent()
        if node is None:
            text = f"<{qname(element)}>"
        else:
            head = "channel" if node is self.channel else self._labels[node]
            text = f"{head} {'/'.join(reversed(chain))}" if chain else head
        return f"{text} attribute {attribute}" if attribute else text

    def field_path(self, element: etree._Element, attribute: str | None = None) -> str:
        """Path of an element for tools: ``channel/item[3]/itunes:duration@href``."""
        parts: list[str] = []
        node: etree._Element | None = element
        while node is not None and node is not self.channel:
            parent = node.getparent()
            name = qname(node)
            if name in ("item", "podcast:liveItem") and parent is self.channel:
                name = indexed(name, self._positions[node])
            parts.append(name)
            node = parent
        path = "/".join(["channel", *reversed(parts)]) if node is self.channel else "/".join(reversed(parts))
        return f"{path}@{attribute}" if attribute else path

    def report(
        self,
        element: etree._Element,
        rule: str,
        text: str,
        *,
        attribute: str | None = None,
        hint: str | None = None,
    ) -> None:
        """Record a finding about ``element``; ``text`` continues the sentence after its name.

        :param element: the element concerned (gives the line and the field path).
        :param rule: the stable code, e.g. ``apple.duration.invalid``.
        :param text: the rest of the sentence, e.g. ``is "abc", which is not a duration.``
        :param attribute: the attribute concerned, if any.
        :param hint: what to do.
        """
        self.problems.append(
            Problem(
                rule=rule,
                message=f"{self.where(element, attribute)} {text}",
                line=line_of(element),
                field=self.field_path(element, attribute),
                hint=hint,
            )
        )
