"""The build record: an unchanged show is answered at once, and any change is built as before."""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from entretiens import buildrecord, inplace, pipeline, walks
from entretiens.cli import cli
from showbuilder import episode, make_show, publish_in_fresh_interpreter, tree, write_yaml


def _publish(root: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["publish", "--show", str(root), *args])
    return result.exit_code, result.output


def _unchanged(root: Path, **options: object) -> buildrecord.Summary | None:
    return buildrecord.unchanged(root, None, **options)  # type: ignore[arg-type]


#: What an unchanged publish never imports: the stages, and the libraries only they need.
_HEAVY = {"entretiens.pipeline", "yaml", "jinja2", "lxml", "PIL", "requests", "mutagen", "markdown_it", "feedgen"}


def _age(root: Path) -> Path:
    """Date the show's files 10 s back: a file changed in the last 2 s before a build makes its
    record untrusted (its next change could keep the same timestamp)."""
    for path in root.rglob("*"):
        if path.is_file():
            stat = path.stat()
            os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns - 10_000_000_000))
    return root


@pytest.fixture
def show(tmp_path: Path) -> Path:
    root = _age(make_show(tmp_path / "show"))
    assert _publish(root)[0] == 0
    return root


def _count_waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The waits of :func:`buildrecord.settle`, in seconds (really waited)."""
    waits: list[float] = []
    sleep = buildrecord._sleep

    def counted(seconds: float) -> None:
        waits.append(seconds)
        sleep(seconds)

    monkeypatch.setattr(buildrecord, "_sleep", counted)
    return waits


def _count_builds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """When each build began (ns, the clock of file times), from now on (the real build runs)."""
    started: list[int] = []
    build = pipeline.build

    def counted(*args: Any, **kwargs: Any) -> pipeline.Build:
        started.append(time.time_ns())
        return build(*args, **kwargs)

    monkeypatch.setattr(pipeline, "build", counted)
    return started


def _recorded(root: Path) -> tuple[buildrecord.Stats, int, list[str]]:
    document = json.loads((root / buildrecord.RECORD).read_text(encoding="utf-8"))
    inputs = {name: tuple(stamp) for name, stamp in document["inputs"].items()}
    return inputs, document["taken_ns"], document["own"]


def test_a_file_saved_just_before_the_build_is_waited_for_then_trusted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_show(tmp_path / "show")
    waits, builds = _count_waits(monkeypatch), _count_builds(monkeypatch)
    assert _publish(root)[0] == 0
    # The show's files are younger than a tick: the same stamp could still hide a second change.
    # The publish waits the tick out (once, at most 0.1 s) before the build reads any of them.
    assert len(waits) == 1 and 0 < waits[0] <= walks.FINE_RACY_NS / 1e9
    inputs, taken, own = _recorded(root)
    assert inputs and not buildrecord.racy(inputs, taken, own)
    # Every stamp recorded had settled when the build began: it proves the bytes the build read.
    # (published.yaml, written by the publish itself after its build, is recorded as it left it.)
    read = [stamp for name, stamp in inputs.items() if name not in own]
    assert len(builds) == 1 and all(walks.settled(stamp, builds[0]) for stamp in read)
    assert taken <= builds[0]
    # So the next publish is answered from the record: nothing is built.
    assert _unchanged(root) is not None
    code, output = _publish(root)
    assert code == 0 and "Up to date" in output and len(builds) == 1


def test_the_publish_after_an_edit_saved_just_before_builds_nothing(
    show: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    waits, builds = _count_waits(monkeypatch), _count_builds(monkeypatch)
    _edit(show, notes="Edited notes.")  # saved just now: the publish comes within the tick
    code, output = _publish(show)
    assert code == 0 and "Published 2 episodes" in output
    assert len(waits) == 1 and len(builds) == 1
    # Before, this publish built the whole show again (6.8 s at 10,000 episodes) to find nothing.
    code, output = _publish(show)
    assert code == 0 and "Up to date" in output and len(builds) == 1
    # What it kept is what a cold build of the show as it is now publishes, in a fresh folder.
    fresh = tmp_path / "fresh"
    shutil.copytree(show, fresh, ignore=shutil.ignore_patterns(".entretiens", "public"))
    assert _publish(fresh)[0] == 0
    assert _bytes(fresh / "public") == _bytes(show / "public")


def _bytes(folder: Path) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in folder.rglob("*") if path.is_file()}


def test_a_change_during_the_wait_is_what_is_recorded(show: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A second save while the publish waits (the same size, its mtime put back): the new stamp
    # is taken after the wait, so the record names the bytes the build read.
    path = show / "episodes" / "001-first.yaml"
    _edit(show, notes="First notes.")
    sleep = buildrecord._sleep

    def save_again(seconds: float) -> None:
        status = path.stat()
        path.write_text(path.read_text(encoding="utf-8").replace("First", "Other"), encoding="utf-8")
        os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns))
        assert path.stat().st_size == status.st_size
        sleep(seconds)

    monkeypatch.setattr(buildrecord, "_sleep", save_again)
    assert _publish(show)[0] == 0
    assert b"Other notes." in (show / "public" / "feed.xml").read_bytes()
    inputs, _taken, _own = _recorded(show)
    status = path.stat()
    assert inputs["episodes/001-first.yaml"] == (status.st_size, status.st_mtime_ns, status.st_ctime_ns, status.st_ino)


def test_a_file_dated_ahead_of_the_clock_is_not_waited_for(show: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # It would not settle by waiting (a copy from a machine whose clock runs ahead): the publish
    # goes on at once, its record untrusted (the next publish builds again, as before).
    waits, builds = _count_waits(monkeypatch), _count_builds(monkeypatch)
    path = show / "episodes" / "001-first.yaml"
    _edit(show, notes="Ahead.")
    ahead = time.time_ns() + 3600 * 10**9
    os.utime(path, ns=(ahead, ahead))
    assert _publish(show)[0] == 0 and waits == [] and len(builds) == 1
    assert _unchanged(show) is None


def test_a_stamp_that_had_not_settled_is_never_trusted(show: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Not waited for (a coarse file system's tick, or a save during the wait): the record is
    # not trusted. A change within the tick keeps the whole stamp (faked here, as such a
    # change leaves it): the same size, the mtime put back even to an old time, other bytes.
    monkeypatch.setattr(buildrecord, "_sleep", lambda seconds: None)
    monkeypatch.setattr(buildrecord, "now_ns", lambda: time.time_ns() - walks.RACY_NS)
    path = show / "episodes" / "001-first.yaml"
    _edit(show, notes="First notes.")
    assert _publish(show)[0] == 0
    monkeypatch.undo()
    status = path.stat()
    path.write_text(path.read_text(encoding="utf-8").replace("First", "Other"), encoding="utf-8")
    os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns - 10_000_000_000))
    document = json.loads((show / buildrecord.RECORD).read_text(encoding="utf-8"))
    now = path.stat()
    document["inputs"]["episodes/001-first.yaml"] = [now.st_size, now.st_mtime_ns, now.st_ctime_ns, now.st_ino]
    (show / buildrecord.RECORD).write_text(json.dumps(document), encoding="utf-8")
    assert _unchanged(show) is None
    builds = _count_builds(monkeypatch)
    assert _publish(show)[0] == 0 and len(builds) == 1
    assert b"Other notes." in (show / "public" / "feed.xml").read_bytes()


def test_an_unchanged_show_is_answered_from_the_record_without_the_stages(show: Path) -> None:
    before = tree(show / "public")
    # A fresh interpreter, as a user runs it: the stages are not even imported.
    imported, printed = publish_in_fresh_interpreter(show, _HEAVY)
    # A module named: something in cli/ (or what it imports) imports it at its top; import it
    # inside the command that needs it (Python's start-up is most of an unchanged publish).
    assert imported == []
    assert "Up to date: 2 episodes" in printed
    assert tree(show / "public") == before


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda root: _edit(root, notes="Edited."), id="episode-edited"),
        pytest.param(lambda root: make_show(root, {"003-third": episode(3)}), id="episode-added"),
        pytest.param(lambda root: (root / "public" / "feed.xml").unlink(), id="output-file-removed"),
        pytest.param(lambda root: (root / "public" / "stray.txt").write_text("x"), id="output-file-added"),
        pytest.param(lambda root: (root / ".entretiens" / "build.json").write_text("{"), id="record-corrupt"),
    ],
)
def test_any_change_is_built(show: Path, change: object) -> None:
    change(show)  # type: ignore[operator]
    assert _unchanged(show) is None
    assert _publish(show)[0] == 0
    assert (show / "public" / "feed.xml").is_file() and not (show / "public" / "stray.txt").exists()
    # A new record (not trusted yet where a file just changed: see the racy test above).
    assert (show / buildrecord.RECORD).is_file()


def test_an_edit_is_published(show: Path) -> None:
    _edit(show, notes="Edited notes.")
    code, output = _publish(show)
    assert code == 0 and "Published 2 episodes" in output
    assert b"Edited notes." in (show / "public" / "feed.xml").read_bytes()


def _edit(root: Path, **changes: object) -> None:
    path = root / "episodes" / "001-first.yaml"
    write_yaml(path, {**yaml.safe_load(path.read_text(encoding="utf-8")), **changes})
    # Same second: the record compares nanoseconds and sizes, not seconds.
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))


def test_other_options_are_another_build(show: Path) -> None:
    assert _unchanged(show, include_future=True) is None
    assert _unchanged(show, tag_audio=False) is None
    assert buildrecord.unchanged(show, show.parent / "elsewhere") is None


def test_a_scheduled_episode_coming_out_ends_the_record(tmp_path: Path) -> None:
    soon = datetime.now(timezone.utc) + timedelta(hours=1)
    root = _age(make_show(tmp_path / "show", {"001-first": episode(1), "002-later": episode(2, date=soon.isoformat())}))
    code, output = _publish(root)
    assert code == 0 and "1 scheduled" in output
    options = buildrecord.options(root / "public", include_future=False, tag_audio=None)
    assert buildrecord.up_to_date(root, root / "public", options=options, now=soon - timedelta(minutes=1))
    assert buildrecord.up_to_date(root, root / "public", options=options, now=soon) is None


def test_a_clock_moved_back_before_an_episode_came_out_ends_the_record(show: Path) -> None:
    # Set right by NTP, a machine restored: a cold build at that moment leaves the episode out
    # (scheduled again), so the record of the output that holds it no longer holds (s10-review R3).
    options = buildrecord.options(show / "public", include_future=False, tag_audio=None)
    record = json.loads((show / buildrecord.RECORD).read_text(encoding="utf-8"))
    latest = datetime.fromisoformat("2024-03-02T10:00:00+01:00")  # episode 2, the latest out
    assert datetime.fromisoformat(record["valid_from"]) == latest
    assert buildrecord.up_to_date(show, show / "public", options=options, now=datetime.now(timezone.utc))
    assert buildrecord.up_to_date(show, show / "public", options=options, now=latest)
    assert buildrecord.up_to_date(show, show / "public", options=options, now=latest - timedelta(seconds=1)) is None
    # Published with --include-future, every episode is out whatever the clock says.
    assert _publish(show, "--include-future")[0] == 0
    record = json.loads((show / buildrecord.RECORD).read_text(encoding="utf-8"))
    assert record["valid_from"] is None


def test_warnings_are_repeated_and_strict_still_fails(tmp_path: Path) -> None:
    root = _age(make_show(tmp_path / "show", {"001-first": episode(1, summary=None)}))
    code, first = _publish(root)
    assert code == 0 and "Warning" in first
    code, second = _publish(root)
    assert code == 0 and "Up to date" in second
    assert sorted(line for line in second.splitlines() if line.startswith("Warning")) == sorted(
        line for line in first.splitlines() if line.startswith("Warning")
    )
    assert _publish(root, "--strict")[0] != 0


def test_a_failed_publish_forgets_the_record(show: Path) -> None:
    _edit(show, title="")
    assert _publish(show)[0] != 0
    assert not (show / buildrecord.RECORD).exists()


def _count_walks(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The folders walked from now on, in order (the real walk still runs)."""
    walked: list[Path] = []
    walk, rewalk = walks._walk, walks._rewalk

    def counted(top: Path, **kwargs: Any) -> buildrecord.Stats:
        walked.append(top)
        return walk(top, **kwargs)

    def recounted(top: Path, *args: Any) -> buildrecord.Stats:
        walked.append(top)  # the output's walk from its ledger
        return rewalk(top, *args)

    monkeypatch.setattr(walks, "_walk", counted)
    monkeypatch.setattr(walks, "_rewalk", recounted)
    return walked


@pytest.mark.parametrize("in_place", [True, False], ids=["in place", "staged"])
def test_an_edit_walks_the_show_once_and_records_that_walk(
    show: Path, monkeypatch: pytest.MonkeyPatch, in_place: bool
) -> None:
    # The check before the build walks the inputs (an edit is found there, before the outputs)
    # and the publish records that walk: the show once, the output once (before writing), not 4.
    # Written in place (a few files of a large output), the output's record is made from that
    # walk and what was written; a staged output is all new files, walked again.
    if in_place:
        monkeypatch.setattr(inplace, "MIN_FILES", 1)
        monkeypatch.setattr(inplace, "SHARE", 1)
    _edit(show, notes="Edited notes.")
    walked = _count_walks(monkeypatch)
    code, output = _publish(show)
    assert code == 0 and "Published 2 episodes" in output
    public = (show / "public").resolve()
    assert walked == [show.resolve(), public] if in_place else [show.resolve(), public, public]
    # What it recorded is what a walk after the build finds: the edit is in it.
    record = json.loads((show / buildrecord.RECORD).read_text(encoding="utf-8"))
    assert record["inputs"] == {k: list(v) for k, v in buildrecord.inputs(show.resolve(), show / "public").items()}
    kept = buildrecord.kept(show.resolve(), show / "public")
    assert kept is not None and kept.stats == buildrecord.outputs(public)


def test_an_unchanged_show_walks_the_show_and_checks_the_output_once(
    show: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The show is walked; the output is checked against its recorded stamps (walks.holds:
    # each entry stamped by its path, only the folders whose stamp had not settled listed).
    walked = _count_walks(monkeypatch)
    held: list[Path] = []
    holds = walks.holds

    def counted(out_dir: Path, known: Any, since: int | None) -> bool:
        held.append(out_dir)
        return holds(out_dir, known, since)

    monkeypatch.setattr(walks, "holds", counted)
    code, output = _publish(show)
    assert code == 0 and "Up to date" in output
    assert walked == [show.resolve()]
    assert held == [show.resolve() / "public"]


def _count_package_walks(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    walked: list[Path] = []
    scan = buildrecord._scan_tree

    def counted(folder: Path) -> list[os.DirEntry[str]]:
        walked.append(folder)
        return scan(folder)

    monkeypatch.setattr(buildrecord, "_scan_tree", counted)
    return walked


def test_an_edit_walks_the_package_once(show: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The check, the caches of the build (units, YAML, templates) and the record each asked
    # for the code: the package was walked five times for one publish.
    _edit(show, notes="Edited notes.")
    walked = _count_package_walks(monkeypatch)
    code, output = _publish(show)
    assert code == 0 and "Published 2 episodes" in output
    assert walked == [buildrecord._PACKAGE]
    record = json.loads((show / buildrecord.RECORD).read_text(encoding="utf-8"))
    assert record["code"] == buildrecord.code()
    # And an unchanged show is then answered from the record.
    assert "Up to date" in _publish(show)[1]


def test_the_code_is_taken_once_per_command_and_anew_for_the_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "package"
    package.mkdir()
    (package / "stage.py").write_text("x = 1\n", encoding="utf-8")
    monkeypatch.setattr(buildrecord, "_PACKAGE", package)
    walked = _count_package_walks(monkeypatch)

    def touch() -> None:
        stat = (package / "stage.py").stat()
        os.utime(package / "stage.py", ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))

    first = buildrecord.code()
    with buildrecord.one_code() as taken:
        assert taken == first
        touch()  # changed during a command (a template edited while serve builds)
        assert buildrecord.code() == first
        with buildrecord.one_code() as inner:
            assert inner == first
        seen: list[str] = []
        other = threading.Thread(target=lambda: seen.append(buildrecord.code()))
        other.start()
        other.join()
        assert seen != [first]  # another thread (serve's next build) is not pinned by this one
    assert len(walked) == 3  # before, at the start of the block, in the other thread
    # The next command (the next rebuild of a long serve) sees the change.
    second = buildrecord.code()
    assert second != first and second == seen[0]
    with buildrecord.one_code("given") as taken:
        assert taken == buildrecord.code() == "given"
    touch()
    assert buildrecord.code() != second


def test_a_show_whose_cache_folder_is_a_file_is_published_without_a_record(tmp_path: Path) -> None:
    # .entretiens made a file (by hand, a bad copy): the caches and the record cannot be kept,
    # which only costs time. The publish still succeeds, with no traceback, and the next too.
    root = make_show(tmp_path / "show")
    (root / ".entretiens").write_text("not a folder\n", encoding="utf-8")
    for _ in range(2):
        code, text = _publish(root, "--quiet")
        assert code == 0, text
        assert "Traceback" not in text
        assert (root / "public" / "feed.xml").is_file()
    assert (root / ".entretiens").read_text(encoding="utf-8") == "not a folder\n"
