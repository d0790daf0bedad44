"""A feed's ``<item>`` elements into episode files: GUIDs, dates, enclosures kept, slugs chosen.

Each item that is an episode (an enclosure with a web address, a GUID not seen before, a date
that reads) becomes an episode's data, oldest first, with a slug of its own; what it points to
(transcripts, chapters) is listed to fetch, and guests met in several episodes move to the
guests' registry.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

from .. import layout, podcast_spec
from . import _values as values
from ._elements import CONTENT, IT, PC, PSC, boolean, image_url, read_person
from ._report import Report

#: Slugs that would clash with the site's own folders.
_RESERVED = frozenset({"assets", "audio", "guests", "images", "transcripts", "subscribe"})


@dataclass(slots=True)
class Fetch:
    """A file to bring into the show folder when reachable: a transcript or chapters."""

    url: str
    #: Show-relative path to write.
    path: str
    slug: str
    what: str


def read_items(
    channel: ElementTree.Element, feed_url: str | None, *, hosts: set[str], report: Report
) -> list[tuple[str, dict[str, Any], str, dict[str, Any]]]:
    """(slug, episode data, GUID, extras) for every importable item, oldest first."""
    seen_guids: set[str] = set()
    read: list[tuple[Any, dict[str, Any], str, dict[str, Any]]] = []
    for index, item in enumerate(channel.findall("item")):
        converted = _item(item, index, feed_url, hosts=hosts, report=report, seen=seen_guids)
        if converted is not None:
            read.append(converted)
    read.sort(key=lambda entry: (entry[0], entry[1]["title"]))
    slugs: set[str] = set()
    result = []
    for moment, data, guid, extra in read:
        slug = _slug(data, moment, slugs)
        slugs.add(slug)
        for fetch in extra.get("fetches", []):
            fetch.slug = slug
            fetch.path = fetch.path.format(slug=slug)
        if "transcript" in data:
            data["transcript"] = [dict(t, file=t["file"].format(slug=slug)) for t in data["transcript"]]
        result.append((slug, data, guid, extra))
    return result


def _slug(data: dict[str, Any], moment: Any, taken: set[str]) -> str:
    title = layout.slugify(data["title"], limit=50) or "episode"
    prefix = f"{data['number']:03d}" if "number" in data else moment.strftime("%Y-%m-%d")
    if "season" in data and "number" in data:
        prefix = f"s{data['season']:02d}e{data['number']:03d}"
    slug = f"{prefix}-{title}".strip("-")
    candidate, suffix = slug, 2
    while candidate in taken or candidate in _RESERVED:
        candidate, suffix = f"{slug}-{suffix}", suffix + 1
    return candidate


def _item(
    item: ElementTree.Element,
    index: int,
    feed_url: str | None,
    *,
    hosts: set[str],
    report: Report,
    seen: set[str],
) -> tuple[Any, dict[str, Any], str, dict[str, Any]] | None:
    def text(tag: str) -> str:
        return values.text_of(item.findtext(tag))

    title = text("title") or text(IT + "title")
    guid_text = text("guid")
    where = title or guid_text or f"item {index + 1}"
    enclosures = item.findall("enclosure")
    if not enclosures:
        report.add("skipped", where, "enclosure", "no <enclosure>: not an episode (a text post, or a removed file)")
        return None
    if len(enclosures) > 1:
        report.add("approx", where, "enclosure", f"{len(enclosures)} enclosures: the first is kept, as apps do")
    enclosure = enclosures[0]
    url = values.text_of(enclosure.get("url"))
    if url and feed_url and "://" not in url:
        absolute = urljoin(feed_url, url)
        report.add("approx", where, "enclosure", f"relative URL '{url}' read as {absolute}")
        url = absolute
    if not podcast_spec.is_web_url(url):
        report.add("skipped", where, "enclosure", f"'{url}' is not a web address: apps cannot download it")
        return None
    guid = guid_text or url
    if not guid_text:
        report.add("note", where, "guid", "no <guid>: apps know this episode by its enclosure URL, kept as its GUID")
    if guid in seen:
        report.add("skipped", where, "guid", f"GUID '{guid}' is also an earlier item's: apps show only one of them")
        return None
    seen.add(guid)
    moment, how = values.pub_date(text("pubDate"))
    if moment is None:
        report.add("skipped", where, "pubDate", f"{how}: add the episode by hand with its date")
        return None
    if how:
        report.add("approx", where, "pubDate", how)
    if not title:
        title = f"Episode of {moment.date().isoformat()}"
        report.add("approx", where, "title", f"no title: '{title}' written")
    data: dict[str, Any] = {"title": title, "date": moment.isoformat(), "imported": True}
    extra: dict[str, Any] = {}
    for key, tag, alternative in (("number", "episode", PC + "episode"), ("season", "season", PC + "season")):
        raw = text(IT + tag) or text(alternative)
        if raw:
            if raw.isdigit() and 0 < int(raw) < 10**9:
                data[key] = int(raw)
            else:
                report.add("dropped", where, key, f"'{raw}' is not a positive whole number")
    season = item.find(PC + "season")
    if "season" in data and season is not None and values.text_of(season.get("name")):
        data["season_name"] = values.text_of(season.get("name"))[: podcast_spec.PODCAST_TEXT_LIMIT]
    kind = text(IT + "episodeType").lower()
    if kind in ("trailer", "bonus"):
        data["type"] = kind
    summary = values.plain_text(text(IT + "subtitle") or text(IT + "summary"))
    notes_html = text(CONTENT) or text("description") or text(IT + "summary")
    notes_html, links = values.link_list(notes_html)
    notes = values.markdown_notes(notes_html)
    if summary and summary != values.plain_text(notes_html):
        data["summary"] = summary
    if notes:
        data["notes"] = notes
    if links:
        data["links"] = [{"title": t, "url": u} for t, u in links]
    explicit = boolean(text(IT + "explicit"))
    if explicit is not None:
        data["explicit"] = explicit
    image = image_url(item)
    if image:
        data["image"] = image
    data["audio"] = _audio(enclosure, url, text(IT + "duration"), where, report)
    extra["enclosure"] = (url, data["audio"].get("length") if isinstance(data["audio"], dict) else None)
    people = [read_person(p, report, where) for p in item.findall(PC + "person")]
    guests = [p for p in people if p and p["name"] not in hosts and p.get("role", "guest") != "host"]
    if guests:
        data["guests"] = guests
    chapters = _psc_chapters(item, where, report)
    if chapters:
        data["chapters"] = chapters
    else:
        element = item.find(PC + "chapters")
        if element is not None and podcast_spec.is_web_url(values.text_of(element.get("url"))):
            extra.setdefault("fetches", []).append(
                Fetch(url=values.text_of(element.get("url")), path="{slug}", slug="", what="chapters")
            )
    soundbites = _soundbites(item, where, report)
    if soundbites:
        data["soundbites"] = soundbites
    transcripts: list[dict[str, str]] = []
    for element in item.findall(PC + "transcript"):
        turl = values.text_of(element.get("url"))
        suffix = _transcript_suffix(values.text_of(element.get("type")), turl)
        if not suffix or not podcast_spec.is_web_url(turl):
            report.add(
                "dropped", where, "transcript", f"'{turl}' ({element.get('type')}) is not a format entretiens publishes"
            )
            continue
        if any(t["file"].endswith(suffix) for t in transcripts):
            continue
        path = "transcripts/{slug}" + suffix
        entry = {"file": path}
        if element.get("language"):
            entry["language"] = values.text_of(element.get("language"))
        transcripts.append(entry)
        extra.setdefault("fetches", []).append(Fetch(url=turl, path=path, slug="", what="transcript"))
    if transcripts:
        data["transcript"] = transcripts
    return moment, data, guid, extra


def _audio(enclosure: ElementTree.Element, url: str, raw_duration: str, where: str, report: Report) -> Any:
    """The episode's ``audio``: the enclosure kept where it is, with what the feed declared."""
    declared_type = values.text_of(enclosure.get("type")).lower()
    mime = values.TYPE_ALIASES.get(declared_type, declared_type)
    if mime != declared_type:
        report.add("approx", where, "enclosure.type", f"'{declared_type}' written as '{mime}', the name apps know")
    length_text = values.text_of(enclosure.get("length")).replace(",", "")
    length = int(length_text) if length_text.isdigit() else 0
    seconds = values.duration(raw_duration) if raw_duration else None
    if url.startswith("http://"):
        report.add(
            "note", where, "enclosure", "served over plain http: kept as it is, since apps know the episode by it"
        )
    if length <= 0 or seconds is None or not mime.startswith(("audio/", "video/")):
        missing = [
            n
            for n, ok in (
                ("length", length > 0),
                ("duration", seconds is not None),
                ("type", mime.startswith(("audio/", "video/"))),
            )
            if not ok
        ]
        report.add(
            "approx",
            where,
            "audio",
            f"the feed does not declare its {' and '.join(missing)}: publish downloads the file once to measure it",
        )
        return url
    return {"url": url, "length": length, "type": mime, "duration": values.seconds(seconds)}


def _psc_chapters(item: ElementTree.Element, where: str, report: Report) -> list[dict[str, Any]]:
    found = []
    for element in item.findall(f"{PSC}chapters/{PSC}chapter"):
        start = values.duration(values.text_of(element.get("start")))
        title = values.text_of(element.get("title"))
        if start is None or not title:
            report.add("dropped", where, "chapters", f"chapter '{element.get('start')}' '{title}' cannot be read")
            continue
        chapter: dict[str, Any] = {"start": values.seconds(start), "title": title}
        href = values.text_of(element.get("href"))
        if href and podcast_spec.is_web_url(href):
            chapter["url"] = href
        found.append(chapter)
    return found


def _soundbites(item: ElementTree.Element, where: str, report: Report) -> list[dict[str, Any]]:
    found = []
    for element in item.findall(PC + "soundbite"):
        start = values.duration(values.text_of(element.get("startTime")))
        length = values.duration(values.text_of(element.get("duration")))
        if start is None or not length:
            report.add("dropped", where, "soundbites", "a soundbite without a readable start and duration")
            continue
        bite: dict[str, Any] = {"start": values.seconds(start), "duration": values.seconds(length)}
        if title := values.text_of(element.text):
            bite["title"] = title
        found.append(bite)
    return found


def _transcript_suffix(mime: str, url: str) -> str | None:
    by_type = {"text/vtt": ".vtt", "application/x-subrip": ".srt", "application/srt": ".srt",
               "application/json": ".json", "text/html": ".html", "text/plain": ".txt"}  # fmt: skip
    if mime in by_type:
        return by_type[mime]
    for suffix in (".vtt", ".srt", ".json", ".html", ".txt"):
        if url.lower().split("?")[0].endswith(suffix):
            return suffix
    return None


def guest_registry(items: list[tuple[str, dict[str, Any], str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """People met in several episodes move to guests/<id>.yaml; episodes name them by id."""
    count: dict[str, int] = {}
    for _, data, _, _ in items:
        for guest in data.get("guests", []):
            count[guest["name"]] = count.get(guest["name"], 0) + 1
    registry: dict[str, dict[str, Any]] = {}
    ids: dict[str, str] = {}
    for name, times in count.items():
        if times < 2:
            continue
        base = layout.slugify(name) or "guest"
        identifier, n = base, 2
        while identifier in registry:
            identifier, n = f"{base}-{n}", n + 1
        ids[name] = identifier
        registry[identifier] = {}
    for _, data, _, _ in items:
        guests = data.get("guests", [])
        for position, guest in enumerate(guests):
            known = ids.get(guest["name"])
            if known is None:
                continue
            identifier = known
            if not registry[identifier]:
                registry[identifier] = {k: v for k, v in guest.items() if k != "role" or v != "guest"}
            guests[position] = identifier
    return registry
