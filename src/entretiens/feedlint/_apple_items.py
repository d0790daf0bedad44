"""Checks of Apple's episode rules: required tags, enclosures, numbers, durations (FEED_RULES §3)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from lxml import etree

from entretiens.feedlint._apple import check_common, itunes
from entretiens.feedlint._context import Context, text_of
from entretiens.podcast_spec import DESCRIPTION_LIMIT, ENCLOSURE_TYPES, ENCLOSURE_TYPES_BY_EXTENSION, EPISODE_TYPES

_DURATION = re.compile(r"(?:(?:(\d+):)?(\d{1,2}):)?(\d+)(?:\.(\d+))?")
_DAY = 24 * 3600


def parse_duration(text: str) -> tuple[float, bool] | None:
    """Read ``itunes:duration``: seconds, ``MM:SS`` or ``HH:MM:SS``.

    :param text: the element's text.
    :returns: ``(seconds, has_fraction)``, or None when unparseable or when minutes or seconds
        exceed 59 in a clock form.
    """
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        return None
    hours, minutes, seconds, fraction = match.groups()
    if minutes is not None and (int(minutes) > 59 or int(seconds) > 59 or len(seconds) > 2):
        return None
    total = int(hours or 0) * 3600 + int(minutes or 0) * 60 + int(seconds)
    return total + float(f"0.{fraction}" if fraction else 0), fraction is not None


def check_items(ctx: Context) -> None:
    """Check Apple's episode-level rules.

    :param ctx: the lint run.
    """
    show_type = text_of(itunes(ctx.channel, "type")).strip() or "episodic"
    seen_urls: dict[str, str] = {}
    for item in ctx.items:
        check_item(ctx, item, show_type, seen_urls)


def check_item(ctx: Context, item: etree._Element, show_type: str, seen_urls: dict[str, str]) -> None:
    """Check Apple's episode-level rules on one item.

    :param ctx: the lint run.
    :param item: the item, complete.
    :param show_type: the show's ``itunes:type`` (``episodic`` when absent).
    :param seen_urls: each enclosure URL seen in the items before, with the name of its item.
    """
    title = item.find("title")
    if title is None or not text_of(title).strip():
        ctx.report(
            item,
            "apple.item.required",
            "has no title, which Apple requires.",
            hint="give the episode a title",
        )
    enclosure = item.find("enclosure")
    if enclosure is None:
        ctx.report(
            item,
            "apple.item.required",
            "has no <enclosure>, which Apple requires.",
            hint="attach the audio file",
        )
    else:
        _check_enclosure(ctx, enclosure, seen_urls)
    if item.find("pubDate") is None and show_type != "serial":
        ctx.report(
            item,
            "apple.pubdate.missing",
            "has no <pubDate>; Apple sorts episodic shows by it.",
            hint="give the episode a publication date",
        )
    _check_description(ctx, item)
    _check_numbers(ctx, item, show_type)
    duration = itunes(item, "duration")
    if duration is None:
        ctx.report(
            item,
            "apple.duration.missing",
            "has no <itunes:duration>, which Apple recommends.",
            hint="give the length in seconds",
        )
    else:
        _check_duration(ctx, duration)
    check_common(ctx, item)


#: Audio types other apps play, outside Apple's list.
_PLAYED_ELSEWHERE = frozenset(
    {"audio/ogg", "audio/opus", "audio/flac", "audio/wav", "audio/x-wav", "audio/aac", "audio/webm"}
)


def _check_enclosure(ctx: Context, enclosure: etree._Element, seen: dict[str, str]) -> None:
    url = enclosure.get("url", "")
    kind = (enclosure.get("type") or "").split(";")[0].strip().lower()
    if kind in _PLAYED_ELSEWHERE:
        # Real audio that Podcasting 2.0 apps play (AntennaPod, Pocket Casts...) but Apple does not:
        # a legitimate choice for a show, so a warning rather than a failed feed.
        ctx.report(
            enclosure,
            "apple.enclosure.unsupported",
            f'is "{kind}", which Apple Podcasts does not play.',
            attribute="type",
            hint="publish MP3 (audio/mpeg) or AAC (audio/x-m4a) to reach Apple Podcasts listeners",
        )
    elif kind and kind not in ENCLOSURE_TYPES:
        ctx.report(
            enclosure,
            "apple.enclosure.type",
            f'is "{kind}", which Apple does not accept'
            + (" (audio/mp3 is not a MIME type)." if kind == "audio/mp3" else "."),
            attribute="type",
            hint="use audio/mpeg for MP3 and audio/x-m4a for M4A",
        )
    extension = "." + urlsplit(url).path.rsplit(".", 1)[-1].lower() if "." in urlsplit(url).path else ""
    fits = ENCLOSURE_TYPES_BY_EXTENSION.get(extension)
    if kind in ENCLOSURE_TYPES and fits is not None and kind not in fits:
        ctx.report(
            enclosure,
            "apple.enclosure.mismatch",
            f'is "{kind}", but the URL ends in {extension} ({" or ".join(fits)}).',
            attribute="type",
            hint="make the type match the file",
        )
    if not url.isascii():
        ctx.report(
            enclosure,
            "apple.enclosure.ascii",
            f'is "{url}", which has non-ASCII characters.',
            attribute="url",
            hint="percent-encode the URL or rename the file",
        )
    if url in seen:
        ctx.report(
            enclosure,
            "apple.enclosure.duplicate",
            f"repeats the audio URL of {seen[url]}; Apple ignores duplicates.",
            attribute="url",
            hint="give each episode its own audio file",
        )
    elif url:
        seen[url] = ctx.where(enclosure).rsplit(" <", 1)[0]


def _check_description(ctx: Context, item: etree._Element) -> None:
    description = item.find("description")
    if description is None or not text_of(description).strip():
        ctx.report(
            item,
            "apple.item.description.missing",
            "has no <description>, which Apple recommends.",
            hint="describe the episode in a sentence or two",
        )
        return
    size = len(text_of(description).encode("utf-8"))
    if size > DESCRIPTION_LIMIT:
        ctx.report(
            description,
            "apple.item.description.length",
            f"is {size} bytes long; Apple shows at most {DESCRIPTION_LIMIT}.",
            hint="shorten the description",
        )


def _check_numbers(ctx: Context, item: etree._Element, show_type: str) -> None:
    for name in ("episode", "season"):
        element = itunes(item, name)
        value = text_of(element).strip()
        if element is not None and (not value.isdigit() or int(value) == 0):
            ctx.report(
                element,
                f"apple.{name}.invalid",
                f'is "{value}"; Apple needs a non-zero whole number.',
                hint="write 1, 2, 3…",
            )
    kind = itunes(item, "episodeType")
    value = text_of(kind).strip()
    if kind is not None and value not in EPISODE_TYPES:
        ctx.report(
            kind,
            "apple.episode_type.invalid",
            f'is "{value}"; Apple knows "full", "trailer" and "bonus" (lower case).',
            hint='write "full", "trailer" or "bonus"',
        )
    if show_type == "serial" and (value or "full") == "full" and itunes(item, "episode") is None:
        ctx.report(
            item,
            "apple.serial.episode",
            "has no <itunes:episode>; in a serial show every full episode needs a number.",
            hint="number the episode",
        )


def _check_duration(ctx: Context, element: etree._Element) -> None:
    value = text_of(element).strip()
    parsed = parse_duration(value)
    if parsed is None or parsed[0] <= 0:
        ctx.report(
            element,
            "apple.duration.invalid",
            f'is "{value}", not a duration Apple can read (seconds, MM:SS or HH:MM:SS, not zero).',
            hint="write the length in whole seconds",
        )
        return
    seconds, fractional = parsed
    if fractional:
        ctx.report(
            element,
            "apple.duration.fraction",
            f'is "{value}", with fractional seconds.',
            hint="round to whole seconds",
        )
    if seconds > _DAY:
        ctx.report(
            element,
            "apple.duration.long",
            f'is "{value}", more than 24 hours.',
            hint="check the duration",
        )
