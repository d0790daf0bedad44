"""One episode file, ``episodes/<slug>.yaml``, into an :class:`~entretiens.model.Episode` (None when in error)."""

from __future__ import annotations

import itertools
import re
from datetime import timedelta, tzinfo
from pathlib import Path

from .. import podcast_spec
from ..errors import Problem
from ..fieldreader import FieldReader
from ..model import Chapter, DeclaredAudio, Episode, Link, Person, Soundbite, Source, Transcript
from ..podcast_spec import PODCAST_TEXT_LIMIT
from ..yamlfile import YamlMap, field_lines
from ._files import Reader, image_file, read_mapping, show_file, show_root
from ._guids import read_guid
from ._people import read_people

#: Folder names of public/ that an episode slug may not take.
RESERVED_SLUGS = frozenset({"assets", "audio", "guests", "images", "transcripts"})


_SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?")


_EPISODE_KEYS = {
    "title", "date", "audio", "number", "season", "season_name", "type", "summary", "notes",
    "guests", "links", "quote", "chapters", "soundbites", "transcript", "image", "explicit",
    "guid", "draft", "imported",
}  # fmt: skip


_TRANSCRIPT_SUFFIXES = {".vtt", ".srt", ".json", ".html", ".htm", ".txt"}


def load_episode(
    path: Path,
    zone: tzinfo,
    language: str,
    registry: dict[str, tuple[Person, Path]],
    problems: list[Problem],
    read: Reader,
    *,
    named: list[str | None] | None = None,
) -> Episode | None:
    data = read_mapping(path, problems, read)
    if data is None:
        return None
    reader = FieldReader(path, problems, named=named)
    slug = path.stem
    if not _SLUG.fullmatch(slug):
        reader.error(
            "invalid-slug",
            "file name",
            None,
            f"{slug!r} cannot name an episode page",
            "rename the file with lower-case letters, digits and dashes only, e.g. 012-jane-doe.yaml",
        )
    elif slug in RESERVED_SLUGS:
        reader.error(
            "invalid-slug", "file name", None, f"'{slug}' is reserved for the site's own pages", "rename the file"
        )
    reader.check_keys(data, _EPISODE_KEYS)
    before = len(problems)
    date = reader.moment(data, "date", zone)
    draft = reader.boolean(data, "draft")
    audio, declared = _audio(reader, data, draft=draft)
    episode_type = reader.choice(data, "type", podcast_spec.EPISODE_TYPES, default="full")
    season_name = reader.text(data, "season_name") or None
    if season_name and len(season_name) > PODCAST_TEXT_LIMIT:
        reader.error("invalid-value", "season_name", reader.line(data, "season_name"), "is longer than 128 characters")
    guid = read_guid(reader, data)
    episode = Episode(
        slug=slug,
        path=path,
        title=reader.text(data, "title", required=True),
        date=date,  # type: ignore[arg-type]  # checked below
        audio=audio or "",
        declared_audio=declared,
        number=reader.positive_int(data, "number"),
        season=reader.positive_int(data, "season"),
        season_name=season_name,
        episode_type=episode_type,
        summary=reader.text(data, "summary"),
        notes=reader.text(data, "notes"),
        guests=read_people(reader, data, "guests", registry, "guest"),
        links=reader.each(data, "links", "", lambda v, f, line: _link(reader, v, f, line)),
        quote=reader.text(data, "quote"),
        chapters=_chapters(reader, data),
        soundbites=reader.each(data, "soundbites", "", lambda v, f, line: _soundbite(reader, v, f, line)),
        transcripts=_transcripts(reader, data, language),
        cover_image=image_file(reader, data, "image", ""),
        explicit=reader.optional_boolean(data, "explicit"),
        guid=guid or "",
        draft=draft,
        imported=reader.boolean(data, "imported"),
        lines=field_lines(data),
    )
    if len(problems) > before and any(p.severity == "error" for p in problems[before:]):
        return None
    return episode


def _audio(reader: FieldReader, data: YamlMap, *, draft: bool = False) -> tuple[str | None, DeclaredAudio | None]:
    value = data.get("audio")
    if isinstance(value, dict):
        return _declared_audio(reader, data)
    text = reader.text(data, "audio", required=True)
    if not text:
        return None, None
    line = reader.line(data, "audio")
    if "://" in text:
        return reader.check_url(text, "audio", line), None
    root = show_root(reader.path)
    if draft and not (root / text).exists() and not (root / text).is_symlink():
        # `entretiens new` names the recording before it exists: a draft is not published, so
        # its missing audio must not block the rest of the show.
        reader.problems.append(
            Problem(
                rule="missing-file",
                path=reader.path,
                line=line,
                field="audio",
                message=f"file '{text}' not found in the show folder (yet: this episode is a draft)",
                hint="put the recording there before publishing the episode",
                as_note=True,
            )
        )
        return text, None
    return show_file(reader, text, "audio", line), None


def _declared_audio(reader: FieldReader, data: YamlMap) -> tuple[str | None, DeclaredAudio | None]:
    """``audio: {url, length, type, duration}``: a recording left at another host, as its feed declared it.

    What is live is history: the URL is kept even when it is plain http (a warning says so).
    """
    item = reader.mapping(data["audio"], "audio", reader.line(data, "audio"))
    if item is None:
        return None, None
    reader.check_keys(item, {"url", "length", "type", "duration"}, "audio.")
    url = reader.url(item, "url", "audio.", required=True, https=False)
    length = reader.positive_int(item, "length", "audio.")
    if length is None and "length" not in item:
        reader.missing(item, "length", "audio.")
    mime = reader.text(item, "type", "audio.", required=True)
    if mime and not re.fullmatch(r"(audio|video)/[\w.+-]+", mime):
        reader.error("invalid-value", "audio.type", reader.line(item, "type"), f"'{mime}' is not an audio type",
                     "write the type the old feed declared, e.g. audio/mpeg")  # fmt: skip
        mime = ""
    seconds = reader.timestamp(item.get("duration"), "audio.duration", reader.line(item, "duration"))
    if "duration" not in item:
        reader.missing(item, "duration", "audio.")
    if url and url.lower().startswith("http://"):
        reader.problems.append(
            Problem(
                rule="audio-http",
                path=reader.path,
                line=reader.line(item, "url"),
                field="audio.url",
                message=f"'{url}' is served over plain http",
                hint="kept as it is, since subscribers' apps know the episode by it; serve the file over https "
                "at the old host, or download it into audio/ and publish it from there",
            )
        )
    if not url or length is None or not mime or seconds is None:
        return url, None
    return url, DeclaredAudio(length=length, mime_type=mime, duration=timedelta(seconds=seconds))


def _link(reader: FieldReader, value: object, field: str, line: int) -> Link | None:
    item = reader.mapping(value, field, line)
    if item is None:
        return None
    reader.check_keys(item, {"title", "url"}, field + ".")
    title = reader.text(item, "title", field + ".", required=True)
    # Cited pages are often older sites: plain http is allowed here.
    url = reader.url(item, "url", field + ".", required=True, https=False)
    return Link(title=title, url=url, source=Source(path=reader.path, line=line)) if title and url else None


def _chapters(reader: FieldReader, data: YamlMap) -> tuple[Chapter, ...]:
    def read(value: object, field: str, line: int) -> Chapter | None:
        item = reader.mapping(value, field, line)
        if item is None:
            return None
        reader.check_keys(item, {"start", "title", "url", "image"}, field + ".")
        if "start" not in item:
            reader.missing(item, "start", field + ".")
            return None
        start = reader.timestamp(item["start"], field + ".start", reader.line(item, "start"))
        title = reader.text(item, "title", field + ".", required=True)
        url = reader.url(item, "url", field + ".", https=False)
        image = image_file(reader, item, "image", field + ".")
        if start is None or not title:
            return None
        return Chapter(start=start, title=title, url=url, image=image, source=Source(path=reader.path, line=line))

    chapters = reader.each(data, "chapters", "", read)
    for index, (previous, chapter) in enumerate(itertools.pairwise(chapters), start=1):
        if chapter.start <= previous.start:
            line = chapter.source.line if chapter.source else None
            reader.error(
                "chapter-order",
                f"chapters[{index}].start",
                line,
                f"chapter '{chapter.title}' does not start after '{previous.title}'",
                "list chapters in order, each with its own start time",
            )
    return chapters


def _soundbite(reader: FieldReader, value: object, field: str, line: int) -> Soundbite | None:
    item = reader.mapping(value, field, line)
    if item is None:
        return None
    reader.check_keys(item, {"start", "duration", "title"}, field + ".")
    for key in ("start", "duration"):
        if key not in item:
            reader.missing(item, key, field + ".")
            return None
    start = reader.timestamp(item["start"], field + ".start", reader.line(item, "start"))
    duration = reader.timestamp(item["duration"], field + ".duration", reader.line(item, "duration"))
    title = reader.text(item, "title", field + ".")
    if len(title) > PODCAST_TEXT_LIMIT:
        reader.error("invalid-value", field + ".title", reader.line(item, "title"), "is longer than 128 characters")
    if duration is not None and duration <= 0:
        reader.error("invalid-value", field + ".duration", reader.line(item, "duration"), "must be more than 0 seconds")
        return None
    if start is None or duration is None:
        return None
    return Soundbite(start=start, duration=duration, title=title, source=Source(path=reader.path, line=line))


def _transcripts(reader: FieldReader, data: YamlMap, language: str) -> tuple[Transcript, ...]:
    def read(value: object, field: str, line: int) -> Transcript | None:
        lang = language
        if isinstance(value, str):
            text = value.strip()
        else:
            item = reader.mapping(value, field, line)
            if item is None:
                return None
            reader.check_keys(item, {"file", "language"}, field + ".")
            text = reader.text(item, "file", field + ".", required=True)
            lang = reader.text(item, "language", field + ".", default=language)
            if not podcast_spec.is_valid_language(lang):
                reader.error(
                    "invalid-language",
                    field + ".language",
                    reader.line(item, "language"),
                    f"'{lang}' is not a language code",
                    "write fr, en, fr-FR...",
                )
        if not text:
            return None
        if Path(text).suffix.lower() not in _TRANSCRIPT_SUFFIXES:
            reader.error(
                "transcript-format",
                field,
                line,
                f"'{text}' is not a transcript format podcast apps read",
                "use .vtt, .srt, .json (Podcasting 2.0), .html or .txt",
            )
            return None
        found = show_file(reader, text, field, line)
        if found is None:
            return None
        if Path(found).suffix.lower() != Path(text).suffix.lower():
            # A link to another kind of file (a show file, with its private fields) is no transcript.
            reader.error(
                "transcript-format",
                field,
                line,
                f"'{text}' is a link to {found}, which is not a {Path(text).suffix} transcript",
                "put the transcript file itself in transcripts/",
            )
            return None
        return Transcript(path=Path(found), language=lang, source=Source(path=reader.path, line=line))

    return reader.each(data, "transcript", "", read)
