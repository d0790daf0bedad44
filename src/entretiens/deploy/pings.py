"""After a deploy, tell those who poll feeds that this one changed, so new episodes show up in minutes.

- WebSub: the hub the feed names (``<atom:link rel="hub">``) gets ``hub.mode=publish`` and
  ``hub.url=FEED`` (WebSub section 7 leaves publishing to the hub; this form is what public hubs accept).
- The Podcast Index: ``pubnotify?url=FEED``, no account needed.
- Podping: an HTTP gateway (such as podping.cloud) that writes the notification to the Hive
  chain; it needs a token, read from the environment only (``PODPING_TOKEN``).

Each ping has a timeout and a few retries; a failed ping is a warning, never a failed deploy.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from .. import __version__
from ..errors import NetworkError
from ..net import Limits, Response, fetch

#: The Podcast Index's public notification endpoint.
PUBNOTIFY_URL = "https://api.podcastindex.org/api/1.0/hub/pubnotify"
#: Where the Podping gateway's token is read from; never from a file, never printed.
PODPING_TOKEN_VARIABLE = "PODPING_TOKEN"  # noqa: S105  (the name of a variable, not a secret)

_LIMITS = Limits(max_bytes=64 * 1024, connect_timeout=10.0, stall_timeout=15.0, deadline=30.0)
_USER_AGENT = f"entretiens/{__version__} (podcast publisher)"
_ATTEMPTS = 3
_RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})

Fetch = Callable[..., Response]


@dataclass(frozen=True, slots=True, kw_only=True)
class PingSettings:
    """Whom to tell; None means not that one."""

    websub_hub: str | None = None
    pubnotify_url: str | None = PUBNOTIFY_URL
    podping_url: str | None = None
    podping_token: str | None = None


@dataclass(frozen=True, slots=True)
class PingResult:
    """How one ping went."""

    name: str
    #: The endpoint, without query or token: safe to print.
    endpoint: str
    ok: bool
    detail: str


def planned(settings: PingSettings) -> list[tuple[str, str]]:
    """(name, endpoint) of every ping a deploy would send, for --dry-run."""
    found = []
    if settings.websub_hub:
        found.append(("WebSub", settings.websub_hub))
    if settings.pubnotify_url:
        found.append(("Podcast Index", settings.pubnotify_url))
    if settings.podping_url:
        found.append(("Podping", settings.podping_url))
    return found


def notify(
    feed_url: str,
    settings: PingSettings,
    *,
    medium: str = "podcast",
    http: Fetch = fetch,
    sleep: Callable[[float], None] = time.sleep,
) -> list[PingResult]:
    """Send every configured ping; never raises for a ping that fails."""
    results = []
    headers = {"User-Agent": _USER_AGENT}
    if settings.websub_hub:
        form = {"hub.mode": "publish", "hub.url": feed_url}
        results.append(_send("WebSub", settings.websub_hub, "POST", settings.websub_hub, headers, form, http, sleep))
    if settings.pubnotify_url:
        url = _with_query(settings.pubnotify_url, {"url": feed_url})
        results.append(_send("Podcast Index", settings.pubnotify_url, "GET", url, headers, None, http, sleep))
    if settings.podping_url:
        if not settings.podping_token:
            detail = f"no token: set {PODPING_TOKEN_VARIABLE} in the environment"
            results.append(PingResult("Podping", settings.podping_url, ok=False, detail=detail))
        else:
            url = _with_query(settings.podping_url, {"url": feed_url, "reason": "update", "medium": medium})
            auth = {**headers, "Authorization": settings.podping_token}
            results.append(_send("Podping", settings.podping_url, "GET", url, auth, None, http, sleep))
    return results


def _with_query(endpoint: str, params: dict[str, str]) -> str:
    return endpoint + ("&" if "?" in endpoint else "?") + urlencode(params)


def _send(
    name: str,
    endpoint: str,
    method: str,
    url: str,
    headers: dict[str, str],
    form: dict[str, str] | None,
    http: Fetch,
    sleep: Callable[[float], None],
) -> PingResult:
    detail = ""
    for attempt in range(_ATTEMPTS):
        if attempt:
            sleep(2.0**attempt)
        try:
            answer = http(url, limits=_LIMITS, method=method, headers=headers, data=form)
        except NetworkError as exc:
            # The message names the URL; the token travels in a header and is never part of it.
            detail = str(exc)
            continue
        if 200 <= answer.status < 300:
            return PingResult(name, endpoint, ok=True, detail=f"{answer.status}")
        detail = f"answered {answer.status}"
        if answer.status not in _RETRY_STATUS:
            break
    return PingResult(name, endpoint, ok=False, detail=detail)
