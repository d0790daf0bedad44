"""The lint of a feed cut into its items: only the items not seen before are parsed and checked.

A rebuild after one edit changes one item of the feed, yet the stream (:mod:`._stream`) parses
and checks all of them. Here the items are cut out of the bytes, and each one's findings are
kept (:mod:`._kept`) under a digest of its bytes, in a context that holds everything else an
item's checks read: the rules' code, the namespaces in scope, the show's ``itunes:type`` and
the feed's URLs. An item whose digest is known is not parsed again; what its findings say of
its place (its number, its first line) is written when they are used. The moment of the lint is
no part of the key: an entry holds the dates its checks compared with ``now`` and which side
they were on, and is used only while each is still on that side.

What the checks across items need (the guids and audio URLs already seen, for the duplicate
findings) is kept with the findings. An item whose guid or URL was seen before is checked
again, with the names of the earlier items, and its findings are not kept; so are the items
that declare namespaces (their findings depend on the bindings seen before them).

It answers only where it is certain to find what the stream finds, in the same order, which
is why the feed must look like the ones we write:

- UTF-8, declared, with no DOCTYPE;
- each channel-level ``<item>`` starts a line, and the items follow one another with only
  whitespace (and at least one line break) between them; each is cut from ``<item`` to the
  first ``</item>``, and must read as exactly one ``<item>`` element in a channel declaring
  the same namespaces (so the cut fell on its real end);
- the rest, with a marker element where the items were, is one ``<rss>`` with one
  ``<channel>`` whose last node is the marker (so the items sat between the channel's children
  and nothing follows them).

The whole document is then well-formed, and its items occupy lines of their own after every
channel element: the final sort of the findings (by severity, then line) puts each item's
findings, listed check family after check family, exactly where the stream's family-by-family
lists put them. Anything else returns None, and the stream (or the whole tree) answers.
"""

from __future__ import annotations

import codecs
import dataclasses
import hashlib
import os
import re
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from lxml import etree

from entretiens.errors import Problem
from entretiens.feedlint import _apple, _apple_items, _podcast, _rss, _xml
from entretiens.feedlint._context import (
    Context,
    children,
    indexed,
    microseconds,
    numbered,
    qname,
    self_link_url,
    text_of,
)
from entretiens.feedlint._kept import KeptItems

#: What a file is read at a time (decoded as UTF-8 on the way: a str of up to four times its size).
PIECE = 256 * 1024

#: A channel-level item where it must be: at the start of a line.
_FIRST = re.compile(rb"\n[ \t]*(<item[ \t\r\n>])")
#: What may separate two items: XML whitespace with at least one line break.
_GAP = re.compile(rb"[ \t\r]*\n[ \t\r\n]*")
_END = b"</item>"
#: A piece the writer placed: an item starting its line after blanks, ending a line after blanks.
_PLACED = re.compile(rb"[ \t]*<item[ \t\r\n>].*</item>[ \t\r]*\n[ \t\r\n]*", re.DOTALL)
_MARKER = "entretiens-items-were-here"
#: What an entry holds; changed when its meaning changes.
_FORMAT = "1"
#: The findings that name another item: never kept.
_ACROSS = frozenset({"rss.guid.duplicate", "apple.enclosure.duplicate"})


def lint_pieces(xml: bytes, *, feed_url: str | None, now: datetime, kept: KeptItems) -> list[Problem] | None:
    """The findings after the document checks, or None when the stream must answer.

    :param xml: the feed.
    :param feed_url: the URL the feed is served at, if known.
    :param now: the moment after which dates count as future (aware).
    :param kept: the items' findings of earlier lints; updated with this one's.
    :returns: the findings in an order that the final sort makes the stream's, or None.
    """
    spans = _cut(xml)
    if spans is None or not _utf8(xml):
        return None
    head, tail = xml[: spans[0][0]], xml[spans[-1][1] :]
    return _lint_cut(head, tail, len(spans), _in_bytes(xml, spans), feed_url=feed_url, now=now, kept=kept)


def lint_file(path: Path, *, feed_url: str | None, now: datetime, kept: KeptItems) -> list[Problem] | None:
    """:func:`lint_pieces` with :func:`._xml.check_document`'s findings first, for a feed in a
    file, read forward a piece at a time, once: the items are cut and each one's digest taken
    on the way; only the items whose findings are not kept are read again (each by its place),
    and checked. A feed of tens of MB is never held whole. None when the whole feed must be read.

    :raises OSError: the file cannot be read.
    """
    with open(path, "rb", buffering=0) as stream:
        cut = _cut_file(_Forward(stream, check_utf8=True))
        if cut is None:
            return None
        spans, head, tail = cut
        if not _utf8(head):
            return None
        found = _lint_cut(
            head, tail, len(spans), _in_file(stream.fileno(), spans), feed_url=feed_url, now=now, kept=kept
        )
    if found is None:
        return None
    # The whole file is UTF-8 and the head ends where an item starts: the head's findings are the file's.
    return _xml.check_document(head) + found


def lint_items(
    path: Path, items: Sequence[tuple[int, int, str]], *, feed_url: str | None, now: datetime, kept: KeptItems
) -> list[Problem] | None:
    """:func:`lint_file` for a feed whose items the writer placed and hashed as it wrote them
    (:func:`entretiens.feedfile.items_of`): each item's place, length and SHA-256. The file is
    not cut: its head and tail are read, and only the items whose findings are not kept are
    read (by their place; their SHA-256 checked). None when the whole feed must be read.

    Here an item is the whole piece the writer wrote (its indentation and the line break after
    it included), not the cut's ``<item>`` to ``</item>``: its findings are kept in a context
    of their own. A piece checked must start its line with ``<item`` after blanks, end with a
    line break after ``</item>`` and blanks, and be UTF-8; else None. The pieces must follow one
    another, the first after a head ending a line.

    :raises OSError: the file cannot be read.
    """
    if not items:
        return None
    first, end = items[0][0], items[0][0]
    for start, length, _ in items:
        if start != end:
            return None
        end = start + length
    with open(path, "rb", buffering=0) as stream:
        handle = stream.fileno()
        size = os.fstat(handle).st_size
        if size < end:
            return None
        head, tail = os.pread(handle, first, 0), os.pread(handle, size - end, end)
        if len(head) != first or len(tail) != size - end or not head.endswith(b"\n"):
            return None
        if not _utf8(head) or _xml.utf8_error(head + tail) is not None:
            return None
        pieces = _placed(handle, items, head.count(b"\n"))
        found = _lint_cut(head, tail, len(items), pieces, feed_url=feed_url, now=now, kept=kept, placed=True)
    if found is None:
        return None
    # The head, the tail and every item are UTF-8 (each kept one was when it was checked).
    return _xml.check_document(head) + found


def _lint_cut(
    head: bytes,
    tail: bytes,
    count: int,
    items: Iterator[Piece],
    *,
    feed_url: str | None,
    now: datetime,
    kept: KeptItems,
    placed: bool = False,
) -> list[Problem] | None:
    """The findings of a feed cut into its head, ``count`` items and its tail.

    :param placed: the items are the writer's pieces (see :func:`lint_items`), not cut.
    """
    parser = etree.XMLParser(resolve_entities=False, no_network=True, strip_cdata=False, huge_tree=False)
    shape = _skeleton(head, tail, parser)
    if shape is None:
        return None
    root, channel, opening = shape
    self_url = self_link_url(children(channel))
    problems = _xml.check_root(root)
    ctx = Context(channel=channel, now=now, feed_url=feed_url, self_url=self_url, problems=problems)
    for child in children(channel):
        ctx.register(child)
    ctx.counts["item"] = count
    seen: set[tuple[str | None, str]] = set()
    _xml.check_namespaces(ctx, root.iter(), seen)
    _xml.check_markup(ctx, channel)
    _rss.check_channel(ctx)
    _apple.check_channel(ctx)
    _apple.check_stray_tags(ctx)
    _podcast.check_podcast(ctx)
    show_type = text_of(_apple.itunes(channel, "type")).strip() or "episodic"
    run = _Items(
        parser=parser,
        opening=opening,
        show_type=show_type,
        now=now,
        feed_url=feed_url,
        self_url=self_url,
        seen=seen,
        kept=kept,
        placed=placed,
    )
    kept.open(hashlib.sha256(repr(run.context()).encode("utf-8", "surrogatepass")).hexdigest())
    found = run.check(items)
    if found is None:
        return None
    kept.save()
    return problems + found


#: An item as the lint takes it: the line breaks before it (since the last item), the digest
#: of its bytes, and what reads its bytes (only when its findings are not kept).
Piece = tuple[int, str, Callable[[], bytes | None]]


def _in_bytes(xml: bytes, spans: list[tuple[int, int]]) -> Iterator[Piece]:
    """Each item of ``xml``, as :data:`Piece`."""
    previous = 0
    for start, end in spans:
        piece = xml[start:end]
        yield xml.count(b"\n", previous, start), hashlib.sha256(piece).hexdigest(), _given(piece)
        previous = end


def _given(piece: bytes) -> Callable[[], bytes | None]:
    return lambda: piece


def _cut(xml: bytes) -> list[tuple[int, int]] | None:
    """Where each channel-level item starts and ends, if the items look like ours."""
    first = _FIRST.search(xml)
    if first is None:
        return None
    start = first.start(1)
    spans = []
    while True:
        end = xml.find(_END, start)
        if end < 0:
            return None
        end += len(_END)
        spans.append((start, end))
        gap = _GAP.match(xml, end)
        if gap is None:
            return spans
        start = gap.end()
        if not (xml.startswith(b"<item", start) and xml[start + 5 : start + 6] in (b">", b" ", b"\t", b"\r", b"\n")):
            return spans


class _Forward:
    """A file read forward a piece at a time, searched by offsets from its start: only the bytes
    from the earliest offset still needed are held (with ``check_utf8``, each piece read is also
    decoded and thrown away, as :func:`._xml.utf8_error` does)."""

    def __init__(self, stream: BinaryIO, *, check_utf8: bool = False) -> None:
        self.stream = stream
        #: The offset of ``data``'s first byte in the file.
        self.base = 0
        self.data = b""
        self.done = False
        self.utf8 = codecs.getincrementaldecoder("utf-8")() if check_utf8 else None
        #: False once a byte that is not UTF-8 was read.
        self.valid = True

    @property
    def end(self) -> int:
        """The offset after the last byte read."""
        return self.base + len(self.data)

    def more(self, keep: int) -> bool:
        """Read the next piece; the bytes before offset ``keep`` are dropped. False at the end."""
        if self.done:
            return False
        read = self.stream.read(PIECE)
        if self.utf8 is not None:
            try:
                self.utf8.decode(read, final=not read)
            except UnicodeDecodeError:
                self.valid = False
        if not read:
            self.done = True
            return False
        drop = min(max(keep - self.base, 0), len(self.data))
        self.data = self.data[drop:] + read
        self.base += drop
        return True

    def find(self, sub: bytes, start: int, *, keep: int | None = None) -> int:
        """The offset of the first ``sub`` at or after ``start`` (which must be held), or -1.

        :param keep: hold the bytes from there on (at most ``start``); by default only those
            that may still start ``sub``.
        """
        while True:
            found = self.data.find(sub, start - self.base)
            if found >= 0:
                return self.base + found
            start = max(start, self.end - len(sub) + 1)
            if not self.more(start if keep is None else keep):
                return -1

    def rest(self, start: int) -> bytes:
        """The bytes from ``start`` to the end of the file."""
        while self.more(start):
            pass
        return self.data[start - self.base :]


def _cut_file(forward: _Forward) -> tuple[list[_Span], bytes, bytes] | None:
    """What :func:`_cut` finds, from a file, with each item's digest and the line breaks before
    it (as :data:`_Span`); the head and the tail. None also when a byte of the file is not
    UTF-8 (the whole feed is then read)."""
    while (first := _FIRST.search(forward.data)) is None:
        if not forward.more(0):
            return None
    start = first.start(1)
    head = forward.data[:start]
    breaks = head.count(b"\n")
    spans: list[_Span] = []
    while True:
        end = forward.find(_END, start, keep=start)
        if end < 0:
            return None
        end += len(_END)
        # The item is held whole (found from its start): its digest taken now, not on a second read.
        base = forward.base
        item = memoryview(forward.data)[start - base : end - base]
        spans.append((start, end, breaks, hashlib.sha256(item).hexdigest()))
        while True:
            gap = _GAP.match(forward.data, end - forward.base)
            # A gap up to the end of what is held (or what could still become one) may go on.
            reaches = gap.end() == len(forward.data) if gap else not forward.data[end - forward.base :].strip(b" \t\r")
            if not (reaches and forward.more(end)):
                break
        if gap is not None:
            start = forward.base + gap.end()
            while forward.end < start + 6 and forward.more(end):
                pass
            held = forward.data[start - forward.base : start - forward.base + 6]
            if held.startswith(b"<item") and held[5:6] in (b">", b" ", b"\t", b"\r", b"\n"):
                breaks = forward.data.count(b"\n", end - forward.base, start - forward.base)
                continue
        tail = forward.rest(end)
        return (spans, head, tail) if forward.valid else None


#: An item cut from a file: its start, its end, the line breaks before it, its bytes' digest.
_Span = tuple[int, int, int, str]


def _in_file(handle: int, spans: list[_Span]) -> Iterator[Piece]:
    """Each item cut from the file open as ``handle``, as :data:`Piece`: read again by its
    place, and only when asked (None if it no longer holds the bytes cut: changed meanwhile)."""

    def reader(start: int, end: int, key: str) -> Callable[[], bytes | None]:
        def read() -> bytes | None:
            piece = os.pread(handle, end - start, start)
            return piece if hashlib.sha256(piece).hexdigest() == key else None

        return read

    for start, end, breaks, key in spans:
        yield breaks, key, reader(start, end, key)


def _placed(handle: int, items: Sequence[tuple[int, int, str]], breaks: int) -> Iterator[Piece]:
    """Each piece the writer placed in the file open as ``handle``, as :data:`Piece`: the line
    breaks before the first are the head's, the others follow their piece's own. Read by its
    place only when asked; None if it no longer holds the bytes written, or is not of the
    shape :func:`lint_items` needs."""

    def reader(start: int, length: int, key: str) -> Callable[[], bytes | None]:
        def read() -> bytes | None:
            piece = os.pread(handle, length, start)
            if hashlib.sha256(piece).hexdigest() != key or not _PLACED.fullmatch(piece):
                return None
            return piece if _xml.utf8_error(piece) is None else None

        return read

    for start, length, key in items:
        yield breaks, key, reader(start, length, key)
        breaks = 0


def _skeleton(head: bytes, tail: bytes, parser: etree.XMLParser) -> tuple[etree._Element, etree._Element, bytes] | None:
    """The document without its items, and the opening tag of a channel holding the same namespaces.

    None unless the cut fell between the channel's children and nothing but the items was cut.
    """
    marker = _MARKER.encode()
    if b"<!DOCTYPE" in head or marker in head or marker in tail:
        return None
    try:
        root = etree.fromstring(head + b"<" + marker + b"/>" + tail, parser)
    except etree.LxmlError:
        return None
    channels = children(root)
    if root.tag != "rss" or len(channels) != 1 or channels[0].tag != "channel":
        return None
    channel = channels[0]
    if not len(channel) or channel[-1].tag != _MARKER:
        return None
    channel.remove(channel[-1])
    if any(qname(child) == "item" for child in children(channel)) or None in channel.nsmap:
        return None
    empty = etree.tostring(etree.Element("channel", nsmap=dict(channel.nsmap)))
    if not empty.endswith(b"/>"):
        return None
    return root, channel, empty[:-2] + b">"


class _Items:
    """The items of one lint: each read back from ``kept`` or parsed and checked."""

    def __init__(
        self,
        *,
        parser: etree.XMLParser,
        opening: bytes,
        show_type: str,
        now: datetime,
        feed_url: str | None,
        self_url: str | None,
        seen: set[tuple[str | None, str]],
        kept: KeptItems,
        placed: bool = False,
    ) -> None:
        self.parser = parser
        self.placed = placed
        self.opening = opening
        self.show_type = show_type
        self.now = now
        self.now_us = microseconds(now)
        self.feed_url = feed_url
        self.self_url = self_url
        self.seen = seen
        self.kept = kept
        self.guids: dict[str, str] = {}
        self.urls: dict[str, str] = {}

    def context(self) -> tuple[object, ...]:
        """Everything an item's findings depend on besides its bytes and ``now``."""
        return (
            _FORMAT,
            self.kept.version,
            etree.LXML_VERSION,
            etree.LIBXML_VERSION,
            self.opening,
            self.show_type,
            self.feed_url,
            self.self_url,
            # What an item is (see lint_items): a piece's entry counts the lines of its blanks too.
            "placed" if self.placed else "cut",
        )

    def check(self, items: Iterator[Piece]) -> list[Problem] | None:
        """Every item's findings in order, or None if an item does not read as one ``<item>``.

        :param items: each item's digest and what reads its bytes, after the number of line
            breaks since the last one; the bytes are read only for an item not kept.
        """
        found: list[Problem] = []
        line = 1
        for position, (breaks, key, read) in enumerate(items, 1):
            line += breaks
            entry = self.kept.get(key)
            reused = None if entry is None else self._reuse(entry, position, line)
            if reused is not None:
                self.kept.keep(key, entry)
                found += reused
                line += entry[0]
                continue
            piece = read()
            if piece is None:
                return None
            checked = self._check(piece, position, line)
            if checked is None:
                return None
            self.kept.checked += 1
            problems, made = checked
            if made is not None:
                self.kept.keep(key, made)
            found += problems
            line += piece.count(b"\n")
        return found

    def _reuse(self, entry: Any, position: int, line: int) -> list[Problem] | None:
        """The kept findings of an item at this place, or None when they cannot be reused as they are."""
        try:
            lines, suffix, guid, url, dates, findings = entry
            # The checks spelt out, not a generator per item (most items of a show are read back).
            if not (
                isinstance(lines, int)
                and isinstance(suffix, str)
                and (guid is None or isinstance(guid, str))
                and (url is None or isinstance(url, str))
            ):
                return None
            now = self.now_us
            for moment, later in dates:
                if not isinstance(moment, int) or (moment > now) is not later:
                    return None
            if (guid is not None and guid in self.guids) or (url is not None and url in self.urls):
                return None
            label = numbered("item", position) + suffix
            problems = []
            # The field path made only for an item with findings (few are).
            field = "channel/" + indexed("item", position) if findings else ""
            for rule, rest, offset, tail, hint in findings:
                if not (isinstance(rest, str) and isinstance(offset, int) and isinstance(tail, str)):
                    return None
                if not _text_or_none(rule, hint) or rule is None:
                    return None
                problems.append(
                    Problem(rule=rule, message=label + rest, line=line + offset, field=field + tail, hint=hint)
                )
        except (TypeError, ValueError, LookupError):
            return None
        if guid is not None:
            self.guids[guid] = label
        if url is not None:
            self.urls[url] = label
        return problems

    def _check(self, piece: bytes, position: int, line: int) -> tuple[list[Problem], list[Any] | None] | None:
        """Parse and check one item; its findings, and what to keep of them (None: not to keep)."""
        try:
            holder = etree.fromstring(self.opening + piece + b"</channel>", self.parser)
        except etree.LxmlError:
            return None
        if len(holder) != 1 or holder[0].tag != "item":
            return None
        item = holder[0]
        ctx = Context(
            channel=holder, now=self.now, feed_url=self.feed_url, self_url=self.self_url, problems=[], compared=[]
        )
        ctx.counts["item"] = position - 1
        ctx.register(item)
        guids, urls = len(self.guids), len(self.urls)
        _xml.check_namespaces(ctx, item.iter(), self.seen)
        _xml.check_markup(ctx, item)
        _rss.check_item(ctx, item, self.guids)
        _apple_items.check_item(ctx, item, self.show_type, self.urls)
        _apple.check_stray_tags(ctx, item)
        _podcast.check_podcast(ctx, item)
        # The parse counted lines from the piece's first one.
        problems = [p if p.line is None else dataclasses.replace(p, line=line - 1 + p.line) for p in ctx.problems]
        label = ctx.where(item)
        guid = next(reversed(self.guids)) if len(self.guids) > guids else None
        url = next(reversed(self.urls)) if len(self.urls) > urls else None
        if b"xmlns" in piece or any(p.rule in _ACROSS for p in problems):
            return problems, None
        if (guid is not None and self.guids[guid] != label) or (url is not None and self.urls[url] != label):
            return problems, None
        head = numbered("item", position)
        if not label.startswith(head):
            return problems, None
        field = "channel/" + indexed("item", position)
        findings = []
        for p in problems:
            tail = p.field or ""
            if p.line is None or not p.message.startswith(label) or not _under(tail, field):
                return problems, None
            findings.append([p.rule, p.message[len(label) :], p.line - line, tail[len(field) :], p.hint])
        assert ctx.compared is not None
        dates = [[moment, later] for moment, later in ctx.compared]
        return problems, [piece.count(b"\n"), label[len(head) :], guid, url, dates, findings]


def _utf8(xml: bytes) -> bool:
    """Whether the parser reads the feed as UTF-8, as it reads each item cut out of it.

    Either declared, or undeclared and starting (after blanks) with a tag whose first letter
    is ASCII: no byte order mark, nor any of the first bytes by which libxml2 guesses
    UTF-16, UCS-4 or EBCDIC.
    """
    declaration = _xml.DECLARATION.match(xml)
    if declaration is not None:
        return (declaration["encoding"] or b"utf-8").lower() == b"utf-8"
    start = xml.lstrip(b" \t\r\n")[:2]
    return len(start) == 2 and start[:1] == b"<" and start[1:].isalpha() and start.isascii()


def _text_or_none(*values: object) -> bool:
    return all(value is None or isinstance(value, str) for value in values)


def _under(path: str, field: str) -> bool:
    """Whether a field path is the item's own (``channel/item[3]``) or under it."""
    return path == field or path.startswith((field + "/", field + "@"))
