"""An RSS podcast feed into the plain data of a show folder: feed.yaml, episodes, guests, GUIDs.

Everything that is live is kept exactly as it was: GUIDs (an item without one is known to apps
by its enclosure URL, which becomes its GUID), publication instants with their offsets,
titles, enclosure URLs (even http://), numbers (even shared ones). Whatever cannot be carried,
or only approximately, is written in the report, one line per field and item.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

from .. import layout, podcast_spec
from ..podcast_spec import ATOM_NS, CONTENT_NS, ITUNES_NS, PODCAST_NS, PSC_NS
from . import _values as values
from ._report import Report

_IT = "{" + ITUNES_NS + "}"
_PC = "{" + PODCAST_NS + "}"
_ATOM = "{" + ATOM_NS + "}"
_PSC = "{" + PSC_NS + "}"
_CONTENT = "{" + CONTENT_NS + "}encoded"
_DC_CREATOR = "{http://purl.org/dc/elements/1.1/}creator"
#: What feed.yaml says until the host gives the show's new address: not a URL, so `publish`
#: refuses it with a located error that says what to write.
BASE_URL_PLACEHOLDER = "SET-ME: the https address where public/ will be served (then run publish)"
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


@dataclass(slots=True)
class Draft:
    """The show folder to write, as plain data."""

    feed: dict[str, Any]
    #: (slug, episode data), oldest first.
    episodes: list[tuple[str, dict[str, Any]]]
    #: guest id -> guest data, for people met in several episodes.
    guests: dict[str, dict[str, Any]]
    #: slug -> GUID, exactly as live.
    guids: dict[str, str]
    podcast_guid: str
    fetches: list[Fetch] = field(default_factory=list)
    #: slug -> (enclosure URL, declared length), for --download-audio.
    enclosures: dict[str, tuple[str, int | None]] = field(default_factory=dict)


def convert(channel: ElementTree.Element, *, feed_url: str | None, base_url: str | None, report: Report) -> Draft:
    """Turn the ``<channel>`` of a podcast feed into the data of a show folder."""
    self_url = feed_url or _self_link(channel)
    feed = _show(channel, base_url=base_url, feed_url=self_url, report=report)
    pinned_guid = values.text_of(channel.findtext(_PC + "guid"))
    if pinned_guid:
        podcast_guid = pinned_guid
    elif self_url:
        podcast_guid = podcast_spec.podcast_guid_for(self_url)
        report.add(
            "note", "show", "guid", f"the feed has no podcast:guid: the one its URL implies is kept ({podcast_guid})"
        )
    else:
        podcast_guid = podcast_spec.podcast_guid_for(values.text_of(channel.findtext("link")) or feed["title"])
        report.add(
            "approx",
            "show",
            "guid",
            "the feed has no podcast:guid and no URL of its own: one was derived from its link",
        )
    feed["guid"] = podcast_guid
    hosts = {h["name"] for h in feed.get("hosts", [])}
    items = _items(channel, self_url, hosts=hosts, report=report)
    guests = _registry(items)
    episodes = [(slug, data) for slug, data, _, _ in items]
    draft = Draft(
        feed=feed,
        episodes=episodes,
        guests=guests,
        guids={slug: guid for slug, _, guid, _ in items},
        podcast_guid=podcast_guid,
    )
    for slug, data, _, extra in items:
        draft.fetches += extra.get("fetches", [])
        if "enclosure" in extra:
            draft.enclosures[slug] = extra["enclosure"]
        data.pop("_fetch", None)
    report.title = feed["title"]
    report.imported = len(episodes)
    return draft


def _self_link(channel: ElementTree.Element) -> str | None:
    for link in channel.findall(_ATOM + "link"):
        if link.get("rel") == "self" and podcast_spec.is_web_url(link.get("href") or ""):
            return (link.get("href") or "").strip()
    return None


def _show(
    channel: ElementTree.Element, *, base_url: str | None, feed_url: str | None, report: Report
) -> dict[str, Any]:
    def text(tag: str) -> str:
        return values.text_of(channel.findtext(tag))

    title = text("title") or text(_IT + "title")
    if not title:
        title = "Untitled show"
        report.add("approx", "show", "title", "the feed has no title: 'Untitled show' written")
    feed: dict[str, Any] = {"title": title}
    if subtitle := values.plain_text(text(_IT + "subtitle")):
        feed["subtitle"] = subtitle
    description = text("description") or text(_IT + "summary")
    feed["description"] = values.markdown_notes(description) or title
    if not description:
        report.add("approx", "show", "description", "the feed has no description: the title stands in for it")
    language = text("language")
    code = language.replace("_", "-")
    if code and podcast_spec.is_valid_language(code):
        feed["language"] = code
    else:
        feed["language"] = "en"
        report.add("approx", "show", "language", f"'{language}' is not a language code: 'en' written, correct it")
    if base_url:
        feed["base_url"] = base_url if base_url.endswith("/") else base_url + "/"
    else:
        feed["base_url"] = BASE_URL_PLACEHOLDER
        report.base_url_missing = True
    link = text("link")
    if podcast_spec.is_web_url(link, https_only=True):
        feed["link"] = link
    elif link:
        report.add("dropped", "show", "link", f"'{link}' is not an https address: the new home page stands in for it")
    author = text(_IT + "author") or text(_DC_CREATOR) or text("managingEditor")
    owner = channel.find(_IT + "owner")
    owner_name = values.text_of(owner.findtext(_IT + "name")) if owner is not None else ""
    owner_email = values.text_of(owner.findtext(_IT + "email")) if owner is not None else ""
    feed["author"] = author or owner_name or title
    if not author:
        report.add("approx", "show", "author", f"no itunes:author: '{feed['author']}' written")
    feed["owner"] = {"name": owner_name or feed["author"], "email": owner_email or "SET-ME@example.invalid"}
    if not owner_email:
        report.add("dropped", "show", "owner.email", "no itunes:owner e-mail: set the address Apple may write to")
    image = _image(channel)
    if image:
        feed["image"] = image
    else:
        feed["image"] = "SET-ME.jpg"
        report.add("dropped", "show", "image", "no https artwork in the feed: put the show's artwork in the folder")
    feed["categories"] = _categories(channel, report)
    explicit = _boolean(text(_IT + "explicit"))
    if explicit is not None:
        feed["explicit"] = explicit
    kind = text(_IT + "type").lower()
    if kind in ("episodic", "serial"):
        feed["type"] = kind
    if copyright_ := text("copyright"):
        feed["copyright"] = copyright_
    hosts = [_person(p, report, "show") for p in channel.findall(_PC + "person")]
    if hosts := [h for h in hosts if h]:
        feed["hosts"] = hosts
    funding = []
    for element in channel.findall(_PC + "funding"):
        url = values.text_of(element.get("url"))
        label = values.text_of(element.text) or "Support the show"
        if podcast_spec.is_web_url(url, https_only=True):
            funding.append({"url": url, "text": label[: podcast_spec.PODCAST_TEXT_LIMIT]})
        else:
            report.add("dropped", "show", "funding", f"'{url}' is not an https address")
    if funding:
        feed["funding"] = funding
    locked = values.text_of(channel.findtext(_PC + "locked")).lower()
    if locked in ("yes", "no"):
        feed["locked"] = locked == "yes"
    if license_ := values.text_of(channel.findtext(_PC + "license")):
        license_element = channel.find(_PC + "license")
        license_url = values.text_of(license_element.get("url")) if license_element is not None else ""
        feed["license"] = {"id": license_, "url": license_url} if license_url else license_
    location = channel.find(_PC + "location")
    if location is not None and values.text_of(location.text):
        place: dict[str, str] = {"name": values.text_of(location.text)}
        for key in ("geo", "osm"):
            if location.get(key):
                place[key] = values.text_of(location.get(key))
        feed["location"] = place
    for flag in ("block", "complete"):
        if text(_IT + flag).lower() == "yes":
            feed[flag] = True
    medium = text(_PC + "medium")
    if medium and medium != "podcast":
        feed["medium"] = medium
    return feed


def _image(element: ElementTree.Element) -> str | None:
    itunes = element.find(_IT + "image")
    candidates = [values.text_of(itunes.get("href")) if itunes is not None else ""]
    candidates.append(values.text_of(element.findtext("image/url")))
    for url in candidates:
        if url and podcast_spec.is_web_url(url, https_only=True):
            return url
    return None


def _categories(channel: ElementTree.Element, report: Report) -> list[Any]:
    found: list[tuple[str, str | None]] = []
    for top in channel.findall(_IT + "category"):
        name = values.text_of(top.get("text"))
        subs: list[str | None] = [values.text_of(s.get("text")) for s in top.findall(_IT + "category")] or [None]
        for sub in subs:
            mapped = _category(name, sub, report)
            if mapped and mapped not in found:
                found.append(mapped)
    if not found:
        report.add("dropped", "show", "categories", "no Apple category could be carried over: add one")
    result: list[Any] = []
    for name, sub in found:
        if sub is None:
            if name not in result and not any(isinstance(r, dict) and name in r for r in result):
                result.append(name)
            continue
        for entry in result:
            if isinstance(entry, dict) and name in entry:
                entry[name].append(sub)
                break
        else:
            if name in result:
                result.remove(name)
            result.append({name: [sub]})
    return result


def _category(name: str, sub: str | None, report: Report) -> tuple[str, str | None] | None:
    apple = podcast_spec.APPLE_CATEGORIES
    if name in apple and (sub is None or sub in apple[name]):
        return name, sub
    old = values.OLD_CATEGORIES.get((name, sub)) or values.OLD_CATEGORIES.get((name, None))
    if old:
        shown = f"{name} > {sub}" if sub else name
        new = f"{old[0]} > {old[1]}" if old[1] else old[0]
        report.add("approx", "show", "categories", f"'{shown}' is an old Apple category: mapped to '{new}'")
        return old
    if name in apple:
        report.add("approx", "show", "categories", f"'{sub}' is not a subcategory of '{name}': '{name}' kept")
        return name, None
    report.add("dropped", "show", "categories", f"'{name}' is not an Apple Podcasts category")
    return None


def _boolean(text: str) -> bool | None:
    text = text.strip().lower()
    if text in ("yes", "true", "explicit"):
        return True
    if text in ("no", "false", "clean"):
        return False
    return None


def _person(element: ElementTree.Element, report: Report, where: str) -> dict[str, Any] | None:
    name = values.text_of(element.text)
    if not name:
        return None
    person: dict[str, Any] = {"name": name}
    role = values.text_of(element.get("role")).lower() or None
    group = values.text_of(element.get("group")).lower() or None
    if role or group:
        problem = podcast_spec.person_role_problem(role, group)
        if problem is None:
            if role:
                person["role"] = role
            if group:
                person["group"] = group
        else:
            report.add("approx", where, "person", f"{name}: {problem[1]}: role and group left to their defaults")
    for key, attribute in (("url", "href"), ("image", "img")):
        url = values.text_of(element.get(attribute))
        if url and podcast_spec.is_web_url(url, https_only=key == "image"):
            person[key] = url
        elif url:
            report.add("dropped", where, f"person.{key}", f"{name}: '{url}' is not an https address")
    return person


def _items(
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

    title = text("title") or text(_IT + "title")
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
    for key, tag, alternative in (("number", "episode", _PC + "episode"), ("season", "season", _PC + "season")):
        raw = text(_IT + tag) or text(alternative)
        if raw:
            if raw.isdigit() and 0 < int(raw) < 10**9:
                data[key] = int(raw)
            else:
                report.add("dropped", where, key, f"'{raw}' is not a positive whole number")
    season = item.find(_PC + "season")
    if "season" in data and season is not None and values.text_of(season.get("name")):
        data["season_name"] = values.text_of(season.get("name"))[: podcast_spec.PODCAST_TEXT_LIMIT]
    kind = text(_IT + "episodeType").lower()
    if kind in ("trailer", "bonus"):
        data["type"] = kind
    summary = values.plain_text(text(_IT + "subtitle") or text(_IT + "summary"))
    notes_html = text(_CONTENT) or text("description") or text(_IT + "summary")
    notes_html, links = values.link_list(notes_html)
    notes = values.markdown_notes(notes_html)
    if summary and summary != values.plain_text(notes_html):
        data["summary"] = summary
    if notes:
        data["notes"] = notes
    if links:
        data["links"] = [{"title": t, "url": u} for t, u in links]
    explicit = _boolean(text(_IT + "explicit"))
    if explicit is not None:
        data["explicit"] = explicit
    image = _image(item)
    if image:
        data["image"] = image
    data["audio"] = _audio(enclosure, url, text(_IT + "duration"), where, report)
    extra["enclosure"] = (url, data["audio"].get("length") if isinstance(data["audio"], dict) else None)
    people = [_person(p, report, where) for p in item.findall(_PC + "person")]
    guests = [p for p in people if p and p["name"] not in hosts and p.get("role", "guest") != "host"]
    if guests:
        data["guests"] = guests
    chapters = _psc_chapters(item, where, report)
    if chapters:
        data["chapters"] = chapters
    else:
        element = item.find(_PC + "chapters")
        if element is not None and podcast_spec.is_web_url(values.text_of(element.get("url"))):
            extra.setdefault("fetches", []).append(
                Fetch(url=values.text_of(element.get("url")), path="{slug}", slug="", what="chapters")
            )
    soundbites = _soundbites(item, where, report)
    if soundbites:
        data["soundbites"] = soundbites
    transcripts: list[dict[str, str]] = []
    for element in item.findall(_PC + "transcript"):
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
    for element in item.findall(f"{_PSC}chapters/{_PSC}chapter"):
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
    for element in item.findall(_PC + "soundbite"):
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


def _registry(items: list[tuple[str, dict[str, Any], str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
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
