"""Show notes: a release into the HTML and Markdown that the feed and the pages carry."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from urllib.parse import urlsplit

import jinja2
import lxml.html
from markupsafe import Markup

from . import layout
from .errors import TemplateError
from .markup import escape, render_markdown, sanitize, to_plain_text
from .model import Release, Show
from .timecodes import timecode as timecode  # a template filter and the description's form

#: Apple truncates longer descriptions; FEED_RULES warns above 4000 bytes.
DESCRIPTION_LIMIT = 4000

#: Fixed page strings by language; English is the fallback for missing languages and keys.
_STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "skip": "Skip to content", "home": "Home", "episodes": "Episodes", "guests": "Guests",
        "guest": "Guest", "subscribe": "Subscribe", "hosted_by": "Hosted by", "with": "With",
        "season": "Season {n}", "episode": "Episode {n}", "trailer": "Trailer", "bonus": "Bonus",
        "artwork": "{title} artwork", "photo": "Photo of {name}",
        "player": "Play the episode: {title}", "download": "Download the audio ({format}, {size})",
        "notes": "Show notes", "quote": "Quote to remember", "chapters": "Chapters",
        "play_from": "Play from {time}", "links": "Links and resources", "transcript": "Transcript",
        "read_transcript": "Read the transcript", "transcript_file": "Download",
        "previous": "Previous episode", "next": "Next episode", "episode_nav": "More episodes",
        "subscribe_intro": "Follow the show in your podcast app, or with any app that reads RSS:",
        "rss": "RSS feed", "feed_address": "Feed address", "copy_address": "Copy", "copied": "Copied",
        "appears_in": "Appears in", "website": "Website", "support": "Support the show",
        "guests_intro": "Everyone we have talked with, and the episodes to hear them in.",
        "episode_count": "{n} episodes", "feed_title": "Podcast feed",
        "feed_intro": "This page is the show's feed: an address for podcast apps rather than for reading. "
        "To subscribe, copy the address below into your podcast app (look for “Add a podcast” or "
        "“Follow a show by URL”), or open one of the apps listed.",
        "visit_site": "Visit the website", "latest": "Latest episodes",
        "more_online": "Full show notes and transcript", "made_with": "Published with entretiens",
        "date": "{month} {day}, {year}", "first_day": "1",
        "months": "January February March April May June July August September October November December",
        "megabytes": "MB", "kilobytes": "kB", "decimal": ".", "listen": "Listen to the episode",
        "colon": ": ", "quoted": "“{}”",
    },
    "fr": {
        "skip": "Aller au contenu", "home": "Accueil", "episodes": "Épisodes", "guests": "Invités",
        "guest": "Invité", "subscribe": "S'abonner", "hosted_by": "Animé par", "with": "Avec",
        "season": "Saison {n}", "episode": "Épisode {n}", "trailer": "Bande-annonce", "bonus": "Bonus",
        "artwork": "Visuel : {title}", "photo": "Photo de {name}",
        "player": "Écouter l'épisode : {title}", "download": "Télécharger l'audio ({format}, {size})",
        "notes": "Notes de l'épisode", "quote": "La phrase à retenir", "chapters": "Chapitres",
        "play_from": "Écouter à partir de {time}", "links": "Liens et ressources", "transcript": "Transcription",
        "read_transcript": "Lire la transcription", "transcript_file": "Télécharger",
        "previous": "Épisode précédent", "next": "Épisode suivant", "episode_nav": "Autres épisodes",
        "subscribe_intro": "Suivez l'émission dans votre application de podcasts, "
        "ou avec toute application qui lit le RSS :",
        "rss": "Flux RSS", "feed_address": "Adresse du flux", "copy_address": "Copier", "copied": "Copié",
        "appears_in": "À écouter dans", "website": "Site web", "support": "Soutenir l'émission",
        "guests_intro": "Toutes les personnes interviewées, et les épisodes où les écouter.",
        "episode_count": "{n} épisodes", "feed_title": "Flux du podcast",
        "feed_intro": "Cette page est le flux de l'émission : une adresse destinée aux applications de podcasts "
        "plutôt qu'à la lecture. Pour vous abonner, copiez l'adresse ci-dessous dans votre application "
        "(« Ajouter un podcast » ou « S'abonner par URL »), ou ouvrez l'une des applications proposées.",
        "visit_site": "Voir le site de l'émission", "latest": "Derniers épisodes",
        "more_online": "Notes complètes et transcription", "made_with": "Publié avec entretiens",
        "date": "{day} {month} {year}", "first_day": "1er",
        "months": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
        "megabytes": "Mo", "kilobytes": "ko", "decimal": ",", "listen": "Écouter l'épisode",
        "colon": "\u00a0: ", "quoted": "«\u00a0{}\u00a0»",
    },
}  # fmt: skip

#: How directory names of feed.yaml's ``subscribe:`` are shown; other labels are shown as written.
DIRECTORY_NAMES = MappingProxyType({
    "apple": "Apple Podcasts", "spotify": "Spotify", "youtube": "YouTube", "youtube_music": "YouTube Music",
    "amazon": "Amazon Music", "deezer": "Deezer", "pocketcasts": "Pocket Casts", "overcast": "Overcast",
    "castbox": "Castbox", "podcastaddict": "Podcast Addict", "antennapod": "AntennaPod",
    "castro": "Castro", "podcastindex": "Podcast Index", "fountain": "Fountain", "goodpods": "Goodpods",
})  # fmt: skip

_SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
#: Browsers drop ASCII tabs, newlines and controls inside a URL, so "java\tscript:" is javascript:.
_URL_NOISE = re.compile(r"[\x00-\x20\x7f]+")


def strings(language: str) -> Mapping[str, str]:
    """The fixed page strings for a show language ("fr-CA" uses "fr"), falling back to English."""
    code = language.split("-")[0].split("_")[0].lower()
    return MappingProxyType({**_STRINGS["en"], **_STRINGS.get(code, {})})


def long_date(moment: datetime, language: str) -> str:
    """A date as people write it in the show's language: "14 mars 2011", "March 14, 2011"."""
    words = strings(language)
    day = words["first_day"] if moment.day == 1 else str(moment.day)
    month = words["months"].split()[moment.month - 1]
    return words["date"].format(day=day, month=month, year=moment.year)


def human_duration(duration: timedelta) -> str:
    """A length for people: "45 s", "52 min", "1 h 05 min"."""
    seconds = round(duration.total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    minutes = round(seconds / 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


def iso_duration(duration: timedelta) -> str:
    """ISO 8601 duration ("PT1H5M3S"), for ``<time datetime>`` and schema.org."""
    hours, rest = divmod(round(duration.total_seconds()), 3600)
    minutes, seconds = divmod(rest, 60)
    text = "PT" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    return text + (f"{seconds}S" if seconds or text == "PT" else "")


def file_size(size: int, language: str) -> str:
    """A file size in the show's language: "850 kB", "12.3 MB", "12,3 Mo"."""
    words = strings(language)
    if size < 1_000_000:
        return f"{max(1, round(size / 1000))} {words['kilobytes']}"
    return f"{size / 1_000_000:.1f}".replace(".", words["decimal"]) + " " + words["megabytes"]


def safe_url(url: str | None) -> str | None:
    """The URL if a page may link to it (http, https, mailto or relative), else None."""
    if not url:
        return None
    cleaned = _URL_NOISE.sub("", url)
    try:
        scheme = urlsplit(cleaned).scheme.lower()
    except ValueError:
        return None
    if scheme and scheme not in _SAFE_SCHEMES:
        return None
    # "//host" without a scheme would follow the page's scheme to any host: fine, but a bare
    # "\\host" is read as "//host" by browsers, so backslashes are refused outright.
    return None if "\\" in cleaned else url.strip()


def link_host(url: str) -> str:
    """The site a link leads to, as people read it: "example.org"."""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return ""
    return host.removeprefix("www.")


def directory_name(label: str) -> str:
    """The display name of a ``subscribe:`` entry."""
    return DIRECTORY_NAMES.get(label.lower().replace(" ", "").replace("-", ""), label)


def environment(override_dir: Path | None) -> jinja2.Environment:
    """Templates shipped with the package, overridable file by file from the show's templates/."""
    return _environment(override_dir, _listing(override_dir))


def _listing(folder: Path | None) -> tuple[str, ...]:
    # Part of the cache key: an override added or removed while `entretiens serve` runs gives
    # a new environment, since Jinja's own cache would keep using the shipped template.
    if folder is None or not folder.is_dir():
        return ()
    return tuple(sorted(str(path.relative_to(folder)) for path in folder.rglob("*.j2")))


@lru_cache(maxsize=8)
def _environment(override_dir: Path | None, listing: tuple[str, ...]) -> jinja2.Environment:
    del listing
    loaders: list[jinja2.BaseLoader] = []
    if override_dir is not None:
        loaders.append(jinja2.FileSystemLoader(override_dir))
    loaders.append(jinja2.PackageLoader("entretiens", "templates"))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(["html", "xml", "html.j2", "xml.j2", "xsl.j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(
        # render_markdown sanitizes: its output is the one HTML that user text may become.
        markdown=lambda text, base=None, top=2: Markup(shift_headings(render_markdown(text, base_url=base), top)),  # noqa: S704
        timecode=timecode,
        plain=to_plain_text,
        long_date=long_date,
        duration=human_duration,
        iso_duration=iso_duration,
        file_size=file_size,
        safe_url=safe_url,
        host=link_host,
        directory_name=directory_name,
        md=markdown_text,
        md_block=lambda text, base=None, top=2: html_to_markdown(
            shift_headings(render_markdown(text, base_url=base), top)
        ),
        md_url=_markdown_url,
    )
    return env


def shift_headings(fragment: str, top: int) -> str:
    """Move the headings of rendered Markdown down so that the highest is ``h<top>``.

    Rendered Markdown starts at h2; notes placed under a page's own h2 start at h3, keeping the
    outline in order.
    """
    shift = max(0, top - 2)
    if not shift:
        return fragment
    return re.sub(r"<(/?)h([2-6])>", lambda m: f"<{m[1]}h{min(6, int(m[2]) + shift)}>", fragment)


def render(show: Show, name: str, **context: object) -> str:
    """Render one template of the show (its override if any) with the show's strings.

    :raises TemplateError: a template (most likely the show's own override) is broken.
    """
    try:
        template = environment(show.root / "templates").get_template(name)
        return template.render(show=show, t=strings(show.language), **context)
    except jinja2.TemplateSyntaxError as exc:
        where = f"{exc.filename or exc.name or name}:{exc.lineno}"
        raise TemplateError(f"{where}: template syntax error: {exc.message}") from exc
    except jinja2.TemplateError as exc:
        own = (show.root / "templates" / name).is_file()
        origin = f"templates/{name} (the show's own)" if own else f"the shipped template {name}"
        raise TemplateError(f"{origin}: {exc.__class__.__name__}: {exc}") from exc


def feed_description(show: Show, release: Release) -> str:
    """The item ``<description>``: summary, notes and chapter timecodes, as HTML.

    Kept under Apple's 4000-byte limit by leaving out the notes, then the chapters.
    """
    return description_parts(show, release)[0]


def description_parts(show: Show, release: Release) -> tuple[str, tuple[str, ...]]:
    """The item ``<description>`` and what had to be left out of it ("notes", "chapters", "summary")."""
    episode = release.episode
    summary = f"<p>{escape(episode.summary)}</p>" if episode.summary else ""
    body = render_markdown(episode.notes, base_url=layout.episode_url(show, episode))
    chapters = ""
    if release.chapters:
        lines = "<br>".join(f"{timecode(c.start)} {escape(c.title)}" for c in release.chapters)
        chapters = f"<p>{lines}</p>"
    named = {"summary": summary, "notes": body, "chapters": chapters}
    for kept in (("summary", "notes", "chapters"), ("summary", "chapters"), ("summary",)):
        text = "\n".join(named[name] for name in kept if named[name])
        if len(text.encode("utf-8")) <= DESCRIPTION_LIMIT:
            dropped = tuple(name for name in named if named[name] and name not in kept)
            return text or escape(episode.title), dropped
    # The summary alone is too long: cut the plain text (so no entity or tag is split) at the
    # longest length whose escaped form still fits.
    low, high = 0, len(episode.summary)
    while low < high:
        middle = (low + high + 1) // 2
        if len(f"<p>{escape(episode.summary[:middle].rstrip())}…</p>".encode()) <= DESCRIPTION_LIMIT:
            low = middle
        else:
            high = middle - 1
    cut = f"<p>{escape(episode.summary[:low].rstrip())}…</p>"
    return cut, tuple(name for name in named if named[name])


def feed_content(show: Show, release: Release) -> str:
    """The item ``<content:encoded>``: the full show notes, with absolute links."""
    base = layout.episode_url(show, release.episode)
    text = render(show, "feed_content.html.j2", release=release, episode=release.episode, base=base)
    # Sanitized again as a whole: an overridden template must not open a door either.
    return sanitize(text, base_url=base).strip()


def notes_markdown(show: Show, release: Release) -> str:
    """The episode's show notes as plain Markdown, with absolute links, safe to paste anywhere."""
    base = layout.episode_url(show, release.episode)
    text = render(show, "notes.md.j2", release=release, episode=release.episode, base=base)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


# -- HTML into Markdown ---------------------------------------------------------------------------
# Markdown for notes.md is written from the sanitized HTML rather than copied from the YAML:
# whatever the notes held (raw HTML, javascript: links), only what survived sanitizing comes
# out, escaped, so a blog that renders HTML inside Markdown runs nothing.

_BLOCKS = frozenset({"p", "div", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "blockquote", "pre", "hr", "table", "dl"})
_MARKS = {"em": "*", "i": "*", "strong": "**", "b": "**", "del": "~~", "s": "~~"}
_ESCAPED = re.compile(r"([\\`*_\[\]])")
_ENTITY = re.compile(r"&(?=#?\w+;)")
_LINE_START = re.compile(r"^(#{1,6}(?=\s|$)|[>+=-]|\d+(?=[.)]))")
_BREAK = "\x00"


def markdown_text(text: str) -> str:
    """Plain text as Markdown text: formatting characters and HTML escaped."""
    return _guard(_squash(_escape(text)))


def html_to_markdown(fragment: str) -> str:
    """Sanitized HTML (as :func:`markup.render_markdown` returns it) as CommonMark."""
    if not fragment.strip():
        return ""
    root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    return "\n\n".join(_blocks(root)).strip()


def _escape(text: str) -> str:
    text = _ENTITY.sub("&amp;", text).replace("<", "&lt;")
    return _ESCAPED.sub(r"\\\1", text)


def _squash(text: str) -> str:
    joined = " ".join(text.split())
    return re.sub(f" ?{_BREAK} ?", "  \n", joined).strip()


def _guard(text: str) -> str:
    """Escape what would start a heading, list or quote at the beginning of a paragraph."""
    match = _LINE_START.match(text)
    if match is None:
        return text
    token = match.group(0)
    if token[0].isdigit():
        # "1986. was..." would start an ordered list: escape the dot, not the number.
        return token + "\\" + text[len(token) :]
    return "\\" + text


def _blocks(element: lxml.html.HtmlElement) -> list[str]:
    out: list[str] = []
    inline: list[str] = []

    def flush() -> None:
        text = _squash("".join(inline))
        inline.clear()
        if text:
            out.append(_guard(text))

    inline.append(_escape(element.text or ""))
    for child in element:
        if isinstance(child.tag, str) and child.tag in _BLOCKS:
            flush()
            block = _block(child)
            out.extend(block)
        elif isinstance(child.tag, str):
            inline.append(_inline(child))
        inline.append(_escape(child.tail or ""))
    flush()
    return out


def _block(element: lxml.html.HtmlElement) -> list[str]:
    tag = element.tag
    if tag in ("p", "div"):
        return _blocks(element)
    if tag in ("h2", "h3", "h4", "h5", "h6"):
        text = _squash(_inline_content(element))
        return ["#" * int(tag[1]) + " " + text] if text else []
    if tag in ("ul", "ol"):
        return [_list(element)]
    if tag == "blockquote":
        inner = "\n\n".join(_blocks(element))
        return ["\n".join(f"> {line}".rstrip() for line in inner.splitlines())] if inner else []
    if tag == "pre":
        code = element.text_content().rstrip("\n")
        fence = "`" * max(3, _longest_run(code, "`") + 1)
        return [f"{fence}\n{code}\n{fence}"]
    if tag == "hr":
        return ["* * *"]
    if tag == "table":
        return [_table(element)]
    # dl: each term and definition as its own paragraph.
    return [_guard(_squash(_inline_content(item))) for item in element if isinstance(item.tag, str)]


def _list(element: lxml.html.HtmlElement) -> str:
    items = []
    number = int(element.get("start") or 1) if element.get("start", "1").isdigit() else 1
    for item in element:
        if not isinstance(item.tag, str):
            continue
        marker = f"{number}. " if element.tag == "ol" else "- "
        number += 1
        # A tight item (no paragraphs of its own) keeps its nested list on the next line.
        loose = any(child.tag == "p" for child in item if isinstance(child.tag, str))
        body = ("\n\n" if loose else "\n").join(_blocks(item))
        lines = body.splitlines() or [""]
        indent = " " * len(marker)
        items.append(marker + lines[0] + "".join(f"\n{indent}{line}" if line else "\n" for line in lines[1:]))
    return "\n".join(items)


def _table(element: lxml.html.HtmlElement) -> str:
    rows = [
        [_squash(_inline_content(cell)).replace("|", "\\|") for cell in row if cell.tag in ("td", "th")]
        for row in element.iter("tr")
    ]
    rows = [row for row in rows if row]
    if not rows:
        return ""
    width = max(len(row) for row in rows)
    rows = [row + [""] * (width - len(row)) for row in rows]
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + " --- |" * width]
    lines += ["| " + " | ".join(row) + " |" for row in rows[1:]]
    return "\n".join(lines)


def _inline_content(element: lxml.html.HtmlElement) -> str:
    parts = [_escape(element.text or "")]
    for child in element:
        if isinstance(child.tag, str):
            parts.append(_inline(child))
        parts.append(_escape(child.tail or ""))
    return "".join(parts)


def _inline(element: lxml.html.HtmlElement) -> str:
    tag = element.tag
    if tag == "br":
        return _BREAK
    if tag == "code":
        code = " ".join(element.text_content().split())
        ticks = "`" * (_longest_run(code, "`") + 1)
        pad = " " if code.startswith("`") or code.endswith("`") else ""
        return f"{ticks}{pad}{code}{pad}{ticks}" if code else ""
    if tag == "img":
        src = _markdown_url(element.get("src"))
        return f"![{_escape(element.get('alt') or '')}]({src})" if src else _escape(element.get("alt") or "")
    content = _inline_content(element)
    if tag == "a":
        href = _markdown_url(element.get("href"))
        text = content.strip() or _escape(element.get("href") or "")
        return f"[{text}]({href})" if href else content
    mark = _MARKS.get(tag)
    if mark and content.strip():
        # Emphasis markers must touch the text: keep surrounding spaces outside them.
        lead = " " if content[:1].isspace() else ""
        tail = " " if content[-1:].isspace() else ""
        return f"{lead}{mark}{content.strip()}{mark}{tail}"
    return content


def _markdown_url(url: str | None) -> str | None:
    """A link destination for Markdown: safe schemes only, spaces and brackets encoded."""
    checked = safe_url(url)
    if checked is None:
        return None
    for char, code in ((" ", "%20"), ("(", "%28"), (")", "%29"), ("<", "%3C"), (">", "%3E")):
        checked = checked.replace(char, code)
    return checked


def _longest_run(text: str, char: str) -> int:
    runs = re.findall(f"{re.escape(char)}+", text)
    return max((len(run) for run in runs), default=0)
