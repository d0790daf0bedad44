"""Incremental rebuilds: after any change, a build that reuses the per-episode cache publishes
exactly what a cold build of the same show in a fresh folder publishes, with the same problems."""

from __future__ import annotations

import dataclasses
import gc
import os
import shutil
import signal
import threading
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml
from lxml import etree

from entretiens import cards, chapters, checkedfiles, feed, guestlist, pipeline, templating, unitcache
from entretiens.errors import Problem
from entretiens.model import AudioInfo, Chapter, Release, Show
from entretiens.output import Stored, content_bytes
from entretiens.publish import publish
from sampleshow import SAMPLE_NOW, copy_sample_show, files_of


def _problems(problems: list[Problem], root: Path) -> list[tuple[object, ...]]:
    def plain(text: object) -> object:
        return text.replace(str(root), "<show>") if isinstance(text, str) else text

    return sorted(
        (p.rule, plain(p.message), None if p.path is None else plain(str(p.path)), p.line, p.field, plain(p.hint))
        for p in problems
    )


def _built(root: Path) -> tuple[dict[str, bytes], list[tuple[object, ...]], bytes]:
    """Publish ``root`` and return public/, the warnings and published.yaml."""
    result = publish(root, now=SAMPLE_NOW)
    return files_of(root / "public"), _problems(result.warnings, root), (root / "published.yaml").read_bytes()


def _cold_copy(root: Path, dest: Path) -> Path:
    """The show as it is now, in a fresh folder: no cache, no previous output."""
    shutil.copytree(root, dest, ignore=shutil.ignore_patterns(".entretiens", "public"))
    return dest


@pytest.fixture
def show(tmp_path: Path) -> Path:
    root = copy_sample_show(tmp_path / "show")
    publish(root, now=SAMPLE_NOW)
    assert (root / unitcache.UNITS_DIR).is_dir()
    return root


def _edit_yaml(path: Path, change: Callable[[dict[str, object]], None]) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _edit_notes(root: Path) -> None:
    _edit_yaml(root / "episodes" / "003-massimo-fubini.yaml", lambda d: d.update(notes="Edited **notes**."))


def _add_episode(root: Path) -> None:
    source = yaml.safe_load((root / "episodes" / "006-frederic-bourguet.yaml").read_text(encoding="utf-8"))
    source.update(title="A new conversation", number=8, date="2011-06-01T09:00:00+02:00", audio="audio/008-new.mp3")
    shutil.copyfile(root / "audio" / "006-frederic-bourguet.mp3", root / "audio" / "008-new.mp3")
    (root / "episodes" / "008-new.yaml").write_text(yaml.safe_dump(source, allow_unicode=True), encoding="utf-8")


def _edit_feed(root: Path) -> None:
    _edit_yaml(root / "feed.yaml", lambda d: d.update(title="Renamed show"))


def _edit_guest(root: Path) -> None:
    _edit_yaml(root / "guests" / "nicolas-sauvage.yaml", lambda d: d.update(bio="A new bio."))


def _override_template(root: Path) -> None:
    shipped = Path(pipeline.__file__).parent / "templates" / "episode.html.j2"
    text = shipped.read_text(encoding="utf-8").replace(
        "{% block main %}", "{% block main %}<p>{{ site.releases | length }} episodes</p>", 1
    )
    (root / "templates").mkdir(exist_ok=True)
    (root / "templates" / "episode.html.j2").write_text(text, encoding="utf-8")


def _override_feed_template(root: Path) -> None:
    shipped = Path(pipeline.__file__).parent / "templates" / "feed_content.html.j2"
    (root / "templates").mkdir(exist_ok=True)
    text = shipped.read_text(encoding="utf-8") + "<p>From the show's own template.</p>\n"
    (root / "templates" / "feed_content.html.j2").write_text(text, encoding="utf-8")


def _override_macros(root: Path) -> None:
    # A template every entry of the home page uses: the home page is then rendered whole.
    shipped = Path(pipeline.__file__).parent / "templates" / "macros.html.j2"
    meta = "{% macro meta(release) -%}"
    text = shipped.read_text(encoding="utf-8").replace(meta, meta + "(own)", 1)
    (root / "templates").mkdir(exist_ok=True)
    (root / "templates" / "macros.html.j2").write_text(text, encoding="utf-8")


def _edit_summary(root: Path) -> None:
    # An entry of the home page other than the newest (whose entry is rendered at every build).
    _edit_yaml(root / "episodes" / "003-massimo-fubini.yaml", lambda d: d.update(summary="An edited summary."))


def _edit_chapters(root: Path) -> None:
    def retitle(data: dict[str, object]) -> None:
        chapters = data["chapters"]
        assert isinstance(chapters, list)
        chapters[1]["title"] = "An edited chapter"

    _edit_yaml(root / "episodes" / "003-massimo-fubini.yaml", retitle)


def _delete_episode(root: Path) -> None:
    (root / "episodes" / "004-jerome-serre.yaml").unlink()


def _corrupt_cache(root: Path) -> None:
    units = sorted(p for p in (root / unitcache.UNITS_DIR).rglob("*") if p.is_file())
    assert units
    units[0].write_bytes(b"not a unit")
    units[1].write_bytes(units[1].read_bytes()[:-10])
    data = bytearray(units[2].read_bytes())
    data[-1] ^= 1
    units[2].write_bytes(bytes(data))


CHANGES = {
    "notes": _edit_notes,
    "added": _add_episode,
    "feed": _edit_feed,
    "guest": _edit_guest,
    "template": _override_template,
    "feed template": _override_feed_template,
    "macros template": _override_macros,
    "summary": _edit_summary,
    "chapters": _edit_chapters,
    "deleted": _delete_episode,
    "corrupt": _corrupt_cache,
}


@pytest.mark.parametrize("change", CHANGES)
def test_a_rebuild_after_a_change_publishes_what_a_cold_build_does(show: Path, tmp_path: Path, change: str) -> None:
    CHANGES[change](show)
    cold = _cold_copy(show, tmp_path / "cold")
    assert _built(show) == _built(cold)


def test_the_home_page_is_made_of_the_kept_entries_of_unchanged_episodes(
    show: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rendered: list[str] = []
    real = templating.render

    def counting(show: object, name: str, **context: object) -> str:
        rendered.append(name)
        return real(show, name, **context)  # type: ignore[arg-type]

    monkeypatch.setattr(templating, "render", counting)
    _edit_summary(show)
    home = _built(show)[0]["index.html"]
    # The edited episode's entry, made with its pages, and the newest one's.
    assert rendered.count("episode_entry.html.j2") == 2
    assert b"An edited summary." in home
    assert home == _built(_cold_copy(show, tmp_path / "cold"))[0]["index.html"]


def test_the_home_page_joins_its_entries_without_a_template_call_for_each(
    show: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A loop in the template cost a sandboxed call per episode (10,000 at each build)."""
    called: list[str] = []
    real = templating._Sandbox.call

    def counting(self: templating._Sandbox, context: Any, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        called.append(getattr(obj, "__name__", "?"))
        return real(self, context, obj, *args, **kwargs)

    monkeypatch.setattr(templating._Sandbox, "call", counting)
    _edit_summary(show)
    home = _built(show)[0]["index.html"]
    assert called.count("episode_list") == 1
    assert called.count("episode_entry") == 0
    assert home == _built(_cold_copy(show, tmp_path / "cold"))[0]["index.html"]


def test_an_edit_makes_the_chapters_of_the_edited_episode_only(
    show: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Kept with the episode's pages: the other episodes' JSON chapters are not written again."""
    made: list[str] = []
    real = chapters.json_chapters

    def counting(show: Show, found: tuple[Chapter, ...], audio: AudioInfo) -> bytes:
        made.append(found[1].title)
        return real(show, found, audio)

    monkeypatch.setattr(chapters, "json_chapters", counting)
    _edit_chapters(show)
    built = _built(show)[0]
    assert made == ["An edited chapter"]
    assert b"An edited chapter" in built["003-massimo-fubini/chapters.json"]
    assert built == _built(_cold_copy(show, tmp_path / "cold"))[0]


def test_kept_chapters_come_from_their_unit_entry_without_a_file_checked(
    show: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A few hundred bytes each: kept in the page unit's entry and handed on as bytes, a file of
    their own cost a stat (the ledger's check) and a path per episode at every build."""
    checked: list[str] = []
    real = checkedfiles.Checked.holds

    def counting(self: checkedfiles.Checked, body: Path | str, *args: Any) -> bool:
        checked.append(str(body))
        return real(self, body, *args)

    monkeypatch.setattr(checkedfiles.Checked, "holds", counting)
    files = pipeline.build(show, now=SAMPLE_NOW).files
    kept = {path: content for path, content in files.items() if path.name == "chapters.json"}
    assert len(kept) >= 3
    assert all(isinstance(content, bytes) for content in kept.values())
    pages = [content for content in files.values() if isinstance(content, Stored) and "/units/" in str(content)]
    assert pages
    assert sorted(body for body in checked if "/units/" in body) == sorted(map(str, pages))
    cold = _built(_cold_copy(show, tmp_path / "cold"))[0]
    assert {str(path): content for path, content in kept.items()} == {
        name: content for name, content in cold.items() if name.endswith("/chapters.json")
    }


def _counted_folds(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every name ``guestlist.fold`` folds from now on, in order."""
    folds: list[str] = []
    real = guestlist.fold

    def counting(text: str) -> str:
        folds.append(text)
        return real(text)

    monkeypatch.setattr(guestlist, "fold", counting)
    return folds


def test_a_guest_is_looked_up_once_per_build_however_many_pages_name_them(
    show: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each episode's key and pages name its guests' entries: the lookup folds a person's name
    once per build (the pages rendered by a cold build fold no more than a rebuild keeping them)."""
    folds = _counted_folds(monkeypatch)
    _computed(show)
    kept = len(folds)
    folds.clear()
    assert _computed(_cold_copy(show, tmp_path / "cold"))["pages"] > 0
    assert kept > 0
    assert len(folds) == kept


def test_a_rebuild_folds_each_guest_name_once(show: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The lookup from a person to their entry keeps the key the guests' list folded for them,
    and an ASCII name is sorted by family name from one fold: at 10,000 guests, four folds each
    were a tenth of the site's rebuild."""
    _computed(show)
    folds = _counted_folds(monkeypatch)
    _computed(show)
    assert folds, "the sample show has inline guests and accented names"
    # Folded once each (the old lookup folded an inline guest's name again for every page).
    assert len(folds) == len(set(folds)), folds
    # The sample's ASCII names (Massimo Fubini, Nicolas Sauvage) sort from one fold of the whole name.
    assert not {"Fubini", "Massimo", "Sauvage", "Nicolas"} & set(folds), folds


def test_the_loops_over_every_episode_run_without_the_cycle_collector(
    show: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its passes over a heap that grows with the show were a share of each per-episode step;
    it runs again around the unit cache, whose workers a fork would start with it paused."""
    _computed(show)
    seen: list[tuple[str, bool]] = []
    look, get_files = cards.Deck._look, unitcache.Units.get_files

    def carding(self: cards.Deck, episode: Any) -> Any:
        seen.append(("card", gc.isenabled()))
        return look(self, episode)

    def getting(self: unitcache.Units, requests: Any) -> Any:
        seen.append(("units", gc.isenabled()))
        return get_files(self, requests)

    monkeypatch.setattr(cards.Deck, "_look", carding)
    monkeypatch.setattr(unitcache.Units, "get_files", getting)
    assert gc.isenabled()
    _computed(show)
    assert gc.isenabled()
    assert ("card", False) in seen
    assert ("card", True) not in seen
    assert ("units", False) not in seen


def test_a_capped_feed_reuses_its_items_in_its_archive_pages(show: Path, tmp_path: Path) -> None:
    _edit_yaml(show / "feed.yaml", lambda d: d.update(feed_limit=2))
    publish(show, now=SAMPLE_NOW)
    _edit_notes(show)
    cold = _cold_copy(show, tmp_path / "cold")
    assert _built(show) == _built(cold)
    assert any(name.startswith("feed-archive/") for name in files_of(show / "public"))


def test_a_second_change_after_a_template_override_is_picked_up(show: Path, tmp_path: Path) -> None:
    _override_template(show)
    publish(show, now=SAMPLE_NOW)
    _add_episode(show)
    cold = _cold_copy(show, tmp_path / "cold")
    assert _built(show) == _built(cold)


def _computed(root: Path) -> dict[str, int]:
    built = pipeline.build(root, now=SAMPLE_NOW)
    assert not built.errors
    return built.computed


def test_an_unchanged_show_computes_no_unit(show: Path) -> None:
    assert _computed(show) == {"pages": 0, "checks": 0, "items": 0, "lint": 0}


def test_editing_one_episode_computes_its_unit_only(show: Path) -> None:
    _edit_notes(show)
    assert _computed(show) == {"pages": 1, "checks": 1, "items": 1, "lint": 1}


def test_adding_an_episode_computes_it_and_its_neighbour(show: Path) -> None:
    _add_episode(show)
    # The new episode's pages, those of the one before it, which now link to it, and the guests
    # page, which lists it under its guest; the checks and feed item of the new one only.
    assert _computed(show) == {"pages": 3, "checks": 1, "items": 1, "lint": 1}


def test_editing_a_guest_computes_the_episodes_naming_them(show: Path) -> None:
    _edit_guest(show)
    # The episode's pages and the guests page, where the new bio is shown.
    assert _computed(show) == {"pages": 2, "checks": 1, "items": 1, "lint": 1}
    built = pipeline.build(show, now=SAMPLE_NOW)
    assert b"A new bio." in content_bytes(built.files[PurePosixPath("guests/index.html")])


def test_a_new_episode_title_renders_the_guests_page_again(show: Path, tmp_path: Path) -> None:
    # The guests page lists each guest's episodes by title: the title is part of its key.
    _edit_yaml(show / "episodes" / "003-massimo-fubini.yaml", lambda d: d.update(title="A renamed conversation"))
    # The episode, its neighbours, the guests page.
    assert _computed(show) == {"pages": 4, "checks": 1, "items": 1, "lint": 1}
    built = pipeline.build(show, now=SAMPLE_NOW)
    assert b"A renamed conversation" in content_bytes(built.files[PurePosixPath("guests/index.html")])
    assert _built(show) == _built(_cold_copy(show, tmp_path / "cold"))


def test_without_the_cache_every_unit_is_computed(show: Path) -> None:
    built = pipeline.build(show, now=SAMPLE_NOW, use_cache=False)
    pages = len(built.releases) + 1  # and the guests page
    every = len(built.releases)
    assert built.computed == {"pages": pages, "checks": len(built.checked), "items": every, "lint": every}


def test_another_version_of_a_library_computes_every_unit(show: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # An upgraded Jinja2 or feedgen may write other bytes while entretiens' own files are the same.
    monkeypatch.setattr(unitcache, "libraries", lambda: "feedgen 99")
    built = pipeline.build(show, now=SAMPLE_NOW)
    pages = len(built.releases) + 1  # and the guests page
    every = len(built.releases)
    assert built.computed == {"pages": pages, "checks": len(built.checked), "items": every, "lint": every}


def test_units_made_on_every_core_are_those_made_in_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A cold build of a large show makes its missing units in forked workers; here every build does.
    monkeypatch.setattr(unitcache, "PARALLEL_MIN", 1)
    # Threads that earlier tests left (a preview server's) would keep this process from forking.
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    made: list[int] = []
    real = unitcache._in_workers

    def counting(jobs: list[unitcache.Job], spill: Path) -> list[unitcache.Spilled | None]:
        made.append(len(jobs))
        return real(jobs, spill)

    monkeypatch.setattr(unitcache, "_in_workers", counting)
    parallel = copy_sample_show(tmp_path / "parallel")
    alone = copy_sample_show(tmp_path / "alone")
    with_workers = _built(parallel)
    if not unitcache._can_fork():
        pytest.skip("one core, or no fork: units are made in one process")
    assert made and all(made)
    monkeypatch.setattr(unitcache, "PARALLEL_MIN", 10**9)
    assert with_workers == _built(alone)
    # What the workers kept is read back as it is.
    assert _computed(parallel) == {"pages": 0, "checks": 0, "items": 0, "lint": 0}


def test_the_workers_of_a_cold_build_draw_the_cards(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Cards were four tenths of a cold build, drawn one by one in this process; the workers that
    # make the pages draw them now, and this process reads them back from the image cache.
    monkeypatch.setattr(unitcache, "PARALLEL_MIN", 1)
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    if not unitcache._can_fork():
        pytest.skip("one core, or no fork: units are made in one process")
    drawn: list[str] = []
    real = cards._draw

    def counting(title: str, *args: Any) -> bytes:
        drawn.append(title)  # in this process only: a worker's list is its own
        return real(title, *args)

    monkeypatch.setattr(cards, "_draw", counting)
    root = copy_sample_show(tmp_path / "show")
    releases = pipeline.build(root, now=SAMPLE_NOW).releases
    # Only the cards of episodes with a cover of their own, drawn with their page cover from one decode.
    assert sorted(drawn) == sorted(r.episode.title for r in releases if r.episode.cover_image)
    assert len(drawn) < len(releases)


def test_a_worker_killed_while_making_units_leaves_them_to_this_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An out-of-memory kill of one worker must neither hang the build nor lose a unit.
    monkeypatch.setattr(unitcache, "PARALLEL_MIN", 1)
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    if not unitcache._can_fork():
        pytest.skip("one core, or no fork: units are made in one process")
    parent = os.getpid()

    def maker(index: int) -> Callable[[], dict[str, bytes]]:
        def make() -> dict[str, bytes]:
            if index == 3 and os.getpid() != parent:
                os.kill(os.getpid(), signal.SIGKILL)
            return {"page": f"unit {index}".encode()}

        return make

    units = unitcache.Units(tmp_path, "pages", version="test")
    requests: list[unitcache.Request] = [((index,), maker(index), ()) for index in range(12)]
    made = units.get_many(requests)
    assert made == [{"page": f"unit {index}".encode()} for index in range(12)]
    units.prune()  # what was made is kept
    # Read back by a second build: what was kept is what was made.
    again = unitcache.Units(tmp_path, "pages", version="test")
    assert again.get_many(requests) == made
    assert again.computed == 0


def _differing(releases: tuple[Release, ...], name: str) -> list[object]:
    """Values of field ``name`` that differ from the first release's, from the other releases and a few of our own."""
    first = getattr(releases[0], name)
    found = [getattr(other, name) for other in releases[1:]]
    if isinstance(first, int):
        found.append(first + 1)
    elif isinstance(first, tuple) and first:
        found.append(first[:-1])
    elif isinstance(first, Path):
        found.append(first.with_name("other.mp3"))
    elif first is None:
        found.append((1, 2))
    return [value for value in found if value != first]


@pytest.mark.parametrize("name", [f.name for f in dataclasses.fields(Release) if f.name not in ("previous", "next")])
def test_every_field_of_a_release_is_in_its_digest(show: Path, name: str) -> None:
    # The units of pages, items and checks are keyed on this digest: a field left out of it would
    # serve an old page, item or problem after that field changed.
    releases = pipeline.build(show, now=SAMPLE_NOW).releases
    others = _differing(releases, name)
    assert others, name
    digests = unitcache.Digests()
    for value in others:
        changed = dataclasses.replace(releases[0], **{name: value})  # type: ignore[arg-type]
        assert digests.release(changed) != digests.release(releases[0]), (name, value)


def test_a_release_is_digested_once_whatever_its_neighbours(show: Path) -> None:
    release = pipeline.build(show, now=SAMPLE_NOW).releases[1]
    digests = unitcache.Digests()
    first = digests.release(release)
    taken = digests.taken
    assert taken
    assert digests.release(dataclasses.replace(release, previous=None, next="elsewhere")) == first
    assert digests.taken == taken
    # The same values in other objects give the same digest (taken again: identities differ).
    copy = dataclasses.replace(release, episode=dataclasses.replace(release.episode))
    assert unitcache.Digests().release(copy) == first


def test_kept_feed_items_are_copied_into_the_feed_as_they_are(show: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # An item is kept as its channel writes it: a rebuild parses the channel and the edited
    # item, never the items read back (each was parsed and written again by lxml before).
    parsed: list[bytes] = []
    real = etree.fromstring

    def counting(text: bytes, parser: etree.XMLParser | None = None, **options: Any) -> etree._Element:
        if parser is feed._PARSER:
            parsed.append(text)  # the channel, or an item made in this build
        return real(text, parser, **options)

    monkeypatch.setattr(etree, "fromstring", counting)
    _edit_notes(show)
    built = pipeline.build(show, now=SAMPLE_NOW)
    assert built.computed["items"] == 1
    assert len(parsed) == 2, [text[:80] for text in parsed]
