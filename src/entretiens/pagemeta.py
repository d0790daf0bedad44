"""Each page's head: title, description, canonical URL, social card and structured data.

Apart from the pages' rendering because it is made from the show and one release alone
(what search engines and social networks read of a page), with rules of its own: where a
description is cut, how a locale is written, what the JSON-LD of each kind of page holds.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from . import cards, layout
from .guestlist import Guest
from .markup import safe_url, to_plain_text
from .model import Person, Release, Show
from .wording import iso_duration, strings

#: Meta descriptions are cut around this many characters, as search engines do.
DESCRIPTION_LENGTH = 200


@dataclass(frozen=True, slots=True, kw_only=True)
class PageMeta:
    """A page's head: title, description, canonical URL, social cards and structured data."""

    kind: str
    title: str
    social_title: str
    description: str
    canonical: str
    image: str
    image_alt: str
    json_ld: Markup
    og_type: str = "website"
    #: Set for an image whose size is known (the episode cards): networks lay the card out at once.
    image_width: int | None = None
    image_height: int | None = None
    #: "summary_large_image" for a wide card, "summary" for a square artwork.
    twitter_card: str = "summary"
    locale: str | None = None
    audio: str | None = None
    audio_type: str | None = None


def excerpt(text: str, limit: int = DESCRIPTION_LENGTH) -> str:
    """Plain text cut at a word boundary near ``limit`` characters."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",;:.") + "…"


def json_ld(data: dict[str, Any]) -> Markup:
    """Structured data for a ``<script type="application/ld+json">``: no text can close the tag."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    # JSON escapes keep the same string values while no "</script>" or "<!--" can appear.
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))  # noqa: S704


def _locale(language: str) -> str | None:
    parts = language.replace("_", "-").split("-")
    return f"{parts[0].lower()}_{parts[1].upper()}" if len(parts) > 1 else None


def _series(show: Show) -> dict[str, Any]:
    return {"@type": "PodcastSeries", "name": show.title, "url": show.base_url, "webFeed": show.feed_url}


def _people(show: Show, people: Iterable[Person]) -> list[dict[str, Any]]:
    found = []
    for person in people:
        entry: dict[str, Any] = {"@type": "Person", "name": person.name}
        if safe_url(person.url):
            entry["url"] = person.url
        if person.image:
            entry["image"] = layout.absolute(show, person.image)
        found.append(entry)
    return found


def plain_meta(show: Show, kind: str) -> PageMeta:
    """The head of a page of the site's own (subscribe, not found): the show's card, no structured data."""
    words = strings(show.language)
    title = words["subscribe_title"].format(title=show.title) if kind == "subscribe" else words["not_found_title"]
    page = layout.SUBSCRIBE_PAGE.parent if kind == "subscribe" else layout.NOT_FOUND_PAGE
    return PageMeta(
        kind=kind,
        title=f"{title} – {show.title}" if kind != "subscribe" else title,
        social_title=title,
        description=excerpt(to_plain_text(show.description)),
        canonical=layout.url_for(show, f"{page}/" if kind == "subscribe" else page),
        image=layout.absolute(show, show.cover_image),
        image_alt=words["artwork"].format(title=show.title),
        locale=_locale(show.language),
        json_ld=json_ld({"@context": "https://schema.org", "@type": "WebPage", "name": title}),
    )


def home_meta(show: Show) -> PageMeta:
    words = strings(show.language)
    description = excerpt(to_plain_text(show.description))
    image = layout.absolute(show, show.cover_image)
    data = {
        "@context": "https://schema.org",
        **_series(show),
        "description": description,
        "image": image,
        "inLanguage": show.language,
        "author": {"@type": "Person", "name": show.author},
    }
    if show.hosts:
        data["actor"] = _people(show, show.hosts)
    return PageMeta(
        kind="home",
        title=f"{show.title} – {show.subtitle}" if show.subtitle else show.title,
        social_title=show.title,
        description=description,
        canonical=show.base_url,
        image=image,
        image_alt=words["artwork"].format(title=show.title),
        locale=_locale(show.language),
        json_ld=json_ld(data),
    )


def guests_meta(show: Show, page: str, guests: Iterable[Guest]) -> PageMeta:
    words = strings(show.language)
    canonical = layout.url_for(show, page)
    data = {
        "@context": "https://schema.org",
        "@type": "CollectionPage",
        "name": f"{words['guests']} · {show.title}",
        "url": canonical,
        "isPartOf": _series(show),
        "about": _people(show, (g.person for g in guests)),
    }
    return PageMeta(
        kind="guests",
        title=f"{words['guests']} · {show.title}",
        social_title=f"{words['guests']} · {show.title}",
        description=words["guests_intro"],
        canonical=canonical,
        image=layout.absolute(show, show.cover_image),
        image_alt=words["artwork"].format(title=show.title),
        locale=_locale(show.language),
        json_ld=json_ld(data),
    )


def episode_meta(show: Show, release: Release) -> PageMeta:
    episode = release.episode
    canonical = layout.episode_url(show, episode)
    description = excerpt(episode.summary or to_plain_text(episode.notes) or episode.title)
    image = layout.absolute(show, episode.cover_image or show.cover_image)
    audio_url = layout.enclosure_url(show, episode)
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "PodcastEpisode",
        "url": canonical,
        "name": episode.title,
        "datePublished": episode.date.isoformat(),
        "description": description,
        "image": image,
        "inLanguage": show.language,
        "partOfSeries": _series(show),
        "associatedMedia": {
            "@type": "AudioObject",
            "contentUrl": audio_url,
            "encodingFormat": release.audio.mime_type,
            "duration": iso_duration(release.audio.duration),
        },
    }
    if episode.number is not None:
        data["episodeNumber"] = episode.number
    if episode.season is not None:
        season: dict[str, Any] = {"@type": "PodcastSeason", "seasonNumber": episode.season}
        if episode.season_name:
            season["name"] = episode.season_name
        data["partOfSeason"] = season
    if episode.guests or show.hosts:
        data["actor"] = _people(show, (*show.hosts, *episode.guests))
    return PageMeta(
        kind="episode",
        title=f"{episode.title} · {show.title}",
        social_title=episode.title,
        description=description,
        canonical=canonical,
        image=layout.url_for(show, cards.card_path(episode)),
        image_alt=" · ".join([episode.title, *(person.name for person in episode.guests), show.title]),
        image_width=cards.WIDTH,
        image_height=cards.HEIGHT,
        twitter_card="summary_large_image",
        locale=_locale(show.language),
        audio=audio_url,
        audio_type=release.audio.mime_type,
        json_ld=json_ld(data),
    )
