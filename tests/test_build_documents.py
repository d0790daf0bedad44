"""Each build writes its feed documents (the feeds, the home page) into a folder of its own,
removed as soon as the command that made the build is done with it: a check, a dry run, a
refused publish or a preview leaves nothing in the cache; what a killed build left goes once
old enough that no build still running can be writing it."""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from hashlib import sha256
from pathlib import Path
from typing import Any

import pytest

from entretiens import atomicfile, dates, pipeline, serve
from entretiens.check import check_show
from entretiens.content import Stored
from entretiens.errors import ProblemsError, StrictError
from entretiens.publish import publish
from sampleshow import SAMPLE_NOW, copy_sample_show, files_of
from showbuilder import episode, make_show, tree, write_yaml

NOW = datetime(2024, 6, 1, tzinfo=timezone.utc)
#: Older than what a build still running may be writing.
OLD = atomicfile.LEFTOVER_NS / 1e9 + 60


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[pipeline.Build]:
    """Every build the commands make, as they made it."""
    made: list[pipeline.Build] = []
    build = pipeline.build

    def kept(*args: Any, **kwargs: Any) -> pipeline.Build:
        built = build(*args, **kwargs)
        made.append(built)
        return built

    monkeypatch.setattr(pipeline, "build", kept)
    return made


def _documents(built: pipeline.Build, kinds: frozenset[str]) -> list[Stored]:
    """The feed documents a build wrote to files: one of each of ``kinds`` at least."""
    found = [
        content
        for content in built.files.values()
        if isinstance(content, Stored) and built.root / pipeline.DOCUMENTS in content.parents
    ]
    assert {content.suffix for content in found} >= kinds
    return found


def _left(root: Path) -> list[str]:
    """Everything under the show's folder of documents."""
    folder = root / pipeline.DOCUMENTS
    return sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*"))


def _age(*paths: Path) -> None:
    when = time.time() - OLD
    for path in paths:
        os.utime(path, (when, when), follow_symlinks=False)


def _gone(builds: list[pipeline.Build], count: int, kinds: frozenset[str] = frozenset({".xml", ".html"})) -> None:
    """``count`` builds were made, each wrote its documents (the feed, the home page), and
    none of them is left."""
    assert len(builds) == count
    for built in builds:
        assert not [path for path in _documents(built, kinds) if path.exists()]
        assert built.documents is None


def test_checks_in_a_row_leave_nothing_of_their_builds(tmp_path: Path, builds: list[pipeline.Build]) -> None:
    root = copy_sample_show(tmp_path / "show")
    for _ in range(3):  # an editor's hook, at each save
        report = check_show(root, now=SAMPLE_NOW)
        assert not report.count("error") and report.feed_size
    _gone(builds, 3)
    assert _left(root) == []


def _break(root: Path) -> None:
    """Add an episode whose audio cannot be read: the others are built, and the build has an error."""
    write_yaml(root / "episodes" / "009-broken.yaml", episode(9))
    (root / "audio" / "009.mp3").write_bytes(b"not audio at all")


@pytest.mark.parametrize("how", ["refused", "strict", "dry run"])
def test_a_publish_that_writes_nothing_leaves_nothing(tmp_path: Path, builds: list[pipeline.Build], how: str) -> None:
    root = make_show(tmp_path / "show", {f"{n:03d}-talk": episode(n) for n in range(1, 4)}, seconds=1)
    publish(root, now=NOW)
    before = tree(root / "public")
    if how == "refused":
        _break(root)
        with pytest.raises(ProblemsError, match=r"009\.mp3"):
            publish(root, now=NOW)
    elif how == "strict":
        # Audio of one second: a warning each.
        with pytest.raises(StrictError):
            publish(root, now=NOW, strict=True)
    else:
        result = publish(root, now=NOW, dry_run=True)
        assert result.report is None and len(result.releases) == 3
    _gone(builds, 2)
    assert _left(root) == []
    assert tree(root / "public") == before


def test_publish_then_publish_again_writes_the_same_bytes(tmp_path: Path, builds: list[pipeline.Build]) -> None:
    root = make_show(tmp_path / "show", {f"{n:03d}-talk": episode(n) for n in range(1, 4)}, seconds=1)
    publish(root, now=NOW)
    first = files_of(root / "public")
    assert _left(root) == []
    # Saved again as it was: built again, the same files.
    edited = root / "episodes" / "002-talk.yaml"
    edited.write_bytes(edited.read_bytes())
    later = publish(root, now=NOW)
    assert later.report is not None
    assert files_of(root / "public") == first
    # And elsewhere (--output).
    publish(root, tmp_path / "elsewhere", now=NOW)
    assert files_of(tmp_path / "elsewhere") == first
    _gone(builds, 3)
    assert _left(root) == []


def test_what_a_killed_build_left_goes_once_old_and_nothing_young(tmp_path: Path) -> None:
    root = make_show(tmp_path / "show", seconds=1)
    folder = root / pipeline.DOCUMENTS
    # A build killed long ago: its folder, a document and a half-written one.
    killed = folder / "build-killed"
    killed.mkdir(parents=True)
    (killed / f"{'0' * 64}.xml").write_bytes(b"<rss/>")
    (killed / ".4242.0.tmp").write_bytes(b"<rss")
    # A build still running: its folder made a moment ago; and one whose folder is old but
    # which is writing a document now (a cold build of a large show).
    running = folder / "build-running"
    running.mkdir()
    (running / f"{'1' * 64}.xml").write_bytes(b"<rss/>")
    writing = folder / "build-writing"
    writing.mkdir()
    (writing / ".4343.0.tmp").write_bytes(b"<rss")
    # Documents that an older version wrote loose in the folder: the old one goes.
    loose_old, loose_young = folder / f"{'2' * 64}.html", folder / ".4444.1.tmp"
    loose_old.write_bytes(b"<html/>")
    loose_young.write_bytes(b"<rss")
    _age(*killed.iterdir(), killed, writing, loose_old)
    report = check_show(root, now=NOW)
    assert not report.count("error")
    assert _left(root) == sorted(
        [
            "build-running",
            f"build-running/{'1' * 64}.xml",
            "build-writing",
            "build-writing/.4343.0.tmp",
            ".4444.1.tmp",
        ]
    )


def test_only_what_builds_left_is_tidied(tmp_path: Path) -> None:
    """The folder of documents is a link to one the host keeps other things in (or holds an
    output published there): nothing that a build did not name goes, however old."""
    root = make_show(tmp_path / "show", seconds=1)
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "notes").mkdir(parents=True)
    (elsewhere / "notes" / "draft.txt").write_text("kept")
    (elsewhere / "todo.txt").write_text("kept")
    killed = elsewhere / "build-killed"
    killed.mkdir()
    (killed / f"{'0' * 64}.xml").write_bytes(b"<rss/>")
    _age(*elsewhere.rglob("*"))
    (root / pipeline.DOCUMENTS).parent.mkdir(parents=True, exist_ok=True)
    (root / pipeline.DOCUMENTS).symlink_to(elsewhere)
    assert not check_show(root, now=NOW).count("error")
    assert sorted(path.relative_to(elsewhere).as_posix() for path in elsewhere.rglob("*")) == [
        "notes",
        "notes/draft.txt",
        "todo.txt",
    ]


def test_a_build_held_long_keeps_its_documents(tmp_path: Path) -> None:
    """A build whose command holds it longer than a killed build's leftovers are kept (a
    deploy's upload, a first publish copying hours of audio) keeps its documents while another
    build of the show tidies the folder; once closed, they go."""
    root = make_show(tmp_path / "show", {f"{n:03d}-talk": episode(n) for n in range(1, 4)}, seconds=1)
    with publish(root, now=NOW, dry_run=True, hold=True) as result:
        assert result.held is not None and result.held.documents is not None
        held = _documents(result.held, frozenset({".xml", ".html"}))
        # An hour into the upload: nothing of the build's folder was written since.
        _age(*result.held.documents.iterdir(), result.held.documents)
        assert not check_show(root, now=NOW).count("error")
        assert [path for path in held if path.exists() and sha256(path.read_bytes()).hexdigest() == path.sha256] == held
    assert _left(root) == []


def test_a_build_dropped_unclosed_is_tidied_once_old(tmp_path: Path) -> None:
    root = make_show(tmp_path / "show", seconds=1)
    built = pipeline.build(root, now=NOW)
    folder = built.documents
    assert folder is not None and list(folder.iterdir())
    del built
    _age(*folder.iterdir(), folder)
    assert not check_show(root, now=NOW).count("error")
    assert _left(root) == []


#: Builds a show, forks a worker that outlives it, and is killed (kill -9) holding the build.
_KILLED_WITH_A_WORKER = """
import os, signal, sys, time
from datetime import datetime, timezone
from pathlib import Path
from entretiens import pipeline

built = pipeline.build(Path(sys.argv[1]), now=datetime(2024, 6, 1, tzinfo=timezone.utc))
print(built.documents, flush=True)
worker = os.fork()
if worker == 0:
    for stream in (0, 1, 2):  # the test reads the output until its end: not held by the worker
        os.dup2(os.open(os.devnull, os.O_RDWR), stream)
    time.sleep(60)
    os._exit(0)
print(worker, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_worker_outliving_a_killed_build_holds_nothing(tmp_path: Path) -> None:
    """A process forked while a build is open (the units' workers) does not keep the build's
    folder in use once the build is gone: killed, what it left goes once old."""
    root = make_show(tmp_path / "show", seconds=1)
    done = subprocess.run(
        [sys.executable, "-c", _KILLED_WITH_A_WORKER, str(root)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    folder, worker = Path(done.stdout.split()[0]), int(done.stdout.split()[1])
    try:
        assert list(folder.iterdir())
        _age(*folder.iterdir(), folder)
        assert not check_show(root, now=NOW).count("error")
        assert _left(root) == []
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(worker, signal.SIGKILL)


def test_a_build_stopped_half_way_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_show(tmp_path / "show", seconds=1)
    folder = root / pipeline.DOCUMENTS
    made: list[Stored] = []

    def interrupted(*args: Any, **kwargs: Any) -> dates.Changes:
        files = args[3]
        made.extend(content for content in files.values() if isinstance(content, Stored) and folder in content.parents)
        raise KeyboardInterrupt  # Ctrl-C, once the documents are written

    monkeypatch.setattr(dates, "stamp", interrupted)
    with pytest.raises(KeyboardInterrupt):
        check_show(root, now=NOW)
    assert {content.suffix for content in made} == {".xml", ".html"}
    assert _left(root) == []


def test_a_preview_leaves_nothing_built_or_refused(tmp_path: Path, builds: list[pipeline.Build]) -> None:
    root = make_show(tmp_path / "show", seconds=1)
    out = tmp_path / "preview"
    serve.build(root, out, now=NOW, preview_url="http://127.0.0.1:8000/")
    served = files_of(out)
    assert b"http://127.0.0.1:8000/" in served["feed.xml"]
    _break(root)
    with pytest.raises(ProblemsError):
        serve.build(root, out, now=NOW, preview_url="http://127.0.0.1:8000/")
    assert files_of(out) == served
    # A preview's feeds carry its address, rewritten as bytes: its home page is a document.
    _gone(builds, 2, frozenset({".html"}))
    assert _left(root) == []


def test_a_cache_that_refuses_the_build_folder_publishes_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    episodes = {f"{n:03d}-talk": episode(n) for n in range(1, 4)}
    cold = make_show(tmp_path / "cold", episodes, seconds=1)
    publish(cold, now=NOW)
    root = make_show(tmp_path / "show", episodes, seconds=1)

    mkdtemp = tempfile.mkdtemp

    def full(*args: Any, **kwargs: Any) -> str:
        # The disk is full for the build's folder of documents (only: the output has room).
        if str(kwargs.get("dir")) == str(root / pipeline.DOCUMENTS):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        made: str = mkdtemp(*args, **kwargs)
        return made

    monkeypatch.setattr(tempfile, "mkdtemp", full)
    assert not check_show(root, now=NOW).count("error")
    publish(root, now=NOW)
    assert files_of(root / "public") == files_of(cold / "public")
    assert _left(root) == []
