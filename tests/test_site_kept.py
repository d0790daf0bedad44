"""What the site and feed stages do for an unchanged episode of a rebuild (issue 11): its
contributions come from kept values, and each is what a cold build makes."""

from __future__ import annotations

import pathlib
import sys
import weakref
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Any

import markupsafe
import pytest
import yaml

from entretiens import cards, files, layout, pagemeta, pipeline, site, templating, thumbnails, unitcache
from entretiens.model import Episode
from entretiens.output import Stored, content_bytes
from sampleshow import SAMPLE_NOW, copy_sample_show


@pytest.fixture
def show(tmp_path: Path) -> Path:
    root = copy_sample_show(tmp_path / "show")
    assert not pipeline.build(root, now=SAMPLE_NOW).errors
    return root


def _same(made: PurePosixPath, parsed: PurePosixPath) -> None:
    assert type(made) is type(parsed)
    assert (str(made), made.parts, hash(made), made.parent, made.name) == (
        str(parsed),
        parsed.parts,
        hash(parsed),
        parsed.parent,
        parsed.name,
    )
    assert made == parsed


@pytest.mark.parametrize(
    "names",
    [("a",), ("slug", "index.html"), ("slug", "embed", "index.html"), ("..", "x"), ("é", "notes.md"),
     ("", "a"), ("/a", "b"), ("a/b", "c"), (".", "x"), ("a", "."), ("a//", "b"), ("a", "")],
)  # fmt: skip
def test_a_joined_path_is_the_parsed_one(names: tuple[str, ...]) -> None:
    _same(layout.joined(*names), PurePosixPath(*names))


@pytest.mark.parametrize(
    "text", ["a", "slug/index.html", "/a", "a//b", "a/./b", "./a", "", ".", "a/", "../x", "a/b/../c", "a/b/"]
)
def test_a_path_read_back_is_the_parsed_one(text: str) -> None:
    _same(layout.path_of(text), PurePosixPath(text))


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="3.12 parses paths lazily: nothing to count")
def test_a_kept_rebuild_parses_no_path_of_an_episode(show: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each unchanged episode has five paths in public/ (page, embed page, notes, chapters,
    card): made of their parts, not parsed (at 10,000 episodes, 50,000 parses per build)."""
    parsed: list[str] = []
    real = pathlib.PurePath._parse_args.__func__  # type: ignore[attr-defined]
    inside = [False]

    def counting(cls: type, args: Any) -> Any:
        if inside[0] and cls is PurePosixPath:
            parsed.extend(str(arg) for arg in args)
        return real(cls, args)

    monkeypatch.setattr(pathlib.PurePath, "_parse_args", classmethod(counting))
    build_files = files.build_files

    def watched(*args: Any, **kwargs: Any) -> Any:
        inside[0] = True
        try:
            return build_files(*args, **kwargs)
        finally:
            inside[0] = False

    monkeypatch.setattr(files, "build_files", watched)
    built = pipeline.build(show, now=SAMPLE_NOW)
    assert built.computed["pages"] == 0
    slugs = {release.episode.slug for release in built.releases}
    assert len(slugs) > 3
    assert parsed, "the counter sees the site's own paths"
    cards = {f"{slug}.jpg" for slug in slugs}
    # An episode's own files are in its folder, its card is named after it, its audio is its own.
    # (Transcripts are read and converted again at every build: not yet kept, out of this count.)
    audio = {release.episode.audio for release in built.releases}
    own = [text for text in parsed if text.split("/")[0] in slugs or text.split("/")[-1] in cards or text in audio]
    assert not [text for text in own if "/transcript" not in text]


def test_the_home_page_joins_the_kept_entries_as_bytes(
    show: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The kept entries' bytes are joined around the rest of the page (at 10,000 episodes, the
    list decoded, joined as text and encoded again was four copies of 6 MB at the site's peak):
    only the newest entry, rendered anew, is made as text; the page is a cold build's."""
    made: list[str] = []
    real = markupsafe.Markup

    def counting(text: object = "", *args: Any) -> Any:
        if isinstance(text, str) and "<li>" in text:
            made.append(text)
        return real(text, *args)

    edited = show / "episodes" / "003-massimo-fubini.yaml"
    data = yaml.safe_load(edited.read_text(encoding="utf-8"))
    data["summary"] = "An edited summary."
    edited.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    monkeypatch.setattr(site, "Markup", counting)
    built = pipeline.build(show, now=SAMPLE_NOW)
    assert built.computed["pages"] == 1
    assert len(made) == 1, "the newest entry only"
    cold = copy_sample_show(tmp_path / "cold")
    (cold / "episodes" / edited.name).write_bytes(edited.read_bytes())
    fresh = pipeline.build(cold, now=SAMPLE_NOW)
    assert fresh.computed["pages"] > len(fresh.releases) > 3
    # Written to a file as it is joined (see feedfile).
    assert isinstance(built.files[layout.INDEX], Stored)
    assert content_bytes(built.files[layout.INDEX]) == content_bytes(fresh.files[layout.INDEX])
    assert b"An edited summary." in content_bytes(built.files[layout.INDEX])


def test_a_kept_rebuild_makes_no_head_for_the_guests_page(show: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Its head (the structured data of every guest) is made from what its key holds already
    (the show, the guests listed): made with the page, not for its key at every build."""
    made: list[object] = []
    real = pagemeta.guests_meta

    def counting(*args: Any) -> Any:
        made.append(args)
        return real(*args)

    monkeypatch.setattr(pagemeta, "guests_meta", counting)
    built = pipeline.build(show, now=SAMPLE_NOW)
    assert built.computed["pages"] == 0
    assert layout.GUESTS_PAGE in built.files
    assert made == []


def test_a_deck_asks_whether_each_artwork_settled_once(show: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whether a card may be kept depends on its artwork's file alone: asked once per artwork
    and build (a clock read for each of 10,000 kept cards)."""
    asked: list[object] = []

    def counting(stamp: thumbnails.Stamp) -> bool:
        asked.append(stamp[0])
        return thumbnails.settled(stamp)

    monkeypatch.setattr(cards, "settled", counting)
    built = pipeline.build(show, now=SAMPLE_NOW)
    assert len(built.releases) > 3
    assert asked and len(asked) == len(set(asked)), asked


def test_the_page_requests_are_not_held_while_the_home_page_is_made(
    show: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each request holds its release, its key and a closure: about 1 KB an episode, held at
    the site's peak (the home page) until the stage returned."""
    made: list[weakref.ref[Any]] = []
    get_files = unitcache.Units.get_files

    def watching(self: unitcache.Units, requests: Any) -> Any:
        if len(requests) > 1:  # the episodes' pages (the guests page is one request)
            made.extend(weakref.ref(make) for _inputs, make, _stamps in requests)
        return get_files(self, requests)

    alive: list[int] = []
    render = templating.render

    def rendering(show: Any, name: str, **context: Any) -> str:
        if name == "index.html.j2":
            alive.append(sum(ref() is not None for ref in made))
        return render(show, name, **context)

    monkeypatch.setattr(unitcache.Units, "get_files", watching)
    monkeypatch.setattr(templating, "render", rendering)
    built = pipeline.build(show, now=SAMPLE_NOW)
    assert len(made) == len(built.releases) > 3
    # The last episode's closure is still the loop's own variable.
    assert alive and max(alive) <= 1, alive


@pytest.mark.parametrize("slug", ["slug", "00033-guest-33", "é ß", "..", "a b#c", "", ".", "a/b", "/a", "slug/"])
@pytest.mark.parametrize(
    "rest", ["/index.html", "/embed/index.html", "/notes.md", "/chapters.json", "/other.txt", "/embed", "/x.htm", "/"]
)
def test_an_episode_file_is_the_parsed_path(slug: str, rest: str) -> None:
    """The path of an episode's own file read back from its unit, made of the slug and fixed
    names, is the one parsing gives; as are the paths of its files and its card made so."""
    episode = _episode(slug)
    _same(layout.episode_file(episode, slug + rest), PurePosixPath(slug + rest))
    _same(layout.episode_page(episode), PurePosixPath(slug, "index.html"))
    _same(layout.embed_page(episode), PurePosixPath(slug, "embed", "index.html"))
    _same(layout.notes_markdown(episode), PurePosixPath(slug, "notes.md"))
    _same(layout.chapters_file(episode), PurePosixPath(slug, "chapters.json"))
    _same(cards.card_path(episode), PurePosixPath("assets", "cards", f"{slug}.jpg"))


def _episode(slug: str) -> Episode:
    return Episode(
        slug=slug,
        path=Path("episodes") / "x.yaml",
        title="T",
        date=datetime(2024, 5, 1, tzinfo=timezone.utc),
        audio="a.mp3",
    )
