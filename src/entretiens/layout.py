"""Where every published file lives in public/, and the URL it is served at."""

from __future__ import annotations

import functools
import re
import string
import sys
import unicodedata
from collections.abc import Callable, Mapping
from pathlib import PurePath, PurePosixPath
from types import MappingProxyType
from urllib.parse import quote, urlsplit, urlunsplit

from .content import same_path
from .model import Episode, Show, Transcript, is_local, is_remote

FEED = PurePosixPath("feed.xml")
#: RFC 5005 archive pages of a capped feed: ``feed-archive/1.xml`` holds the oldest episodes.
FEED_ARCHIVE = PurePosixPath("feed-archive")
FEED_STYLESHEET = PurePosixPath("feed.xsl")
INDEX = PurePosixPath("index.html")
GUESTS_PAGE = PurePosixPath("guests/index.html")
SUBSCRIBE_PAGE = PurePosixPath("subscribe/index.html")
NOT_FOUND_PAGE = PurePosixPath("404.html")
ASSETS = PurePosixPath("assets")
#: The name of an episode's Markdown notes, in its folder.
NOTES_NAME = "notes.md"

#: Transcript MIME types, as the Podcasting 2.0 transcript tag lists them.
TRANSCRIPT_TYPES = {
    ".vtt": "text/vtt",
    ".srt": "application/x-subrip",
    ".json": "application/json",
    ".html": "text/html",
    ".htm": "text/html",
    ".txt": "text/plain",
}

#: The type every file of public/ is served with, by extension: one table for `deploy`'s headers
#: and the preview server (audio as the feed's enclosures announce it).
CONTENT_TYPES: Mapping[str, str] = MappingProxyType(
    {
        ".mp3": "audio/mpeg",
        ".m4a": "audio/x-m4a",
        ".mp4": "audio/mp4",
        ".aac": "audio/aac",
        ".ogg": "audio/ogg",
        ".oga": "audio/ogg",
        ".opus": "audio/ogg",
        ".flac": "audio/flac",
        ".wav": "audio/wav",
        ".jpg": "image/jpeg",
        ".jpeg": "image/jpeg",
        ".png": "image/png",
        ".webp": "image/webp",
        ".gif": "image/gif",
        ".svg": "image/svg+xml",
        ".ico": "image/x-icon",
        ".css": "text/css",
        ".js": "text/javascript",
        ".md": "text/markdown",
        ".xml": "application/xml",
        ".xsl": "application/xslt+xml",
        ".pdf": "application/pdf",
        **TRANSCRIPT_TYPES,
    }
)
#: Types that are text without saying so in their name: served with their charset.
_TEXT_TYPES = frozenset({"application/json", "application/xml", "application/xslt+xml", "image/svg+xml"})


def content_type(path: PurePath | str, mime: str | None = None) -> str:
    """The Content-Type of a published file: its type, with UTF-8 for text (every text file we write is).

    :param mime: the type to use instead of the extension's (an enclosure served as announced).
    """
    kind = mime or CONTENT_TYPES.get(PurePath(path).suffix.lower(), "application/octet-stream")
    # Without the charset some browsers read UTF-8 text as Latin-1.
    return f"{kind}; charset=utf-8" if kind.startswith("text/") or kind in _TEXT_TYPES else kind


def slugify(text: str, *, limit: int = 60) -> str:
    """Lower-case ASCII words joined by dashes, for file names and anchors: "Jérémi Lepetit" -> "jeremi-lepetit".

    Accents are dropped, letters such as "ß" folded ("ss"); "" when nothing is left.
    """
    if text.isascii():
        folded = text.casefold()  # nothing to decompose nor drop: the same, at a fraction of the cost
    else:
        folded = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).casefold()
    return _NOT_SLUG.sub("-", folded).strip("-")[:limit].strip("-")


#: What a slug has none of: each run of it becomes one dash (compiled once, not looked up in
#: ``re``'s cache for each of a large show's guests at every build).
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def feed_archive(page: int) -> PurePosixPath:
    """Archive page ``page`` (1 = oldest episodes) of a feed capped with ``feed_limit``."""
    return FEED_ARCHIVE / f"{page}.xml"


def url_for(show: Show, path: PurePosixPath | str) -> str:
    """The absolute URL of a file of public/, percent-encoded (spaces, accents)."""
    return show.base_url + quote(str(path), safe="/")


def absolute(show: Show, reference: str) -> str:
    """A show-relative file or an absolute URL, as an absolute URL with an ASCII path."""
    if is_remote(reference):
        parts = urlsplit(reference)
        # Keep existing %XX escapes; encode what a person typed (spaces, accents).
        path = quote(parts.path, safe="/%:@!$&'()*+,;=-._~")
        return urlunsplit((parts.scheme, parts.netloc, path, parts.query, parts.fragment))
    return url_for(show, reference)


def copied_file(reference: str | None) -> PurePosixPath | None:
    """The place in public/ of a show file that is published as is (audio, artwork, photos)."""
    if not is_local(reference):
        return None
    return path_of(reference)


def episode_dir(episode: Episode) -> PurePosixPath:
    """The folder of an episode's page and files."""
    return joined(episode.slug)


def episode_page(episode: Episode) -> PurePosixPath:
    """The episode's HTML page."""
    return _own_file(episode.slug, _PAGE)


def embed_page(episode: Episode) -> PurePosixPath:
    """The episode's embeddable player, a page made to sit in another site's <iframe>."""
    return _own_file(episode.slug, _EMBED_PAGE)


def episode_url(show: Show, episode: Episode) -> str:
    """The episode page's URL (its folder, served as index.html)."""
    return show.base_url + episode_address(episode)


def episode_address(episode: Episode) -> str:
    """The episode page's URL from the site's root, as :func:`url_for` writes its folder: a slug
    of the characters ``quote()`` leaves as they are is written as it is, without a path made,
    printed and quoted for it (each episode of the sitemap, at every build)."""
    slug = episode.slug
    if slug and slug != "." and not slug.strip(_UNQUOTED):
        return slug + "/"
    return quote(str(episode_dir(episode)), safe="/") + "/"


#: What ``quote()`` never percent-encodes (RFC 3986's unreserved characters).
_UNQUOTED = string.ascii_letters + string.digits + "_.-~"


def notes_markdown(episode: Episode) -> PurePosixPath:
    """The episode's show notes as Markdown."""
    return _own_file(episode.slug, _NOTES)


def chapters_file(episode: Episode) -> PurePosixPath:
    """The episode's JSON chapters."""
    return _own_file(episode.slug, _CHAPTERS)


def episode_file(episode: Episode, name: str) -> PurePosixPath:
    """:func:`path_of` ``name``, a path of public/ as ``str()`` wrote it (read back from a cache):
    one of the episode's own files (page, embed page, notes, chapters) made of the episode's
    slug and the file's fixed names, nothing split, checked nor interned for it (30,000 paths
    of every build at 10,000 episodes); any other name is parsed as :func:`path_of` does."""
    slug = episode.slug
    if slug and name.startswith(slug):
        rest = _OWN_FILES.get(name[len(slug) :])
        if rest is not None:
            return _own_file(slug, rest, name)
    return path_of(name)


#: The names of an episode's own files under its folder.
_PAGE = ("index.html",)
_EMBED_PAGE = ("embed", "index.html")
_NOTES = (NOTES_NAME,)
_CHAPTERS = ("chapters.json",)
#: Each of them by what ``str()`` writes of its path after the episode's slug.
_OWN_FILES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"/" + "/".join(rest): rest for rest in (_PAGE, _EMBED_PAGE, _NOTES, _CHAPTERS)}
)


def _own_file(slug: str, rest: tuple[str, ...], text: str | None = None) -> PurePosixPath:
    """``PurePosixPath(slug, *rest)`` (whose ``str()`` is ``text``, when given), for ``rest`` one
    of an episode's own files' fixed names: made of these parts, the slug as it is, when the slug
    is one plain name (the same parts as parsing keeps; "..", which it keeps too, included)."""
    if _MAKE_PARTS is not None and slug and slug != "." and "/" not in slug:
        return _MAKE_PARTS([slug, *rest], text)
    return PurePosixPath(slug, *rest)


def in_folder(folder: PurePosixPath, name: str) -> PurePosixPath:
    """``folder / name``, made of the folder's parts and the name when both are plain (a folder
    of public/ such as the cards', and a file's name): nothing parsed, the folder's parts
    checked once per folder."""
    if _MAKE_PARTS is not None and name and name != "." and "/" not in name:
        parts = _folder_parts(folder)
        if parts is not None:
            return _MAKE_PARTS([*parts, name], None)
    return folder / name


@functools.lru_cache(maxsize=16)
def _folder_parts(folder: PurePosixPath) -> tuple[str, ...] | None:
    """The parts of a relative folder of plain names, or None."""
    parts = folder.parts
    return parts if parts and not folder.anchor and _plain(parts) else None


def transcript_file(episode: Episode, transcript: Transcript, suffix: str | None = None) -> PurePosixPath:
    """A published transcript of the episode: ``<slug>/transcript[.lang].<ext>``."""
    ext = suffix or transcript.path.suffix.lower()
    if ext == ".htm":
        ext = ".html"
    name = "transcript" if len(episode.transcripts) < 2 else f"transcript.{transcript.language}"
    return episode_dir(episode) / f"{name}{ext}"


def enclosure_url(show: Show, episode: Episode) -> str:
    """The URL of the episode's audio as the feed names it."""
    return absolute(show, episode.audio)


def _parts_maker() -> Callable[[list[str], str | None], PurePosixPath] | None:
    """How Python 3.10 and 3.11 make a path of parts already split (as ``iterdir()`` does),
    where ``PurePosixPath(text)`` and ``/`` parse the text again, and its hash given at once
    (what ``hash()`` takes of a path's parts, which it reaches through two attributes it finds
    missing the first time: 1.3 us of each of a build's 40,000 paths of public/, all hashed
    as the keys of its files). Private members, so taken only where they make exactly the
    path parsing makes, hash included. 3.12 parses paths lazily."""
    if sys.version_info >= (3, 12):
        return None
    make = getattr(PurePosixPath, "_from_parsed_parts", None)
    if make is None or "_hash" not in getattr(PurePath, "__slots__", ()):
        return None

    def made(parts: list[str], text: str | None = None) -> PurePosixPath:
        path: PurePosixPath = make("", "", parts)
        # POSIX paths keep their case: the parts as they are (PurePath.__hash__ in 3.10, 3.11).
        path._hash = hash(tuple(parts))  # type: ignore[attr-defined]
        if text is not None:
            # The text the parts were split from, which str() would join again: the dating and
            # the write ask it of every path of public/ (0.7 us each the first time).
            path._str = text  # type: ignore[attr-defined]
        return path

    try:
        same = all(
            same_path(made(text.split("/")), PurePosixPath(text))
            and same_path(made(text.split("/"), text), PurePosixPath(text))
            for text in ("a/../b.c", "x", "é/ß/Z.html", "a b/#c")
        )
    except Exception:
        return None
    return made if same else None


_MAKE_PARTS = _parts_maker()


def _plain(names: tuple[str, ...] | list[str]) -> bool:
    """Whether each name is one part of a relative path as parsing keeps it (neither empty nor
    ".", no separator)."""
    for name in names:  # noqa: SIM110  (a loop: all() of a generator cost more than the parse saved)
        if not name or name == "." or "/" in name:
            return False
    return True


def joined(*names: str) -> PurePosixPath:
    """``PurePosixPath(*names)``; made of the names as its parts, without parsing them, when each
    is a plain name: the five paths of every episode of a large show, at each build."""
    if _MAKE_PARTS is not None and _plain(names):
        # Interned as parsing interns them: "index.html" once, not once per episode.
        return _MAKE_PARTS([sys.intern(name) for name in names], None)
    return PurePosixPath(*names)


def path_of(text: str) -> PurePosixPath:
    """``PurePosixPath(text)``, made as :func:`joined` makes it when ``text`` is a relative path
    of plain names (a path of public/ as ``str()`` wrote it, read back from a cache)."""
    if _MAKE_PARTS is not None:
        names = text.split("/")
        if _plain(names):
            return _MAKE_PARTS([sys.intern(name) for name in names], text)
    return PurePosixPath(text)
