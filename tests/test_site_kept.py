"""What the site and feed stages do for an unchanged episode of a rebuild (issue 11): its
contributions come from kept values, and each is what a cold build makes."""

from __future__ import annotations

import pathlib
import sys
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from entretiens import layout, pipeline, site
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
    build_site = site.build_site

    def watched(*args: Any, **kwargs: Any) -> Any:
        inside[0] = True
        try:
            return build_site(*args, **kwargs)
        finally:
            inside[0] = False

    monkeypatch.setattr(site, "build_site", watched)
    built = pipeline.build(show, now=SAMPLE_NOW)
    assert built.computed["pages"] == 0
    slugs = {release.episode.slug for release in built.releases}
    assert len(slugs) > 3
    assert parsed, "the counter sees the site's own paths"
    cards = {f"{slug}.jpg" for slug in slugs}
    # An episode's own files are in its folder, and its card is named after it.
    assert not [text for text in parsed if text.split("/")[0] in slugs or text.split("/")[-1] in cards]
