"""Every request entretiens makes: bounded in size and time, and failing with one plain error.

A remote server is hostile until proven otherwise: it may send an endless body, a few bytes
every few seconds, a gzip bomb, a redirect loop, a redirect from https to plain http, or cut
the connection half-way. Each request here therefore has a size cap, a stall timeout (no byte
for that long), an overall deadline (connection, redirects and body together, enforced by a
watchdog that shuts the socket down, so even a server dribbling its headers cannot hold us),
and every failure is an :class:`~entretiens.errors.NetworkError` with a sentence for people,
never a ``requests`` or ``urllib3`` exception.

Redirects are followed here, not by requests, so that each hop is checked and recorded.
Compressed bodies are decoded here, not by urllib3, so that the size cap holds for the
decoded bytes too.

The package's parts: ``_values`` (limits, answer, errors), ``_words`` (what people read),
``_deadline`` (the watchdog and the clock), ``_body`` (the body within the cap),
``_request`` (:func:`fetch`, redirects, failures), ``_download`` (:func:`download`).
"""

from __future__ import annotations

from ._deadline import WatchedAdapter, new_session
from ._download import DOWNLOAD_PREFIX, download, remove_stale_downloads
from ._request import MAX_REDIRECTS, fetch
from ._values import USER_AGENT, BadStatus, Limits, Refused, Response, TooLarge, TooSlow
from ._words import describe, printable, shown_url, size_text

__all__ = [
    "DOWNLOAD_PREFIX",
    "MAX_REDIRECTS",
    "USER_AGENT",
    "BadStatus",
    "Limits",
    "Refused",
    "Response",
    "TooLarge",
    "TooSlow",
    "WatchedAdapter",
    "describe",
    "download",
    "fetch",
    "new_session",
    "printable",
    "remove_stale_downloads",
    "shown_url",
    "size_text",
]
