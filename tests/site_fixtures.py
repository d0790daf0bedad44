"""Shows for the website tests: a complete interview show on disk, and a show made of hostile text."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from entretiens.model import (
    AudioInfo,
    Category,
    Chapter,
    Episode,
    Funding,
    Link,
    Owner,
    Person,
    Project,
    PublishState,
    Release,
    Show,
)
from showbuilder import BASE_URL, episode, make_show, write_artwork, write_yaml

#: HTML that runs script if it reaches a page unescaped.
XSS = "<script>alert('x')</script><img src=x onerror=alert(1)><a href=\"javascript:alert(2)\" onclick=alert(3)>y</a>"
#: The same as Markdown, where links and raw HTML are written differently.
XSS_MARKDOWN = XSS + "\n\n[click](javascript:alert(4)) <svg onload=alert(5)> ![i](javascript:alert(6))"
XSS_URL = "javascript:alert(7)"
#: Browsers drop tabs and newlines inside URLs, so this is a javascript: URL too.
XSS_URL_SPACED = "java\tscript:alert(8)"

APPLE = "https://podcasts.apple.com/fr/podcast/test-talks/id123"
SPOTIFY = "https://open.spotify.com/show/abc"

VTT = """WEBVTT

NOTE made for the tests

1
00:00:00.500 --> 00:00:01.500
<v Alex Host>Welcome to Test Talks.

2
00:00:01.600 --> 00:00:02.400
<v Alex Host>Our guest is Ada.

3
00:00:02.500 --> 00:00:03.900
<v Ada Lovelace>Thank you &amp; hello.
"""


def site_show(
    root: Path,
    *,
    language: str = "en",
    seconds: float = 6.0,
    chapter_starts: tuple[float, float, float] = (0, 2, 4),
    show: dict[str, Any] | None = None,
) -> Path:
    """A show with every part of a page: a registry guest heard twice, an inline guest, notes,
    links, a quote, chapters, a transcript, hosts, subscribe links, plus a draft and a future episode
    that must appear nowhere."""
    first, second, third = chapter_starts
    write_yaml(
        root / "guests" / "ada-lovelace.yaml",
        {
            "name": "Ada Lovelace",
            "bio": "Wrote the *first* program.",
            "url": "https://ada.example.org/",
            "image": "images/ada.png",
            "social": {"Mastodon": "https://mastodon.example/@ada"},
            "email": "ada@private.example",
        },
    )
    write_artwork(root / "images" / "ada.png", size=300)
    (root / "transcripts").mkdir(parents=True, exist_ok=True)
    (root / "transcripts" / "001.vtt").write_text(VTT, encoding="utf-8")
    episodes = {
        "001-engines": episode(
            1,
            title="Analytical engines",
            summary="Ada explains the engine.",
            notes="We talk about [the engine](https://engine.example/) and:\n\n- cards\n- loops\n\n"
            "## Going further\n\nMore.",
            guests=["ada-lovelace"],
            links=[{"title": "Engine notes", "url": "https://notes.example/engine"}],
            quote="The engine weaves algebraic patterns.",
            chapters=[
                {"start": first, "title": "Welcome"},
                {"start": second, "title": "The engine", "url": "https://engine.example/"},
                {"start": third, "title": "Patterns"},
            ],
            transcript="transcripts/001.vtt",
        ),
        "002-compilers": episode(
            2,
            title="Compilers",
            summary="Grace and Ada on compilers.",
            guests=[
                {"name": "Grace Hopper", "bio": "Admiral, made **COBOL** possible.", "url": "https://grace.example/"},
                {"id": "ada-lovelace", "bio": "Back for a second talk."},
            ],
        ),
        "003-draft": episode(3, title="Unfinished draft", draft=True, guests=[{"name": "Draft Guest"}]),
        "004-later": episode(
            4, title="Far future", date="2999-01-01T10:00:00+01:00", guests=[{"name": "Future Guest"}]
        ),
    }
    fields: dict[str, Any] = {
        "language": language,
        "subtitle": "Conversations with people who build things",
        "hosts": [{"name": "Alex Host", "bio": "Asks the questions."}],
        "subscribe": {"apple": APPLE, "spotify": SPOTIFY},
        "funding": [{"url": "https://example.org/support", "text": "Support us"}],
        "copyright": "© 2024 Test Talks",
    }
    fields.update(show or {})
    return make_show(root, episodes, show=fields, seconds=seconds)


def hostile_project(root: Path) -> tuple[Project, tuple[Release, ...]]:
    """A show whose every text and URL field holds script, built directly as model values so that
    nothing upstream gets the chance to refuse it."""
    root.mkdir(parents=True, exist_ok=True)
    person = Person(
        name=XSS,
        bio=XSS_MARKDOWN,
        url=XSS_URL,
        image=XSS_URL,
        social=((XSS, XSS_URL_SPACED), ("ok", "https://ok.example/")),
    )
    show = Show(
        root=root,
        title=XSS,
        subtitle=XSS,
        description=XSS_MARKDOWN,
        language="en",
        base_url=BASE_URL,
        link=XSS_URL,
        author=XSS,
        owner=Owner(name="Owner", email="owner@example.org"),
        cover_image="artwork.png",
        categories=(Category(name="Technology"),),
        copyright=XSS,
        hosts=(Person(name=XSS, bio=XSS_MARKDOWN, url=XSS_URL_SPACED, role="host"),),
        funding=(Funding(url=XSS_URL, text=XSS),),
        subscribe=(("apple", XSS_URL), (XSS, "https://directory.example/show")),
    )
    releases = []
    for number in (1, 2):
        hostile = Episode(
            slug=f"00{number}-hostile",
            path=root / "episodes" / f"00{number}-hostile.yaml",
            title=XSS,
            date=datetime(2024, 1, number, 10, tzinfo=timezone.utc),
            audio=f"audio/00{number}.mp3",
            number=number,
            summary=XSS,
            notes=XSS_MARKDOWN,
            guests=(person,),
            links=(
                Link(title=XSS, url=XSS_URL),
                Link(title=XSS, url=XSS_URL_SPACED),
                Link(title="Fine", url="https://fine.example/"),
            ),
            quote=XSS,
            chapters=(Chapter(start=0, title=XSS, url=XSS_URL), Chapter(start=5, title=XSS)),
            guid=f"guid-{number}",
        )
        releases.append(
            Release(
                episode=hostile,
                audio=AudioInfo(size=12345, duration=timedelta(seconds=30), mime_type="audio/mpeg", codec="MP3"),
                chapters=hostile.chapters,
                enclosure_length=12345,
                previous="001-hostile" if number == 2 else None,
                next="002-hostile" if number == 1 else None,
            )
        )
    project = Project(show=show, episodes=tuple(r.episode for r in releases), state=PublishState())
    return project, tuple(releases)


def feedable(project: Project, releases: tuple[Release, ...]) -> tuple[Project, tuple[Release, ...]]:
    """The hostile show with https URLs where the feed itself refuses anything else (persons,
    funding, chapters), keeping every hostile text and the cited links."""
    safe = "https://safe.example/"

    def person(p: Person) -> Person:
        return replace(p, url=safe, image=None, social=())

    show = replace(
        project.show,
        link=safe,
        hosts=tuple(person(p) for p in project.show.hosts),
        funding=tuple(replace(f, url=safe) for f in project.show.funding),
    )
    fixed = []
    for release in releases:
        chapters = tuple(replace(c, url=safe if c.url else None) for c in release.chapters)
        episode = replace(release.episode, guests=tuple(person(p) for p in release.episode.guests), chapters=chapters)
        fixed.append(replace(release, episode=episode, chapters=chapters))
    return replace(project, show=show, episodes=tuple(r.episode for r in fixed)), tuple(fixed)
