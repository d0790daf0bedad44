"""The fixed vocabularies of Apple Podcasts, RSS and Podcasting 2.0 that loading, the feed and its linter share."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from email.utils import parseaddr
from types import MappingProxyType
from typing import Literal, get_args
from urllib.parse import urlsplit


def _words(text: str) -> frozenset[str]:
    """The whitespace-separated words of a list written as prose."""
    return frozenset(text.split())


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

#: Apple Podcasts categories since 2019: parent -> subcategories, exact spellings (APPLE-CAT).
APPLE_CATEGORIES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "Arts": ("Books", "Design", "Fashion & Beauty", "Food", "Performing Arts", "Visual Arts"),
        "Business": (
            "Careers",
            "Entrepreneurship",
            "Investing",
            "Management",
            "Marketing",
            "Non-Profit",
        ),
        "Comedy": ("Comedy Interviews", "Improv", "Stand-Up"),
        "Education": ("Courses", "How To", "Language Learning", "Self-Improvement"),
        "Fiction": ("Comedy Fiction", "Drama", "Science Fiction"),
        "Government": (),
        "History": (),
        "Health & Fitness": (
            "Alternative Health",
            "Fitness",
            "Medicine",
            "Mental Health",
            "Nutrition",
            "Sexuality",
        ),
        "Kids & Family": ("Education for Kids", "Parenting", "Pets & Animals", "Stories for Kids"),
        "Leisure": (
            "Animation & Manga",
            "Automotive",
            "Aviation",
            "Crafts",
            "Games",
            "Hobbies",
            "Home & Garden",
            "Video Games",
        ),
        "Music": ("Music Commentary", "Music History", "Music Interviews"),
        "News": (
            "Business News",
            "Daily News",
            "Entertainment News",
            "News Commentary",
            "Politics",
            "Sports News",
            "Tech News",
        ),
        "Religion & Spirituality": (
            "Buddhism",
            "Christianity",
            "Hinduism",
            "Islam",
            "Judaism",
            "Religion",
            "Spirituality",
        ),
        "Science": (
            "Astronomy",
            "Chemistry",
            "Earth Sciences",
            "Life Sciences",
            "Mathematics",
            "Natural Sciences",
            "Nature",
            "Physics",
            "Social Sciences",
        ),
        "Society & Culture": (
            "Documentary",
            "Personal Journals",
            "Philosophy",
            "Places & Travel",
            "Relationships",
        ),
        "Sports": (
            "Baseball",
            "Basketball",
            "Cricket",
            "Fantasy Sports",
            "Football",
            "Golf",
            "Hockey",
            "Rugby",
            "Running",
            "Soccer",
            "Swimming",
            "Tennis",
            "Volleyball",
            "Wilderness",
            "Wrestling",
        ),
        "Technology": (),
        "True Crime": (),
        "TV & Film": ("After Shows", "Film History", "Film Interviews", "Film Reviews", "TV Reviews"),
    }
)

#: Podcast Taxonomy Project: group -> roles, lower case as ``podcast:person`` compares them.
PERSON_TAXONOMY: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "creative direction": (
            "director",
            "assistant director",
            "executive producer",
            "senior producer",
            "producer",
            "associate producer",
            "development producer",
            "creative director",
        ),
        "cast": (
            "host",
            "co-host",
            "guest host",
            "guest",
            "voice actor",
            "narrator",
            "announcer",
            "reporter",
        ),
        "writing": (
            "author",
            "editorial director",
            "co-writer",
            "writer",
            "songwriter",
            "guest writer",
            "story editor",
            "managing editor",
            "script editor",
            "script coordinator",
            "researcher",
            "editor",
            "fact checker",
            "translator",
            "transcriber",
            "logger",
        ),
        "audio production": (
            "studio coordinator",
            "technical director",
            "technical manager",
            "audio engineer",
            "remote recording engineer",
            "post production engineer",
        ),
        "audio post-production": (
            "audio editor",
            "sound designer",
            "foley artist",
            "composer",
            "theme music",
            "music production",
            "music contributor",
        ),
        "administration": (
            "production coordinator",
            "booking coordinator",
            "production assistant",
            "content manager",
            "marketing manager",
            "sales representative",
            "sales manager",
        ),
        "visuals": ("graphic designer", "cover art designer"),
        "community": ("social media manager",),
        "misc.": ("consultant", "intern"),
        "video production": (
            "camera operator",
            "lighting designer",
            "camera grip",
            "assistant camera",
        ),
        "video post-production": ("editor", "assistant editor"),
    }
)

_ALL_ROLES = frozenset(role for roles in PERSON_TAXONOMY.values() for role in roles)

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

#: ISO 639-1 two-letter language codes (the whole list, as ISO 639-2 maps them).
LANGUAGE_CODES = _words("""
    aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy
    da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu
    hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb
    lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om
    or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st su sv sw
    ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu
    """)

#: ISO 3166-1 alpha-2 country codes, upper case.
COUNTRY_CODES = _words("""
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR
    BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ
    EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW
    GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY
    KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV
    MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY
    QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG
    TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM
    ZW
    """)

#: License identifiers of the Podcast Index list (``docs/examples/license/licenses.json``).
PODCAST_INDEX_LICENSES: tuple[str, ...] = (
    "ARR",
    "CC-BY-4.0",
    "CC-BY-NC-4.0",
    "CC-BY-NC-ND-4.0",
    "POD-V4V-1.0",
)

#: Used when the ``packaging`` library is too old to know the SPDX list: the licenses podcasts use.
_FALLBACK_SPDX = frozenset(
    name.lower()
    for name in (
        *(
            f"CC-{kind}-{version}"
            for kind in ("BY", "BY-SA", "BY-ND", "BY-NC", "BY-NC-SA", "BY-NC-ND")
            for version in ("1.0", "2.0", "2.5", "3.0", "4.0")
        ),
        "CC0-1.0",
        "CC-PDDC",
        "CC-PDM-1.0",
        "MIT",
        "Apache-2.0",
        "GPL-3.0-only",
        "GPL-3.0-or-later",
        "FAL-1.3",
        "ODbL-1.0",
    )
)

#: ``podcast:block id`` values (``serviceslugs.txt``).
SERVICE_SLUGS = _words("""
    acast amazon anchor apple audible audioboom backtracks bitcoin blubrry buzzsprout captivate
    castos castopod facebook fireside fyyd google gpodder hypercatcher kasts libsyn mastodon
    megafono megaphone omnystudio overcast paypal pinecast podbean podcastaddict podcastguru
    podcastindex podcasts podchaser podcloud podfriend podiant podigee podnews podomatic podserve
    podverse redcircle relay resonaterecordings rss shoutengine simplecast slack soundcloud spotify
    spreaker tiktok transistor twitter whooshkaa youtube zencast
    """)

#: ``podcast:socialInteract protocol`` values (``socialprotocols.txt``).
SOCIAL_PROTOCOLS = frozenset(("disabled", "activitypub", "twitter", "lightning", "atproto", "hive", "matrix", "nostr"))

#: ``podcast:chat protocol`` values (``docs/chatprotocols.txt``).
CHAT_PROTOCOLS = frozenset(("irc", "xmpp", "nostr", "matrix"))

#: The namespace UUID from which ``podcast:guid`` values are derived.
PODCAST_GUID_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")

_LANGUAGE = re.compile(r"([A-Za-z]{2})(?:-([A-Za-z]{2}|[0-9]{3}))?")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def is_valid_language(code: str) -> bool:
    """Tell whether ``code`` is what Apple accepts in ``<language>``.

    An ISO 639-1 code, optionally followed by a hyphen and an ISO 3166-1 region (or a UN M.49
    area such as ``419``); case is ignored: ``fr``, ``fr-FR``, ``en-us``. ``fr_FR`` and the
    three-letter ``fre`` are refused.

    :param code: the text of the element.
    :returns: True when valid.
    """
    match = _LANGUAGE.fullmatch(code)
    if match is None or match.group(1).lower() not in LANGUAGE_CODES:
        return False
    region = match.group(2)
    return region is None or region.isdigit() or region.upper() in COUNTRY_CODES


def podcast_guid_for(feed_url: str) -> str:
    """Compute the ``podcast:guid`` the namespace derives from a feed URL.

    :param feed_url: the feed's URL; its scheme and trailing slashes are dropped first.
    :returns: the UUIDv5, lower case with hyphens.
    """
    seed = _SCHEME.sub("", feed_url.strip()).rstrip("/")
    return str(uuid.uuid5(PODCAST_GUID_NAMESPACE, seed))


def person_role_problem(role: str | None, group: str | None) -> tuple[str, str] | None:
    """Check a ``podcast:person`` role and group against the taxonomy.

    Case is ignored; a missing role means ``host`` and a missing group ``cast``, as the tag says.

    :param role: the ``role`` attribute, or None.
    :param group: the ``group`` attribute, or None.
    :returns: None when they fit, else ``(kind, explanation)`` where kind is ``"role"`` (unknown
        role), ``"group"`` (unknown group) or ``"role_group"`` (both known, but the role belongs
        to other groups).
    """
    role_key = (role or "host").strip().lower()
    group_key = (group or "cast").strip().lower()
    if role_key not in _ALL_ROLES:
        return ("role", f'"{role}" is not a role of the Podcast Taxonomy Project')
    if group_key not in PERSON_TAXONOMY:
        return ("group", f'"{group}" is not a group of the Podcast Taxonomy Project')
    if role_key not in PERSON_TAXONOMY[group_key]:
        homes = ", ".join(g for g, roles in PERSON_TAXONOMY.items() if role_key in roles)
        return ("role_group", f'role "{role_key}" belongs to group "{homes}", not "{group_key}"')
    return None


def is_known_license(identifier: str) -> bool:
    """Tell whether a ``podcast:license`` identifier is well known, so that it needs no ``url``.

    Known means the Podcast Index list or an SPDX license identifier, ignoring case.

    :param identifier: the text of the element.
    :returns: True when known.
    """
    text = identifier.strip()
    if text.upper() in {name.upper() for name in PODCAST_INDEX_LICENSES}:
        return True
    # A bare identifier only: an SPDX expression or a LicenseRef names no single license.
    if not text or any(ch.isspace() for ch in text) or text.lower().startswith("licenseref-"):
        return False
    try:
        from packaging.licenses import InvalidLicenseExpression, canonicalize_license_expression
    except ImportError:
        return text.lower() in _FALLBACK_SPDX
    try:
        canonicalize_license_expression(text)
    except InvalidLicenseExpression:
        return False
    return True


_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
#: Obsolete but still RFC 2822 zone names (section 4.3), in hours from UTC.
_NAMED_ZONES = {
    "gmt": 0,
    "ut": 0,
    "edt": -4,
    "est": -5,
    "cdt": -5,
    "cst": -6,
    "mdt": -6,
    "mst": -7,
    "pdt": -7,
    "pst": -8,
}
_RFC2822 = re.compile(
    r"""
    (?P<weekday>[A-Za-z]{3}),[ \t]*
    (?P<day>\d{1,2})[ \t]+(?P<month>[A-Za-z]{3})[ \t]+(?P<year>\d{4})[ \t]+
    (?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?[ \t]+
    (?:(?P<sign>[+-])(?P<zh>\d{2})(?P<zm>\d{2})|(?P<zone>[A-Za-z]{2,3}))
    """,
    re.VERBOSE,
)


def parse_rfc2822(text: str) -> datetime | None:
    """Parse an RFC 2822 date the strict way Apple and RSS need it.

    The day of the week must be present and match the date; day and month names are English;
    the year has four digits; the zone is ``+hhmm``/``-hhmm``, ``GMT``, ``UT`` or a US zone
    (``EST``...). ISO 8601, ``UTC``, ``CET``, a missing zone or translated names give None.

    :param text: e.g. ``Tue, 05 Mar 2024 10:00:00 +0100``.
    :returns: an aware datetime, or None when the text is not such a date.
    """
    match = _RFC2822.fullmatch(text.strip())
    if match is None:
        return None
    weekday = match["weekday"].lower()
    month = match["month"].lower()
    if weekday not in _DAYS or month not in _MONTHS:
        return None
    if match["sign"]:
        hours, minutes = int(match["zh"]), int(match["zm"])
        if minutes > 59:
            return None
        offset = timedelta(hours=hours, minutes=minutes)
        if match["sign"] == "-":
            offset = -offset
    else:
        zone = match["zone"].lower()
        if zone not in _NAMED_ZONES:
            return None
        offset = timedelta(hours=_NAMED_ZONES[zone])
    try:
        moment = datetime(
            int(match["year"]),
            _MONTHS.index(month) + 1,
            int(match["day"]),
            int(match["hour"]),
            int(match["minute"]),
            int(match["second"] or 0),
            tzinfo=timezone(offset),
        )
    except ValueError:
        return None
    if moment.weekday() != _DAYS.index(weekday):
        return None
    return moment


#: Any whitespace character (the regex's \s is str.isspace, looked for in C).
_WHITESPACE = re.compile(r"\s")


def is_web_url(value: str, *, https_only: bool = False) -> bool:
    """Tell whether ``value`` is an absolute http(s) URL with a host and no whitespace."""
    if not value or _WHITESPACE.search(value):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    allowed = ("https",) if https_only else ("http", "https")
    return parts.scheme.lower() in allowed and bool(parts.hostname)


#: A plain address: no display name, no comment; a host of dot-separated labels.
_EMAIL = re.compile(
    r"[^@\s<>\"',;]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+"
)


def is_email_address(value: str) -> bool:
    """Tell whether ``value`` is a plain e-mail address (``name@example.org``).

    The form ``<itunes:email>``, ``podcast:locked owner`` and RSS's ``managingEditor`` carry,
    and the loader accepts for ``owner.email``: one definition for both sides.
    """
    return _EMAIL.fullmatch(value) is not None and parseaddr(value)[1] == value
