"""The cycle collector is paused while a show's caches are read back, and only then; a build holds
the loaded show out of its passes and hands it back when it ends."""

from __future__ import annotations

import contextlib
import gc
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from entretiens import audio, files, gcpause, loading, pipeline, releases
from entretiens.loading import load_project
from entretiens.model import Project
from entretiens.publish import publish
from sampleshow import SAMPLE_NOW, copy_sample_show


@pytest.fixture
def collections() -> Iterator[list[int]]:
    """The generations the collector runs on, with a run at every new container."""
    runs: list[int] = []

    def counted(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            runs.append(info["generation"])

    threshold = gc.get_threshold()
    gc.callbacks.append(counted)
    gc.set_threshold(1)
    try:
        yield runs
    finally:
        gc.set_threshold(*threshold)
        gc.callbacks.remove(counted)


def test_loading_a_show_runs_next_to_no_collection_and_resumes_after(
    tmp_path: Path, collections: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = copy_sample_show(tmp_path / "show")
    publish(root, now=SAMPLE_NOW)
    load_project(root)
    collections.clear()
    project = load_project(root)
    paused = len(collections)
    assert gc.isenabled()
    with monkeypatch.context() as patched:
        patched.setattr(gcpause, "paused", lambda **_: contextlib.nullcontext())
        collections.clear()
        assert load_project(root) == project
    # A run at every new container otherwise (thousands); a few left around the pause.
    assert paused * 20 < len(collections)


def test_the_probe_cache_is_read_back_paused_and_measuring_is_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = copy_sample_show(tmp_path / "show")
    publish(root, now=SAMPLE_NOW)
    project = load_project(root)
    seen: list[tuple[str, bool]] = []
    original_get = audio.ProbeCache.get_checked

    def get_checked(cache: audio.ProbeCache, path: Path, *, real: bool = False) -> object:
        seen.append(("cache", gc.isenabled()))
        return original_get(cache, path, real=real)

    original_measure = audio.measure_each

    def measure_each(paths: list[Path], *, workers: int = 1) -> Iterator[audio.Measured]:
        seen.append(("measure", gc.isenabled()))
        yield from original_measure(paths, workers=workers)

    monkeypatch.setattr(audio.ProbeCache, "get_checked", get_checked)
    monkeypatch.setattr(audio, "measure_each", measure_each)
    (root / project.episodes[0].audio).touch()  # one file to measure again
    infos, problems = releases.probe_each(project, list(project.episodes))
    assert problems == [] and len(infos) == len(project.episodes)
    assert ("cache", False) in seen and ("cache", True) not in seen
    assert ("measure", True) in seen and ("measure", False) not in seen
    assert gc.isenabled()


def test_a_callers_pause_holds() -> None:
    gc.disable()
    try:
        with gcpause.paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
    with gcpause.paused():
        assert not gc.isenabled()
    assert gc.isenabled()


class _Knot:
    """A cycle: only the collector frees it."""

    def __init__(self) -> None:
        self.me = self


def test_a_build_holds_the_loaded_show_out_of_the_collector_and_hands_it_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = copy_sample_show(tmp_path / "show")
    publish(root, now=SAMPLE_NOW)
    knots: list[weakref.ref[_Knot]] = []
    seen: list[tuple[int, bool]] = []
    original_load, original_probe = loading.load_project, releases.probe_each

    def load_project(*args: Any, **kwargs: Any) -> Project:
        # Garbage with a cycle, alive when the show is loaded (as a serve build's can be).
        knots.append(weakref.ref(_Knot()))
        return original_load(*args, **kwargs)

    def probe_each(*args: Any, **kwargs: Any) -> Any:
        gc.collect()
        seen.append((gc.get_freeze_count(), knots[-1]() is not None))
        return original_probe(*args, **kwargs)

    monkeypatch.setattr(loading, "load_project", load_project)
    monkeypatch.setattr(releases, "probe_each", probe_each)
    assert gc.get_freeze_count() == 0
    for _ in range(2):  # serve builds again and again in one process
        built = pipeline.build(root, now=SAMPLE_NOW)
        assert not built.errors
        assert gc.get_freeze_count() == 0
        gc.collect()
        assert knots[-1]() is None
    # Held during the build: frozen, a full pass did not free the knot.
    assert all(count > 1000 and alive for count, alive in seen) and len(seen) == 2


def test_a_failed_build_hands_the_show_back_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = copy_sample_show(tmp_path / "show")
    seen: list[int] = []

    def prepare(*args: Any, **kwargs: Any) -> Any:
        seen.append(gc.get_freeze_count())
        raise RuntimeError("a bug")

    monkeypatch.setattr(releases, "prepare", prepare)
    with pytest.raises(RuntimeError):
        pipeline.build(root, now=SAMPLE_NOW)
    assert seen[0] > 1000
    assert gc.get_freeze_count() == 0


def test_a_callers_freeze_is_left_alone(tmp_path: Path) -> None:
    root = copy_sample_show(tmp_path / "show")
    knot = weakref.ref(_Knot())
    gc.freeze()
    try:
        pipeline.build(root, now=SAMPLE_NOW)
        gc.collect()
        assert knot() is not None and gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
    gc.collect()
    assert knot() is None
    gcpause.hold()  # outside a build: nothing
    assert gc.get_freeze_count() == 0


def test_each_stage_adds_what_it_made_and_a_publish_holds_it_through_the_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = copy_sample_show(tmp_path / "show")
    knots: list[weakref.ref[_Knot]] = []
    seen: list[tuple[str, int, bool]] = []
    original_probe, original_build, original_commit = releases.probe_each, files.build_files, pipeline.commit

    def probe_each(*args: Any, **kwargs: Any) -> Any:
        knots.append(weakref.ref(_Knot()))  # made after the show was held
        return original_probe(*args, **kwargs)

    def build_files(*args: Any, **kwargs: Any) -> Any:
        gc.collect()
        seen.append(("files", gc.get_freeze_count(), knots[-1]() is not None))
        return original_build(*args, **kwargs)

    def commit(*args: Any, **kwargs: Any) -> Any:
        gc.collect()
        seen.append(("commit", gc.get_freeze_count(), knots[-1]() is not None))
        return original_commit(*args, **kwargs)

    monkeypatch.setattr(releases, "probe_each", probe_each)
    monkeypatch.setattr(files, "build_files", build_files)
    monkeypatch.setattr(pipeline, "commit", commit)
    publish(root, now=SAMPLE_NOW)
    assert gc.get_freeze_count() == 0
    gc.collect()
    assert knots[-1]() is None
    # Held by the hold after prepare, and still at the commit, after the build returned.
    assert [(stage, alive) for stage, _count, alive in seen] == [("files", True), ("commit", True)]
    assert seen[1][1] > seen[0][1] > 1000


def test_the_loaded_show_and_its_measures_are_held_as_their_pause_ends_in_a_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Held before the collector is back: else its first pass walks all they made (the
    youngest generation, ~45 ms after loading 10,000 episodes)."""
    root = copy_sample_show(tmp_path / "show")
    publish(root, now=SAMPLE_NOW)
    seen: list[tuple[bool, bool]] = []
    cached: list[object] = []  # the measures read back from the probe cache
    original_get = audio.ProbeCache.get_checked

    def get_checked(cache: audio.ProbeCache, path: Path, *, real: bool = False) -> object:
        found = original_get(cache, path, real=real)
        if found is not None:
            cached.append(found[0])
        return found

    monkeypatch.setattr(audio.ProbeCache, "get_checked", get_checked)

    def held(value: object) -> bool:
        # The collector's generations list all it tracks but what is frozen.
        return gc.is_tracked(value) and not any(value is other for other in gc.get_objects())

    @gcpause.thawed
    def build() -> None:
        project = load_project(root)
        loaded = held(project.episodes[-1])
        releases.probe_each(project, list(project.episodes))
        seen.append((loaded, bool(cached) and all(held(info) for info in cached)))

    build()
    assert seen == [(True, True)]
    assert gc.get_freeze_count() == 0
    project = load_project(root)  # outside a build: nothing held
    assert gc.get_freeze_count() == 0 and not held(project.episodes[-1])
