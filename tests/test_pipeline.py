"""The orchestrator: each stage runs once per command, and check reports exactly what publish refuses."""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from check_fixtures import NOW, episode_path, make_clean_show, replace_in, write_artwork
from entretiens import checks, feedlint, files, loading, output, pipeline, releases, unitcache
from entretiens.check import check_show
from entretiens.errors import ConfigError, EntretiensError, Problem, ProblemsError
from entretiens.publish import publish

#: Every stage, by the module attribute the orchestrator calls it through.
STAGES = (
    (loading, "load_project"),
    (releases, "probe_each"),
    (releases, "prepare"),
    (checks, "show_checks"),
    (files, "build_files"),
    (feedlint, "lint_feed"),
    (output, "write_tree"),
)


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How many times each stage was called."""
    counted: Counter[str] = Counter()
    for module, name in STAGES:
        original = getattr(module, name)

        def counting(
            *args: object, _name: str = name, _original: Callable[..., object] = original, **kw: object
        ) -> object:
            counted[_name] += 1
            return _original(*args, **kw)

        monkeypatch.setattr(module, name, counting)
    return counted


def _broken_show(root: Path) -> Path:
    """A show of three episodes, two of them in error in different stages (audio, chapters)."""
    make_clean_show(root, episodes=3)
    (root / "audio" / "001-jeanne.mp3").write_bytes(b"not audio at all\n" * 64)
    replace_in(episode_path(root, 2), '"00:05"', '"00:50"')
    return root


def test_check_runs_each_stage_once_even_with_errors_in_several_episodes(tmp_path: Path, calls: Counter[str]) -> None:
    root = _broken_show(tmp_path / "show")
    report = check_show(root, now=NOW)
    assert {p.rule for p in report.problems if p.severity == "error"} == {"audio-invalid", "chapter-after-end"}
    # The third, healthy episode is still built into a feed and validated.
    assert report.feed_episodes == 1
    assert calls == Counter({name: 1 for _, name in STAGES if name != "write_tree"})


def test_publish_runs_each_stage_once(tmp_path: Path, calls: Counter[str]) -> None:
    root = make_clean_show(tmp_path / "show", episodes=3)
    result = publish(root, tmp_path / "out", now=NOW)
    assert len(result.releases) == 3
    assert calls == Counter({name: 1 for _, name in STAGES})


def test_publish_refuses_a_broken_show_after_one_pass_writing_nothing(tmp_path: Path, calls: Counter[str]) -> None:
    root = _broken_show(tmp_path / "show")
    with pytest.raises(ProblemsError):
        publish(root, tmp_path / "out", now=NOW)
    assert calls == Counter({name: 1 for _, name in STAGES if name != "write_tree"})
    assert not (tmp_path / "out").exists()
    assert not (root / "published.yaml").exists()


def _key(problem: Problem) -> tuple[str, str, str, int, str, str]:
    return (problem.rule, problem.severity, str(problem.path), problem.line or 0, problem.field or "", problem.message)


def _plant_in_loader(root: Path) -> None:
    replace_in(root / "feed.yaml", "language: fr", "language: fr\nlangage: fr")


def _plant_in_stages(root: Path) -> None:
    _broken_show(root)


def _plant_in_rules(root: Path) -> None:
    replace_in(episode_path(root, 1), "number: 1", "number: 2")


def _plant_nothing_to_publish(root: Path) -> None:
    for number in (1, 2):
        replace_in(episode_path(root, number), "number:", "draft: true\nnumber:")


@pytest.mark.parametrize("plant", [_plant_in_loader, _plant_in_stages, _plant_in_rules, _plant_nothing_to_publish])
def test_what_check_reports_is_exactly_what_publish_refuses(tmp_path: Path, plant: Callable[[Path], None]) -> None:
    root = tmp_path / "show"
    if plant is not _plant_in_stages:
        make_clean_show(root)
    plant(root)
    report = check_show(root, now=NOW)
    assert report.count("error")
    with pytest.raises(ProblemsError) as caught:
        publish(root, now=NOW)
    assert sorted(map(_key, caught.value.problems)) == sorted(map(_key, report.problems))
    assert not (root / "public").exists()


def test_a_show_that_cannot_be_loaded_is_refused_as_a_config_error(tmp_path: Path) -> None:
    root = make_clean_show(tmp_path / "show")
    _plant_in_loader(root)
    with pytest.raises(ConfigError):
        publish(root, now=NOW)


def test_a_build_with_errors_cannot_be_committed(tmp_path: Path) -> None:
    root = _broken_show(tmp_path / "show")
    built = pipeline.build(root, now=NOW)
    assert built.errors
    assert built.files, "the healthy episode is still built"
    with pytest.raises(EntretiensError, match="cannot be written"):
        pipeline.commit(built, tmp_path / "out", pin_guids=True)
    assert not (tmp_path / "out").exists()


def test_two_files_at_one_path_are_a_build_error_that_check_and_publish_report(tmp_path: Path) -> None:
    root = make_clean_show(tmp_path / "show")
    # The pages' own small copy of the artwork is published at assets/artwork.jpg.
    write_artwork(root / "assets" / "artwork.jpg", image_format="JPEG")
    replace_in(root / "feed.yaml", "image: artwork.png", "image: assets/artwork.jpg")
    (problem,) = check_show(root, now=NOW).problems
    assert (problem.rule, problem.severity) == ("build-error", "error")
    assert problem.message == "two different files would be published as assets/artwork.jpg; rename one of them"
    with pytest.raises(ProblemsError) as caught:
        publish(root, now=NOW)
    assert caught.value.problems == (problem,)


def test_commit_without_pinning_leaves_published_yaml_alone(tmp_path: Path) -> None:
    root = make_clean_show(tmp_path / "show")
    built = pipeline.build(root, now=NOW)
    written = pipeline.commit(built, tmp_path / "out", pin_guids=False)
    assert written.report.changed
    assert not written.state_written
    assert not (root / "published.yaml").exists()
    assert (tmp_path / "out" / "feed.xml").is_file()


def test_a_commit_writes_with_the_build_set_aside_from_the_collector(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each full collection during the write went over every object of the build (a third of
    # the commit at 1,000 episodes): they are frozen while it writes, and handed back after.
    root = make_clean_show(tmp_path / "show")
    built = pipeline.build(root, now=NOW)
    frozen: list[int] = []
    write = output.write_tree

    def watched(*args: object, **kwargs: object) -> output.WriteReport:
        frozen.append(gc.get_freeze_count())
        return write(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(output, "write_tree", watched)
    assert gc.get_freeze_count() == 0
    pipeline.commit(built, tmp_path / "out", pin_guids=False)
    assert frozen[0] > 0 and gc.get_freeze_count() == 0  # none kept frozen (a long serve)
    # Frozen by someone else before: left frozen.
    gc.freeze()
    try:
        pipeline.commit(built, tmp_path / "out", pin_guids=False)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_an_episodes_checks_are_asked_for_with_the_collector_off_and_read_with_it_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The requests and the problems read back (a few containers an episode) set off full passes
    # of the collector over the whole build; the units are read with it on (the cache may fork).
    root = make_clean_show(tmp_path / "show")
    pipeline.build(root, now=NOW)
    seen: list[tuple[str, bool]] = []
    request, checked = pipeline._checks_request, checks.EpisodeChecks
    get_many = unitcache.Units.get_many

    def watched_request(*args: Any, **kwargs: Any) -> Any:
        seen.append(("request", gc.isenabled()))
        return request(*args, **kwargs)

    def watched_checked(*args: Any, **kwargs: Any) -> Any:
        seen.append(("read", gc.isenabled()))
        return checked(*args, **kwargs)

    def watched_get_many(units: Any, requests: Any) -> Any:
        seen.append(("units", gc.isenabled()))
        return get_many(units, requests)

    monkeypatch.setattr(pipeline, "_checks_request", watched_request)
    monkeypatch.setattr(checks, "EpisodeChecks", watched_checked)
    monkeypatch.setattr(unitcache.Units, "get_many", watched_get_many)
    assert not pipeline.build(root, now=NOW).errors
    assert set(seen) == {("request", False), ("read", False), ("units", True)}
    assert gc.isenabled()
