"""The HTTP headers each uploaded file is served with: its type, its charset, how long caches keep it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

from .. import layout

#: The feed and the pages change with every episode: caches may keep them five minutes.
SHORT_CACHE = "public, max-age=300"
#: Chapters and transcripts are corrected now and then: an hour.
MEDIUM_CACHE = "public, max-age=3600"
#: Audio and images are large and rarely replaced: a week (not "immutable": a re-tagged file keeps its URL).
LONG_CACHE = "public, max-age=604800"
#: deploy's own bookkeeping must never be served stale to the next deploy through a cache.
NO_CACHE = "no-cache"

#: The feed's type: what Apple's and the Podcast Index's crawlers expect.
FEED_TYPE = "application/rss+xml"

_MEDIA_PREFIXES = ("audio/", "video/", "image/")


@dataclass(frozen=True, slots=True)
class Headers:
    """What an object is served with."""

    content_type: str
    cache_control: str


def headers_for(key: str, *, enclosure_type: str | None = None) -> Headers:
    """The headers of a published file, by its place in public/.

    :param enclosure_type: the MIME type the feed announces for this file, if it is an
        enclosure: served as announced, since Apple compares the two.
    """
    path = PurePosixPath(key)
    if path == layout.FEED:
        return Headers(f"{FEED_TYPE}; charset=utf-8", SHORT_CACHE)
    content_type = layout.content_type(path, enclosure_type)
    mime = content_type.split(";")[0]
    if mime.startswith(_MEDIA_PREFIXES):
        cache = LONG_CACHE
    elif mime == "application/json" or path.name.startswith("transcript") or path.name == "chapters.json":
        cache = MEDIUM_CACHE
    else:
        cache = SHORT_CACHE
    return Headers(content_type, cache)
