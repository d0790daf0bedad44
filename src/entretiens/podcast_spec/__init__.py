"""The fixed vocabularies of Apple Podcasts, RSS and Podcasting 2.0 that loading, the feed and its linter share.

Each fact is written once, here or in one of the package's modules: ``__init__.py`` the
namespaces, the limits and the short vocabularies; ``_lists.py`` the long published lists
(categories, taxonomy, language and country codes, licenses, service slugs); ``_checks.py``
the checks of single values (language, GUID, person role, license, RFC 2822 date, URL, e-mail).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal, get_args

from ._checks import (
    PODCAST_GUID_NAMESPACE,
    is_email_address,
    is_known_license,
    is_valid_language,
    is_web_url,
    parse_rfc2822,
    person_role_problem,
    podcast_guid_for,
)
from ._lists import (
    APPLE_CATEGORIES,
    CHAT_PROTOCOLS,
    COUNTRY_CODES,
    LANGUAGE_CODES,
    PERSON_TAXONOMY,
    PODCAST_INDEX_LICENSES,
    SERVICE_SLUGS,
    SOCIAL_PROTOCOLS,
)

__all__ = [
    "APPLE_CATEGORIES",
    "ARTWORK_ALPHA_MODES",
    "ARTWORK_FORMATS",
    "ARTWORK_MAX_SIDE",
    "ARTWORK_MIN_SIDE",
    "ARTWORK_NOT_RGB_MODES",
    "ATOM_NS",
    "CHAT_PROTOCOLS",
    "CONTENT_NS",
    "COUNTRY_CODES",
    "DESCRIPTION_LIMIT",
    "ENCLOSURE_TYPES",
    "ENCLOSURE_TYPES_BY_EXTENSION",
    "EPISODE_TYPES",
    "FEED_HISTORY_NS",
    "ITUNES_NS",
    "LANGUAGE_CODES",
    "MEDIUMS",
    "PERSON_TAXONOMY",
    "PODCAST_GUID_NAMESPACE",
    "PODCAST_INDEX_LICENSES",
    "PODCAST_NS",
    "PODCAST_TEXT_LIMIT",
    "PODCAST_TXT_LIMIT",
    "PSC_NS",
    "SERVICE_SLUGS",
    "SHOW_TYPES",
    "SOCIAL_PROTOCOLS",
    "TITLE_LIMIT",
    "TRANSCRIPT_TYPES",
    "EpisodeType",
    "ShowType",
    "is_email_address",
    "is_known_license",
    "is_valid_language",
    "is_web_url",
    "parse_rfc2822",
    "person_role_problem",
    "podcast_guid_for",
]


#: Apple ignores every itunes tag unless the prefix is bound to exactly this URI (case included).
ITUNES_NS = "http://www.itunes.com/dtds/podcast-1.0.dtd"


#: Podcast Index matches the literal ``podcast:`` prefix, so it must be bound to this URI.
PODCAST_NS = "https://podcastindex.org/namespace/1.0"


#: The namespace's first URI, its documentation page, still bound by many feeds (read, never written).
PODCAST_NS_GITHUB = "https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/1.0.md"


ATOM_NS = "http://www.w3.org/2005/Atom"


#: RFC 5005 (Feed Paging and Archiving): ``<fh:archive/>`` marks an archive document.
FEED_HISTORY_NS = "http://purl.org/syndication/history/1.0"


CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"


#: Podlove Simple Chapters 1.2.
PSC_NS = "http://podlove.org/simple-chapters"


#: Apple: "the maximum amount of text allowed for this tag is 4000 bytes" (``<description>``,
#: ``<itunes:summary>``); longer text is cut. FEED_RULES warns above it.
DESCRIPTION_LIMIT = 4000


#: Apple cuts show and episode titles longer than this many characters.
TITLE_LIMIT = 255


#: Apple Podcasts artwork: square, 1400 to 3000 pixels a side (podcasters.apple.com/support/896).
ARTWORK_MIN_SIDE = 1400


ARTWORK_MAX_SIDE = 3000


#: Apple takes JPEG and PNG artwork only, and decides by the extension first: the image format
#: each extension must hold (lower case, with its dot).
ARTWORK_FORMATS: Mapping[str, str] = MappingProxyType({".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG"})


#: Apple needs RGB: Pillow's modes that are greyscale, black and white, print or other models.
ARTWORK_NOT_RGB_MODES = frozenset(
    {"1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F", "CMYK", "LAB", "HSV"}
)


#: Pillow's modes with transparency or a palette: Apple asks for plain RGB and apps flatten them
#: unpredictably.
ARTWORK_ALPHA_MODES = frozenset({"RGBA", "RGBa", "P", "PA"})


#: The Podcasting 2.0 namespace limits most short texts (``podcast:funding``, ``podcast:season
#: name``, ``podcast:soundbite``, ``podcast:person``...) to this many characters.
PODCAST_TEXT_LIMIT = 128


#: ``podcast:txt`` holds at most this many characters.
PODCAST_TXT_LIMIT = 4000


#: ``<itunes:type>``: Apple lists episodic shows newest first, serial ones by number.
ShowType = Literal["episodic", "serial"]


SHOW_TYPES: tuple[ShowType, ...] = get_args(ShowType)


#: ``<itunes:episodeType>``.
EpisodeType = Literal["full", "trailer", "bonus"]


EPISODE_TYPES: tuple[EpisodeType, ...] = get_args(EpisodeType)


#: ``podcast:transcript`` types the namespace lists; others are allowed but apps may skip them.
TRANSCRIPT_TYPES: tuple[str, ...] = (
    "text/vtt",
    "application/x-subrip",
    "application/json",
    "text/html",
    "text/plain",
)


_BASE_MEDIUMS = (
    "podcast",
    "music",
    "video",
    "film",
    "audiobook",
    "newsletter",
    "blog",
    "publisher",
    "course",
)


#: ``podcast:medium`` values: each medium, its ``L`` list form, and ``mixed``.
MEDIUMS: tuple[str, ...] = (*_BASE_MEDIUMS, *(f"{medium}L" for medium in _BASE_MEDIUMS), "mixed")


#: Enclosure MIME types Apple Podcasts accepts (``audio/mp4`` is our judgement call, see FEED_RULES §9).
ENCLOSURE_TYPES: tuple[str, ...] = (
    "audio/mpeg",
    "audio/x-m4a",
    "audio/mp4",
    "video/mp4",
    "video/x-m4v",
    "video/quicktime",
    "application/pdf",
)


#: The enclosure types that fit a file extension; Apple decides by the extension first.
ENCLOSURE_TYPES_BY_EXTENSION: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        ".mp3": ("audio/mpeg",),
        ".m4a": ("audio/x-m4a", "audio/mp4"),
        ".mp4": ("video/mp4", "audio/mp4"),
        ".m4v": ("video/x-m4v", "video/mp4"),
        ".mov": ("video/quicktime",),
        ".pdf": ("application/pdf",),
    }
)
