"""Every web address a show writes, with the file, line and field it is written at."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit

from markdown_it.token import Token

from entretiens.links._model import LinkPlace
from entretiens.loading import FEED_FILE, GUESTS_DIR
from entretiens.markup import parse_markdown
from entretiens.model import FieldLines, Person, Project


def collect_places(project: Project, *, include_drafts: bool = False) -> list[LinkPlace]:
    """The URLs to check: cited links, guest and host pages, funding, directory pages, artwork URLs.

    The show's own ``base_url`` is left out: it is where the output will be served, perhaps
    not yet. Links written inside Markdown (notes, description) are included.

    :param include_drafts: also the links of draft episodes.
    :returns: one place per URL and field, in file order.
    """
    show = project.show
    feed = show.root / FEED_FILE
    collector = _Collector(project)
    add = collector.add
    if show.link.rstrip("/") != show.base_url.rstrip("/"):
        add(show.link, feed, "link", "the show's website")
    add(show.cover_image, feed, "image", "the show's artwork")
    for index, funding in enumerate(show.funding):
        add(funding.url, feed, f"funding[{index}].url", f'funding page "{funding.text}"')
    for label, url in show.subscribe:
        add(url, feed, f"subscribe.{label}", f'directory page "{label}"')
    if show.license is not None and show.license.url:
        add(show.license.url, feed, "license.url", "the license")
    if show.new_feed_url:
        add(show.new_feed_url, feed, "new_feed_url", "the new feed")
    collector.people(show.hosts, feed, "hosts", "host")
    collector.markdown(show.description, feed, "description", "the show's description")
    for episode in project.episodes:
        if episode.draft and not include_drafts:
            continue
        path = episode.path
        for index, link in enumerate(episode.links):
            add(link.url, path, f"links[{index}].url", f'link "{link.title}"')
        collector.people(episode.guests, path, "guests", "guest")
        for index, chapter in enumerate(episode.chapters):
            add(chapter.url, path, f"chapters[{index}].url", f'link of chapter "{chapter.title}"')
            add(chapter.image, path, f"chapters[{index}].image", f'image of chapter "{chapter.title}"')
        add(episode.cover_image, path, "image", "the episode's artwork")
        collector.markdown(episode.notes, path, "notes", "link in the notes")
    return collector.places


class _Collector:
    """Places gathered so far, each (URL, file, field) once."""

    def __init__(self, project: Project) -> None:
        self.root = project.show.root
        self.lines = FieldLines(project)
        self._text: dict[Path, list[str]] = {}
        self.places: list[LinkPlace] = []
        self._seen: set[tuple[str, Path, str]] = set()

    def add(self, url: str | None, path: Path, field: str, label: str, line: int | None = None) -> None:
        """Record a URL if it is a web address (show files and other schemes are not checked here)."""
        if not url or urlsplit(url).scheme not in ("http", "https"):
            return
        key = (url, path, field)
        if key in self._seen:
            return
        self._seen.add(key)
        found = line if line is not None else self.lines.line(path, field)
        self.places.append(LinkPlace(url=url, path=path, line=found, field=field, label=label))

    def people(self, people: Iterable[Person], path: Path, key: str, role: str) -> None:
        """Pages, photos and profiles of people: in the registry file for registry guests, else inline."""
        for index, person in enumerate(people):
            where, prefix = path, f"{key}[{index}]."
            if person.id is not None:
                where, prefix = self.root / GUESTS_DIR / f"{person.id}.yaml", ""
            self.add(person.url, where, f"{prefix}url", f"page of {role} {person.name}")
            self.add(person.image, where, f"{prefix}image", f"photo of {role} {person.name}")
            for label, url in person.social:
                self.add(url, where, f"{prefix}social.{label}", f"{label} profile of {role} {person.name}")

    def markdown(self, text: str, path: Path, field: str, label: str) -> None:
        """Links written in a Markdown field, each at the line of the file that holds it."""
        if not text:
            return
        start = self.lines.line(path, field)
        for url in _markdown_links(text):
            line = self._text_line(path, url, start) or start
            self.add(url, path, field, label, line=line)

    def _text_line(self, path: Path, needle: str, start: int | None) -> int | None:
        """The first line from ``start`` on whose text holds ``needle`` (a URL inside Markdown:
        the YAML parse gives the field's line, not the line of each link in its text)."""
        if path not in self._text:
            try:
                self._text[path] = path.read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError):
                self._text[path] = []
        for number, text in enumerate(self._text[path][(start or 1) - 1 :], start=start or 1):
            if needle in text:
                return number
        return None


def _markdown_links(text: str) -> list[str]:
    """The absolute http(s) targets of the links of a Markdown text, bare URLs included."""
    found: list[str] = []

    def walk(tokens: list[Token]) -> None:
        for token in tokens:
            if token.type == "link_open":
                href = str(token.attrGet("href") or "")
                if urlsplit(href).scheme in ("http", "https") and href not in found:
                    found.append(href)
            if token.children:
                walk(token.children)

    walk(parse_markdown(text))
    return found
