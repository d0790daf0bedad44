"""Where each Podcasting 2.0 tag may sit, how often, and what its attributes hold (FEED_RULES §6)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from urllib.parse import urlsplit

from lxml import etree

from entretiens.feedlint import _podcast_others, _podcast_tags
from entretiens.feedlint._context import Context, children, is_web_url, local, namespace, qname, text_of
from entretiens.podcast_spec import PODCAST_NS, PODCAST_TEXT_LIMIT, PODCAST_TXT_LIMIT

_VALIDATORS = {**_podcast_tags.VALIDATORS, **_podcast_others.VALIDATORS}


@dataclass(frozen=True, slots=True, kw_only=True)
class _Tag:
    """The shape of one tag, as its page in the namespace describes it."""

    #: Parent keys: "channel", "item" (a liveItem accepts item tags too) or a podcast tag name.
    parents: tuple[str, ...]
    single: bool = False
    required: tuple[str, ...] = ()
    #: Attributes holding web URLs: https only.
    urls: tuple[str, ...] = ()
    #: Attributes holding URIs that may use other schemes (ipfs:, magnet:...), but not http:.
    uris: tuple[str, ...] = ()
    #: Characters of text after which aggregators may truncate.
    limit: int | None = None
    #: The text must not be blank.
    named: bool = False


_CHANNEL_ITEM = ("channel", "item")
_TAGS: dict[str, _Tag] = {
    "locked": _Tag(parents=("channel",), single=True),
    "guid": _Tag(parents=("channel",), single=True),
    "funding": _Tag(parents=_CHANNEL_ITEM, required=("url",), urls=("url",), limit=PODCAST_TEXT_LIMIT),
    "transcript": _Tag(parents=("item",), required=("url", "type"), urls=("url",)),
    "chapters": _Tag(parents=("item",), single=True, required=("url", "type"), urls=("url",)),
    "person": _Tag(parents=_CHANNEL_ITEM, urls=("img", "href"), limit=PODCAST_TEXT_LIMIT, named=True),
    "season": _Tag(parents=("item",), single=True),
    "episode": _Tag(parents=("item",), single=True),
    "soundbite": _Tag(parents=("item",), required=("startTime", "duration"), limit=PODCAST_TEXT_LIMIT),
    "medium": _Tag(parents=("channel",), single=True),
    "alternateEnclosure": _Tag(parents=("item",), required=("type",)),
    "source": _Tag(parents=("alternateEnclosure",), required=("uri",), uris=("uri",)),
    "integrity": _Tag(parents=("alternateEnclosure",), single=True, required=("type", "value")),
    "txt": _Tag(parents=_CHANNEL_ITEM, limit=PODCAST_TXT_LIMIT),
    "license": _Tag(parents=_CHANNEL_ITEM, single=True, urls=("url",), limit=PODCAST_TEXT_LIMIT, named=True),
    "location": _Tag(parents=_CHANNEL_ITEM, limit=PODCAST_TEXT_LIMIT, named=True),
    "trailer": _Tag(
        parents=("channel",), required=("url", "pubdate"), urls=("url",), limit=PODCAST_TEXT_LIMIT, named=True
    ),
    "block": _Tag(parents=("channel",)),
    "value": _Tag(parents=_CHANNEL_ITEM, required=("type", "method")),
    "valueRecipient": _Tag(parents=("value", "valueTimeSplit"), required=("type", "address", "split")),
    "valueTimeSplit": _Tag(parents=("value",), required=("startTime", "duration")),
    "liveItem": _Tag(parents=("channel",), required=("status", "start")),
    "contentLink": _Tag(parents=("item",), required=("href",), uris=("href",)),
    "socialInteract": _Tag(parents=_CHANNEL_ITEM, required=("protocol",), uris=("uri",), urls=("accountUrl",)),
    "chat": _Tag(parents=_CHANNEL_ITEM, single=True, required=("server", "protocol")),
    "remoteItem": _Tag(
        parents=("channel", "podroll", "valueTimeSplit", "publisher"),
        required=("feedGuid",),
        urls=("feedUrl",),
    ),
    "podroll": _Tag(parents=("channel",), single=True),
    "publisher": _Tag(parents=("channel",), single=True),
    "updateFrequency": _Tag(parents=("channel",), single=True, limit=PODCAST_TEXT_LIMIT),
    "podping": _Tag(parents=("channel",), single=True),
    "image": _Tag(parents=_CHANNEL_ITEM, required=("href",), urls=("href",)),
    "images": _Tag(parents=_CHANNEL_ITEM, single=True, required=("srcset",)),
}


def _parent_key(ctx: Context, parent: etree._Element) -> str:
    if parent is ctx.channel:
        return "channel"
    if parent.tag == "item" or (namespace(parent) == PODCAST_NS and local(parent) == "liveItem"):
        return "item"
    if namespace(parent) == PODCAST_NS:
        return local(parent)
    return qname(parent)


def check_podcast(ctx: Context, within: etree._Element | None = None) -> None:
    """Check every ``podcast:`` element under the channel.

    :param ctx: the lint run.
    :param within: the subtree to walk (one item, when streaming); default: the channel.
    """
    counts: Counter[tuple[etree._Element, str]] = Counter()
    for element in (ctx.channel if within is None else within).iter(f"{{{PODCAST_NS}}}*"):
        name = local(element)
        rule = _TAGS.get(name)
        if rule is None:
            ctx.report(
                element,
                "pc20.tag.unknown",
                "is not a Podcasting 2.0 tag.",
                hint="check the spelling against the namespace's tag list",
            )
            continue
        parent = element.getparent()
        if parent is None:
            continue
        key = _parent_key(ctx, parent)
        if key not in rule.parents:
            allowed = ", ".join(f"<{p}>" if p in ("channel", "item") else f"<podcast:{p}>" for p in rule.parents)
            ctx.report(
                element,
                "pc20.parent",
                f"sits in <{qname(parent)}>; it belongs in {allowed}.",
                hint="move it",
            )
            continue
        counts[(parent, name)] += 1
        if rule.single and counts[(parent, name)] == 2:
            ctx.report(
                element,
                "pc20.count",
                f"appears more than once in <{qname(parent)}>; the namespace allows one.",
                hint="keep a single copy",
            )
        _check_shape(ctx, element, rule)
        validator = _VALIDATORS.get(name)
        if validator is not None:
            validator(ctx, element)


def _check_shape(ctx: Context, element: etree._Element, rule: _Tag) -> None:
    for attribute in rule.required:
        if not (element.get(attribute) or "").strip():
            ctx.report(
                element,
                "pc20.attribute.missing",
                "is missing, and the tag requires it.",
                attribute=attribute,
            )
    for name, raw in element.attrib.items():
        if str(raw).strip().lower().startswith("http:"):
            ctx.report(
                element,
                "pc20.url.https",
                f'is "{raw!s}"; Podcasting 2.0 URLs must use https.',
                attribute=str(name),
                hint="serve it over https and write https://",
            )
    for attribute in rule.urls:
        value = element.get(attribute)
        if value is not None and not value.lower().startswith("http:") and not is_web_url(value, https_only=True):
            _report_url(ctx, element, attribute, value, "an absolute https URL")
    for attribute in rule.uris:
        value = element.get(attribute)
        if value and not value.lower().startswith("http:") and not _has_scheme(value):
            _report_url(ctx, element, attribute, value, "an absolute URI")
    text = text_of(element).strip() if not children(element) else ""
    if rule.named and not text:
        ctx.report(element, "pc20.text.empty", "is empty; it needs a text value.", hint="write the name or title")
    if rule.limit is not None and len(text) > rule.limit:
        ctx.report(
            element,
            "pc20.text.length",
            f"is {len(text)} characters long; aggregators may cut it at {rule.limit}.",
            hint=f"keep it within {rule.limit} characters",
        )


def _has_scheme(value: str) -> bool:
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return bool(parts.scheme) and not any(ch.isspace() for ch in value)


def _report_url(ctx: Context, element: etree._Element, attribute: str, value: str, expected: str) -> None:
    ctx.report(
        element,
        "pc20.url.invalid",
        f'is "{value}", not {expected}.',
        attribute=attribute,
        hint="write the full URL, starting with https://",
    )
