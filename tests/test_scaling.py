"""No step grows faster than linearly: work is counted (calls, parses, renders, files), never timed.

Each test runs the same operation at two sizes, four times apart, and counts its work. A linear
step costs about 4x as much at the larger size (less, with fixed costs); a quadratic one about
16x. The bound, 5x, leaves room for noise-free but uneven growth (sorting is n log n) while
failing any step that compares every item with every other.

The publishes are counted in a fresh process each (tests/workcount.py), through the command
line as a user runs them, in the order a user makes them: cold, nothing changed, one episode
edited, one episode added.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from types import FrameType
from typing import Any

import pytest
import yaml

from audiogen import write_mp3
from entretiens.output import write_tree
from showbuilder import SMALL_MP3, episode, make_show, write_yaml
from workcount import UNITS

#: The most the larger size (4x the items) may cost, in any unit, relative to the smaller.
BOUND = 5.0
#: The two show sizes of the publish tests.
SMALL, LARGE = 8, 32
#: Units a rebuild after one change does per episode it rebuilds: an incremental rebuild does
#: as many at both sizes (the changed episode, the feed, the pages that list it).
PER_EPISODE = ("yaml documents", "markdown parses", "template renders", "files read", "files written")
#: An incremental rebuild after one change: the most it may do at 4x the episodes, in each
#: ``PER_EPISODE`` unit, beyond what it does at the smaller size.
INCREMENTAL_SLACK = 4


@contextmanager
def counting() -> Iterator[list[int]]:
    """Count the function calls made inside the block (Python and C), in ``counter[0]``."""
    counter = [0]

    def profile(_frame: FrameType, event: str, _arg: Any) -> None:
        if event in ("call", "c_call"):
            counter[0] += 1

    sys.setprofile(profile)
    try:
        yield counter
    finally:
        sys.setprofile(None)


def calls(action: Callable[[], object]) -> int:
    """How many function calls ``action`` makes."""
    with counting() as counter:
        action()
    return counter[0]


def _rewrite_cost(root: Path, count: int) -> int:
    """Calls made by a rewrite of ``count`` files where one of them changed."""
    out = root / "public"
    files: dict[PurePosixPath, bytes | Path] = {
        PurePosixPath(f"episodes/{n}/index.html"): f"page {n}".encode() for n in range(count)
    }
    write_tree(out, files)
    files[PurePosixPath("episodes/0/index.html")] = b"edited"
    return calls(lambda: write_tree(out, files))


def test_rewriting_the_output_is_linear_in_its_files(tmp_path: Path) -> None:
    small = _rewrite_cost(tmp_path / "small", 150)
    large = _rewrite_cost(tmp_path / "large", 600)
    assert large <= BOUND * small, (small, large)


# --- Publishes, counted in a fresh process each ------------------------------------------------

_WORKCOUNT = Path(__file__).with_name("workcount.py")
_NOTES = "## Topics of {}\n\n" + "\n".join(f"- point {i}, with a [link](https://example.org/{i})" for i in range(5))


def _fields(n: int) -> dict[str, Any]:
    """Episode ``n``: its own notes in Markdown (a text met twice is parsed once) and chapters,
    so that every stage has work to do."""
    date = f"2024-{1 + (n - 1) // 28:02d}-{1 + (n - 1) % 28:02d}T10:00:00+01:00"
    chapters = [{"start": 0, "title": "Welcome"}, {"start": 0.5, "title": "The interview"}]
    return episode(n, date=date, notes=_NOTES.format(n), chapters=chapters)


def _settle(path: Path, mtime_ns: int) -> None:
    """Date a file back: a file changed within 2 s of a build keeps the build record from being
    trusted (see entretiens.buildrecord), and a user edits, then publishes, not both at once."""
    os.utime(path, ns=(mtime_ns, mtime_ns))


def _publish(root: Path, show: Path) -> dict[str, int]:
    """The work of ``entretiens publish`` on ``show``, counted in a fresh process."""
    done = subprocess.run(
        [sys.executable, str(_WORKCOUNT), str(root), "publish", "--show", str(show), "--quiet"],
        capture_output=True,
        text=True,
        check=False,
    )
    lines = done.stdout.splitlines()
    assert lines and lines[-1].startswith("{"), done.stdout + done.stderr
    counts: dict[str, int] = json.loads(lines[-1])
    assert counts.pop("status") == 0, done.stdout + done.stderr
    return counts


def _runs(root: Path, count: int) -> dict[str, dict[str, int]]:
    """A show of ``count`` episodes published cold, again unchanged, after one edit, after one added."""
    show = make_show(root / "show", {f"{n:03d}-guest": _fields(n) for n in range(1, count + 1)}, seconds=1)
    past = (os.stat(show / "feed.yaml").st_mtime_ns // 10**9 - 60) * 10**9
    for path in show.rglob("*"):
        if path.is_file():
            _settle(path, past)
    runs = {"cold": _publish(root, show), "nochange": _publish(root, show)}
    edited = show / "episodes" / f"{count // 2:03d}-guest.yaml"
    write_yaml(edited, {**yaml.safe_load(edited.read_text(encoding="utf-8")), "notes": "Edited."})
    _settle(edited, past + 10**9)
    runs["edit"] = _publish(root, show)
    # A host adds an episode: its YAML and its audio, nothing else of the show is written.
    added = count + 1
    fields = _fields(added)
    write_yaml(show / "episodes" / f"{added:03d}-guest.yaml", fields)
    write_mp3(show / fields["audio"], seconds=1, **SMALL_MP3)
    for path in (show / "episodes" / f"{added:03d}-guest.yaml", show / fields["audio"]):
        _settle(path, past + 2 * 10**9)
    runs["add"] = _publish(root, show)
    return runs


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[int, dict[str, dict[str, int]]]:
    """Both sizes' counted publishes, made once for every test of the module."""
    return {size: _runs(tmp_path_factory.mktemp(f"show{size}"), size) for size in (SMALL, LARGE)}


def test_the_counter_sees_the_work_of_every_episode(runs: dict[int, dict[str, dict[str, int]]]) -> None:
    # A counter that misses work would let anything pass: a cold build parses, renders and
    # writes per episode, in this process. If this fails after the work moved into worker
    # processes, keep small shows in one process (or count the workers) rather than drop it.
    cold = runs[SMALL]["cold"]
    for unit in PER_EPISODE:
        assert cold[unit] >= SMALL, (unit, cold)
    # No pool at the larger size either (tests/workcount.py gives the process one core).
    assert runs[LARGE]["cold"]["processes"] == 0, runs[LARGE]["cold"]


def test_an_unchanged_show_parses_and_renders_nothing(runs: dict[int, dict[str, dict[str, int]]]) -> None:
    for size in (SMALL, LARGE):
        nochange = runs[size]["nochange"]
        for unit in ("yaml documents", "markdown parses", "template renders", "files written"):
            assert nochange[unit] == 0, (size, unit, nochange)


@pytest.mark.parametrize("run", ["cold", "nochange", "edit", "add"])
def test_every_publish_is_linear_in_the_episodes(runs: dict[int, dict[str, dict[str, int]]], run: str) -> None:
    small, large = runs[SMALL][run], runs[LARGE][run]
    grown = {unit: (small[unit], large[unit]) for unit in UNITS if large[unit] > BOUND * max(small[unit], 1)}
    assert not grown, f"{run}: grew more than {BOUND}x at 4x the episodes (small, large): {grown}"


#: (run, unit) where main's rebuild after one change is already incremental. The others are
#: checked all the same, as expected failures, not strict (a rebuild made incremental elsewhere
#: does not fail here): one reported XPASS belongs in this set.
INCREMENTAL: frozenset[tuple[str, str]] = frozenset(
    {
        ("edit", "files written"),
        ("edit", "template renders"),
        ("edit", "markdown parses"),
        ("add", "template renders"),
        ("add", "markdown parses"),
        ("add", "files written"),
        ("edit", "yaml documents"),
        ("add", "yaml documents"),
    }
)
_NOT_YET = pytest.mark.xfail(reason="issue 11: not incremental yet", strict=False)


@pytest.mark.parametrize(
    ("run", "unit"),
    [
        pytest.param(
            run,
            unit,
            marks=[] if (run, unit) in INCREMENTAL else [_NOT_YET],
        )
        for run in ("edit", "add")
        for unit in PER_EPISODE
    ],
)
def test_a_rebuild_after_one_change_redoes_that_change_only(
    runs: dict[int, dict[str, dict[str, int]]], run: str, unit: str
) -> None:
    small, large = runs[SMALL][run][unit], runs[LARGE][run][unit]
    assert large <= small + INCREMENTAL_SLACK, f"{run}: {unit} at {SMALL} and {LARGE} episodes: {small}, {large}"
