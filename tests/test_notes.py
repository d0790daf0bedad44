"""Show notes: strings and formats, Markdown written back from HTML, the feed's description and content."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import lxml.html
import pytest
from lxml import etree
from markdown_it import MarkdownIt

from entretiens import feed, markdown_writer, markup, notes, templating, timecodes, wording
from entretiens.markup import render_markdown
from showbuilder import BASE_URL
from site_fixtures import XSS, XSS_URL, feedable, hostile_project

CONTENT = "{http://purl.org/rss/1.0/modules/content/}encoded"


def test_strings_follow_the_show_language() -> None:
    assert wording.strings("fr")["subscribe"] == "S'abonner"
    assert wording.strings("fr-CA")["episodes"] == "Épisodes"
    assert wording.strings("en-us")["episodes"] == "Episodes"
    # Unknown languages fall back to English, key by key.
    assert wording.strings("de")["chapters"] == "Chapters"
    assert set(wording.strings("fr")) == set(wording.strings("en"))
    # Templates read them as attributes (t.copied): no key may hide behind a mapping method.
    assert not set(wording.strings("en")) & set(dir(dict))


@pytest.mark.parametrize(
    ("moment", "language", "expected"),
    [
        (datetime(2011, 3, 14, 9, tzinfo=timezone.utc), "fr", "14 mars 2011"),
        (datetime(2011, 3, 1, 9, tzinfo=timezone.utc), "fr-FR", "1er mars 2011"),
        (datetime(2011, 8, 1, 9, tzinfo=timezone.utc), "en", "August 1, 2011"),
        (datetime(2011, 12, 25, 9, tzinfo=timezone.utc), "xx", "December 25, 2011"),
    ],
)
def test_long_date(moment: datetime, language: str, expected: str) -> None:
    assert wording.long_date(moment, language) == expected


@pytest.mark.parametrize(
    ("seconds", "human", "iso"),
    [(0, "0 s", "PT0S"), (45.4, "45 s", "PT45S"), (60, "1 min", "PT1M"), (3123, "52 min", "PT52M3S"),
     (3723, "1 h 02 min", "PT1H2M3S"), (7200, "2 h 00 min", "PT2H")],
)  # fmt: skip
def test_durations(seconds: float, human: str, iso: str) -> None:
    assert wording.human_duration(timedelta(seconds=seconds)) == human
    assert wording.iso_duration(timedelta(seconds=seconds)) == iso


def test_timecode_and_sizes() -> None:
    assert [timecodes.timecode(s) for s in (0, 9.9, 75, 3725)] == ["00:00", "00:09", "01:15", "1:02:05"]
    assert wording.file_size(181_000, "fr") == "181 ko"
    assert wording.file_size(12_345_678, "fr") == "12,3 Mo"
    assert wording.file_size(12_345_678, "en") == "12.3 MB"


@pytest.mark.parametrize(
    "url",
    [XSS_URL, "JavaScript:alert(1)", " javascript:alert(1)", "java\tscript:alert(1)", "java\nscript:x",
     "vbscript:x", "data:text/html,<script>alert(1)</script>", "\\\\evil.example/x", "", None],
)  # fmt: skip
def test_safe_url_refuses(url: str | None) -> None:
    assert markup.safe_url(url) is None


@pytest.mark.parametrize(
    "url", ["https://example.org/a?b=c#d", "http://old.example/", "mailto:a@example.org", "../feed.xml", "#t=00:10"]
)
def test_safe_url_keeps(url: str) -> None:
    assert markup.safe_url(url) == url


MARKDOWN_SAMPLES = [
    "Some *em*, **strong**, `code`, ~~gone~~ and a [link](https://example.org/a_b?c=d).",
    "## Heading\n\nText with a line  \nbreak.",
    "- one\n- two *2*\n  - nested\n  - again\n\n1. first\n\n   more\n2. second",
    "> quoted\n>\n> - in a list",
    "```\ncode <b>kept</b> ``` inside\n```",
    "| a | b |\n| --- | --- |\n| 1 | 2 |",
    "1986\\. was a year. # not a heading; 5 * 3 = 15; snake_case_word; a <em>tag</em> &amp; &lt;x&gt;",
    "![alt text](images/i.png) and https://bare.example/link",
]


@pytest.mark.parametrize("text", MARKDOWN_SAMPLES)
def test_html_to_markdown_round_trips(text: str) -> None:
    html = render_markdown(text)
    written = markdown_writer.html_to_markdown(html)
    assert render_markdown(written) == html, written


def test_markdown_text_escapes_formatting() -> None:
    text = "# *Not* [a link](x) <b>bold</b> _under_ `tick` 3. 1. + -"
    expected = f"<p>{markup.escape(text)}</p>".replace("&#x27;", "'")
    assert render_markdown(markdown_writer.markdown_text(text)) == expected


def test_html_to_markdown_encodes_link_destinations() -> None:
    html = '<p><a href="https://example.org/a (b)">x</a> <a>no href</a> <img src="x.png" alt="[a]"></p>'
    assert markdown_writer.html_to_markdown(html) == "[x](https://example.org/a%20%28b%29) no href ![\\[a\\]](x.png)"


def test_headings_shift_under_a_section() -> None:
    html = render_markdown("# One\n\n## Two\n\n###### Six")
    assert templating.shift_headings(html, 3) == "<h3>One</h3>\n<h3>Two</h3>\n<h6>Six</h6>"
    assert templating.shift_headings(html, 2) == html


def _document(html: str) -> lxml.html.HtmlElement:
    return lxml.html.fragment_fromstring(html, create_parent="div")


def _assert_inert(fragment: str) -> None:
    for element in _document(fragment).iter():
        assert element.tag not in ("script", "svg", "iframe", "style", "form"), element.tag
        for name, value in element.attrib.items():
            assert not name.startswith("on"), (element.tag, name)
            assert not "".join(value.split()).lower().startswith(("javascript:", "data:")), (element.tag, value)


def test_feed_fields_neutralize_hostile_text(tmp_path: Path) -> None:
    project, releases = feedable(*hostile_project(tmp_path / "show"))
    show, release = project.show, releases[0]
    description = notes.feed_description(show, release)
    content = notes.feed_content(show, release)
    for fragment in (description, content):
        _assert_inert(fragment)
        assert "&lt;script&gt;" in fragment  # shown as text, not dropped silently
    # And as they land in the feed, where apps render them as HTML.
    rss = etree.fromstring(feed.build_feed(show, releases, build_date=releases[-1].episode.date))
    for item in rss.iter("item"):
        _assert_inert(item.findtext("description"))
        _assert_inert(item.findtext(CONTENT))
        assert XSS not in etree.tostring(item, encoding="unicode")


def test_feed_content_has_absolute_links(tmp_path: Path) -> None:
    project, releases = feedable(*hostile_project(tmp_path / "show"))
    notes_text = "See [the page](page.html), ![pic](images/a.png) and [site](https://other.example/)."
    release = replace(releases[0], episode=replace(releases[0].episode, notes=notes_text))
    content = notes.feed_content(project.show, release)
    document = _document(content)
    urls = document.xpath("//a/@href | //img/@src")
    assert f"{BASE_URL}001-hostile/page.html" in urls
    assert f"{BASE_URL}001-hostile/images/a.png" in urls
    assert all(url.startswith(("https://", "http://")) for url in urls), urls
    # The last paragraph leads to the episode's page.
    assert document.xpath("//p[last()]/a/@href") == [f"{BASE_URL}001-hostile/"]


def test_notes_markdown_is_inert_once_rendered(tmp_path: Path) -> None:
    project, releases = hostile_project(tmp_path / "show")
    text = notes.notes_markdown(project.show, releases[0])
    _assert_inert(MarkdownIt("commonmark", {"html": True}).render(text))
    # The guest's name and the cited link's title survive as text.
    assert "&lt;script>alert('x')&lt;/script>" in text


def test_templates_are_overridable(tmp_path: Path) -> None:
    project, releases = hostile_project(tmp_path / "show")
    templates = project.show.root / "templates"
    templates.mkdir()
    (templates / "notes.md.j2").write_text("Episode {{ episode.number }}: {{ episode.title | md }}\n")
    assert notes.notes_markdown(project.show, releases[0]).startswith("Episode 1: &lt;script>")
    # An overridden feed template cannot bring script back: its output is sanitized again.
    (templates / "feed_content.html.j2").write_text('<p onclick="x()">{{ episode.summary }}</p><script>evil()</script>')
    content = notes.feed_content(project.show, releases[0])
    assert content.startswith("<p>&lt;script&gt;") and "evil" not in content


def test_a_huge_summary_is_cut_within_apples_limit_without_breaking_entities(tmp_path: Path) -> None:
    from entretiens.notes import description_parts
    from entretiens.podcast_spec import DESCRIPTION_LIMIT
    from entretiens.publish import publish
    from showbuilder import episode, make_show

    summary = "x" * 5 + "a&b <c> " * 1300
    root = make_show(tmp_path / "show", {"001-a": episode(1, summary=summary, notes="Short notes.")})
    result = publish(root, tmp_path / "out", dry_run=True)
    (release,) = result.releases
    text, dropped = description_parts(result.project.show, release)
    assert len(text.encode("utf-8")) <= DESCRIPTION_LIMIT
    assert len(text.encode("utf-8")) > DESCRIPTION_LIMIT - 20
    assert dropped == ("summary", "notes")
    assert text.endswith("…</p>") and not re.search(r"&[a-z]*…", text)
    assert "episode-notes-long" not in {p.rule for p in result.warnings}
    assert "episode-summary-long" in {p.rule for p in result.warnings}


def test_a_build_parses_each_markdown_text_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The notes feed the page, the feed's description and content, notes.md and the checks:
    markdown-it (the costly part) reads each distinct text once per build."""
    from collections import Counter

    from entretiens.publish import publish
    from showbuilder import episode, make_show

    notes_of = {
        n: f"## Topics\n\n- point {n} with a [link](https://example.org/{n})\n- ![a photo](covers/{n}.png)"
        for n in (1, 2, 3)
    }
    show = make_show(tmp_path / "show", {f"{n:03d}-guest": episode(n, notes=notes_of[n]) for n in notes_of}, seconds=1)
    parsed: Counter[str] = Counter()
    engine = markup._markdown()
    real_parse = engine.parse

    def counting_parse(text: str, env: object = None) -> object:
        parsed[text] += 1
        return real_parse(text, env)  # type: ignore[arg-type]

    monkeypatch.setattr(engine, "parse", counting_parse)
    publish(show, tmp_path / "public")
    assert all(text in parsed for text in notes_of.values())
    assert max(parsed.values()) == 1, parsed.most_common(3)
    publish(show, tmp_path / "again")  # a new build parses again (what it does not reuse)
    assert max(parsed.values()) <= 2, parsed.most_common(3)


def test_the_markdown_kept_for_a_build_stays_within_its_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(markup._Memo, "LIMIT", 200)
    markup.forget()
    texts = [f"Paragraph {n} with *emphasis* and a [link](https://example.org/{n})." for n in range(20)]
    first = [render_markdown(text, base_url=f"https://bound.example/{n}/") for n, text in enumerate(texts)]
    assert markup._memo.chars <= 200
    assert sum(map(len, markup._memo.html.values())) == markup._memo.chars
    markup.forget()
    assert not markup._memo.html
    # Forgetting changes nothing but the work done (another base: not from render_markdown's LRU).
    again = [render_markdown(text, base_url=f"https://other.example/{n}/") for n, text in enumerate(texts)]
    assert again == first
