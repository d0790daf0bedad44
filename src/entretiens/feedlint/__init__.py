"""The feed's own validator: the checklist of FEED_RULES applied to the XML bytes of a feed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from lxml import etree

from entretiens.errors import Problem
from entretiens.feedlint import _apple, _apple_items, _podcast, _rss, _xml
from entretiens.feedlint._context import Context, children, self_link_url
from entretiens.feedlint._kept import KeptItems
from entretiens.feedlint._pieces import lint_file, lint_items, lint_pieces
from entretiens.feedlint._stream import lint_stream
from entretiens.podcast_spec import (
    APPLE_CATEGORIES,
    ENCLOSURE_TYPES,
    MEDIUMS,
    PERSON_TAXONOMY,
    TRANSCRIPT_TYPES,
    is_valid_language,
    parse_rfc2822,
    podcast_guid_for,
)

__all__ = [
    "APPLE_CATEGORIES",
    "ENCLOSURE_TYPES",
    "MEDIUMS",
    "PERSON_TAXONOMY",
    "TRANSCRIPT_TYPES",
    "KeptItems",
    "is_valid_language",
    "lint_feed",
    "parse_rfc2822",
    "podcast_guid_for",
]
_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


def lint_feed(
    xml: bytes | Path,
    *,
    base_dir: Path | None = None,
    feed_url: str | None = None,
    now: datetime | None = None,
    kept: KeptItems | None = None,
    items: Sequence[tuple[int, int, str]] | None = None,
) -> list[Problem]:
    """Check a feed the way podcast directories and apps would, and list what they would refuse.

    Reads the XML only. With ``base_dir``, the files the feed links to are looked up there
    (the longest suffix of each URL's path) and checked too: sizes, audio types, durations,
    artwork, chapters and transcripts.

    :param xml: the feed, as published: its bytes, or the file holding them (a build's feed,
        read a piece at a time when its items can be cut out of it, see ``kept``).
    :param base_dir: the folder the feed's files are served from, to check them.
    :param feed_url: the URL the feed is served at (checked against the self link and the
        podcast:guid; URLs on its host must map to files under ``base_dir``).
    :param now: the moment after which dates count as future; default: now, UTC.
    :param kept: the items' findings of earlier lints of this feed, to check only the items
        not seen before (a feed shaped like ours, without ``base_dir``); updated with this one's.
    :param items: for a file, where the writer placed each item and the SHA-256 of its bytes
        (:func:`entretiens.feedfile.items_of`): with ``kept``, the file is not cut (see _pieces).
    :returns: the findings, errors first, each in document order.
    :raises OSError: the file cannot be read.
    """
    moment = now or datetime.now(timezone.utc)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    if isinstance(xml, Path):
        if base_dir is None and kept is not None:
            cut = None if not items else lint_items(xml, items, feed_url=feed_url, now=moment, kept=kept)
            if cut is None:
                cut = lint_file(xml, feed_url=feed_url, now=moment, kept=kept)
            if cut is not None:
                return _in_order(cut)
        # Any other shape of feed, or a feed read whole: the same answer as for its bytes.
        xml = xml.read_bytes()
    problems = _xml.check_document(xml)
    if base_dir is None and kept is not None:
        # A rebuild: only the items not seen before are parsed and checked (see _pieces).
        cut = lint_pieces(xml, feed_url=feed_url, now=moment, kept=kept)
        if cut is not None:
            problems.extend(cut)
            return _in_order(problems)
        # Every item is checked below (counted by their end tags: the feed may not even parse).
        kept.checked = xml.count(b"</item>")
    if base_dir is None:
        # The common case streams: bounded memory, the same findings (see _stream).
        streamed = lint_stream(xml, feed_url=feed_url, now=moment)
        if streamed is not None:
            problems.extend(streamed)
            return _in_order(problems)
    return _whole_tree(problems, xml, base_dir=base_dir, feed_url=feed_url, now=moment)


def _whole_tree(
    problems: list[Problem], xml: bytes, *, base_dir: Path | None, feed_url: str | None, now: datetime
) -> list[Problem]:
    """Lint the feed parsed into one tree: any shape of feed, and the files under ``base_dir``."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, strip_cdata=False, huge_tree=False)
    try:
        root = etree.fromstring(xml, parser)
    except etree.XMLSyntaxError as exc:
        problems.append(
            Problem(
                rule="rss.xml.malformed",
                message=f"The feed is not well-formed XML: {exc.msg}.",
                line=exc.lineno or None,
                hint="fix the XML; no app can read the feed as it is",
            )
        )
        return problems
    problems.extend(_xml.check_root(root))
    channel = root.find("channel")
    if root.tag != "rss" or channel is None:
        return problems
    self_url = self_link_url(children(channel))
    ctx = Context(channel=channel, now=now, base_dir=base_dir, feed_url=feed_url, self_url=self_url, problems=problems)
    for child in children(channel):
        ctx.register(child)
    _xml.check_namespaces(ctx, root.iter())
    _xml.check_markup(ctx, root)
    _rss.check_channel(ctx)
    _rss.check_items(ctx)
    _apple.check_channel(ctx)
    _apple_items.check_items(ctx)
    _apple.check_stray_tags(ctx)
    _podcast.check_podcast(ctx)
    if base_dir is not None:
        # Imported here: mutagen and Pillow are only needed when files are checked.
        from entretiens.feedlint._files import check_files

        check_files(ctx)
    return _in_order(problems)


def _in_order(problems: list[Problem]) -> list[Problem]:
    """Errors first, then warnings, then notes; each in document order (stable for one line)."""
    return sorted(problems, key=lambda p: (_SEVERITY_ORDER[p.severity], p.line or 0))
