"""Audio published from another server: downloaded within limits and kept in the show's cache.

A remote file is bounded like every request (see :mod:`entretiens.net`): a size cap (2 GiB
unless feed.yaml's ``remote_audio: max_size`` says otherwise), a stall timeout and an
overall deadline per file (``remote_audio: deadline``). The download goes to a temporary
file beside the cached copy, replaced only once complete; a temporary file left by a killed
run is removed at the next one.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import NetworkError

if TYPE_CHECKING:
    # Imported where used: the HTTP stack costs a tenth of a second to import, and a show whose
    # audio is all local never needs it.
    import requests

    from . import net
#: The largest remote audio file downloaded, unless feed.yaml says otherwise: 2 GiB holds
#: about 9 hours of 128 kbit/s MP3, far more than an interview.
DEFAULT_MAX_SIZE = 2 * 1024**3
#: Seconds one remote file may take, unless feed.yaml says otherwise: 2 GiB at 2 MB/s.
DEFAULT_DEADLINE = 1800.0
#: Seconds without a byte before giving up on a server.
STALL_TIMEOUT = 60.0


def limits(max_size: int | None = None, deadline: float | None = None) -> net.Limits:
    """The limits of one remote audio download: feed.yaml's values, else the defaults."""
    from . import net

    return net.Limits(
        max_bytes=DEFAULT_MAX_SIZE if max_size is None else max_size,
        stall_timeout=STALL_TIMEOUT,
        deadline=DEFAULT_DEADLINE if deadline is None else deadline,
    )


def fetch_audio(
    url: str, cache_dir: Path, *, bounds: net.Limits | None = None, session: requests.Session | None = None
) -> Path:
    """A local copy of a remote audio file, downloaded again only when the server says it changed.

    The probe then measures the copy, so the feed's length and duration are those of the
    bytes the server really sends. When the server cannot be reached, the copy fetched last
    time is used.

    :raises NetworkError: no copy could be fetched (unreachable, too big, too slow, https
        redirected to http, an answer other than 200), in a sentence naming the URL.
    """
    from . import net

    bounds = bounds or limits()
    cache_dir.mkdir(parents=True, exist_ok=True)
    net.remove_stale_downloads(cache_dir)
    key = hashlib.sha256(url.encode("utf-8")).hexdigest()[:32]
    suffix = Path(url.split("?")[0].split("#")[0]).suffix.lower()
    body = cache_dir / f"{key}{suffix if re.fullmatch(r'[.][a-z0-9]{1,6}', suffix) else ''}"
    meta_path = cache_dir / f"{key}.json"
    headers: dict[str, str] = {}
    meta: dict[str, str] = {}
    if body.is_file() and meta_path.is_file():
        try:
            loaded = json.loads(meta_path.read_text(encoding="utf-8"))
            meta = {k: v for k, v in loaded.items() if isinstance(v, str)} if isinstance(loaded, dict) else {}
        except (OSError, ValueError):
            meta = {}
        if meta.get("etag"):
            headers["If-None-Match"] = meta["etag"]
        if meta.get("last_modified"):
            headers["If-Modified-Since"] = meta["last_modified"]
    try:
        response = net.download(url, body, limits=bounds, session=session, headers=headers)
    except NetworkError as exc:
        if body.is_file() and meta and not isinstance(exc, (net.TooLarge, net.Refused, net.BadStatus)):
            # Offline, or the server is down: the copy fetched last time is what listeners get.
            return body
        message = str(exc)
        if isinstance(exc, net.TooLarge):
            message += " (if the file is right, raise `remote_audio: max_size` in feed.yaml)"
        elif isinstance(exc, net.TooSlow):
            message += " (if the server is just slow, raise `remote_audio: deadline` in feed.yaml)"
        raise NetworkError(message) from None
    if response.status == 304:
        return body
    meta = {
        "url": url,
        "etag": response.headers.get("ETag", ""),
        "last_modified": response.headers.get("Last-Modified", ""),
    }
    try:
        meta_path.write_text(json.dumps(meta), encoding="utf-8")
    except OSError:
        meta_path.unlink(missing_ok=True)
    return body
