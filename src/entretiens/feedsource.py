"""Reading a feed someone gives us, a file or an http(s) address, as untrusted input.

``check --feed`` and ``import`` both start here: the same size cap, stall timeout and deadline
(through :mod:`entretiens.net`), the same refusal of an error status or of a web page given in
place of its feed, and the same wording of each.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from . import net
from .errors import EntretiensError

#: The largest real feeds (decades of daily episodes with full show notes, 10,000 episodes and
#: more) weigh a few tens of MB; past this it is not a feed.
FEED_SIZE_CAP = 64 * 1024 * 1024
FEED_LIMITS = net.Limits(max_bytes=FEED_SIZE_CAP, connect_timeout=10.0, stall_timeout=30.0, deadline=180.0)

_WEB_SCHEMES = ("http://", "https://")
_ACCEPT = "application/rss+xml, application/xml;q=0.9, */*;q=0.5"


@dataclass(frozen=True, slots=True)
class FeedSource:
    """A feed's bytes, where they came from, and what happened on the way."""

    #: What the host typed: a URL or a file path.
    given: str
    #: The feed's own URL after redirects (None for a local file).
    url: str | None
    data: bytes
    #: One line per redirect followed ("301 -> https://..."), for a report.
    redirects: tuple[str, ...] = ()

    @property
    def where(self) -> str:
        """How problems name the feed: its final address (without credentials), or the file."""
        return net.shown_url(self.url) if self.url else self.given


def is_url(source: str) -> bool:
    """Whether a feed argument names an address rather than a file."""
    return source.lower().startswith(_WEB_SCHEMES)


def read_feed(source: str, *, limits: net.Limits = FEED_LIMITS) -> FeedSource:
    """A feed's bytes from a file or an http(s) address.

    :raises EntretiensError: the file cannot be read or is over ``limits.max_bytes``, the
        server cannot be reached or answers an error status, or what came is a web page.
    """
    if is_url(source):
        response = net.fetch(source, limits=limits, headers={"Accept": _ACCEPT})
        # 4xx and 5xx: the server's answer is an error page, whatever its body.
        if response.status >= 400:
            status = f"{response.status} {response.reason}".strip()
            hint = "check the address"
            if response.status in (404, 410):
                hint += ": a podcast host's settings page shows the feed's own RSS address"
            raise EntretiensError(f"{net.shown_url(response.url)}: the server answered {status}, not a feed ({hint})")
        redirects = tuple(f"{status} -> {net.shown_url(target)}" for status, target in response.redirects)
        fetched = FeedSource(given=source, url=response.url, data=response.body, redirects=redirects)
    else:
        path = Path(source)
        try:
            size = path.stat().st_size
            if size > limits.max_bytes:
                msg = f"{source}: {net.size_text(size)} is too big for a podcast feed"
                raise EntretiensError(msg + f" (at most {net.size_text(limits.max_bytes)} are read)")
            data = path.read_bytes()
        except OSError as exc:
            raise EntretiensError(f"{source}: cannot read the feed: {exc.strerror or exc}") from None
        fetched = FeedSource(given=source, url=None, data=data)
    if is_web_page(fetched.data):
        msg = f"{fetched.where}: this is a web page (HTML), not a podcast feed"
        raise EntretiensError(msg + "; give the feed's own address (a page often links to it as its RSS feed)")
    return fetched


def is_web_page(data: bytes) -> bool:
    """Whether bytes begin as an HTML document (what a site serves at a wrong feed address)."""
    start = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return start.startswith((b"<!doctype html", b"<html"))
