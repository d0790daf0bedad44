"""Checks of the files a feed points to, found on disk under a base folder (FEED_RULES §7)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

import mutagen
from lxml import etree
from mutagen.mp3 import MP3
from mutagen.mp4 import MP4
from PIL import UnidentifiedImageError

from entretiens.feedlint._apple_items import parse_duration
from entretiens.feedlint._context import Context, is_web_url, text_of
from entretiens.feedlint._documents import check_chapters_file, check_transcript_file
from entretiens.images import HINT as IMAGE_HINT
from entretiens.images import ImageTooLarge, open_image
from entretiens.podcast_spec import (
    ARTWORK_ALPHA_MODES,
    ARTWORK_FORMATS,
    ARTWORK_MAX_SIDE,
    ARTWORK_MIN_SIDE,
    ARTWORK_NOT_RGB_MODES,
    ITUNES_NS,
    PODCAST_NS,
    PSC_NS,
)

_MP4_TYPES = frozenset(("audio/mp4", "audio/x-m4a", "video/mp4", "video/x-m4v", "video/quicktime"))
_DURATION_SLACK = (2.0, 0.01)


def map_url(base_dir: Path, url: str) -> Path | None:
    """Find the file a URL serves under ``base_dir``: the longest suffix of its path that exists.

    :param base_dir: the folder the feed's files are published from.
    :param url: an http(s) URL.
    :returns: the file, or None when no suffix of the URL's path names a file there.
    """
    if not is_web_url(url):
        return None
    segments = [unquote(part) for part in urlsplit(url).path.split("/") if part]
    # A segment that climbs out of the folder, or hides a separator, names nothing we publish.
    if any(part in (".", "..") or "/" in part or "\\" in part for part in segments):
        return None
    for start in range(len(segments)):
        candidate = base_dir.joinpath(*segments[start:])
        if candidate.is_file():
            return candidate
    return None


def _own_hosts(ctx: Context) -> set[str]:
    hosts = set()
    for url in (ctx.self_url, ctx.feed_url):
        if url and is_web_url(url):
            hosts.add((urlsplit(url).hostname or "").lower())
    return hosts


def _resolve(ctx: Context, element: etree._Element, attribute: str | None, hosts: set[str]) -> Path | None:
    assert ctx.base_dir is not None
    url = (element.get(attribute) or "") if attribute else text_of(element).strip()
    path = map_url(ctx.base_dir, url)
    if path is None and is_web_url(url) and (urlsplit(url).hostname or "").lower() in hosts:
        ctx.report(
            element,
            "files.missing",
            f"points to {url}, on the feed's own host, but no such file is under {ctx.base_dir}.",
            attribute=attribute,
            hint="publish the file or fix the URL",
        )
    return path


def check_files(ctx: Context) -> None:
    """Check every file the feed links to that maps to a file under ``ctx.base_dir``.

    :param ctx: the lint run; ``base_dir`` must be set.
    """
    hosts = _own_hosts(ctx)
    channel = ctx.channel
    for image in channel.findall(f"{{{ITUNES_NS}}}image"):
        _artwork(ctx, image, hosts)
    rss_image_url = channel.find("image/url")
    if rss_image_url is not None:
        _resolve(ctx, rss_image_url, None, hosts)
    for trailer in channel.findall(f"{{{PODCAST_NS}}}trailer"):
        path = _resolve(ctx, trailer, "url", hosts)
        if path is not None:
            _check_media(ctx, trailer, path)
    for element, attribute in (
        *((e, "href") for e in channel.iter(f"{{{PODCAST_NS}}}image")),
        *((e, "img") for e in channel.iter(f"{{{PODCAST_NS}}}person") if e.get("img")),
        *((e, "uri") for e in channel.iter(f"{{{PODCAST_NS}}}source")),
        *((e, "image") for e in channel.iter(f"{{{PSC_NS}}}chapter") if e.get("image")),
    ):
        _resolve(ctx, element, attribute, hosts)
    for item in ctx.items:
        _check_item(ctx, item, hosts)


def _check_item(ctx: Context, item: etree._Element, hosts: set[str]) -> None:
    duration: float | None = None
    enclosure = item.find("enclosure")
    if enclosure is not None:
        path = _resolve(ctx, enclosure, "url", hosts)
        if path is not None:
            duration = _check_media(ctx, enclosure, path)
    declared = item.find(f"{{{ITUNES_NS}}}duration")
    parsed = parse_duration(text_of(declared)) if declared is not None else None
    if declared is not None and parsed is not None and duration is not None:
        slack = max(_DURATION_SLACK[0], _DURATION_SLACK[1] * duration)
        if abs(parsed[0] - duration) > slack:
            ctx.report(
                declared,
                "files.duration.mismatch",
                f'says "{text_of(declared).strip()}" but the audio lasts {duration:.0f} seconds.',
                hint="write the measured duration",
            )
    if duration is None and parsed is not None:
        duration = parsed[0]
    for image in item.findall(f"{{{ITUNES_NS}}}image"):
        _artwork(ctx, image, hosts)
    for chapters in item.findall(f"{{{PODCAST_NS}}}chapters"):
        path = _resolve(ctx, chapters, "url", hosts)
        if path is not None:
            check_chapters_file(ctx, chapters, path, duration)
    for transcript in item.findall(f"{{{PODCAST_NS}}}transcript"):
        path = _resolve(ctx, transcript, "url", hosts)
        if path is not None:
            check_transcript_file(ctx, transcript, path)


def _check_media(ctx: Context, element: etree._Element, path: Path) -> float | None:
    """Compare an enclosure (or trailer) with its file; return the measured duration."""
    size = path.stat().st_size
    length = (element.get("length") or "").strip()
    if length.isdigit() and int(length) != size:
        ctx.report(
            element,
            "files.enclosure.length",
            f"says {length} bytes, but {path.name} has {size}.",
            attribute="length",
            hint="write the file's exact size",
        )
    kind = (element.get("type") or "").split(";")[0].strip().lower()
    if kind == "application/pdf":
        with path.open("rb") as stream:
            if stream.read(5) != b"%PDF-":
                _report_type(ctx, element, path, kind, "is not a PDF")
        return None
    try:
        audio = mutagen.File(path)
    except mutagen.MutagenError as exc:
        audio, problem = None, f"cannot be read ({exc})"
    else:
        problem = "is not an audio or video file"
    if audio is None:
        ctx.report(
            element,
            "files.audio.unreadable",
            f"points to {path.name}, which {problem}.",
            hint="export the episode again as MP3 or M4A",
        )
        return None
    if isinstance(audio, MP3):
        accepted = frozenset(("audio/mpeg",))
    elif isinstance(audio, MP4):
        accepted = _MP4_TYPES
    else:
        accepted = frozenset(audio.mime)
    if kind and kind not in accepted:
        _report_type(ctx, element, path, kind, f"is {type(audio).__name__} audio ({sorted(accepted)[0]})")
    length_seconds = getattr(audio.info, "length", None)
    return float(length_seconds) if length_seconds else None


def _report_type(ctx: Context, element: etree._Element, path: Path, kind: str, actual: str) -> None:
    ctx.report(
        element,
        "files.enclosure.type",
        f'is "{kind}", but {path.name} {actual}.',
        attribute="type",
        hint="write the type that matches the file",
    )


def _artwork(ctx: Context, image: etree._Element, hosts: set[str]) -> None:
    href = image.get("href")
    if not href:
        return
    path = _resolve(ctx, image, "href", hosts)
    if path is None:
        return
    try:
        with open_image(path) as opened:
            kind, (width, height), mode = opened.format, opened.size, opened.mode
    except ImageTooLarge as exc:
        _report_artwork(ctx, image, "apple.image.format", f"points to {path.name}, which {exc}.", IMAGE_HINT)
        return
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        _report_artwork(
            ctx,
            image,
            "apple.image.format",
            f"points to {path.name}, which is not an image.",
            "save it as JPEG or PNG",
        )
        return
    extension = urlsplit(href).path.rsplit(".", 1)[-1].lower()
    expected = ARTWORK_FORMATS.get(f".{extension}")
    if kind not in ("JPEG", "PNG") or (expected is not None and kind != expected):
        _report_artwork(
            ctx,
            image,
            "apple.image.format",
            f"points to {path.name}, a {kind} image; Apple needs JPEG or PNG matching the extension.",
            "save it as JPEG (.jpg) or PNG (.png)",
        )
    if width != height:
        _report_artwork(ctx, image, "apple.image.square", f"is {width}×{height} pixels, not square.", "crop it square")
    low, high = ARTWORK_MIN_SIDE, ARTWORK_MAX_SIDE
    if not (low <= width <= high and low <= height <= high):
        _report_artwork(
            ctx,
            image,
            "apple.image.size",
            f"is {width}×{height} pixels; Apple needs {low} to {high} pixels a side.",
            f"resize it to between {low} and {high} pixels",
        )
    if mode in ARTWORK_NOT_RGB_MODES:
        _report_artwork(
            ctx,
            image,
            "apple.image.colorspace",
            f"is in the {mode} colour mode; Apple needs RGB.",
            "convert it to RGB",
        )
    elif mode in ARTWORK_ALPHA_MODES:
        what = "a palette" if mode.startswith("P") else "an alpha channel"
        _report_artwork(
            ctx,
            image,
            "apple.image.alpha",
            f"has {what} ({mode}); Apple expects plain RGB.",
            "save it as RGB without transparency",
        )


def _report_artwork(ctx: Context, image: etree._Element, rule: str, text: str, hint: str) -> None:
    ctx.report(image, rule, text, attribute="href", hint=hint)
