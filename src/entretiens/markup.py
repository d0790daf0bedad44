"""User-written Markdown into safe HTML and plain text, the only way user text becomes markup."""

from __future__ import annotations

import html
import re
from functools import lru_cache
from urllib.parse import urlsplit

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

#: Tags show notes may use. No forms, media, frames or scripts; headings from h2 down so a page
#: keeps a single h1 of its own.
_TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "cite", "code", "dd", "del", "dl", "dt", "em", "h2",
    "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q",
    "s", "small", "strong", "sub", "sup", "table", "tbody", "td", "th", "thead", "tr", "u", "ul",
})  # fmt: skip
_ATTRIBUTES = {
    "a": {"href", "title", "hreflang"},
    "img": {"src", "alt", "title", "width", "height"},
    "ol": {"start"},
    "td": {"align", "colspan", "rowspan"},
    "th": {"align", "colspan", "rowspan", "scope"},
    "abbr": {"title"},
    "blockquote": {"cite"},
    "q": {"cite"},
}
_SCHEMES = frozenset({"http", "https", "mailto", "tel"})


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    # CommonMark, plus tables, strikethrough and bare links turned into links (linkify).
    return MarkdownIt("commonmark", {"linkify": True, "html": True}).enable(["linkify", "table", "strikethrough"])


def parse_markdown(text: str) -> list[Token]:
    """The tokens of a Markdown text, as the renderer sees them (links found in bare URLs too)."""
    return _markdown().parse(text)


def sanitize(fragment: str, *, base_url: str | None = None) -> str:
    """Keep ordinary formatting and links; drop scripts, handlers, styles and unsafe URLs.

    :param base_url: when given, relative links and images are made absolute against it, as
        feed readers show content away from the site.
    """
    relative: object = ("rewrite_with_base", base_url) if base_url else "pass_through"
    cleaned = nh3.clean(
        fragment,
        tags=set(_TAGS),
        attributes={tag: set(names) for tag, names in _ATTRIBUTES.items()},
        url_schemes=set(_SCHEMES),
        link_rel="noopener noreferrer",
        url_relative=relative,  # type: ignore[arg-type]
        strip_comments=True,
    )
    # Pages and the feed load nothing from other hosts: an image from elsewhere is a tracking
    # pixel for every reader. The checks warn about each one dropped (remote_images()).
    return _IMG.sub(lambda match: "" if _remote_src(match[0], base_url) else match[0], cleaned)


_IMG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_SRC = re.compile(r'\ssrc="([^"]*)"', re.IGNORECASE)


def _remote_src(tag: str, base_url: str | None) -> str | None:
    """The address of an ``<img>`` (as cleaned by nh3) when it is on another host, else None."""
    found = _SRC.search(tag)
    if found is None:
        return None
    src = html.unescape(found[1]).strip()
    if base_url and src.startswith(base_url):
        return None  # one of the site's own files, made absolute for the feed
    try:
        parts = urlsplit(src)
    except ValueError:
        return src
    return src if parts.scheme or parts.netloc else None


def remote_images(text: str, *, markdown: bool = True) -> list[str]:
    """The images on other hosts that a Markdown text (or an HTML page) shows, which
    :func:`sanitize` drops: for the checks to name them."""
    if markdown and "![" not in text and "<" not in text:
        return []  # Markdown makes an image only from "![...]" or from raw HTML.
    fragment = _rendered(text) if markdown else text
    cleaned = nh3.clean(
        fragment,
        tags={"img"},
        attributes={"img": {"src"}},
        url_schemes=set(_SCHEMES),
        url_relative="pass_through",
    )
    return [src for tag in _IMG.findall(cleaned) if (src := _remote_src(tag, None))]


def sanitize_document(page: str) -> str:
    """A whole HTML page (an HTML transcript) reduced to its safe, readable content."""
    return '<!doctype html>\n<meta charset="utf-8">\n' + sanitize(page) + "\n"


class _Memo:
    """Markdown rendered by markdown-it (not yet sanitized) in this build, by text.

    The same notes become the page, the feed's description and content, notes.md, and are
    checked; markdown-it is the costly part. Emptied when a build starts (:func:`forget`), so
    it holds one build's texts at most, and bounded in characters (about 2 KB of HTML per
    episode's notes: 10,000 episodes fit) so that no caller (serve, tests, tools) grows it
    past ~24 MB.
    """

    LIMIT = 24_000_000

    def __init__(self) -> None:
        self.html: dict[str, str] = {}
        self.chars = 0

    def rendered(self, text: str) -> str:
        found = self.html.get(text)
        if found is None:
            found = _markdown().render(text)
            if self.chars + len(found) > self.LIMIT:
                self.clear()
            self.html[text] = found
            self.chars += len(found)
        return found

    def clear(self) -> None:
        self.html.clear()
        self.chars = 0


_memo = _Memo()


def _rendered(text: str) -> str:
    """The HTML markdown-it makes of ``text``, rendered once per build."""
    return _memo.rendered(text)


def forget() -> None:
    """Start a new build: forget the Markdown rendered by the last one (``serve`` builds many times)."""
    _memo.clear()


@lru_cache(maxsize=4096)
def render_markdown(text: str, *, base_url: str | None = None) -> str:
    """Markdown (CommonMark) into sanitized HTML.

    Cached: the same notes are sanitized alike for the feed's description and content and for
    notes.md. Kept small on purpose: a cache big enough for every episode of a 10,000-episode
    show would hold tens of MB for the whole life of the process (serve, tests), against a
    peak-memory goal of 150 MiB. Markdown itself is parsed once per text and build (:func:`_rendered`).
    """
    if not text.strip():
        return ""
    # Headings written as "# Title" become h2: the page's own title is its only h1.
    rendered = _rendered(text)
    rendered = rendered.replace("<h1>", "<h2>").replace("</h1>", "</h2>")
    return sanitize(rendered, base_url=base_url).strip()


def to_plain_text(text: str) -> str:
    """Markdown into one line of plain text, for meta descriptions and summaries."""
    stripped = nh3.clean(render_markdown(text), tags=set(), attributes={})
    return " ".join(html.unescape(stripped).split())


def escape(text: str) -> str:
    """Plain text into HTML element text (not for attribute values)."""
    return html.escape(text, quote=False)


#: What a page may link to: the schemes below, or a relative URL.
_PAGE_SCHEMES = frozenset({"http", "https", "mailto"})
#: Browsers drop ASCII tabs, newlines and controls inside a URL, so "java\tscript:" is javascript:.
_URL_NOISE = re.compile(r"[\x00-\x20\x7f]+")


def safe_url(url: str | None) -> str | None:
    """The URL if a page may link to it (http, https, mailto or relative), else None."""
    if not url:
        return None
    cleaned = _URL_NOISE.sub("", url)
    try:
        scheme = urlsplit(cleaned).scheme.lower()
    except ValueError:
        return None
    if scheme and scheme not in _PAGE_SCHEMES:
        return None
    # "//host" without a scheme would follow the page's scheme to any host: fine, but a bare
    # "\\host" is read as "//host" by browsers, so backslashes are refused outright.
    return None if "\\" in cleaned else url.strip()
