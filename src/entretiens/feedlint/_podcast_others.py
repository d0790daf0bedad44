"""Value rules of the less common Podcasting 2.0 tags: block, value, liveItem, social, remote items."""

from __future__ import annotations

from lxml import etree

from entretiens.feedlint._context import Context, text_of
from entretiens.feedlint._podcast_tags import UUID, Validator, iso_date, number, podcast_children
from entretiens.podcast_spec import CHAT_PROTOCOLS, MEDIUMS, SERVICE_SLUGS, SOCIAL_PROTOCOLS


def _block(ctx: Context, element: etree._Element) -> None:
    value = text_of(element).strip()
    if value not in ("yes", "no"):
        ctx.report(element, "pc20.block.value", f'is "{value}"; it must be "yes" or "no".')
    service = element.get("id")
    if service is not None and service not in SERVICE_SLUGS:
        ctx.report(
            element,
            "pc20.block.id",
            f'is "{service}", not in the namespace\'s list of service slugs.',
            attribute="id",
        )


def _value(ctx: Context, element: etree._Element) -> None:
    number(ctx, element, "suggested")
    if not podcast_children(element, "valueRecipient"):
        ctx.report(
            element,
            "pc20.value.recipients",
            "has no <podcast:valueRecipient>.",
            hint="list who receives the payments",
        )


def _value_recipient(ctx: Context, element: etree._Element) -> None:
    number(ctx, element, "split", integer=True)


def _value_time_split(ctx: Context, element: etree._Element) -> None:
    for attribute in ("startTime", "duration", "remoteStartTime", "remotePercentage"):
        number(ctx, element, attribute)
    remote = podcast_children(element, "remoteItem")
    recipients = podcast_children(element, "valueRecipient")
    if not (len(remote) == 1 and not recipients) and not (recipients and not remote):
        ctx.report(
            element,
            "pc20.value.recipients",
            "must hold exactly one <podcast:remoteItem> or one or more <podcast:valueRecipient>.",
        )


def _live_item(ctx: Context, element: etree._Element) -> None:
    status = element.get("status")
    if status is not None and status not in ("pending", "live", "ended"):
        ctx.report(
            element,
            "pc20.live_item.status",
            f'is "{status}"; it must be "pending", "live" or "ended".',
            attribute="status",
        )
    for attribute in ("start", "end"):
        value = element.get(attribute)
        if value is not None and iso_date(value) is None:
            ctx.report(
                element,
                "pc20.live_item.date",
                f'is "{value}", not an ISO 8601 date and time.',
                attribute=attribute,
                hint='write it like "2024-03-05T10:00:00+01:00"',
            )
    if not podcast_children(element, "contentLink"):
        ctx.report(
            element,
            "pc20.live_item.content_link",
            "has no <podcast:contentLink>, which a live item requires as a fallback.",
            hint="link to a page where the stream plays",
        )


def _social_interact(ctx: Context, element: etree._Element) -> None:
    protocol = element.get("protocol")
    if protocol is not None and protocol not in SOCIAL_PROTOCOLS:
        ctx.report(
            element,
            "pc20.social_interact.protocol",
            f'is "{protocol}", not in the namespace\'s list of protocols.',
            attribute="protocol",
        )
    if protocol != "disabled" and not element.get("uri"):
        ctx.report(element, "pc20.attribute.missing", "has no uri, which is required.", attribute="uri")
    number(ctx, element, "priority", integer=True)


def _chat(ctx: Context, element: etree._Element) -> None:
    protocol = element.get("protocol")
    if protocol is not None and protocol not in CHAT_PROTOCOLS:
        ctx.report(
            element,
            "pc20.chat.protocol",
            f'is "{protocol}", not in the namespace\'s list of chat protocols.',
            attribute="protocol",
        )


def _remote_item(ctx: Context, element: etree._Element) -> None:
    guid = element.get("feedGuid")
    if guid is not None and UUID.fullmatch(guid) is None:
        ctx.report(
            element,
            "pc20.remote_item.guid",
            f'is "{guid}", not a podcast:guid (a UUID).',
            attribute="feedGuid",
        )
    medium = element.get("medium")
    if medium is not None and medium not in MEDIUMS:
        ctx.report(element, "pc20.medium.invalid", f'is "{medium}", not a known medium.', attribute="medium")


def _podroll(ctx: Context, element: etree._Element) -> None:
    if not podcast_children(element, "remoteItem"):
        ctx.report(
            element,
            "pc20.podroll.empty",
            "holds no <podcast:remoteItem>.",
            hint="list the podcasts you recommend",
        )


def _publisher(ctx: Context, element: etree._Element) -> None:
    remote = podcast_children(element, "remoteItem")
    if len(remote) != 1 or remote[0].get("medium") != "publisher":
        ctx.report(
            element,
            "pc20.publisher.remote_item",
            'must hold exactly one <podcast:remoteItem medium="publisher">.',
        )


def _update_frequency(ctx: Context, element: etree._Element) -> None:
    dtstart = element.get("dtstart")
    if dtstart is not None and iso_date(dtstart) is None:
        ctx.report(
            element,
            "pc20.update_frequency.dtstart",
            f'is "{dtstart}", not an ISO 8601 date.',
            attribute="dtstart",
        )
    rrule = (element.get("rrule") or "").upper()
    if "COUNT=" in rrule and dtstart is None:
        ctx.report(
            element,
            "pc20.update_frequency.dtstart",
            "has an rrule with COUNT but no dtstart, which it then requires.",
            attribute="dtstart",
        )


def _images(ctx: Context, element: etree._Element) -> None:
    ctx.report(
        element,
        "pc20.tag.deprecated",
        "is deprecated.",
        hint="use <podcast:image> instead",
    )


#: Value rules of the tags above, by local name.
VALIDATORS: dict[str, Validator] = {
    "block": _block,
    "value": _value,
    "valueRecipient": _value_recipient,
    "valueTimeSplit": _value_time_split,
    "liveItem": _live_item,
    "socialInteract": _social_interact,
    "chat": _chat,
    "remoteItem": _remote_item,
    "podroll": _podroll,
    "publisher": _publisher,
    "updateFrequency": _update_frequency,
    "images": _images,
}
