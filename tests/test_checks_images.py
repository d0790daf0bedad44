"""What the checks find of an image is kept under the file's stamp: an edit decodes no image it
did not change (the show's artwork was decoded at every build), with the problems of a cold build."""

from __future__ import annotations

import dataclasses
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from entretiens import checks, pipeline, unitcache, walks
from entretiens.checks import _media
from entretiens.images import ImageTooLarge
from entretiens.model import AudioInfo, Chapter, Episode, FieldLines, Release
from showbuilder import episode, make_show, write_artwork


@pytest.fixture(autouse=True)
def settled_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stamps settle as soon as taken (the real window is a tick after a change)."""
    monkeypatch.setattr(walks, "FINE_RACY_NS", 0)
    monkeypatch.setattr(walks, "RACY_NS", 0)


def _show(tmp_path: Path) -> Path:
    episodes = {f"{n:03d}-talk": episode(n, image="covers/cover.png") for n in range(1, 5)}
    root = make_show(tmp_path / "show", episodes, seconds=1.0)
    write_artwork(root / "covers" / "cover.png")
    return root


def _reads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    read: list[Path] = []
    real = _media._read_image

    def counting(file: Path) -> _media.Facts:
        read.append(file)
        return real(file)

    monkeypatch.setattr(_media, "_read_image", counting)
    return read


def _edit(root: Path, slug: str, words: str) -> None:
    path = root / "episodes" / f"{slug}.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("title:", f"title: {words}", 1), encoding="utf-8")


def test_an_edit_decodes_no_image_it_did_not_change(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _show(tmp_path)
    read = _reads(monkeypatch)
    cold = pipeline.build(root)
    assert sorted({path.name for path in read}) == ["artwork.png", "cover.png"]
    read.clear()
    _edit(root, "002-talk", "Edited")
    again = pipeline.build(root)
    # The show's artwork and the edited episode's cover: their facts kept, neither decoded.
    assert read == []
    assert again.computed["checks"] == 1
    assert again.problems == cold.problems
    assert again.problems == pipeline.build(root, use_cache=False).problems


def test_an_image_changed_with_its_old_time_put_back_is_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _show(tmp_path)
    pipeline.build(root)
    cover = root / "covers" / "cover.png"
    before = cover.stat()
    # Another image, not square, with the old mtime put back (its ctime moved).
    write_artwork(cover, (1400, 1500))
    os.utime(cover, ns=(before.st_atime_ns, before.st_mtime_ns))
    read = _reads(monkeypatch)
    again = pipeline.build(root)
    assert cover in read
    assert any(p.rule == "artwork-square" for p in again.problems)
    assert again.problems == pipeline.build(root, use_cache=False).problems


@pytest.mark.parametrize(
    "text",
    [b"", b"not json", b"[]", b'["read", "PNG", 1]', b'["read", "PNG", "1", 2, "RGB"]', b'["other", 1]', b"{}"],
)
def test_kept_facts_that_are_not_ours_are_read_again(tmp_path: Path, text: bytes) -> None:
    assert checks.facts_from_json(text) is None
    image = tmp_path / "artwork.png"
    write_artwork(image)
    units = unitcache.Units(tmp_path, "image-facts", version="v")
    stamp = unitcache.file_stamp(image)
    # A unit of the right key holding something else.
    units.get((str(image),), lambda: {"facts": text}, stamps=[stamp])
    read: list[Path] = []

    def reading(file: Path) -> _media.Facts:
        read.append(file)
        return _media._read_image(file)

    assert pipeline._kept_images(units)(image, reading) == ("PNG", 1400, 1400, "RGB")
    assert read == [image]


@pytest.mark.parametrize(
    "facts", [("JPEG", 3000, 3000, "CMYK"), "is not an image", "is damaged (x)", ImageTooLarge(90000, 90000)]
)
def test_facts_are_kept_as_they_were_found(facts: _media.Facts) -> None:
    back = checks.facts_from_json(checks.facts_to_json(facts))
    if isinstance(facts, ImageTooLarge):
        assert isinstance(back, ImageTooLarge) and str(back) == str(facts)
        assert (back.width, back.height) == (facts.width, facts.height)
    else:
        assert back == facts


def test_checks_made_by_forked_workers_keep_no_image_and_leave_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A cold build makes its checks units in forked workers: what a worker kept in the image
    # store would be lost with it, and its temporary file left behind. It reads, and keeps nothing.
    root = _show(tmp_path)
    monkeypatch.setattr(unitcache, "PARALLEL_MIN", 2)
    monkeypatch.setattr(unitcache, "_cores", lambda: 2)
    if not unitcache._can_fork():
        pytest.skip("no forked workers here")
    cold = pipeline.build(root)
    units = root / unitcache.UNITS_DIR
    assert cold.computed["checks"] == 4
    assert [path.name for path in units.iterdir() if path.name.endswith(".tmp")] == []
    # The show's artwork was read here, and kept; the episodes' cover in the workers only.
    read = _reads(monkeypatch)
    _edit(root, "002-talk", "Edited")
    again = pipeline.build(root)
    assert [path.name for path in read] == ["cover.png"]
    read.clear()
    _edit(root, "003-talk", "Edited")
    pipeline.build(root)
    assert read == []
    assert [path.name for path in units.iterdir() if path.name.endswith(".tmp")] == []
    assert again.problems == pipeline.build(root, use_cache=False).problems


def test_an_episode_naming_a_file_of_another_host_is_checked_afresh(tmp_path: Path) -> None:
    # Its checks are never kept (the other host may answer or not from one build to the next);
    # the files of the show it names are stamped in order, and "" names none.
    root = _show(tmp_path)
    built = pipeline.build(root)
    project = built.project
    assert project is not None
    release = built.checked[0]
    episode = release.episode
    guest = dataclasses.replace(episode.guests[0], image="covers/cover.png")

    def request(**fields: Any) -> unitcache.Request | None:
        changed = dataclasses.replace(release, episode=dataclasses.replace(episode, **fields))
        lines = FieldLines(project)
        return pipeline._checks_request(project.show, "settings", changed, lines, unitcache.Digests())

    url = "https://example.org/a.png"
    assert request(cover_image=url) is None
    assert request(guests=(dataclasses.replace(guest, image=url),)) is None
    assert request(chapters=(Chapter(start=0.0, title="One", image=url),)) is None
    chapter = request(chapters=(Chapter(start=0.0, title="One", image="artwork.png"),), cover_image=None)
    assert chapter is not None and list(chapter[2]) == [unitcache.file_stamp(root / "artwork.png")]
    kept = request(cover_image="", guests=(guest, dataclasses.replace(guest, image=None)))
    assert kept is not None
    assert list(kept[2]) == [unitcache.file_stamp(root / "covers" / "cover.png")]
    both = request(cover_image="artwork.png", guests=(guest,))
    assert both is not None
    assert list(both[2]) == [unitcache.file_stamp(root / name) for name in ("artwork.png", "covers/cover.png")]


def test_the_channel_note_names_its_line_and_no_other_is_looked_up(monkeypatch: pytest.MonkeyPatch) -> None:
    releases = [_release("e1", 1, 3), _release("e2", 2, 4), _release("e3", 1, 5)]
    looked: list[str] = []
    line_of = Episode.line_of

    def counting(self: Episode, key: str) -> int | None:
        looked.append(self.slug)
        return line_of(self, key)

    monkeypatch.setattr(Episode, "line_of", counting)
    found = _media.channel_problems(releases)
    assert [(p.rule, p.line) for p in found] == [("audio-channels-mixed", 4)]
    assert looked == ["e2"]


def _release(slug: str, channels: int, line: int) -> Release:
    episode = Episode(
        slug=slug,
        path=Path(f"/show/episodes/{slug}.yaml"),
        title="T",
        date=datetime(2024, 1, 1, tzinfo=timezone.utc),
        audio=f"audio/{slug}.mp3",
        lines=(("title", 1), ("audio", line)),
    )
    audio = AudioInfo(size=1, duration=timedelta(seconds=3), mime_type="audio/mpeg", channels=channels)
    return Release(episode=episode, audio=audio, enclosure_length=1)
