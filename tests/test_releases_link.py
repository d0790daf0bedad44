"""Each release knows its previous and next published neighbour, however it was made."""

from __future__ import annotations

import os
from dataclasses import fields, replace
from datetime import timedelta
from pathlib import Path

import pytest

from entretiens import chapters, releases, transcripts
from entretiens.loading import load_project
from entretiens.model import Release, is_remote
from sampleshow import SAMPLE_NOW, copy_sample_show


def _expected(made: tuple[Release, ...]) -> list[tuple[str, str | None, str | None]]:
    slugs = [release.episode.slug for release in sorted(made, key=lambda r: (r.episode.date, r.episode.slug))]
    return [
        (slug, slugs[index - 1] if index else None, slugs[index + 1] if index + 1 < len(slugs) else None)
        for index, slug in enumerate(slugs)
    ]


def _linked(made: tuple[Release, ...]) -> list[tuple[str, str | None, str | None]]:
    return [(release.episode.slug, release.previous, release.next) for release in made]


def _prepared(tmp_path: Path, *, changed: str | None = None) -> releases.Prepared:
    project = load_project(copy_sample_show(tmp_path / "show"))
    published, _drafts, _scheduled = releases.select(project, SAMPLE_NOW)
    infos, _problems = releases.probe_each(project, published)
    if changed is not None:
        # Measured at another size than the file has now: left out, as an export still writing.
        infos[changed] = replace(infos[changed], size=infos[changed].size + 1)
    return releases.prepare(project, published, infos)


def test_prepared_releases_know_their_neighbours(tmp_path: Path) -> None:
    prepared = _prepared(tmp_path)
    assert len(prepared.releases) == 6
    assert _linked(prepared.releases) == _expected(prepared.releases)


def test_a_release_left_out_is_no_ones_neighbour(tmp_path: Path) -> None:
    prepared = _prepared(tmp_path, changed="003-massimo-fubini")
    assert "003-massimo-fubini" not in {release.episode.slug for release in prepared.releases}
    assert any(problem.field == "audio" for problem in prepared.problems)
    assert _linked(prepared.releases) == _expected(prepared.releases)
    assert ("004-jerome-serre", "002-nicolas-sauvage", "005-pierre-emmanuel-boiton") in _linked(prepared.releases)


def test_a_prepared_release_holds_each_field_in_its_place(tmp_path: Path) -> None:
    # prepare makes each Release by its fields' order (slotmaker): each is where the class puts it.
    project = load_project(copy_sample_show(tmp_path / "show"))
    published, _drafts, _scheduled = releases.select(project, SAMPLE_NOW)
    infos, _problems = releases.probe_each(project, published)
    # One episode whose chapters do not fit its audio: made as the YAML says, for the rules.
    short = next(e for e in published if e.chapters and not is_remote(e.audio))
    infos[short.slug] = replace(infos[short.slug], duration=timedelta(seconds=short.chapters[-1].start / 2))
    prepared = releases.prepare(project, published, infos)
    assert short.slug not in prepared.ready
    by_slug = {release.episode.slug: release for release in prepared.releases}
    for episode in published:
        release, info = by_slug[episode.slug], infos[episode.slug]
        expected = Release(
            episode=episode,
            audio=info,
            chapters=episode.chapters if episode is short else chapters.chapters_for(episode, info)[0],
            transcripts=() if episode is short else transcripts.plan(episode, info, None)[0],
            audio_file=None if episode is short or is_remote(episode.audio) else project.show.root / episode.audio,
            enclosure_length=info.size,
            audio_stamp=None
            if episode is short or is_remote(episode.audio)
            else releases.stamp_of(project.show.root / episode.audio),
            previous=release.previous,
            next=release.next,
        )
        assert [getattr(release, f.name) for f in fields(Release)] == [
            getattr(expected, f.name) for f in fields(Release)
        ]
    assert _linked(prepared.releases) == _expected(prepared.releases)


def test_link_replaces_only_what_changed(tmp_path: Path) -> None:
    made = _prepared(tmp_path).releases
    assert all(again is release for again, release in zip(releases.link(made), made, strict=True))
    fewer = releases.link(made[:2] + made[3:])
    assert _linked(fewer) == _expected(fewer)
    assert fewer[0] is made[0]
    assert fewer[1] is not made[1]
    scrambled = releases.link(tuple(replace(r, previous="x", next=None) for r in reversed(made)))
    assert _linked(scrambled) == _linked(made)


@pytest.mark.parametrize("cached", [False, True])
def test_each_audio_file_is_stated_once_and_stamped_as_prepare_would(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cached: bool
) -> None:
    # prepare takes the stamp probe_each measured (or checked the cache) at, not a second stat
    # per file: the releases are those prepare makes stamping each file itself.
    project = load_project(copy_sample_show(tmp_path / "show"))
    published, _drafts, _scheduled = releases.select(project, SAMPLE_NOW)
    if cached:
        releases.probe_each(project, published)
    audio_dir = str(project.show.root / "audio")
    stated: list[str] = []
    original = Path.stat

    def counted(path: Path, **kwargs: bool) -> os.stat_result:
        if str(path).startswith(audio_dir):
            stated.append(path.name)
        return original(path, **kwargs)

    stamps: dict[str, releases.Stamp] = {}
    with monkeypatch.context() as patched:
        patched.setattr(Path, "stat", counted)
        infos, problems = releases.probe_each(project, published, stamps=stamps, workers=1)
        prepared = releases.prepare(project, published, infos, stamps)
    assert problems == []
    local = sorted({Path(episode.audio).name for episode in published if not is_remote(episode.audio)})
    assert len(local) > 3
    assert sorted(stated) == local if cached else all(name in local for name in stated)
    assert set(stamps) == {episode.slug for episode in published if not is_remote(episode.audio)}
    assert prepared == releases.prepare(project, published, infos)
    # A file that changed since it was measured is still caught.
    first = published[0]
    stamps[first.slug] = (stamps[first.slug][0] + 1, *stamps[first.slug][1:])
    assert (
        releases.prepare(project, published, infos, stamps).releases[0].audio_stamp != prepared.releases[0].audio_stamp
    )


def test_each_audio_file_path_is_made_once_for_probe_and_prepare(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = load_project(copy_sample_show(tmp_path / "show"))
    published, _drafts, _scheduled = releases.select(project, SAMPLE_NOW)
    releases.probe_each(project, published)
    files: dict[str, Path] = {}
    made: list[Path] = []
    original = releases._show_path

    def show_path(*args: object) -> Path:
        made.append(original(*args))  # type: ignore[arg-type]
        return made[-1]

    stamps: dict[str, releases.Stamp] = {}
    with monkeypatch.context() as patched:
        patched.setattr(releases, "_show_path", show_path)
        infos, problems = releases.probe_each(project, published, stamps=stamps, files=files)
    prepared = releases.prepare(project, published, infos, stamps, files)
    assert problems == []
    local = [episode.audio for episode in published if not is_remote(episode.audio)]
    assert len(local) > 3 and set(files) == set(local)
    # Made as a child of its folder's path: the very path ``/`` makes.
    for text in local:
        plain = project.show.root / text
        path = files[text]
        assert (type(path), str(path), path.parts, path.parent, hash(path), path) == (
            type(plain),
            str(plain),
            plain.parts,
            plain.parent,
            hash(plain),
            plain,
        )
    assert [id(path) for path in made] == [id(files[text]) for text in local]
    assert all(
        release.audio_file is files[release.episode.audio]
        for release in prepared.releases
        if not is_remote(release.episode.audio)
    )
    assert prepared == releases.prepare(project, published, infos, stamps)


@pytest.mark.parametrize(
    "text",
    ["a.mp3", "audio/a.mp3", "audio/deep/a.mp3", "/abs.mp3", "/abs/a.mp3", "./a.mp3", "audio/./a.mp3", "audio//a.mp3",
     "../a.mp3", "audio/..", "audio/.", "audio/", "a b/é.mp3"],
)  # fmt: skip
def test_a_show_path_is_the_path_a_parse_makes(text: str) -> None:
    # Made as a child of its folder's path: whatever the name, the very path ``/`` makes.
    root = Path("/show")
    folders: dict[str, Path] = {}
    for _ in range(2):
        made, plain = releases._show_path(root, text, folders), root / text
        assert (type(made), str(made), made.parts, hash(made), made) == (
            type(plain),
            str(plain),
            plain.parts,
            hash(plain),
            plain,
        )
