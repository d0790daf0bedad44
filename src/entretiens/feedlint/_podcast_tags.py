"""Value rules of the main Podcasting 2.0 tags, one function per tag (FEED_RULES §6)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

from lxml import etree

from entretiens.feedlint._context import Context, children, is_email, local, namespace, text_of
from entretiens.feedlint._rss import check_date
from entretiens.podcast_spec import (
    COUNTRY_CODES,
    MEDIUMS,
    PODCAST_NS,
    PODCAST_TEXT_LIMIT,
    TRANSCRIPT_TYPES,
    is_known_license,
    person_role_problem,
    podcast_guid_for,
)

UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-([0-9a-fA-F])[0-9a-fA-F]{3}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_DECIMAL = re.compile(r"\d+(?:\.\d+)?")
_INTEGER = re.compile(r"\d+")
_BCP47 = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z]{3}){0,3}(?:-[A-Za-z0-9]{1,8})*|[A-Za-z]{5,8}(?:-[A-Za-z0-9]{1,8})*")
_GEO = re.compile(r"geo:(-?\d+(?:\.\d+)?),(-?\d+(?:\.\d+)?)(?:,-?\d+(?:\.\d+)?)?(?:;[A-Za-z0-9-]+=[^;]*)*")
_OSM = re.compile(r"[NWR]\d+(?:#\d+)?")
_SOUNDBITE_RANGE = (15.0, 120.0)
Validator = Callable[[Context, etree._Element], None]


def podcast_children(element: etree._Element, name: str) -> list[etree._Element]:
    return [c for c in children(element) if namespace(c) == PODCAST_NS and local(c) == name]


def number(ctx: Context, element: etree._Element, attribute: str | None, *, integer: bool = False) -> float | None:
    """Check an optional number (attribute, or the text when ``attribute`` is None)."""
    value = element.get(attribute) if attribute else text_of(element).strip()
    if value is None:
        return None
    pattern = _INTEGER if integer else _DECIMAL
    if pattern.fullmatch(value.strip()) is None:
        ctx.report(
            element,
            "pc20.number.invalid",
            f'is "{value}", not {"a whole number" if integer else "a decimal number"}.',
            attribute=attribute,
            hint="write digits only" if integer else "write a number such as 12 or 12.5",
        )
        return None
    return float(value)


def _length(ctx: Context, element: etree._Element, attribute: str, limit: int) -> None:
    value = element.get(attribute)
    if value is not None and len(value) > limit:
        ctx.report(
            element,
            "pc20.text.length",
            f"is {len(value)} characters long; aggregators may cut it at {limit}.",
            attribute=attribute,
            hint=f"keep it within {limit} characters",
        )


def iso_date(value: str) -> datetime | None:
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _locked(ctx: Context, element: etree._Element) -> None:
    value = text_of(element).strip()
    if value not in ("yes", "no"):
        ctx.report(
            element,
            "pc20.locked.value",
            f'is "{value}"; it must be "yes" or "no".',
            hint='write "yes" or "no"',
        )
    owner = element.get("owner")
    if owner is None:
        ctx.report(
            element,
            "pc20.locked.owner",
            "has no owner e-mail; Podcast Index ignores the lock without it.",
            hint='add owner="you@example.org"',
        )
    elif not is_email(owner):
        ctx.report(
            element,
            "pc20.email.invalid",
            f'is "{owner}", not an e-mail address.',
            attribute="owner",
            hint="write the owner's e-mail address",
        )


def _guid(ctx: Context, element: etree._Element) -> None:
    value = text_of(element).strip()
    match = UUID.fullmatch(value)
    if match is None:
        ctx.report(element, "pc20.guid.invalid", f'is "{value}", not a UUID.', hint="use the UUIDv5 of the feed URL")
        return
    if match.group(1) != "5":
        ctx.report(
            element,
            "pc20.guid.version",
            f'is "{value}", a version {match.group(1)} UUID; the namespace asks for UUIDv5.',
            hint="use the UUIDv5 of the feed URL",
        )
        return
    urls = [url for url in (ctx.self_url, ctx.feed_url) if url]
    if urls and value.lower() not in {podcast_guid_for(url) for url in urls}:
        ctx.report(
            element,
            "pc20.guid.mismatch",
            f'is "{value}", not the UUIDv5 of {urls[0]} ({podcast_guid_for(urls[0])}); '
            "that is right only if the feed has moved since the guid was set.",
            hint="keep the guid when moving a feed; otherwise derive it from the feed URL",
        )


def _transcript(ctx: Context, element: etree._Element) -> None:
    kind = (element.get("type") or "").split(";")[0].strip().lower()
    if kind and kind not in TRANSCRIPT_TYPES:
        ctx.report(
            element,
            "pc20.transcript.type",
            f'is "{kind}", a type apps may not read.',
            attribute="type",
            hint="use text/vtt, application/x-subrip, application/json, text/html or text/plain",
        )
    language = element.get("language")
    if language is not None and _BCP47.fullmatch(language) is None:
        ctx.report(
            element,
            "pc20.language.invalid",
            f'is "{language}", not a BCP 47 language tag.',
            attribute="language",
            hint='write a tag like "fr" or "en-US"',
        )
    rel = element.get("rel")
    if rel is not None and rel != "captions":
        ctx.report(
            element,
            "pc20.transcript.rel",
            f'is "{rel}"; the only value defined is "captions".',
            attribute="rel",
            hint='write rel="captions" or leave it out',
        )


def _chapters(ctx: Context, element: etree._Element) -> None:
    kind = (element.get("type") or "").strip().lower()
    if kind and kind not in ("application/json+chapters", "application/json"):
        ctx.report(
            element,
            "pc20.chapters.type",
            f'is "{kind}"; apps expect JSON chapters (application/json+chapters).',
            attribute="type",
            hint='write type="application/json+chapters"',
        )


def _person(ctx: Context, element: etree._Element) -> None:
    found = person_role_problem(element.get("role"), element.get("group"))
    if found is None:
        return
    kind, explanation = found
    ctx.report(
        element,
        f"pc20.person.{kind}",
        f"says {explanation}.",
        attribute="group" if kind == "group" else "role",
        hint="set group explicitly to the role's group"
        if kind == "role_group"
        else "pick a role and group from the taxonomy",
    )


def _season(ctx: Context, element: etree._Element) -> None:
    number(ctx, element, None, integer=True)
    _length(ctx, element, "name", PODCAST_TEXT_LIMIT)


def _episode(ctx: Context, element: etree._Element) -> None:
    number(ctx, element, None)
    _length(ctx, element, "display", 32)


def _soundbite(ctx: Context, element: etree._Element) -> None:
    number(ctx, element, "startTime")
    duration = number(ctx, element, "duration")
    low, high = _SOUNDBITE_RANGE
    if duration is not None and not low <= duration <= high:
        ctx.report(
            element,
            "pc20.soundbite.duration",
            f"is {element.get('duration')} seconds; {low:.0f} to {high:.0f} are recommended.",
            attribute="duration",
            hint="pick an excerpt of 15 to 120 seconds",
        )


def _medium(ctx: Context, element: etree._Element) -> None:
    value = text_of(element).strip()
    if value not in MEDIUMS:
        ctx.report(element, "pc20.medium.invalid", f'is "{value}", not a known medium.', hint='write "podcast"')


def _alternate_enclosure(ctx: Context, element: etree._Element) -> None:
    if not podcast_children(element, "source"):
        ctx.report(
            element,
            "pc20.alternate_enclosure.source",
            "has no <podcast:source>; it needs at least one.",
            hint='add <podcast:source uri="https://…"/>',
        )
    if element.get("length") is None:
        ctx.report(
            element,
            "pc20.alternate_enclosure.length",
            "has no length, which the namespace recommends.",
            attribute="length",
            hint="give the file size in bytes",
        )
    for attribute in ("length", "bitrate", "height"):
        number(ctx, element, attribute, integer=attribute != "bitrate")


def _integrity(ctx: Context, element: etree._Element) -> None:
    kind = element.get("type")
    if kind is not None and kind not in ("sri", "pgp-signature"):
        ctx.report(
            element,
            "pc20.integrity.type",
            f'is "{kind}"; it must be "sri" or "pgp-signature".',
            attribute="type",
        )


def _txt(ctx: Context, element: etree._Element) -> None:
    _length(ctx, element, "purpose", PODCAST_TEXT_LIMIT)
    value = text_of(element).strip()
    if element.get("purpose") == "ai-content" and value not in ("true", "false"):
        ctx.report(
            element,
            "pc20.txt.ai_content",
            f'is "{value}"; with purpose="ai-content" it must be "true" or "false".',
            hint='write "true" or "false"',
        )


def _license(ctx: Context, element: etree._Element) -> None:
    value = text_of(element).strip()
    if value and element.get("url") is None and not is_known_license(value):
        ctx.report(
            element,
            "pc20.license.url",
            f'is "{value}", not a known license identifier, and has no url.',
            hint="use an SPDX identifier such as CC-BY-4.0, or add url= pointing to the license",
        )


def _location(ctx: Context, element: etree._Element) -> None:
    checks: tuple[tuple[str, Callable[[str], bool], str], ...] = (
        ("rel", _rel_ok, '"subject" or "creator"'),
        ("geo", _geo_ok, 'a geo URI like "geo:48.8566,2.3522"'),
        ("osm", _osm_ok, 'N, W or R followed by the id, like "R7444"'),
        ("country", _country_ok, "an ISO 3166-1 alpha-2 code"),
    )
    for attribute, valid, expected in checks:
        value = element.get(attribute)
        if value is not None and not valid(value):
            ctx.report(
                element,
                f"pc20.location.{attribute}",
                f'is "{value}"; it must be {expected}.',
                attribute=attribute,
            )


def _rel_ok(value: str) -> bool:
    return value in ("subject", "creator")


def _osm_ok(value: str) -> bool:
    return _OSM.fullmatch(value) is not None


def _country_ok(value: str) -> bool:
    return len(value) == 2 and value.upper() in COUNTRY_CODES


def _geo_ok(value: str) -> bool:
    match = _GEO.fullmatch(value)
    return match is not None and abs(float(match.group(1))) <= 90 and abs(float(match.group(2))) <= 180


def _trailer(ctx: Context, element: etree._Element) -> None:
    pubdate = element.get("pubdate")
    if pubdate is not None:
        check_date(ctx, element, pubdate, attribute="pubdate")
    number(ctx, element, "length", integer=True)
    number(ctx, element, "season", integer=True)


#: Value rules of the tags above, by local name.
VALIDATORS: dict[str, Validator] = {
    "locked": _locked,
    "guid": _guid,
    "transcript": _transcript,
    "chapters": _chapters,
    "person": _person,
    "season": _season,
    "episode": _episode,
    "soundbite": _soundbite,
    "medium": _medium,
    "alternateEnclosure": _alternate_enclosure,
    "integrity": _integrity,
    "txt": _txt,
    "license": _license,
    "location": _location,
    "trailer": _trailer,
}
