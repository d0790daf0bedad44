"""Reading one value of a feed written by another tool: dates, durations, HTML notes, categories.

Real feeds are messy: dates in RFC 822 variants, durations as seconds or clock times, HTML
entities and CDATA everywhere, categories from Apple's list before 2019. Each reader here
returns the value and, when it had to guess, says how, so the report can tell the host.
"""

from __future__ import annotations

import email.utils
import html
import re
from datetime import datetime, timedelta, timezone

import lxml.html

from .. import markup, podcast_spec
from ..markdown_writer import html_to_markdown

_CLOCK = re.compile(r"(?:(\d+):)?(\d{1,2}):(\d{1,2}(?:\.\d+)?)")
_SECONDS = re.compile(r"\d+(?:\.\d+)?")
_TAG = re.compile(r"<[a-zA-Z/!][^>]*>")

#: Apple's categories before its 2019 revision, and where each went (Apple's published mapping).
OLD_CATEGORIES: dict[tuple[str, str | None], tuple[str, str | None]] = {
    ("Technology", "Podcasting"): ("Technology", None),
    ("Technology", "Gadgets"): ("Technology", None),
    ("Technology", "Software How-To"): ("Technology", None),
    ("Technology", "Tech News"): ("News", "Tech News"),
    ("Games & Hobbies", None): ("Leisure", None),
    ("Games & Hobbies", "Video Games"): ("Leisure", "Video Games"),
    ("Games & Hobbies", "Automotive"): ("Leisure", "Automotive"),
    ("Games & Hobbies", "Aviation"): ("Leisure", "Aviation"),
    ("Games & Hobbies", "Hobbies"): ("Leisure", "Hobbies"),
    ("Games & Hobbies", "Other Games"): ("Leisure", "Games"),
    ("Science & Medicine", None): ("Science", None),
    ("Science & Medicine", "Natural Sciences"): ("Science", "Natural Sciences"),
    ("Science & Medicine", "Social Sciences"): ("Science", "Social Sciences"),
    ("Science & Medicine", "Medicine"): ("Health & Fitness", "Medicine"),
    ("Business", "Business News"): ("News", "Business News"),
    ("Business", "Management & Marketing"): ("Business", "Management"),
    ("Business", "Shopping"): ("Business", None),
    ("Business", "Careers"): ("Business", "Careers"),
    ("Education", "Educational Technology"): ("Education", None),
    ("Education", "Higher Education"): ("Education", None),
    ("Education", "K-12"): ("Education", None),
    ("Education", "Language Courses"): ("Education", "Language Learning"),
    ("Education", "Training"): ("Education", "How To"),
    ("Health", None): ("Health & Fitness", None),
    ("Health", "Alternative Health"): ("Health & Fitness", "Alternative Health"),
    ("Health", "Fitness & Nutrition"): ("Health & Fitness", "Fitness"),
    ("Health", "Self-Help"): ("Education", "Self-Improvement"),
    ("Health", "Sexuality"): ("Health & Fitness", "Sexuality"),
    ("Society & Culture", "History"): ("History", None),
    ("Arts", "Literature"): ("Arts", "Books"),
    ("News & Politics", None): ("News", None),
    ("Government & Organizations", None): ("Government", None),
    ("Sports & Recreation", None): ("Sports", None),
    ("Sports & Recreation", "Outdoor"): ("Sports", "Wilderness"),
    ("Sports & Recreation", "Amateur"): ("Sports", None),
    ("Sports & Recreation", "College & High School"): ("Sports", None),
    ("Sports & Recreation", "Professional"): ("Sports", None),
}

#: Enclosure types written by some hosts that podcast apps and Apple know by another name.
TYPE_ALIASES = {"audio/mp3": "audio/mpeg", "audio/mpeg3": "audio/mpeg", "audio/x-mp3": "audio/mpeg",
                "audio/x-mpeg": "audio/mpeg", "audio/m4a": "audio/x-m4a", "audio/aac": "audio/x-m4a"}  # fmt: skip


def text_of(value: str | None) -> str:
    """An element's text with its edges trimmed ('' for none)."""
    return (value or "").strip()


def pub_date(text: str) -> tuple[datetime | None, str | None]:
    """A ``pubDate`` as the same instant with its original offset, and how it was read when not strictly.

    :returns: (moment, None) for a strict RFC 2822 date; (moment, explanation) for a variant
        read leniently; (None, explanation) when no date can be read.
    """
    text = text.strip()
    if not text:
        return None, "no publication date"
    strict = podcast_spec.parse_rfc2822(text)
    if strict is not None:
        return strict, None
    try:
        moment = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        moment = None
    if moment is None:
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None, f"'{text}' is not a date"
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc), f"'{text}' has no known time zone: read as UTC"
    return moment, f"'{text}' is not a strict RFC 2822 date: read as {moment.isoformat()}"


def duration(text: str) -> float | None:
    """``itunes:duration`` in seconds: ``1834``, ``1834.5``, ``30:34`` or ``0:30:34``; None when unreadable."""
    text = text.strip()
    if _SECONDS.fullmatch(text):
        return float(text)
    match = _CLOCK.fullmatch(text)
    if match is None:
        return None
    hours, minutes, seconds = int(match[1] or 0), int(match[2]), float(match[3])
    if (minutes >= 60 and match[1] is not None) or seconds >= 60:
        return None
    return hours * 3600 + minutes * 60 + seconds


def is_html(text: str) -> bool:
    """Whether a description holds markup rather than plain text."""
    return bool(_TAG.search(text))


def markdown_notes(text: str) -> str:
    """An item's or the show's description (HTML or plain text) as cleaned Markdown."""
    text = text.strip()
    if not text:
        return ""
    if not is_html(text):
        paragraphs = [p.strip() for p in re.split(r"\n\s*\n", html.unescape(text)) if p.strip()]
        text = "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)
    return html_to_markdown(markup.sanitize(text)).strip()


def plain_text(text: str) -> str:
    """A short field (summary, subtitle) as one line of plain text, tags and entities resolved."""
    if is_html(text):
        text = lxml.html.fragment_fromstring(text, create_parent="div").text_content()
    return " ".join(html.unescape(text).split())


def link_list(text: str) -> tuple[str, list[tuple[str, str]]]:
    """A description whose last block is a list of links: the description without it, and the links.

    Show notes often end with the resources cited ("Links: <ul><li><a>...</a></li>..."); those
    become the episode's ``links``, which the pages show as a list of their own.
    """
    if not is_html(text):
        return text, []
    root = lxml.html.fragment_fromstring(text, create_parent="div")
    blocks = [child for child in root if isinstance(child.tag, str)]
    if not blocks or blocks[-1].tag not in ("ul", "ol") or (blocks[-1].tail or "").strip():
        return text, []
    items = [li for li in blocks[-1] if isinstance(li.tag, str)]
    links: list[tuple[str, str]] = []
    for li in items:
        anchors = li.findall(".//a")
        title = " ".join(li.text_content().split())
        if len(anchors) != 1 or not title or " ".join(anchors[0].text_content().split()) != title:
            return text, []
        url = (anchors[0].get("href") or "").strip()
        if not podcast_spec.is_web_url(url):
            return text, []
        links.append((title, url))
    if len(links) < 2:
        return text, []
    root.remove(blocks[-1])
    rest = "".join(lxml.html.tostring(child, encoding="unicode") for child in root)
    return (root.text or "") + rest, links


def seconds(value: float) -> float | int:
    """Seconds as YAML should show them: whole numbers without ``.0``."""
    return int(value) if float(value).is_integer() else round(value, 3)


def clock_of(value: timedelta) -> str:
    """A duration as people read it in the report."""
    total = int(value.total_seconds())
    return f"{total // 3600}:{total % 3600 // 60:02d}:{total % 60:02d}"
