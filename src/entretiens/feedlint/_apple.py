"""Checks of Apple Podcasts' show-level rules and of itunes tag names (FEED_RULES §2)."""

from __future__ import annotations

from urllib.parse import urlsplit

from lxml import etree

from entretiens.feedlint._categories import check_category
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
from entretiens.podcast_spec import (
    ARTWORK_FORMATS,
    DESCRIPTION_LIMIT,
    ITUNES_NS,
    PODCAST_NS,
    SHOW_TYPES,
    TITLE_LIMIT,
    is_valid_language,
)

_CHANNEL_TAGS = words("image category explicit author owner title type new-feed-url block complete applepodcastsverify")
_ITEM_TAGS = words("title episode season episodeType duration image explicit block")
#: Tags Apple once read and now ignores.
_DEPRECATED_TAGS = words("summary subtitle keywords order author link")
_NESTED_TAGS = {"owner": frozenset(("name", "email")), "category": frozenset(("category",))}


def itunes(parent: etree._Element, name: str) -> etree._Element | None:
    """The first ``itunes:`` child of ``parent`` with this local name."""
    return parent.find(f"{{{ITUNES_NS}}}{name}")


def check_channel(ctx: Context) -> None:
    """Check Apple's show-level rules.

    :param ctx: the lint run.
    """
    channel = ctx.channel
    for name, label in (
        (f"{{{ITUNES_NS}}}image", "<itunes:image>"),
        ("language", "<language>"),
        (f"{{{ITUNES_NS}}}category", "<itunes:category>"),
        (f"{{{ITUNES_NS}}}explicit", "<itunes:explicit>"),
    ):
        if channel.find(name) is None:
            ctx.report(
                channel,
                "apple.channel.required",
                f"has no {label}, which Apple Podcasts requires.",
                hint=f"add {label}",
            )
    description = channel.find("description")
    size = len(text_of(description).encode("utf-8"))
    if description is not None and size > DESCRIPTION_LIMIT:
        ctx.report(
            description,
            "apple.description.length",
            f"is {size} bytes long; Apple accepts at most {DESCRIPTION_LIMIT}.",
            hint="shorten the show's description",
        )
    language = channel.find("language")
    if language is not None and not is_valid_language(text_of(language).strip()):
        ctx.report(
            language,
            "apple.language.invalid",
            f'is "{text_of(language).strip()}", not an ISO 639-1 code with an optional region.',
            hint='write a code like "fr", "fr-FR" or "en-us"',
        )
    if itunes(channel, "author") is None:
        ctx.report(
            channel,
            "apple.author.missing",
            "has no <itunes:author>, which Apple recommends.",
            hint="name who makes the show in <itunes:author>",
        )
    _check_owner(ctx)
    show_type = itunes(channel, "type")
    if show_type is not None and text_of(show_type).strip() not in SHOW_TYPES:
        ctx.report(
            show_type,
            "apple.type.invalid",
            f'is "{text_of(show_type).strip()}"; Apple knows "episodic" and "serial".',
            hint='write "episodic" or "serial"',
        )
    new_url = itunes(channel, "new-feed-url")
    if new_url is not None and not is_web_url(text_of(new_url).strip()):
        ctx.report(
            new_url,
            "apple.new_feed_url.invalid",
            f'is "{text_of(new_url).strip()}", not an http(s) URL.',
            hint="write the full URL of the new feed",
        )
    complete = itunes(channel, "complete")
    if complete is not None and text_of(complete).strip().lower() == "yes":
        ctx.report(
            complete,
            "apple.complete",
            "is Yes: Apple Podcasts will treat the show as finished and expect no new episode.",
            hint="remove it if the show goes on",
        )
    for element in channel.findall(f"{{{ITUNES_NS}}}category"):
        check_category(ctx, element, depth=1)
    if not ctx.counts.get("item"):
        ctx.report(channel, "apple.episodes.none", "has no <item>; Apple refuses a show without episodes.")
    check_common(ctx, channel)


def _check_owner(ctx: Context) -> None:
    owner = itunes(ctx.channel, "owner")
    if owner is None:
        ctx.report(
            ctx.channel,
            "apple.owner.missing",
            "has no <itunes:owner>, which Apple recommends to contact the owner.",
            hint="add <itunes:owner> with <itunes:name> and <itunes:email>",
        )
        return
    if not text_of(itunes(owner, "name")).strip():
        ctx.report(
            owner,
            "apple.owner.name",
            "has no <itunes:name>.",
            hint="add the owner's name",
        )
    email = itunes(owner, "email")
    if email is None or not is_email(text_of(email)):
        ctx.report(
            email if email is not None else owner,
            "apple.owner.email",
            "has no <itunes:email>." if email is None else f'is "{text_of(email).strip()}", not an e-mail address.',
            hint="give the e-mail address Apple should write to",
        )


def check_common(ctx: Context, parent: etree._Element) -> None:
    """Rules shared by the show and its episodes: titles, image, explicit, block, tag names."""
    for element in (parent.find("title"), itunes(parent, "title")):
        if element is not None:
            _check_title(ctx, element)
    image = itunes(parent, "image")
    if image is not None:
        _check_image_href(ctx, image)
    explicit = itunes(parent, "explicit")
    if explicit is not None:
        value = text_of(explicit).strip()
        if value in ("yes", "no", "clean"):
            ctx.report(
                explicit,
                "apple.explicit.legacy",
                f'is "{value}", an old value; Apple now reads "true" or "false".',
                hint='write "true" or "false"',
            )
        elif value not in ("true", "false"):
            ctx.report(
                explicit,
                "apple.explicit.invalid",
                f'is "{value}"; Apple accepts "true" or "false".',
                hint='write "true" or "false"',
            )
    block = itunes(parent, "block")
    if block is not None and text_of(block).strip().lower() == "yes":
        ctx.report(
            block,
            "apple.block",
            "is Yes: Apple Podcasts will hide it.",
            hint="remove it unless hiding is what you want",
        )
    _check_tag_names(ctx, parent)


def _check_title(ctx: Context, element: etree._Element) -> None:
    value = text_of(element)
    if len(value) > TITLE_LIMIT:
        ctx.report(
            element,
            "apple.title.length",
            f"is {len(value)} characters long; Apple cuts titles at {TITLE_LIMIT}.",
            hint="shorten the title",
        )
    if value.strip() and value != value.strip():
        ctx.report(
            element,
            "apple.title.whitespace",
            "starts or ends with spaces.",
            hint="trim the title",
        )


def _check_image_href(ctx: Context, image: etree._Element) -> None:
    href = image.get("href")
    if href is None or not is_web_url(href):
        ctx.report(
            image,
            "apple.image.href",
            "has no href attribute (Apple does not read the text)."
            if href is None
            else f'has href "{href}", which is not an absolute http(s) URL.',
            attribute="href",
            hint='write <itunes:image href="https://…/cover.jpg"/>',
        )
        return
    path = urlsplit(href).path.lower()
    if not path.endswith(tuple(ARTWORK_FORMATS)):
        ctx.report(
            image,
            "apple.image.extension",
            f'is "{href}"; Apple needs a URL ending in .jpg, .jpeg or .png.',
            attribute="href",
            hint="serve the artwork as JPEG or PNG with a matching extension",
        )


def _check_tag_names(ctx: Context, parent: etree._Element) -> None:
    allowed = _CHANNEL_TAGS if parent is ctx.channel else _ITEM_TAGS
    for child in children(parent):
        if namespace(child) == ITUNES_NS:
            _check_tag_name(ctx, child, allowed)
            for grandchild in children(child):
                if namespace(grandchild) == ITUNES_NS:
                    _check_tag_name(ctx, grandchild, _NESTED_TAGS.get(local(child), frozenset()))


def _check_tag_name(ctx: Context, element: etree._Element, allowed: frozenset[str]) -> None:
    name = local(element)
    if name in allowed:
        return
    if name in _DEPRECATED_TAGS:
        ctx.report(
            element,
            "apple.tag.deprecated",
            "is no longer read by Apple Podcasts.",
            hint="it does no harm, but other tags carry this information now",
        )
    elif name in _CHANNEL_TAGS | _ITEM_TAGS | {"name", "email"}:
        ctx.report(
            element,
            "apple.tag.misplaced",
            "is not read here by Apple Podcasts.",
            hint="move it to where Apple's guide puts it",
        )
    else:
        ctx.report(
            element,
            "apple.tag.unknown",
            "is not an Apple Podcasts tag.",
            hint="check the spelling against Apple's guide",
        )


def check_stray_tags(ctx: Context, within: etree._Element | None = None) -> None:
    """Report itunes tags outside the channel, its items and their known containers.

    :param ctx: the lint run.
    :param within: the subtree to walk (one item, when streaming); default: the channel.
    """
    for element in (ctx.channel if within is None else within).iter(f"{{{ITUNES_NS}}}*"):
        parent = element.getparent()
        if parent is None or parent is ctx.channel or parent.tag == "item":
            continue
        if namespace(parent) == ITUNES_NS:
            continue
        if namespace(parent) == PODCAST_NS and local(parent) == "liveItem":
            _check_tag_name(ctx, element, _ITEM_TAGS)
            continue
        ctx.report(
            element,
            "apple.tag.misplaced",
            f"sits inside <{qname(parent)}>, where Apple Podcasts does not read it.",
            hint="move it to the channel or an item",
        )
