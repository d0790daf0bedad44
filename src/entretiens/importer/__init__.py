"""``entretiens import``: a podcast from another host becomes a show folder, every subscriber kept.

The stages: read the feed (a URL through :mod:`entretiens.net`, or a file), parse it safely,
convert it to the data of a show folder (:mod:`._convert`), bring in what it points to and can
be carried (transcripts, chapters, and with ``download_audio`` the recordings), then write the
folder in one step. The folder is then an ordinary show: ``publish`` reads it like any other.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from .. import net, state
from ..errors import NetworkError
from ..feedsource import is_url
from ._channel import BASE_URL_PLACEHOLDER
from ._convert import Draft, convert
from ._report import Finding, Report
from ._source import ImportError_, parse_feed, read_source

__all__ = ["BASE_URL_PLACEHOLDER", "Finding", "ImportError_", "Report", "import_show"]

#: Transcripts and chapters are small documents; anything larger is not one.
_DOCUMENT_LIMITS = net.Limits(max_bytes=20 * 1024 * 1024, stall_timeout=20.0, deadline=60.0)
#: Recordings: up to 2 GiB each, an hour to arrive, never 60 s without a byte.
AUDIO_LIMITS = net.Limits(max_bytes=2 * 1024**3, stall_timeout=60.0, deadline=3600.0)
#: Downloads at once: enough to fill a line, few enough to be polite to the old host.
DOWNLOADS_AT_ONCE = 3
_AUDIO_SUFFIXES = {"audio/mpeg": ".mp3", "audio/x-m4a": ".m4a", "audio/mp4": ".m4a", "video/mp4": ".mp4",
                   "audio/ogg": ".ogg", "audio/opus": ".opus", "audio/flac": ".flac", "audio/wav": ".wav"}  # fmt: skip

#: Called as bytes arrive: (bytes done, bytes expected in all, or None when unknown).
Progress = Callable[[int, int | None], None]


def import_show(
    source: str,
    folder: Path | None = None,
    *,
    base_url: str | None = None,
    download_audio: bool = False,
    force: bool = False,
    progress: Progress | None = None,
) -> Report:
    """Import the podcast feed at ``source`` (a URL or a file) into a new show folder.

    :param folder: where to write it; default: a new folder named after the show, in the
        current folder.
    :param base_url: where the new show will be served; without it feed.yaml holds a
        placeholder that ``publish`` refuses until it is set.
    :param download_audio: bring every recording into ``audio/`` instead of leaving it at
        the old host.
    :param force: write into a folder that is not empty.
    :raises ImportError_: the source is not an importable podcast feed, or the folder is taken.
    """
    if folder is not None:
        _check_folder(folder, force=force)
    fetched = read_source(source)
    channel, reading_notes = parse_feed(fetched)
    report = Report(folder=folder or Path(), source=source, feed_url=fetched.url)
    for line in fetched.redirects:
        report.add("note", "show", "feed", f"redirected: {line}")
    for line in reading_notes:
        report.add("note", "show", "feed", line)
    draft = convert(channel, feed_url=fetched.url, base_url=base_url, report=report)
    if folder is None:
        folder = Path(_folder_name(draft.feed["title"]))
        _check_folder(folder, force=force)
    report.folder = folder
    staging = _staging(folder)
    try:
        _fetch_documents(draft, staging, report)
        if download_audio:
            _download_audio(draft, staging, report, progress)
        _write(draft, staging)
        _move_into(staging, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return report


def _check_folder(folder: Path, *, force: bool) -> None:
    if folder.exists() and not folder.is_dir():
        raise ImportError_(f"{folder}: exists and is not a folder")
    if folder.is_dir() and any(folder.iterdir()) and not force:
        raise ImportError_(f"{folder}: not empty; name a new folder, or use --force to write into it")


def _folder_name(title: str) -> str:
    from ..layout import slugify

    return slugify(title, limit=40) or "imported-show"


def _staging(folder: Path) -> Path:
    parent = folder.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{folder.name}.import-", dir=parent))


def _move_into(staging: Path, folder: Path) -> None:
    """Put the written folder in place: renamed at once when the target is new or empty."""
    if folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
    if not folder.exists():
        os.replace(staging, folder)
        return
    for path in sorted(staging.rglob("*")):
        target = folder / path.relative_to(staging)
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, target)


def _fetch_documents(draft: Draft, root: Path, report: Report) -> None:
    """Transcripts into transcripts/, JSON chapters into the episode files; the rest is reported."""
    episodes = dict(draft.episodes)
    for fetch in draft.fetches:
        where = episodes[fetch.slug]["title"]
        try:
            answer = net.fetch(fetch.url, limits=_DOCUMENT_LIMITS)
            if answer.status >= 400:
                raise NetworkError(f"the server answered {answer.status}")
        except NetworkError as exc:
            report.add("dropped", where, fetch.what, f"{net.shown_url(fetch.url)} could not be fetched ({exc})")
            if fetch.what == "transcript":
                _drop_transcript(episodes[fetch.slug], fetch.path)
            continue
        if fetch.what == "chapters":
            chapters = _json_chapters(answer.body)
            if chapters is None:
                report.add("dropped", where, "chapters", f"{net.shown_url(fetch.url)} is not JSON chapters")
            else:
                episodes[fetch.slug]["chapters"] = chapters
            continue
        target = root / fetch.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(answer.body)


def _drop_transcript(data: dict[str, Any], path: str) -> None:
    data["transcript"] = [t for t in data.get("transcript", []) if t["file"] != path]
    if not data["transcript"]:
        del data["transcript"]


def _json_chapters(body: bytes) -> list[dict[str, Any]] | None:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(document, dict) or not isinstance(document.get("chapters"), list):
        return None
    chapters = []
    for entry in document["chapters"]:
        if not isinstance(entry, dict) or entry.get("toc") is False:
            continue
        start, title = entry.get("startTime"), entry.get("title")
        if not isinstance(start, (int, float)) or isinstance(start, bool) or not isinstance(title, str) or not title:
            continue
        chapter: dict[str, Any] = {"start": int(start) if float(start).is_integer() else round(float(start), 3)}
        chapter["title"] = title.strip()
        url = entry.get("url")
        if isinstance(url, str) and url.startswith(("https://", "http://")):
            chapter["url"] = url
        chapters.append(chapter)
    chapters.sort(key=lambda c: c["start"])
    return chapters


def _download_audio(draft: Draft, root: Path, report: Report, progress: Progress | None) -> None:
    """Every recording into audio/, a few at a time, each checked against the length the feed declared."""
    episodes = dict(draft.episodes)
    expected = sum(length or 0 for _, length in draft.enclosures.values()) or None
    done: dict[str, int] = {}

    def one(slug: str) -> tuple[str, str | None, NetworkError | None]:
        url, _length = draft.enclosures[slug]
        audio = episodes[slug]["audio"]
        mime = audio.get("type", "") if isinstance(audio, dict) else ""
        suffix = _AUDIO_SUFFIXES.get(mime) or Path(urlsplit(url).path).suffix.lower() or ".mp3"
        relative = f"audio/{slug}{suffix}"
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)

        def step(count: int, _total: int | None) -> None:
            done[slug] = count
            if progress:
                progress(sum(done.values()), expected)

        try:
            net.download(url, target, limits=AUDIO_LIMITS, progress=step)
        except NetworkError as exc:
            return slug, None, exc
        return slug, relative, None

    with ThreadPoolExecutor(max_workers=DOWNLOADS_AT_ONCE) as pool:
        results = list(pool.map(one, list(draft.enclosures)))
    for slug, relative, error in results:
        data = episodes[slug]
        if error is not None or relative is None:
            report.add("approx", data["title"], "audio", f"not downloaded ({error}): left at the old host")
            continue
        declared = draft.enclosures[slug][1]
        size = (root / relative).stat().st_size
        if declared and declared != size:
            report.add(
                "approx", data["title"], "audio", f"the file has {size} bytes where the feed declared {declared}"
            )
        data["audio"] = relative
        report.downloaded += 1


#: libyaml's emitter when PyYAML was built with it (ten times faster on thousands of files).
_SafeDumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Dumper(_SafeDumper):  # type: ignore[misc,valid-type]
    """Safe YAML whose long texts are blocks that people can edit."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _text)


def _dump(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100)


_FEED_HEADER = """\
# Imported by `entretiens import`. Check it, set base_url, then run `entretiens publish`.
# GUIDs, dates, titles and enclosure URLs of the episodes are kept as they were live.
"""


def _write(draft: Draft, root: Path) -> None:
    (root / "episodes").mkdir(parents=True, exist_ok=True)
    (root / "feed.yaml").write_text(_FEED_HEADER + _dump(draft.feed), encoding="utf-8")
    for slug, data in draft.episodes:
        (root / "episodes" / f"{slug}.yaml").write_text(_dump(data), encoding="utf-8")
    if draft.guests:
        (root / "guests").mkdir(exist_ok=True)
        for identifier, data in draft.guests.items():
            (root / "guests" / f"{identifier}.yaml").write_text(_dump(data), encoding="utf-8")
    (root / state.STATE_FILE).write_bytes(state.render_state(draft.podcast_guid, draft.guids))
    (root / ".gitignore").write_text("/public/\n.entretiens/\n", encoding="utf-8")


def source_is_url(source: str) -> bool:
    """Whether SOURCE names a URL (for the CLI's wording)."""
    return is_url(source)
