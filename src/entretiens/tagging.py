"""Tags, artwork and chapters written into the published copies of the audio, never into the originals.

Apple Podcasts and Overcast read chapters and artwork from the file itself. MP3 copies get an
ID3v2.4 tag (with CHAP/CTOC chapters and the iTunes podcast frames); M4A/MP4 copies get MP4
metadata atoms and Nero chapters (``moov/udta/chpl``). Ogg, FLAC and WAV copies are published
as they are: their tag formats have no agreed place for podcast chapters, and apps read those
from the feed. Each tagged copy is built once into a cache folder, named by a digest of its
source and of everything written into it, so an unchanged show republishes the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, replace
from datetime import timezone
from pathlib import Path
from typing import Any

import mutagen
from mutagen.id3 import (
    APIC,
    CHAP,
    COMM,
    CTOC,
    ID3,
    PCST,
    TALB,
    TCAT,
    TCON,
    TCOP,
    TDES,
    TDRC,
    TDRL,
    TGID,
    TIT2,
    TLAN,
    TPE1,
    TPE2,
    TRCK,
    WFED,
    WXXX,
    CTOCFlags,
    ID3NoHeaderError,
    PictureType,
)
from mutagen.mp4 import MP4, MP4Cover

from . import chapters as chapter_rules
from . import mp4chapters
from .atomicfile import atomic_write
from .errors import OutputError, Problem, ProblemsError
from .markup import to_plain_text
from .model import Release, Show, is_local

#: Bump when what we write changes, so that copies cached by an older version are rebuilt.
TAGGING_VERSION = 1
#: Enclosure types whose copies are tagged, and the tag format for each.
TAG_FORMATS = {"audio/mpeg": "id3", "audio/mp4": "mp4", "audio/x-m4a": "mp4"}
#: Apple's genre for podcasts (ID3 TCON, MP4 ©gen) and media kind (MP4 stik).
PODCAST_GENRE = "Podcast"
_STIK_PODCAST = 21
#: ID3 frames we own: removed from the copy before ours are written.
_ID3_FRAMES = (
    "TIT2", "TALB", "TPE1", "TPE2", "TDRC", "TDRL", "TRCK", "TCON", "TCOP", "TLAN", "APIC", "CHAP",
    "CTOC", "PCST", "TDES", "TGID", "WFED", "TCAT",
)  # fmt: skip
_MP4_KEYS = (
    "\xa9nam", "\xa9alb", "\xa9ART", "aART", "\xa9day", "trkn", "\xa9cmt", "desc", "\xa9gen", "pcst",
    "purl", "egid", "catg", "stik", "cprt", "covr",
)  # fmt: skip
#: ID3 COMM and TLAN want ISO 639-2 codes; the show's language is ISO 639-1.
_ISO_639_2 = {
    "ar": "ara", "ca": "cat", "cs": "ces", "da": "dan", "de": "deu", "el": "ell", "en": "eng", "es": "spa",
    "eu": "eus", "fi": "fin", "fr": "fra", "he": "heb", "hi": "hin", "hu": "hun", "it": "ita", "ja": "jpn",
    "ko": "kor", "nl": "nld", "no": "nor", "pl": "pol", "pt": "por", "ro": "ron", "ru": "rus", "sv": "swe",
    "tr": "tur", "uk": "ukr", "zh": "zho",
}  # fmt: skip


@dataclass(frozen=True, slots=True, kw_only=True)
class Image:
    """A picture embedded in the copy."""

    data: bytes
    mime_type: str


@dataclass(frozen=True, slots=True, kw_only=True)
class TaggedChapter:
    """A chapter as the audio file holds it: milliseconds, both ends.

    Chapter images stay in the JSON chapters: ffmpeg (and the players built on it) drops a
    CHAP frame that carries a picture.
    """

    start_ms: int
    end_ms: int
    title: str
    url: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TagContent:
    """Everything written into one copy."""

    title: str
    album: str
    artists: tuple[str, ...]
    album_artist: str
    #: Local date and time, ``YYYY-MM-DDTHH:MM:SS`` (ID3), and the UTC moment (MP4).
    date: str
    date_utc: str
    number: int | None
    comment: str
    #: ISO 639-2.
    language: str
    copyright: str
    category: str
    feed_url: str
    guid: str
    cover: Image | None
    chapters: tuple[TaggedChapter, ...]
    #: Whether chapters go into an MP4 copy: only YAML ones that differ from the file's own.
    mp4_chapters: bool


#: ID3's CTOC frame counts its entries in one byte, as MP4's Nero chapter list does.
MAX_TAGGED_CHAPTERS = mp4chapters.NERO_MAX


def tag_content(show: Show, release: Release) -> TagContent:
    """What the copy of a release's audio will hold.

    :raises OutputError: an image to embed cannot be read.
    """
    episode = release.episode
    chapters = release.chapters
    tagged = tuple(
        TaggedChapter(
            start_ms=round(chapter.start * 1000),
            end_ms=round(end * 1000),
            title=chapter.title,
            url=chapter.url,
        )
        for chapter, end in zip(chapters, chapter_rules.chapter_ends(chapters, release.audio), strict=True)
    )
    # An M4A's own chapter track (which Apple reads) is kept unless the YAML says otherwise.
    replaces_embedded = bool(episode.chapters) and chapter_rules.differ(
        chapters, chapter_rules.embedded_chapters(release.audio)
    )
    return TagContent(
        title=episode.title,
        album=show.title,
        artists=tuple(dict.fromkeys(person.name for person in (*show.hosts, *episode.guests))) or (show.author,),
        album_artist=show.author,
        date=episode.date.strftime("%Y-%m-%dT%H:%M:%S"),
        date_utc=episode.date.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        number=episode.number,
        comment=episode.summary or to_plain_text(episode.notes),
        language=_ISO_639_2.get(show.language[:2].lower(), "und"),
        copyright=show.copyright,
        category=show.categories[0].name if show.categories else "",
        feed_url=show.feed_url,
        guid=episode.guid,
        cover=_image(show, episode.cover_image or show.cover_image),
        chapters=tagged,
        mp4_chapters=replaces_embedded,
    )


def _image(show: Show, reference: str | None) -> Image | None:
    # Remote images are not fetched: the copy is built offline, and apps show the feed's artwork.
    if not is_local(reference):
        return None
    try:
        data = (show.root / reference).read_bytes()
    except OSError as exc:
        raise OutputError(f"{reference}: cannot read the image to embed: {exc.strerror}") from exc
    return Image(data=data, mime_type="image/png" if data.startswith(b"\x89PNG") else "image/jpeg")


def chapter_limit(release: Release) -> Problem | None:
    """A warning when a tagged copy cannot hold all the chapters: ID3's table of contents and
    MP4's Nero list count their entries in one byte, so the first 255 go into the file."""
    chapters = release.chapters
    if len(chapters) <= MAX_TAGGED_CHAPTERS or TAG_FORMATS.get(release.audio.mime_type) is None:
        return None
    source = chapters[MAX_TAGGED_CHAPTERS].source
    return Problem(
        rule="tagging-chapter-limit",
        path=source.path if source else release.episode.path,
        line=source.line if source else release.episode.line_of("chapters"),
        field=f"chapters[{MAX_TAGGED_CHAPTERS}]",
        message=f"{len(chapters)} chapters: the tagged audio holds the first {MAX_TAGGED_CHAPTERS}, "
        "the most its chapter list can count; the feed's chapters file holds them all",
        hint=f"merge chapters to keep {MAX_TAGGED_CHAPTERS} or fewer",
    )


def tag_release(show: Show, release: Release, cache_dir: Path) -> Release:
    """The release with its audio replaced by a tagged copy (MP3 and M4A; other formats unchanged).

    The copy is made once into ``cache_dir`` and reused while neither the source nor the tags
    change; older copies of the episode are removed from the cache.

    :raises ProblemsError: mutagen could not write into the copy (``audio-tagging``).
    :raises OutputError: the cache folder cannot be written.
    """
    source = release.audio_file
    kind = TAG_FORMATS.get(release.audio.mime_type)
    if source is None or kind is None:
        return release
    content = tag_content(show, release)
    target = cache_dir / f"{release.episode.slug}.{_digest(content, release, source)}{source.suffix.lower()}"
    if not target.is_file():
        try:
            cache_dir.mkdir(parents=True, exist_ok=True)
            _build(source, target, content, kind)
        except OSError as exc:
            raise OutputError(f"{cache_dir}: cannot write the tagged copy of {source.name}: {exc}") from exc
        except (mutagen.MutagenError, mp4chapters.Mp4LayoutError) as exc:
            problem = Problem(
                rule="audio-tagging",
                path=release.episode.path,
                line=release.episode.line_of("audio"),
                field="audio",
                message=f"cannot write tags into a copy of {release.episode.audio}: {exc}",
                hint="the file may be damaged: export it again, or publish without --tag-audio",
            )
            raise ProblemsError([problem], show.root) from exc
        _prune(cache_dir, release.episode.slug, target)
    return replace(release, audio_file=target, enclosure_length=target.stat().st_size)


def _file_sha256(path: Path) -> str:
    """The hex SHA-256 of a file, read in 1 MiB blocks. Only tagged copies need one: the probe
    does not hash (it would cost a third of a cold probe), so it is taken here, when tagging."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while block := stream.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _digest(content: TagContent, release: Release, source: Path) -> str:
    """20 hex digits naming a copy: the source's SHA-256, the tags, and the writer's versions."""
    source_hash = _file_sha256(source)

    def encode(value: object) -> object:
        if isinstance(value, bytes):
            return hashlib.sha256(value).hexdigest()
        if isinstance(value, dict):
            return {key: encode(item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [encode(item) for item in value]
        return value

    document = {
        "version": TAGGING_VERSION,
        "mutagen": mutagen.version_string,
        "source": source_hash,
        "tags": encode(asdict(content)),
    }
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode("utf-8")).hexdigest()[:20]


def _build(source: Path, target: Path, content: TagContent, kind: str) -> None:
    """Copy, tag, then rename into place: a copy under its final name is always complete."""
    with atomic_write(target) as temporary:
        shutil.copyfile(source, temporary)
        if kind == "id3":
            _write_id3(temporary, content)
        else:
            _write_mp4(temporary, content)


def _prune(cache_dir: Path, slug: str, keep: Path) -> None:
    pattern = re.compile(rf"{re.escape(slug)}\.[0-9a-f]{{20}}\.[a-z0-9]+")
    for path in cache_dir.iterdir():
        if path != keep and pattern.fullmatch(path.name):
            path.unlink(missing_ok=True)


# -- ID3 (MP3) -------------------------------------------------------------------------------------


def _make(kind: Callable[..., Any], *args: object, **values: object) -> Any:
    """Call a mutagen class: they are untyped, and this is the one place that says so."""
    return kind(*args, **values)


def _write_id3(path: Path, content: TagContent) -> None:
    try:
        tags = _make(ID3, path)
    except ID3NoHeaderError:
        tags = _make(ID3)
    for frame_id in _ID3_FRAMES:
        # Without artwork of our own (a remote image), the file's own picture stays.
        if frame_id != "APIC" or content.cover:
            tags.delall(frame_id)
    for key in [key for key in tags if key.startswith("COMM:") and not tags[key].desc]:
        del tags[key]
    for frame in _id3_frames(content):
        tags.add(frame)
    # ID3v1 cannot hold UTF-8 or chapters and would contradict the v2.4 tag: it is dropped.
    tags.save(path, v2_version=4, v1=0)
    _order_chapter_frames(path)


def _order_chapter_frames(path: Path) -> None:
    """Put the CHAP frames in time order at the end of the tag.

    mutagen orders frames by size, and ffmpeg (so VLC and many players) lists CHAP frames in
    file order, ignoring CTOC. Frames are only moved, so the tag keeps its size.
    """
    with path.open("r+b") as stream:
        header = stream.read(10)
        if header[:3] != b"ID3" or header[3] != 4 or header[5] & 0xC0:
            return  # Not the plain v2.4 tag mutagen writes (no extended header, no unsynchronisation).
        size = _syncsafe(header[6:10])
        body = stream.read(size)
        frames: list[tuple[bytes, bytes]] = []
        position = 0
        while position + 10 <= len(body) and body[position] != 0:
            frame_size = 10 + _syncsafe(body[position + 4 : position + 8])
            frames.append((body[position : position + 4], body[position : position + frame_size]))
            position += frame_size

        def start_time(frame: bytes) -> int:
            element_end = frame.index(b"\0", 10)
            return int.from_bytes(frame[element_end + 1 : element_end + 5], "big")

        others = [frame for kind, frame in frames if kind not in (b"CHAP", b"CTOC")]
        tables = [frame for kind, frame in frames if kind == b"CTOC"]
        chapters = sorted((frame for kind, frame in frames if kind == b"CHAP"), key=start_time)
        ordered = b"".join(others + tables + chapters)
        if ordered != body[:position]:
            stream.seek(10)
            stream.write(ordered)


def _syncsafe(data: bytes) -> int:
    return data[0] << 21 | data[1] << 14 | data[2] << 7 | data[3]


def _id3_frames(content: TagContent) -> Iterator[Any]:
    utf8 = 3
    yield _make(TIT2, encoding=utf8, text=[content.title])
    yield _make(TALB, encoding=utf8, text=[content.album])
    yield _make(TPE1, encoding=utf8, text=list(content.artists))
    yield _make(TPE2, encoding=utf8, text=[content.album_artist])
    yield _make(TDRC, encoding=utf8, text=[content.date])
    yield _make(TDRL, encoding=utf8, text=[content.date])
    yield _make(TCON, encoding=utf8, text=[PODCAST_GENRE])
    yield _make(TLAN, encoding=utf8, text=[content.language])
    # iTunes' podcast frames: the flag, the episode's GUID, the feed, the category.
    yield _make(PCST, value=1)
    yield _make(TGID, encoding=utf8, text=[content.guid])
    yield _make(WFED, url=content.feed_url)
    if content.number is not None:
        yield _make(TRCK, encoding=utf8, text=[str(content.number)])
    if content.comment:
        yield _make(COMM, encoding=utf8, lang=content.language, desc="", text=[content.comment])
        yield _make(TDES, encoding=utf8, text=[content.comment])
    if content.copyright:
        yield _make(TCOP, encoding=utf8, text=[content.copyright])
    if content.category:
        yield _make(TCAT, encoding=utf8, text=[content.category])
    if content.cover:
        yield _make(
            APIC,
            encoding=utf8,
            mime=content.cover.mime_type,
            type=PictureType.COVER_FRONT,
            desc="",
            data=content.cover.data,
        )
    kept = content.chapters[:MAX_TAGGED_CHAPTERS]
    ids = [f"chp{index}" for index in range(len(kept))]
    for element_id, chapter in zip(ids, kept, strict=True):
        sub_frames: list[Any] = [_make(TIT2, encoding=utf8, text=[chapter.title])]
        if chapter.url:
            sub_frames.append(_make(WXXX, encoding=utf8, desc="", url=chapter.url))
        yield _make(
            CHAP, element_id=element_id, start_time=chapter.start_ms, end_time=chapter.end_ms, sub_frames=sub_frames
        )
    if ids:
        # One top-level, ordered table of contents: what players list as the chapters.
        yield _make(
            CTOC, element_id="toc", flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED, child_element_ids=ids, sub_frames=[]
        )


# -- MP4 (M4A) -------------------------------------------------------------------------------------


def _write_mp4(path: Path, content: TagContent) -> None:
    mp4 = _make(MP4, path)
    if mp4.tags is None:
        mp4.add_tags()
    tags = mp4.tags
    for key in _MP4_KEYS:
        if key != "covr" or content.cover:
            tags.pop(key, None)
    tags["\xa9nam"] = [content.title]
    tags["\xa9alb"] = [content.album]
    tags["\xa9ART"] = list(content.artists)
    tags["aART"] = [content.album_artist]
    tags["\xa9day"] = [content.date_utc]
    tags["\xa9gen"] = [PODCAST_GENRE]
    tags["stik"] = [_STIK_PODCAST]
    tags["pcst"] = True
    tags["purl"] = [content.feed_url]
    tags["egid"] = [content.guid]
    if content.number is not None:
        tags["trkn"] = [(content.number, 0)]
    if content.comment:
        tags["\xa9cmt"] = [content.comment]
        tags["desc"] = [content.comment]
    if content.copyright:
        tags["cprt"] = [content.copyright]
    if content.category:
        tags["catg"] = [content.category]
    if content.cover:
        kind = MP4Cover.FORMAT_PNG if content.cover.mime_type == "image/png" else MP4Cover.FORMAT_JPEG
        tags["covr"] = [_make(MP4Cover, content.cover.data, imageformat=kind)]
    mp4.save()
    if content.mp4_chapters and content.chapters:
        mp4chapters.write_nero_chapters(path, [(c.start_ms, c.title) for c in content.chapters])
