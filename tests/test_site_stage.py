"""The site's files handed to the files stage (issue 11): merged without hashing each of an
episode's paths again, with the same clashes refused as one file at a time."""

from __future__ import annotations

import gc
import itertools
import pathlib
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from entretiens import feedfile, files, gcpause, guestlist, layout, pagejoin, pipeline, site, templating
from entretiens.errors import EntretiensError
from entretiens.output import Content, content_bytes
from sampleshow import SAMPLE_NOW, copy_sample_show


def _one_at_a_time(first: dict[PurePosixPath, Content], more: dict[PurePosixPath, Content]) -> Any:
    """What the files stage did before: add() each file in turn (the merged dict, or the error)."""
    merged = dict(first)
    for path, content in more.items():
        if path in merged and merged[path] != content:
            return f"two different files would be published as {path}; rename one of them"
        merged[path] = content
    return merged


P = PurePosixPath


@pytest.mark.parametrize(
    ("first", "more"),
    [
        ({P("a"): b"1", P("b"): Path("/x")}, {P("c"): b"3", P("a"): b"1", P("d"): b"4"}),
        ({P("a"): b"1"}, {}),
        ({}, {P("a"): b"1"}),
        ({P("a"): b"1", P("b"): b"2"}, {P("c"): b"3", P("b"): b"9", P("a"): b"0"}),
        ({P("a"): b"1", P("b"): b"2"}, {P("a"): b"1", P("b"): Path("/b")}),
        ({P("a"): Path("/a")}, {P("a"): Path("/a")}),
    ],
)
def test_a_merge_is_adding_each_file_in_turn(
    first: dict[PurePosixPath, Content], more: dict[PurePosixPath, Content]
) -> None:
    """Same files in the same order, and the same clash named (the first of ``more``'s order)."""
    expected = _one_at_a_time(first, more)
    merged = dict(first)
    try:
        files._merge(merged, more)
    except EntretiensError as error:
        assert str(error) == expected
    else:
        assert list(merged.items()) == list(expected.items())


def test_the_site_paths_are_not_hashed_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Once the site's files are made, the files stage hashes none of their paths (it hashed
    each twice: 100,000 calls at 10,000 episodes); the build is the one it was."""
    root = copy_sample_show(tmp_path / "show")
    before = pipeline.build(root, now=SAMPLE_NOW)
    made: set[int] = set()
    counting_now = [False]
    hashed: list[pathlib.PurePath] = []
    real_hash = pathlib.PurePath.__hash__
    build_site, build_files = site.build_site, files.build_files

    def counting(path: pathlib.PurePath) -> int:
        if counting_now[0] and id(path) in made:
            hashed.append(path)
        return real_hash(path)

    def watched(*args: Any, **kwargs: Any) -> dict[PurePosixPath, Content]:
        result = build_site(*args, **kwargs)
        made.update(map(id, result))
        counting_now[0] = True
        return result

    def stage(*args: Any, **kwargs: Any) -> dict[PurePosixPath, Content]:
        try:
            return build_files(*args, **kwargs)
        finally:
            counting_now[0] = False

    monkeypatch.setattr(site, "build_site", watched)
    monkeypatch.setattr(files, "build_files", stage)
    monkeypatch.setattr(pathlib.PurePath, "__hash__", counting)
    built = pipeline.build(root, now=SAMPLE_NOW)
    monkeypatch.undo()
    assert len(made) > 20
    # The same files, each feed document written afresh in the build's own folder.
    assert {path: content_bytes(content) for path, content in built.files.items()} == {
        path: content_bytes(content) for path, content in before.files.items()
    }
    assert not hashed


@pytest.mark.parametrize("sizes", [[], [5], [1, 2, 3], [10, 1, 1, 10, 3], [0, 0, 7], [4, 4, 4, 4], [20, 20]])
def test_batches_hold_the_parts_in_order(sizes: list[int]) -> None:
    parts = [bytes([65 + index]) * size for index, size in enumerate(sizes)]
    made = list(pagejoin.batches(parts, 8))
    assert b"".join(made) == b"".join(parts)
    assert all(len(batch) <= max([8, *sizes]) for batch in made)
    # As few as the size allows: no two neighbours would fit in one.
    assert all(len(a) + len(b) > 8 for a, b in itertools.pairwise(made))


def test_the_home_page_is_written_a_batch_at_a_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Its kept entries are not handed to the writer one by one (two hashes and a search each);
    the page is a cold build's."""
    root = copy_sample_show(tmp_path / "show")
    cold = pipeline.build(root, now=SAMPLE_NOW)
    pieces: list[bytes] = []
    write = feedfile.Writer.write

    def counted(self: feedfile.Writer, piece: bytes) -> None:
        if self._suffix == ".html":
            pieces.append(piece)
        write(self, piece)

    monkeypatch.setattr(feedfile.Writer, "write", counted)
    built = pipeline.build(root, now=SAMPLE_NOW)
    assert len(built.releases) > 3
    assert len(pieces) == 1
    assert content_bytes(built.files[layout.INDEX]) == content_bytes(cold.files[layout.INDEX]) == b"".join(pieces)


def test_the_site_is_let_go_once_its_pages_are_made(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing the pages were given (the site, its guests) outlives the site stage: Jinja's
    contexts and the macros imported "with context" hold each other, and that cycle held them
    (10 MB at 10,000 episodes) until a full pass of the collector, after the write."""
    root = copy_sample_show(tmp_path / "show")
    cold = pipeline.build(root, now=SAMPLE_NOW)
    alive: list[int] = []
    build_site = site.build_site

    def watched(*args: Any, **kwargs: Any) -> dict[PurePosixPath, Content]:
        result = build_site(*args, **kwargs)
        alive.append(sum(1 for item in gc.get_objects() if type(item) in (guestlist.Guest, site.Site)))
        return result

    monkeypatch.setattr(site, "build_site", watched)
    gc.collect()
    gc.disable()  # as a large build's collector that does not come round in time
    try:
        built = pipeline.build(root, now=SAMPLE_NOW)
    finally:
        gc.enable()
    assert alive == [0]
    assert {path: content_bytes(content) for path, content in built.files.items()} == {
        path: content_bytes(content) for path, content in cold.files.items()
    }


def test_a_template_imported_without_context_renders_again(tmp_path: Path) -> None:
    """A module Jinja keeps between renders (imported without context) is not emptied of what
    it holds: the second page made with it is the first's."""
    root = copy_sample_show(tmp_path / "show")
    (root / "templates").mkdir(exist_ok=True)
    (root / "templates" / "plain.html.j2").write_text(
        "{% macro shout(text) %}{{ text | upper }}!{% endmacro %}{% set kept = 'kept' %}", encoding="utf-8"
    )
    (root / "templates" / "subscribe.html.j2").write_text(
        '{% import "plain.html.j2" as plain %}<p>{{ plain.shout(show.title) }} {{ plain.kept }}</p>', encoding="utf-8"
    )
    first = pipeline.build(root, now=SAMPLE_NOW)
    assert first.project is not None and not first.errors
    show = first.project.show
    pages = [templating.render(show, "subscribe.html.j2") for _ in range(2)]
    assert pages[0] == pages[1] == f"<p>{show.title.upper()}! kept</p>"


@pytest.mark.skipif(layout._MAKE_PARTS is None, reason="paths are made by parsing on this Python")
def test_the_site_paths_come_with_their_hash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A path of public/ made from its parts is hashed without pathlib reaching its parts again
    (two attributes missing at their first use: 1.3 us a path, 40,000 paths at 10,000
    episodes), to the hash parsing gives; the build is the one it was."""
    texts = ["a/b.html", "00033-guest-33/embed/index.html", "é/ß", "a b/#c%20", "x", "a/../b"]
    for text in texts:
        for made in (layout.path_of(text), layout.joined(*text.split("/"))):
            assert hash(made) == hash(PurePosixPath(text)) and made == PurePosixPath(text)
            assert {PurePosixPath(text): 1}[made] == 1
    root = copy_sample_show(tmp_path / "show")
    before = pipeline.build(root, now=SAMPLE_NOW)
    assert before.project is not None
    reached: list[pathlib.PurePath] = []
    real = getattr(pathlib.PurePath, "_cparts")  # noqa: B009  (private: not in the stubs)

    def counting(path: pathlib.PurePath) -> object:
        reached.append(path)
        return real.__get__(path)

    monkeypatch.setattr(pathlib.PurePath, "_cparts", property(counting))
    for text in texts:
        hash(layout.path_of(text))
    assert not reached
    built = site.build_site(before.project, before.releases)
    monkeypatch.undo()
    slugs = {release.episode.slug for release in before.releases}
    pages = {id(path) for path in built if path.parts[0] in slugs}
    assert len(pages) >= 4 * len(slugs) > 8  # page, embed page, notes, chapters
    assert not {id(path) for path in reached} & pages, "an episode's file path was hashed from its parts"
    assert {path: content_bytes(content) for path, content in built.items()} == {
        path: content_bytes(content) for path, content in site.build_site(before.project, before.releases).items()
    }


def test_what_the_site_loops_make_is_held_out_of_the_collector(tmp_path: Path) -> None:
    """The paths of every episode's files, its guests and releases in order, made in loops that
    start no process, live as long as the build: held out of the collector's passes as each
    loop ends (gcpause), else its passes walked them again and again after one edit of a large
    show. Handed back when the build ends; the build is the one it was."""
    root = copy_sample_show(tmp_path / "show")
    cold = pipeline.build(root, now=SAMPLE_NOW)
    assert cold.project is not None
    held: list[bool] = []

    @gcpause.thawed
    def build() -> dict[PurePosixPath, Content]:
        assert cold.project is not None
        made = site.build_site(cold.project, cold.releases)
        tracked = {id(value) for value in gc.get_objects()}
        slugs = {release.episode.slug for release in cold.releases}
        # Frozen: tracked, yet in none of the collector's generations.
        held.extend(id(path) not in tracked for path in made if gc.is_tracked(path) and path.parts[0] in slugs)
        return made

    built = build()
    assert len(held) >= 3 * len(cold.releases) > 6 and all(held)
    assert gc.get_freeze_count() == 0
    assert {path: content_bytes(content) for path, content in built.items()} == {
        path: content_bytes(content) for path, content in site.build_site(cold.project, cold.releases).items()
    }
