"""The spec's rules on single values: a language code, a person's role, a license, a date, a URL, an e-mail.

One definition of each, shared by the loader (what a show folder may write) and the feed's
validator (what a feed may carry), so that both sides accept and refuse the same values.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta, timezone
from email.utils import parseaddr
from urllib.parse import urlsplit

from ._lists import COUNTRY_CODES, FALLBACK_SPDX, LANGUAGE_CODES, PERSON_TAXONOMY, PODCAST_INDEX_LICENSES

_ALL_ROLES = frozenset(role for roles in PERSON_TAXONOMY.values() for role in roles)


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
        return text.lower() in FALLBACK_SPDX
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
