"""The cycle collector is paused while a show's caches are read back, and only then."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from entretiens import audio, gcpause, releases
from entretiens.loading import load_project
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
        patched.setattr(gcpause, "paused", contextlib.nullcontext)
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
