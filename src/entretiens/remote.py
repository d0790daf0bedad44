"""Audio published from another server: fetched once with requests and kept in the show's cache."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import requests

from . import __version__
from .errors import NetworkError
from .output import atomic_write

USER_AGENT = f"entretiens/{__version__} (podcast publisher)"
TIMEOUT = (10, 60)


def fetch_audio(url: str, cache_dir: Path, *, session: requests.Session | None = None) -> Path:
    """A local copy of a remote audio file, downloaded again only when the server says it changed.

    The probe then measures the copy, so the feed's length and duration are those of the
    bytes the server really sends.

    :raises NetworkError: the server cannot be reached or does not answer 200.
    """
    cache_dir.mkdir(parents=True, exist_ok=True)
    key = hashlib.sha256(url.encode("utf-8")).hexdigest()[:32]
    body = cache_dir / f"{key}{Path(url.split('?')[0]).suffix.lower()}"
    meta_path = cache_dir / f"{key}.json"
    headers = {"User-Agent": USER_AGENT}
    meta: dict[str, str] = {}
    if body.is_file() and meta_path.is_file():
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            meta = {}
        if meta.get("etag"):
            headers["If-None-Match"] = meta["etag"]
        if meta.get("last_modified"):
            headers["If-Modified-Since"] = meta["last_modified"]
    # The bytes as the server stores them: a transparently decompressed body would make the
    # enclosure length wrong.
    headers["Accept-Encoding"] = "identity"
    http = session or requests.Session()
    try:
        with http.get(url, headers=headers, stream=True, timeout=TIMEOUT, allow_redirects=True) as response:
            if response.status_code == 304 and body.is_file():
                return body
            if response.status_code != 200:
                msg = f"{url}: the server answered {response.status_code} {response.reason}"
                raise NetworkError(msg)
            _download(response, body, cache_dir)
            meta = {
                "url": url,
                "etag": response.headers.get("ETag", ""),
                "last_modified": response.headers.get("Last-Modified", ""),
            }
            meta_path.write_text(json.dumps(meta), encoding="utf-8")
    except requests.RequestException as exc:
        if body.is_file() and meta:
            # Offline, or the server is down: the copy fetched last time is what listeners get.
            return body
        msg = f"{url}: cannot download the audio ({exc.__class__.__name__}: {exc})"
        raise NetworkError(msg) from exc
    return body


def _download(response: requests.Response, body: Path, cache_dir: Path) -> None:
    """Stream the raw body into the cache, replacing the old copy only once complete."""
    with atomic_write(body) as temporary, temporary.open("wb") as stream:
        for chunk in response.raw.stream(1 << 20, decode_content=False):
            stream.write(chunk)
