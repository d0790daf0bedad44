"""Probing on every core: a pool of workers gives exactly what measuring in one process gives."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

import showbuilder
from audiogen import write_m4a, write_mp3, write_ogg_vorbis, write_opus, write_wav
from entretiens import audio, releases, walks
from entretiens.errors import Problem
from entretiens.loading import load_project
from entretiens.model import AudioInfo

#: The mixed show: every container the probe reads, and two files that are no audio.
AUDIO = {
    "001-mp3": "audio/001.mp3",
    "002-vbr": "audio/002.mp3",
    "003-m4a": "audio/003.m4a",
    "004-vorbis": "audio/004.ogg",
    "005-opus": "audio/005.opus",
    "006-wav": "audio/006.wav",
    "007-broken": "audio/007.mp3",
    "008-empty": "audio/008.mp3",
}


def _write_audio(root: Path) -> None:
    folder = root / "audio"
    folder.mkdir(parents=True)
    write_mp3(folder / "001.mp3", seconds=2, xing="info", id3=True)
    write_mp3(folder / "002.mp3", seconds=3, vbr=True)
    write_m4a(folder / "003.m4a", 2)
    write_ogg_vorbis(folder / "004.ogg", 2)
    write_opus(folder / "005.opus", 2)
    write_wav(folder / "006.wav", 2)
    (folder / "007.mp3").write_text("<html>not found</html>", encoding="utf-8")
    (folder / "008.mp3").write_bytes(b"")


@pytest.fixture(scope="module")
def show(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("pool") / "show"
    _write_audio(root)
    episodes = {
        slug: showbuilder.episode(index, audio=name) for index, (slug, name) in enumerate(AUDIO.items(), start=1)
    }
    made = showbuilder.make_show(root, episodes, seconds=0)
    # The audio settled (walks.settled), as a show's has by the time a build measures it: the
    # probe cache keeps no measure of a file changed within a timestamp tick of its read.
    stamps = [(s.st_size, s.st_mtime_ns, s.st_ctime_ns, s.st_ino) for s in map(os.stat, (root / "audio").iterdir())]
    while not all(walks.settled(stamp, time.time_ns()) for stamp in stamps):
        time.sleep(0.01)
    return made


Run = tuple[dict[str, AudioInfo], list[Problem], list[tuple[int, int, str]], bytes]


def _run(root: Path, **options: Any) -> Run:
    """probe_each on a cold cache: its results, problems, progress calls and the cache it wrote."""
    store = root / releases.CACHE_DIR / "probe.json"
    store.unlink(missing_ok=True)
    project = load_project(root)
    calls: list[tuple[int, int, str]] = []
    results, problems = releases.probe_each(
        project, list(project.episodes), progress=lambda *call: calls.append(call), **options
    )
    return results, problems, calls, store.read_bytes()


def _count_unpacked(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The files whose workers' answers are unpacked from now on: the ones the pool measured."""
    unpacked: list[Path] = []
    unpack = audio._unpack

    def counted(path: Path, answer: Any) -> audio.Measured:
        unpacked.append(path)
        return unpack(path, answer)

    monkeypatch.setattr(audio, "_unpack", counted)
    return unpacked


def test_a_pool_gives_what_one_process_gives(show: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    alone = _run(show, workers=1)
    unpacked = _count_unpacked(monkeypatch)
    pooled = _run(show, workers=2)
    # Every file named once went through the workers: the pool really measured them.
    assert sorted(unpacked) == sorted(show / name for name in AUDIO.values())
    assert pooled == alone
    results, problems, calls, _ = alone
    assert set(results) == set(AUDIO) - {"007-broken", "008-empty"}
    assert {r.codec for r in results.values()} >= {"MP3", "AAC", "Vorbis", "Opus", "PCM"}
    assert [(p.path.name if p.path else "", p.message.split(":")[0]) for p in problems] == [
        ("007-broken.yaml", "audio/007.mp3"),
        ("008-empty.yaml", "audio/008.mp3"),
    ]
    assert [call[0] for call in calls] == list(range(1, len(AUDIO) + 1))


def test_a_second_run_is_answered_by_the_cache(show: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    results, problems, _, _ = _run(show, workers=2)
    measure = audio.measure

    def only_the_broken(path: Path) -> tuple[AudioInfo, os.stat_result]:
        # Failures are not cached: those two files are measured again, and only they.
        assert path.name in ("007.mp3", "008.mp3"), f"{path} was measured again"
        return measure(path)

    monkeypatch.setattr(audio, "measure", only_the_broken)
    project = load_project(show)
    assert releases.probe_each(project, list(project.episodes), workers=2) == (results, problems)


@pytest.mark.parametrize("workers", [1, 2])
def test_audio_changed_within_a_tick_of_its_read_is_measured_but_not_kept(
    show: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    settled = _run(show, workers=1)[:2]
    # Every file of the show changed within a tick of its read (a tick longer than the test).
    monkeypatch.setattr(walks, "FINE_RACY_NS", 10**18)
    monkeypatch.setattr(walks, "RACY_NS", 10**18)
    unpacked = _count_unpacked(monkeypatch)
    store = show / releases.CACHE_DIR / "probe.json"
    store.unlink(missing_ok=True)
    project = load_project(show)
    named: list[tuple[AudioInfo, str]] = []
    # Used for this build, as measured...
    assert releases.probe_each(project, list(project.episodes), workers=workers, named=named) == settled
    assert bool(unpacked) == (workers > 1)
    # ... but neither kept nor named (its units key on its values: its stamp may come back with
    # other bytes).
    assert named == []
    assert not store.exists() or not json.loads(store.read_bytes().rpartition(b"\n")[0])["entries"]
    monkeypatch.undo()
    assert releases.probe_each(project, list(project.episodes), workers=workers, named=named) == settled
    assert len(named) == len(settled[0])
    assert releases.probe_each(load_project(show), list(project.episodes), workers=workers) == settled


def test_a_worker_that_dies_leaves_its_files_to_this_process(show: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    alone = _run(show, workers=1)
    parent, measure = os.getpid(), audio.measure

    def dies_on_vorbis(path: Path) -> tuple[AudioInfo, os.stat_result]:
        if path.suffix == ".ogg" and os.getpid() != parent:
            os._exit(3)  # A worker killed (out of memory, a signal) while it measures.
        return measure(path)

    # Forked workers inherit the patched module; other start methods measure normally.
    monkeypatch.setattr(audio, "measure", dies_on_vorbis)
    assert _run(show, workers=2) == alone


def test_small_shows_are_measured_in_this_process() -> None:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    assert audio.pool_size(0, 0) == audio.pool_size(1, 10**12) == 1
    assert audio.pool_size(audio.POOL_MIN_FILES - 1, audio.POOL_MIN_BYTES - 1) == 1
    assert audio.pool_size(audio.POOL_MIN_FILES, 0) == min(cores, audio.POOL_MAX_WORKERS)
    assert audio.pool_size(3, audio.POOL_MIN_BYTES) == min(cores, 3)
    assert audio.pool_size(10**5, 0) <= audio.POOL_MAX_WORKERS


def test_the_default_keeps_a_small_show_in_this_process(show: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    alone = _run(show, workers=1)

    def no_pool(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a pool was started for a few small files")

    monkeypatch.setattr(audio, "ProcessPoolExecutor", no_pool)
    assert _run(show) == alone
