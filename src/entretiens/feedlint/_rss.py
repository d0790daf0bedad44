"""Checks of RSS 2.0 itself: the channel, items, enclosures, guids, e-mails and dates."""

from __future__ import annotations

from collections import Counter

from lxml import etree

from entretiens.feedlint._context import (
    Context,
    children,
    is_email,
    is_web_url,
    local,
    namespace,
    qname,
    text_of,
    words,
)
from entretiens.feedlint._psc import check_psc_chapters
from entretiens.podcast_spec import ATOM_NS, parse_rfc2822

_CHANNEL_ELEMENTS = words(
    "title link description language copyright managingEditor webMaster pubDate lastBuildDate "
    "category generator docs cloud ttl image rating textInput skipHours skipDays item"
)
_ITEM_ELEMENTS = words("title link description author category comments enclosure guid pubDate source")
#: Elements RSS allows once per parent; a second copy leaves each client to pick its own.
_CHANNEL_SINGLE = words(
    "title link description language copyright managingEditor webMaster pubDate lastBuildDate "
    "generator docs cloud ttl image rating textInput skipHours skipDays itunes:image "
    "itunes:explicit itunes:author itunes:owner itunes:type itunes:new-feed-url itunes:block "
    "itunes:complete itunes:title"
)
_ITEM_SINGLE = words(
    "title link description author comments guid pubDate source itunes:title itunes:episode "
    "itunes:season itunes:episodeType itunes:duration itunes:image itunes:explicit "
    "itunes:block"
)
_HTML_TAGS = words(
    "a abbr b blockquote br code div em h1 h2 h3 h4 h5 h6 hr i img li ol p pre q s small span "
    "strong sub sup table td th tr u ul"
)


def check_unknown(ctx: Context, parent: etree._Element, allowed: frozenset[str]) -> None:
    """Report elements of no namespace that RSS does not define in ``parent``.

    :param ctx: the lint run.
    :param parent: the channel or an item.
    :param allowed: the element names RSS defines there.
    """
    for child in children(parent):
        if namespace(child) is not None or child.tag in allowed:
            continue
        if child.tag.lower() in _HTML_TAGS:
            ctx.report(
                child,
                "rss.markup_in_text",
                "is an HTML element standing outside any text element.",
                hint="put HTML inside a <description> as CDATA",
            )
        else:
            ctx.report(
                child,
                "rss.element.unknown",
                "is not an RSS 2.0 element; apps ignore it.",
                hint="check the spelling or put it in a namespace",
            )


def check_duplicates(ctx: Context, parent: etree._Element, single: frozenset[str]) -> None:
    """Report second copies of elements allowed once.

    :param ctx: the lint run.
    :param parent: the channel or an item.
    :param single: the names allowed once.
    """
    counts: Counter[str] = Counter()
    for child in children(parent):
        name = qname(child)
        if name not in single:
            continue
        counts[name] += 1
        if counts[name] == 2:
            ctx.report(
                child,
                "rss.duplicate",
                "appears more than once; it is allowed once, and apps disagree on which copy wins.",
                hint="keep a single copy",
            )


def check_channel(ctx: Context) -> None:
    """Check the RSS 2.0 rules of ``<channel>`` (FEED_RULES §1).

    :param ctx: the lint run.
    """
    channel = ctx.channel
    check_unknown(ctx, channel, _CHANNEL_ELEMENTS)
    check_duplicates(ctx, channel, _CHANNEL_SINGLE)
    for name in ("title", "link", "description"):
        element = channel.find(name)
        if element is None or not text_of(element).strip():
            ctx.report(
                channel,
                "rss.channel.required",
                f"has {'an empty' if element is not None else 'no'} <{name}>, which RSS requires.",
                hint=f"give the show a <{name}>",
            )
    link = channel.find("link")
    if link is not None and text_of(link).strip():
        _check_url(ctx, link)
    image = channel.find("image")
    if image is not None:
        _check_image(ctx, image)
    for name in ("managingEditor", "webMaster"):
        element = channel.find(name)
        if element is not None:
            check_email_field(ctx, element)
    for name in ("pubDate", "lastBuildDate"):
        element = channel.find(name)
        if element is not None:
            check_date(ctx, element, text_of(element))
    _check_self_link(ctx)


def check_email_field(ctx: Context, element: etree._Element) -> None:
    """Check an RSS e-mail field: ``address`` or ``address (Name)``.

    :param ctx: the lint run.
    :param element: ``managingEditor``, ``webMaster`` or item ``author``.
    """
    value = text_of(element).strip()
    address = value.split("(", 1)[0].strip()
    if not is_email(address):
        ctx.report(
            element,
            "rss.email",
            f'holds "{value}", which is not an e-mail address.',
            hint="write an e-mail address here and put names in <itunes:author>",
        )


def _check_url(ctx: Context, element: etree._Element, attribute: str | None = None) -> None:
    value = (element.get(attribute) or "") if attribute else text_of(element).strip()
    if not is_web_url(value):
        ctx.report(
            element,
            "rss.url.invalid",
            f'is "{value}", which is not an absolute http(s) URL.',
            attribute=attribute,
            hint="write the full URL, starting with https://",
        )


def _check_image(ctx: Context, image: etree._Element) -> None:
    for name in ("url", "title", "link"):
        element = image.find(name)
        if element is None or not text_of(element).strip():
            ctx.report(
                image,
                "rss.image.incomplete",
                f"has no <{name}>; RSS requires <url>, <title> and <link> in <image>.",
                hint=f"add <{name}> or remove <image>",
            )
        elif name != "title":
            _check_url(ctx, element)
    for name, limit in (("width", 144), ("height", 400)):
        element = image.find(name)
        if element is None:
            continue
        value = text_of(element).strip()
        if not value.isdigit() or not 0 < int(value) <= limit:
            ctx.report(
                element,
                "rss.image.size",
                f'is "{value}"; RSS allows a whole number of pixels up to {limit}.',
                hint=f"use at most {limit}, or leave it out",
            )


def _check_self_link(ctx: Context) -> None:
    links = [
        child
        for child in children(ctx.channel)
        if namespace(child) == ATOM_NS and local(child) == "link" and child.get("rel") == "self"
    ]
    if not links:
        ctx.report(
            ctx.channel,
            "rss.atom_self.missing",
            'has no <atom:link rel="self">, so apps cannot tell the feed\'s own URL.',
            hint='add <atom:link rel="self" type="application/rss+xml" href="FEED URL"/>',
        )
        return
    link = links[0]
    href = link.get("href", "")
    if not is_web_url(href) or link.get("type") != "application/rss+xml":
        ctx.report(
            link,
            "rss.atom_self.invalid",
            f'has href "{href}" and type "{link.get("type", "")}"; it needs an absolute URL '
            'and type="application/rss+xml".',
            hint='write <atom:link rel="self" type="application/rss+xml" href="FEED URL"/>',
        )
    elif ctx.feed_url is not None and href.rstrip("/") != ctx.feed_url.rstrip("/"):
        ctx.report(
            link,
            "rss.atom_self.mismatch",
            f"points to {href}, but the feed is published at {ctx.feed_url}.",
            attribute="href",
            hint="make the self link the URL the feed is served from",
        )


def check_date(ctx: Context, element: etree._Element, value: str, attribute: str | None = None) -> None:
    """Check an RFC 2822 date, and that it is not in the future.

    :param ctx: the lint run.
    :param element: the element holding the date.
    :param value: the date text.
    :param attribute: the attribute holding it, if not the text.
    """
    moment = parse_rfc2822(value)
    if moment is None:
        ctx.report(
            element,
            "rss.date.invalid",
            f'is "{value.strip()}", which is not an RFC 2822 date with English names, a matching '
            "weekday, a four-digit year and a numeric zone.",
            attribute=attribute,
            hint='write it like "Tue, 05 Mar 2024 10:00:00 +0100"',
        )
    elif ctx.after_now(moment):
        ctx.report(
            element,
            "rss.date.future",
            f'is "{value.strip()}", in the future; apps may hide the episode or show it out of order.',
            attribute=attribute,
            hint="publish the episode when its date has come",
        )


def check_items(ctx: Context) -> None:
    """Check the RSS 2.0 rules of every ``<item>``: links, authors, enclosures, guids, dates.

    :param ctx: the lint run.
    """
    guids: dict[str, str] = {}
    for item in ctx.items:
        check_item(ctx, item, guids)


def check_item(ctx: Context, item: etree._Element, guids: dict[str, str]) -> None:
    """Check the RSS 2.0 rules of one ``<item>``.

    :param ctx: the lint run.
    :param item: the item, complete.
    :param guids: each guid seen in the items before, with the name of its item; the name
        is kept rather than the element, so that a streaming lint can free checked items.
    """
    check_unknown(ctx, item, _ITEM_ELEMENTS)
    check_duplicates(ctx, item, _ITEM_SINGLE)
    for name in ("link", "comments"):
        element = item.find(name)
        if element is not None:
            _check_url(ctx, element)
    author = item.find("author")
    if author is not None:
        check_email_field(ctx, author)
    enclosures = item.findall("enclosure")
    for enclosure in enclosures:
        _check_enclosure(ctx, enclosure)
    if len(enclosures) > 1:
        ctx.report(
            enclosures[1],
            "rss.enclosure.multiple",
            "is a second enclosure; apps play only one, usually the first.",
            hint="keep one <enclosure> per item (use podcast:alternateEnclosure for others)",
        )
    pub_date = item.find("pubDate")
    if pub_date is not None:
        check_date(ctx, pub_date, text_of(pub_date))
    _check_guid(ctx, item, guids)
    check_psc_chapters(ctx, item)


def _check_enclosure(ctx: Context, enclosure: etree._Element) -> None:
    url = enclosure.get("url")
    if url is None or not is_web_url(url):
        ctx.report(
            enclosure,
            "rss.enclosure.url",
            "has no url." if url is None else f'is "{url}", which is not an absolute http(s) URL.',
            attribute="url",
            hint="give the full URL of the audio file",
        )
    length = enclosure.get("length")
    if length is None or not length.strip().isdigit() or int(length) <= 0:
        ctx.report(
            enclosure,
            "rss.enclosure.length",
            "is missing." if length is None else f'is "{length}", not a positive number of bytes.',
            attribute="length",
            hint="write the file size in bytes",
        )
    if not (enclosure.get("type") or "").strip():
        ctx.report(
            enclosure,
            "rss.enclosure.type",
            "is missing.",
            attribute="type",
            hint="write the file's MIME type, e.g. audio/mpeg",
        )


def _check_guid(ctx: Context, item: etree._Element, guids: dict[str, str]) -> None:
    guid = item.find("guid")
    value = text_of(guid).strip()
    if guid is None or not value:
        ctx.report(
            item,
            "rss.guid.missing",
            f"has {'an empty' if guid is not None else 'no'} <guid>; apps tell episodes apart by it.",
            hint="give every episode a permanent, unique guid",
        )
        return
    if value in guids:
        ctx.report(
            guid,
            "rss.guid.duplicate",
            f'is "{value}", already used by {guids[value]}; apps would merge the two episodes.',
            hint="give each episode its own guid",
        )
    else:
        guids[value] = ctx.where(guid).rsplit(" <", 1)[0]
    permalink = guid.get("isPermaLink")
    if permalink not in (None, "true", "false"):
        ctx.report(
            guid,
            "rss.guid.permalink_value",
            f'is "{permalink}"; it must be "true" or "false".',
            attribute="isPermaLink",
            hint='write isPermaLink="false" unless the guid is the episode\'s URL',
        )
    elif not is_web_url(value):
        if permalink == "true":
            ctx.report(
                guid,
                "rss.guid.not_url",
                f'says isPermaLink="true", but "{value}" is not a URL.',
                hint='write isPermaLink="false"',
            )
        elif permalink is None:
            ctx.report(
                guid,
                "rss.guid.permalink",
                f'is "{value}", not a URL, without isPermaLink="false"; RSS then reads it as a URL.',
                hint='add isPermaLink="false"',
            )
